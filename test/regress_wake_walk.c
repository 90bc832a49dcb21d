// SPDX-License-Identifier: MIT
/*
 * Two threads wait on one ring's CQ (io_cqring_wait(): exclusive waiters on
 * ctx->cq_wait, queued in arrival order). The first wants two CQEs, the one
 * queued behind it only one. One CQE is posted: the wake-up walk of
 * ctx->cq_wait visits the first waiter, whose io_wake_function() finds its
 * batch incomplete. Kernels whose io_wake_function() returns -1 there stop
 * the walk (__wake_up_common() ends at a negative return), and the second
 * waiter, content with the CQE that is there, sleeps on to its timeout.
 * Checks: the second waiter returns promptly with its CQE; then the first
 * one returns once its second CQE is posted.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"

#define PROMPT_NS	(200 * NSEC_PER_MSEC)	/* a wake-up takes microseconds */

struct waiter {
	struct tcase *tc;
	struct tring *ring;
	unsigned want;			/* min_complete */
	int64_t timeout_ns;
	int ret;			/* io_uring_enter()'s */
	int64_t took_ns;
	struct tw_event entering;	/* about to enter io_uring_enter() */
	struct tw_event done;
};

static void *waiter_fn(struct tw_thread *t)
{
	struct waiter *w = t->arg;
	int64_t start = now_ns();

	tw_event_set(&w->entering);
	w->ret = tring_wait(w->ring, w->want, w->timeout_ns, 0, NULL);
	w->took_ns = now_ns() - start;
	tw_event_set(&w->done);
	return NULL;
}

/* Start a waiter and see it asleep in the kernel: it is then on ->cq_wait. */
static int start_asleep(struct tcase *tc, struct tw_thread *t, const char *name, unsigned idx,
			struct waiter *w)
{
	struct deadline dl = tc_deadline(tc);

	if (tw_thread_start(tc, t, name, idx, waiter_fn, w)) {
		tc_fail(tc, "pthread_create failed");
		return -1;
	}
	if (tw_event_wait(&w->entering, &dl)) {
		tc_hang(tc, NULL, w->ring, "%s did not start", name);
		return -1;
	}
	/* t->tid was set before the thread ran waiter_fn(). */
	if (proc_task_wait_state(t->tid, 'S', &dl)) {
		tc_hang(tc, NULL, w->ring, "%s (wants %u CQEs) never went to sleep in io_uring_enter",
			name, w->want);
		return -1;
	}
	return 0;
}

static int post_nop(struct tcase *tc, struct tring *r, uint64_t ud)
{
	struct io_uring_sqe *sqe = tring_sqe(r);

	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, ud);
	if (io_uring_submit(&r->ring) != 1) {
		tc_fail(tc, "submit of a NOP failed");
		return -1;
	}
	return 0;
}

static enum verdict run(struct tcase *tc)
{
	struct waiter first = { .tc = tc, .want = 2, .timeout_ns = tc->hang_ns };
	struct waiter second = { .tc = tc, .want = 1, .timeout_ns = 4 * PROMPT_NS };
	struct tw_thread th[2] = { 0 };
	struct deadline dl;
	struct tring r;
	enum verdict v;

	v = tring_init(tc, &r, "ring", tc->prof, NULL);
	if (v != V_PASS)
		return v;
	first.ring = second.ring = &r;
	/* Queue order on ->cq_wait is the order of going to sleep. */
	if (start_asleep(tc, &th[0], "wants2", 0, &first) ||
	    start_asleep(tc, &th[1], "wants1", 1, &second))
		goto out;
	/* The NOP completes inline; its CQE's wake-up walks ->cq_wait. */
	if (post_nop(tc, &r, 1))
		goto out;
	dl = deadline_in(8 * PROMPT_NS);
	if (tw_event_wait(&second.done, &dl)) {
		tc_hang(tc, NULL, &r, "the waiter wanting 1 CQE never returned (its timeout is %.1f s)",
			ns_to_s(second.timeout_ns));
		goto out;
	}
	if (second.ret != 0 || second.took_ns > PROMPT_NS)
		tc_fail(tc, "lost wake-up: a waiter wanting 1 CQE behind one wanting 2: after 1 CQE "
			"it returned %s after %.3f s, expected 0 within %.3f s (CQ holds %u)",
			second.ret ? strerror(-second.ret) : "0", ns_to_s(second.took_ns),
			ns_to_s(PROMPT_NS), io_uring_cq_ready(&r.ring));
	/* The second CQE completes the first waiter's batch. */
	if (post_nop(tc, &r, 2))
		goto out;
	dl = tc_deadline(tc);
	if (tw_event_wait(&first.done, &dl)) {
		tc_hang(tc, NULL, &r, "the waiter wanting 2 CQEs never returned with 2 posted");
		goto out;
	}
	if (first.ret != 0)
		tc_fail(tc, "the waiter wanting 2 CQEs returned %s with 2 posted",
			strerror(-first.ret));
	if (io_uring_cq_ready(&r.ring) != 2)
		tc_fail(tc, "CQ holds %u CQEs, expected the 2 NOPs'", io_uring_cq_ready(&r.ring));
out:
	tw_threads_join(tc, th, th[1].started ? 2 : th[0].started ? 1 : 0, NULL, &r);
	tring_exit(&r);
	return tc_verdict(tc);
}

static const struct scenario regress_wake_walk = {
	.name = "regress_wake_walk",
	.summary = "a CQ waiter content with 1 CQE, queued behind one that wants 2, is woken "
		   "by the first CQE",
	/* Not DEFER_TASKRUN: only its submitter may wait there. */
	.profiles = PMASK(P_DEFAULT) | PMASK(P_SQPOLL),
	.run = run,
	.fix_commit = "-",
	.fix_subject = "io_uring/wait: io_wake_function() keeps the wake-up walk going "
		       "(returns 0, not -1; Linux 7.3)",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_wake_walk);
}
