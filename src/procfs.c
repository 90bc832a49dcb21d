// SPDX-License-Identifier: MIT
/* Reading /proc (see procfs.h): built into the harness and into supervise. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "procfs.h"

int procfs_read(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	buf[0] = 0;
	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

int procfs_stat(const char *dir, struct procfs_stat *st)
{
	char path[300], buf[1024], *p;
	int ppid, pgrp;

	st->state = '?';
	snprintf(path, sizeof(path), "%s/stat", dir);
	if (procfs_read(path, buf, sizeof(buf)))
		return -1;
	/* comm may hold spaces and parentheses: the last ')' ends it. After
	 * it: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	 * cmajflt utime stime ... */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' ||
	    sscanf(p + 2, "%c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &st->state, &ppid,
		   &pgrp, &st->utime, &st->stime) != 5) {
		st->state = '?';
		return -1;
	}
	st->ppid = ppid;
	st->pgrp = pgrp;
	return 0;
}
