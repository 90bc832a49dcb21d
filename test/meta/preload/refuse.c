// SPDX-License-Identifier: MIT
/*
 * A seeded fault for test/meta/needs.sh, never in a test program's own
 * code: LD_PRELOAD'ed into a test program, it makes the kernel "refuse"
 * what the environment names, so the meta test can show how the harness
 * judges a refusal on a kernel that has the feature (TW_KVER=7.3.4: a
 * failure) and on one that predates it (a skip).
 *
 *   TW_REFUSE_SETUP=FLAGS:ERRNO     io_uring_queue_init_params() with all
 *                                   of FLAGS set (0: every set-up) fails
 *                                   with -ERRNO
 *   TW_REFUSE_REGISTER=OP:ERRNO     io_uring_register opcode OP fails with
 *                                   ERRNO: raw syscall(), and liburing's
 *                                   io_uring_register_probe (OP 8) and
 *                                   io_uring_register_buf_ring (OP 22)
 *
 * Built as test/meta/preload/refuse.so (not with -static builds).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <liburing.h>

/* The pair N:E of the variable, or false if unset. */
static int pair(const char *var, unsigned long *n, int *err)
{
	const char *v = getenv(var);
	char *end;

	if (!v || !*v)
		return 0;
	*n = strtoul(v, &end, 0);
	if (*end != ':')
		return 0;
	*err = atoi(end + 1);
	return 1;
}

static int refused_op(unsigned long op)
{
	unsigned long want;
	int err;

	return pair("TW_REFUSE_REGISTER", &want, &err) && want == op ? err : 0;
}

int io_uring_queue_init_params(unsigned entries, struct io_uring *ring, struct io_uring_params *p)
{
	static int (*real)(unsigned, struct io_uring *, struct io_uring_params *);
	unsigned long flags;
	int err;

	if (pair("TW_REFUSE_SETUP", &flags, &err) && (p->flags & flags) == flags)
		return -err;
	if (!real)
		real = (int (*)(unsigned, struct io_uring *, struct io_uring_params *))
			dlsym(RTLD_NEXT, "io_uring_queue_init_params");
	return real(entries, ring, p);
}

int io_uring_register_probe(struct io_uring *ring, struct io_uring_probe *p, unsigned nr)
{
	static int (*real)(struct io_uring *, struct io_uring_probe *, unsigned);
	int err = refused_op(8);	/* IORING_REGISTER_PROBE */

	if (err)
		return -err;
	if (!real)
		real = (int (*)(struct io_uring *, struct io_uring_probe *, unsigned))
			dlsym(RTLD_NEXT, "io_uring_register_probe");
	return real(ring, p, nr);
}

int io_uring_register_buf_ring(struct io_uring *ring, struct io_uring_buf_reg *reg,
			       unsigned flags)
{
	static int (*real)(struct io_uring *, struct io_uring_buf_reg *, unsigned);
	int err = refused_op(22);	/* IORING_REGISTER_PBUF_RING */

	if (err)
		return -err;
	if (!real)
		real = (int (*)(struct io_uring *, struct io_uring_buf_reg *, unsigned))
			dlsym(RTLD_NEXT, "io_uring_register_buf_ring");
	return real(ring, reg, flags);
}

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;
	int err;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == __NR_io_uring_register && (err = refused_op((unsigned long)a[1]))) {
		errno = err;
		return -1;
	}
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
