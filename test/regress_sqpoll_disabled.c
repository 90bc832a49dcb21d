// SPDX-License-Identifier: MIT
/*
 * An SQPOLL ring created IORING_SETUP_R_DISABLED, with an SQE already in
 * its SQ: nothing may be submitted before the ring is enabled. The SQ
 * thread's idle check (io_sq_thread(): "if (io_sqring_entries(ctx)) don't
 * sleep") still counted the disabled ring's entries, so the thread never
 * went to sleep - it spun on a CPU, for as long as the ring stayed
 * disabled. Fixed kernels skip a disabled ring there; enabling it wakes
 * the thread.
 * Checks: the SQ thread uses (almost) no CPU while the ring is disabled;
 * once enabled, the SQE is submitted and completes.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#ifndef IORING_SETUP_R_DISABLED
#define IORING_SETUP_R_DISABLED	(1U << 6)
#endif

#define WATCH_NS	(300 * NSEC_PER_MSEC)	/* idle is 10 ms (profile) */
#define SAMPLES		100

static enum verdict run(struct tcase *tc)
{
	const struct tring_opts o = { .extra_flags = IORING_SETUP_R_DISABLED, .attach_wq_fd = -1 };
	int64_t cpu0, cpu1, t0, wall;
	struct deadline dl;
	struct tring r;
	struct io_uring_sqe *sqe;
	unsigned running = 0;
	enum verdict v;
	pid_t sqt;
	int ret;

	v = tring_init(tc, &r, "disabled", tc->prof, &o);
	if (v != V_PASS)
		return v;
	/* Publish one SQE. The enter that liburing adds to wake the SQ thread
	 * fails (-EBADFD: the ring is disabled); the SQ tail moved anyway. */
	sqe = tring_sqe(&r);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, 1);
	io_uring_submit(&r.ring);
	/* The SQ thread names itself once it first runs. */
	dl = tc_deadline(tc);
	while ((sqt = proc_find_thread(getpid(), "iou-sqp-")) < 0 && !deadline_passed(&dl))
		sched_yield();
	if (sqt < 0) {
		tc_refused(tc, NEED_SQ_IO_THREAD, 0, "the SQ thread (iou-sqp-*) of the disabled ring");
		goto out;
	}
	/* Not synchronisation: the window in which the thread is watched. A
	 * spinning thread is runnable (R) whenever looked at, even while the
	 * CPU is busy with others; an idle one sleeps (S). */
	t0 = now_ns();
	cpu0 = proc_task_cpu_ns(sqt);
	for (unsigned i = 0; i < SAMPLES; i++) {
		sleep_until_ns(t0 + (int64_t)(i + 1) * WATCH_NS / SAMPLES);
		running += proc_task_state(sqt) == 'R';
	}
	cpu1 = proc_task_cpu_ns(sqt);
	wall = now_ns() - t0;
	tc_log(tc, "SQ thread while the ring is disabled: runnable in %u of %u looks, %.3f s CPU "
	       "in %.3f s", running, SAMPLES, ns_to_s(cpu1 - cpu0), ns_to_s(wall));
	if (running > SAMPLES / 2)
		tc_fail(tc, "busy SQ thread: runnable in %u of %u looks over %.3f s (%.3f s of CPU) "
			"while its only ring was disabled with an SQE in the SQ; expected it asleep",
			running, SAMPLES, ns_to_s(wall), ns_to_s(cpu1 - cpu0));
	/* Enabling wakes the thread: now the SQE is submitted. */
	ret = tring_enable(&r);
	if (ret) {
		tc_fail(tc, "IORING_REGISTER_ENABLE_RINGS: %s", strerror(-ret));
		goto out;
	}
	dl = tc_deadline(tc);
	tring_await(tc, &r, 1, &dl, "the CQE of the SQE queued before "
		    "IORING_REGISTER_ENABLE_RINGS");
out:
	tring_exit(&r);
	return tc_verdict(tc);
}

static const struct scenario regress_sqpoll_disabled = {
	.name = "regress_sqpoll_disabled",
	.summary = "the SQ thread of an R_DISABLED ring with an SQE queued sleeps until the "
		   "ring is enabled, then submits it",
	.profiles = PMASK(P_SQPOLL),
	.run = run,
	.needs = NEED(SQ_IO_THREAD),
	.fix_commit = "-",
	.fix_subject = "io_uring/sqpoll: a disabled ring's SQ entries don't keep the SQ thread "
		       "awake (Linux 7.3)",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_sqpoll_disabled);
}
