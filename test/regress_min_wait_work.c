// SPDX-License-Identifier: MIT
/*
 * A wait with min_wait (IORING_FEAT_MIN_TIMEOUT) and a longer timeout: if
 * no CQE came by min_wait, it goes on to the timeout, returning at the
 * first CQE. io_cqring_min_timer_wakeup() decides at min_wait's end.
 * Before 7.3, work pending then (io_has_work(): local task_work of a
 * DEFER_TASKRUN ring, an overflow) ended the wait as if its timeout had
 * come: -ETIME at min_wait, though the work might post nothing. 7.3 runs
 * the work and waits on for the timeout, wanting one CQE.
 * Shape: the owner waits for 2 CQEs, min_wait MIN_WAIT_NS, timeout
 * WAIT_NS; a READ of an empty pipe waits on poll (io_arm_poll_handler()).
 * While the owner sleeps, another thread writes a byte and reads it back:
 * the poll's wake-up queues local task_work lazily (one item, two CQEs
 * wanted: no wake-up), and when it runs the read finds the pipe empty
 * again and arms poll anew - no CQE.
 * Checks: the wait returns -ETIME with no CQE, not before WAIT_NS.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define MIN_WAIT_NS	(300 * NSEC_PER_MSEC)
#define WAIT_NS		(1500 * NSEC_PER_MSEC)
#define EARLY_NS	(10 * NSEC_PER_MSEC)	/* clock reads around the syscall */
#define ROUNDS		3		/* a feeder late for min_wait: once more */

struct feeder {
	struct tcase *tc;
	pid_t owner;
	int p[2];
	int rfd;			/* the read end again, O_NONBLOCK: the feeder's */
	int64_t done_ns;		/* when the byte was read back */
};

/* A byte in and out while the owner sleeps: a wake-up that posts nothing. */
static void *feed(struct tw_thread *t)
{
	struct feeder *f = t->arg;
	struct deadline dl = tc_deadline(f->tc);
	char c = 'x';

	if (proc_task_wait_state(f->owner, 'S', &dl) || write(f->p[1], &c, 1) != 1 ||
	    read(f->rfd, &c, 1) != 1)
		tc_fail(f->tc, "feeder: the owner never slept, or the pipe failed: %s",
			strerror(errno));
	f->done_ns = now_ns();
	return NULL;
}

/* One wait; 1 if the feeder was too late for the scenario, else 0. */
static int round_once(struct tcase *tc, struct tring *r, struct feeder *f)
{
	struct tw_thread th = { 0 };
	int64_t t0, took;
	int ret;

	if (tw_thread_start(tc, &th, "feeder", 0, feed, f))
		return tc_fail(tc, "pthread_create failed"), 0;
	t0 = now_ns();
	ret = tring_wait(r, 2, WAIT_NS, MIN_WAIT_NS / 1000, NULL);
	took = now_ns() - t0;
	if (tw_threads_join(tc, &th, 1, NULL, r) >= V_FAIL)
		return 0;
	if (f->done_ns - t0 > MIN_WAIT_NS / 2)
		return 1;
	if (ret == -EINVAL && !took)
		tc_refused(tc, NEED_MIN_TIMEOUT, ret, "a wait with min_wait");
	else if (io_uring_cq_ready(&r->ring))
		tc_fail(tc, "a read of a pipe emptied again posted %u CQEs",
			io_uring_cq_ready(&r->ring));
	else if (ret == -ETIME && took < WAIT_NS - EARLY_NS)
		tc_fail(tc, "early: a wait for 2 CQEs (min_wait %.3f s, timeout %.3f s) returned "
			"-ETIME after %.3f s, with local work pending that posted no CQE",
			ns_to_s(MIN_WAIT_NS), ns_to_s(WAIT_NS), ns_to_s(took));
	else if (ret != -ETIME)
		tc_fail(tc, "a wait for 2 CQEs that get none: %s after %.3f s, expected -ETIME",
			ret ? strerror(-ret) : "0", ns_to_s(took));
	return 0;
}

static enum verdict run(struct tcase *tc)
{
	struct feeder f = { .tc = tc, .owner = gettid(), .rfd = -1 };
	static char byte;
	char path[64];
	struct tring r;
	enum verdict v;
	int late = 1;

	/* Blocking: the ring's read waits on poll, not -EAGAIN. */
	if (pipe2(f.p, O_CLOEXEC))
		return tc_fail(tc, "pipe: %s", strerror(errno));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f.p[0]);
	f.rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (f.rfd < 0) {
		tc_fail(tc, "open %s: %s", path, strerror(errno));
		goto out_pipe;
	}
	v = tring_init(tc, &r, "ring", tc->prof, NULL);
	if (v != V_PASS)
		goto out_pipe;
	io_uring_prep_read(tring_sqe(&r), f.p[0], &byte, 1, 0);
	if (io_uring_submit(&r.ring) != 1) {
		tc_fail(tc, "submit of a READ failed");
		goto out;
	}
	for (unsigned i = 0; i < ROUNDS && late && !tc_failed(tc); i++)
		late = round_once(tc, &r, &f);
	if (late && !tc_failed(tc))
		tc_fail(tc, "the feeder never made it within half of min_wait (%u rounds)",
			ROUNDS);
out:
	tring_exit(&r);
out_pipe:
	if (f.rfd >= 0)
		close(f.rfd);
	close(f.p[0]);
	close(f.p[1]);
	return tc_verdict(tc);
}

static const struct scenario regress_min_wait_work = {
	.name = "regress_min_wait_work",
	.summary = "a wait with min_wait goes on to its timeout when the work pending at "
		   "min_wait's end posts no CQE",
	/* local task_work is what io_has_work() sees */
	.profiles = PROFILES_LOCAL_TW,
	.run = run,
	.needs = NEED(MIN_TIMEOUT),
	.fix_commit = "-",
	.fix_subject = "io_uring/wait: run the work pending at the end of min_wait, wait on for "
		       "the timeout (Linux 7.3)",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_min_wait_work);
}
