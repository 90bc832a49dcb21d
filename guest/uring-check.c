// SPDX-License-Identifier: MIT
/*
 * uring-check: can this kernel create an io_uring at all? Run by the guest's
 * init (guest/init) before the suite, so that a kernel built without
 * io_uring is one clear verdict rather than every test failing its own way.
 *
 * Exit 0 when io_uring_setup() works (or fails for a reason the suite
 * reports itself, e.g. a restriction to a group); 1, with the reason on
 * stdout, when the kernel has no io_uring: ENOSYS (CONFIG_IO_URING=n), or
 * EPERM while /proc/sys/kernel/io_uring_disabled is 2 (no one may).
 * A raw syscall: no liburing needed, nothing that could mask the errno.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/io_uring.h>

#define DISABLED_SYSCTL	"/proc/sys/kernel/io_uring_disabled"

static int disabled_for_all(void)
{
	FILE *f = fopen(DISABLED_SYSCTL, "r");
	int v = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%d", &v) != 1)
		v = 0;
	fclose(f);
	return v == 2;
}

int main(void)
{
	struct io_uring_params p;
	long fd;

	memset(&p, 0, sizeof(p));
	fd = syscall(__NR_io_uring_setup, 1, &p);
	if (fd >= 0) {
		close((int)fd);
		return 0;
	}
	if (errno == ENOSYS) {
		printf("io_uring_setup: ENOSYS (a kernel built without CONFIG_IO_URING)\n");
		return 1;
	}
	if (errno == EPERM && disabled_for_all()) {
		printf("io_uring_setup: EPERM, %s is 2 (io_uring disabled for everyone)\n",
		       DISABLED_SYSCTL);
		return 1;
	}
	printf("io_uring_setup: %s (the suite will report it)\n", strerror(errno));
	return 0;
}
