// SPDX-License-Identifier: MIT
/*
 * Rings for a case (tring_*): set up from a profile, a refusal judged by
 * the needs table (a skip only on a kernel that predates the flag, needs.c);
 * SQEs, waits with deadlines, and the features the kernel reported; a
 * submit and its wait judged (tring_await(), tring_submit_await()).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

static unsigned features_seen;

unsigned kernel_features(void)
{
	return features_seen;
}

enum verdict tring_init(struct tcase *tc, struct tring *r, const char *name,
			const struct profile *prof, const struct tring_opts *o)
{
	static const struct tring_opts defaults = { .attach_wq_fd = -1 };
	struct io_uring_params p;
	unsigned entries;
	char what[96];
	int ret;

	if (!o)
		o = &defaults;
	memset(r, 0, sizeof(*r));
	memset(&p, 0, sizeof(p));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->prof = prof;
	p.flags = prof->setup_flags | o->extra_flags;
	if (prof->props & PROF_SQPOLL) {
		/* Short idle so that runs also go through the NEED_WAKEUP path. */
		p.sq_thread_idle = 10;
		if (o->sq_idle_ms)
			p.sq_thread_idle = o->sq_idle_ms;
	}
	if (o->cq_entries) {
		p.flags |= IORING_SETUP_CQSIZE;
		p.cq_entries = o->cq_entries;
	}
	if (o->attach_wq_fd > 0) {
		p.flags |= IORING_SETUP_ATTACH_WQ;
		p.wq_fd = o->attach_wq_fd;
	}
	entries = o->sq_entries ? o->sq_entries : 64;
	ret = io_uring_queue_init_params(entries, &r->ring, &p);
	if (ret < 0) {
		/* A skip only where the kernel predates a flag (needs.c). */
		snprintf(what, sizeof(what), "ring %s (%s): io_uring_setup(flags 0x%x)", name,
			 prof->name, p.flags);
		return tc_setup_refused(tc, p.flags, ret, what);
	}
	features_seen = p.features;
	r->live = true;
	if (o->register_fd) {
		ret = io_uring_register_ring_fd(&r->ring);
		if (ret != 1) {
			tring_exit(r);
			snprintf(what, sizeof(what), "ring %s: io_uring_register_ring_fd", name);
			return tc_refused(tc, NEED_RING_FD, ret < 0 ? ret : -EIO, what);
		}
		r->registered = true;
	}
	return V_PASS;
}

void tring_exit(struct tring *r)
{
	if (!r->live)
		return;
	io_uring_queue_exit(&r->ring);
	r->live = false;
}

int tring_enable(struct tring *r)
{
	/* liburing 2.3 declares io_uring_enable_rings() but does not export it. */
	return syscall(__NR_io_uring_register, r->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS,
		       NULL, 0) < 0 ? -errno : 0;
}

int tring_fd(const struct tring *r)
{
	return r->ring.ring_fd;
}

struct io_uring_sqe *tring_sqe(struct tring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	/* A full SQ: submit what is there (for SQPOLL, wait for the SQ thread
	 * to consume some) and try again. */
	for (int tries = 0; !sqe && tries < 1000; tries++) {
		if (r->prof->props & PROF_SQPOLL) {
			io_uring_submit(&r->ring);
			io_uring_sqring_wait(&r->ring);
		} else {
			io_uring_submit(&r->ring);
		}
		sqe = io_uring_get_sqe(&r->ring);
	}
	return sqe;
}

int tring_wait(struct tring *r, unsigned min_complete, int64_t timeout_ns,
	       unsigned min_wait_usec, const sigset_t *mask)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ns / NSEC_PER_SEC,
		.tv_nsec = timeout_ns % NSEC_PER_SEC,
	};
	struct tw_getevents_arg arg = {
		.sigmask = (uintptr_t)mask,
		.sigmask_sz = _NSIG / 8,
		.min_wait_usec = min_wait_usec,
		.ts = timeout_ns >= 0 ? (uintptr_t)&ts : 0,
	};
	unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
	int fd = r->ring.ring_fd;

	if (r->registered) {
		flags |= IORING_ENTER_REGISTERED_RING;
		fd = r->ring.enter_ring_fd;
	}
	return io_uring_enter2(fd, 0, min_complete, flags, (sigset_t *)&arg, sizeof(arg));
}

int tring_wait_ready(struct tring *r, unsigned n, const struct deadline *dl)
{
	while (io_uring_cq_ready(&r->ring) < n) {
		int64_t left = deadline_left(dl);
		int ret;

		if (!left)
			return -ETIMEDOUT;
		ret = tring_wait(r, n, left < NSEC_PER_SEC ? left : NSEC_PER_SEC, 0, NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			return ret;
	}
	return 0;
}

int tring_get_events(struct tring *r)
{
	return io_uring_get_events(&r->ring);
}

unsigned tring_sq_flags(const struct tring *r)
{
	return __atomic_load_n(r->ring.sq.kflags, __ATOMIC_ACQUIRE);
}

static enum verdict await_what(struct tcase *tc, const struct ledger *l, struct tring *r,
			       unsigned n, const struct deadline *dl, const char *what)
{
	int ret = tring_wait_ready(r, n, dl);

	if (ret == -ETIMEDOUT)
		return tc_hang(tc, l, r, "waiting for %s: %u CQEs awaited, %u ready", what, n,
			       io_uring_cq_ready(&r->ring));
	if (ret)
		return tc_fail(tc, "waiting for %s: the wait failed: %s (%d), %u of %u CQEs ready",
			       what, strerror(-ret), ret, io_uring_cq_ready(&r->ring), n);
	return V_PASS;
}

enum verdict tring_submit_await(struct tcase *tc, struct tring *r, unsigned nsub, unsigned n,
				const struct deadline *dl, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	ret = io_uring_submit(&r->ring);
	if (ret < 0)
		return tc_fail(tc, "submit for %s failed: %s (%d)", what, strerror(-ret), ret);
	if ((unsigned)ret != nsub)
		return tc_fail(tc, "submit for %s took %d SQEs, expected %u", what, ret, nsub);
	return await_what(tc, NULL, r, n, dl, what);
}

enum verdict tring_await_ledger(struct tcase *tc, const struct ledger *l, struct tring *r,
				unsigned n, const struct deadline *dl, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return await_what(tc, l, r, n, dl, what);
}
