// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "compat.h"
#include "ring.h"

static int mode_flags(const char *mode, unsigned *flags)
{
	if (!strcmp(mode, "default"))
		*flags = 0;
	else if (!strcmp(mode, "coop"))
		*flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
	else if (!strcmp(mode, "defer"))
		*flags = IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
	else if (!strcmp(mode, "sqpoll"))
		*flags = IORING_SETUP_SQPOLL;
	else
		return -EINVAL;
	return 0;
}

int bench_ring_init(struct io_uring *ring, const char *mode, unsigned entries,
		    char *why, size_t whylen)
{
	struct io_uring_params p;
	unsigned flags;
	int ret;

	if (mode_flags(mode, &flags)) {
		snprintf(why, whylen, "unknown ring mode '%s'", mode);
		return -EINVAL;
	}
	memset(&p, 0, sizeof(p));
	p.flags = flags | IORING_SETUP_CQSIZE;
	p.cq_entries = entries * 4;
	/* Long enough that the SQ thread stays awake through a measurement. */
	p.sq_thread_idle = 1000;
	ret = io_uring_queue_init_params(entries, ring, &p);
	if (ret == -EINVAL && (flags & IORING_SETUP_DEFER_TASKRUN))
		snprintf(why, whylen, "the kernel refuses IORING_SETUP_DEFER_TASKRUN (before 6.1)");
	else if (ret == -EINVAL && (flags & IORING_SETUP_COOP_TASKRUN))
		snprintf(why, whylen, "the kernel refuses IORING_SETUP_COOP_TASKRUN (before 5.19)");
	else if (ret == -EPERM && (flags & IORING_SETUP_SQPOLL))
		snprintf(why, whylen, "SQPOLL not permitted here (EPERM)");
	else if (ret == -EPERM)
		snprintf(why, whylen, "io_uring not permitted here (io_uring_disabled?)");
	else if (ret)
		snprintf(why, whylen, "io_uring_queue_init(%s): %s", mode, strerror(-ret));
	return ret;
}

int bench_ring_wait(struct io_uring *ring, unsigned want, int timeout_ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;
	int ret;

	ret = io_uring_wait_cqes(ring, &cqe, want, &ts, NULL);
	if (ret == -ETIME || ret == -EINTR || ret == -EAGAIN || ret == -EBUSY)
		return 0;
	return ret;
}
