// SPDX-License-Identifier: MIT
/*
 * runas UID GID PROGRAM [ARGS...]: run PROGRAM with all user and group ids
 * set to UID and GID and no supplementary groups. The guest's init uses it
 * for `vm-run ... -- --user`: the suite's unprivileged paths (no kernel log,
 * io_uring_disabled=1) need a real non-root run, and Debian's busybox-static
 * has no chpst or setuidgid, and its setpriv no --reuid.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int id_arg(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || end == s || *end ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long uid, gid;

	if (argc < 4 || id_arg(argv[1], &uid) || id_arg(argv[2], &gid)) {
		fprintf(stderr, "usage: runas UID GID PROGRAM [ARGS...]\n");
		return 2;
	}
	/* Groups first: once the uid is dropped we may no longer change them. */
	if (setgroups(0, NULL) || setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) ||
	    setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid)) {
		fprintf(stderr, "runas: cannot become %lu:%lu: %s\n", uid, gid, strerror(errno));
		return 126;
	}
	execv(argv[3], argv + 3);
	fprintf(stderr, "runas: %s: %s\n", argv[3], strerror(errno));
	return 127;
}
