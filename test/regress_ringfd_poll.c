// SPDX-License-Identifier: MIT
/*
 * The submitter of a DEFER_TASKRUN ring A watches it through ring B: a
 * POLL_ADD on A's fd, armed on B; it sleeps waiting on B. Another thread
 * sends A a MSG_RING. The message is local task_work (ctx->work_list), not
 * yet a CQE: io_uring_poll() reports pending local work as EPOLLIN, but
 * before 7.3 nothing woke A's ->poll_wq when such work arrived, so the poll
 * on B never fired and the owner slept to its timeout with the message
 * queued. (7.3: io_req_local_work_add() -> io_local_work_wake_poll().)
 * Checks: B's poll completes with POLLIN promptly; entering A then posts
 * the message: one CQE each, with the user_data and result sent (the
 * sender's CQE too).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "harness.h"

#define PROMPT_NS	(200 * NSEC_PER_MSEC)
#define POLL_NS		(600 * NSEC_PER_MSEC)
#define POLL_UD		0xb1ull		/* B's POLL_ADD */
#define SEND_UD		0x5eull		/* the sender's MSG_RING */
#define MSG_UD		0x55ull		/* the message, at A */
#define MSG_LEN		5		/* its res */

struct sender {
	struct tcase *tc;
	struct tring *target;
	pid_t poller;
	struct io_uring_cqe cqe;	/* the sender's, once sent */
};

/* Sends once the poller sleeps: then only a wake-up can end its poll(). */
static void *send_fn(struct tw_thread *t)
{
	struct sender *s = t->arg;
	struct deadline dl = tc_deadline(s->tc);
	/* Seeded: the message A gets is not the one checked for. */
	int bad = harness_seeded("wrong-msg");
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct tring src;

	if (tring_init(s->tc, &src, "sender", &profiles[P_DEFAULT], NULL) != V_PASS)
		return NULL;
	if (proc_task_wait_state(s->poller, 'S', &dl)) {
		tc_hang(s->tc, NULL, s->target, "the submitter never went to sleep on ring B");
		goto out;
	}
	sqe = tring_sqe(&src);
	io_uring_prep_msg_ring(sqe, tring_fd(s->target), MSG_LEN + bad, MSG_UD + bad, 0);
	io_uring_sqe_set_data64(sqe, SEND_UD);
	if (tring_submit_await(s->tc, &src, 1, 1, &dl, "a MSG_RING to the polled ring") != V_PASS)
		goto out;
	io_uring_peek_cqe(&src.ring, &cqe);
	s->cqe = *cqe;
out:
	tring_exit(&src);
	return NULL;
}

/* Ring r holds one CQE, with user_data ud and res (POLLIN set, for res -1). */
static void expect_one(struct tcase *tc, struct tring *r, const char *what, uint64_t ud,
		       int res)
{
	struct io_uring_cqe *cqe;
	unsigned n = io_uring_cq_ready(&r->ring);
	char want[16] = "POLLIN";

	if (res >= 0)
		snprintf(want, sizeof(want), "%d", res);
	io_uring_peek_cqe(&r->ring, &cqe);
	if (n != 1 || cqe->user_data != ud || cqe->flags ||
	    (res < 0 ? !(cqe->res & POLLIN) : cqe->res != res))
		tc_fail(tc, "%s: %u CQEs, the first with user_data 0x%llx res %d flags 0x%x; want "
			"one, with user_data 0x%llx and res %s", what, n,
			(unsigned long long)cqe->user_data, cqe->res, cqe->flags,
			(unsigned long long)ud, want);
}

static enum verdict run(struct tcase *tc)
{
	struct sender s = { .tc = tc, .poller = gettid(), .cqe.res = 1 };
	struct io_uring_sqe *sqe;
	struct tw_thread th = { 0 };
	struct io_uring_cqe *cqe;
	struct deadline dl;
	struct tring a, b;
	enum verdict v;
	int64_t t0, took;
	int ret;

	v = tring_init(tc, &a, "A", tc->prof, NULL);
	if (v != V_PASS)
		return v;
	v = tring_init(tc, &b, "B", &profiles[P_DEFAULT], NULL);
	if (v != V_PASS)
		goto out_a;
	sqe = tring_sqe(&b);
	io_uring_prep_poll_add(sqe, tring_fd(&a), POLLIN);
	io_uring_sqe_set_data64(sqe, POLL_UD);
	if (io_uring_submit(&b.ring) != 1) {
		tc_fail(tc, "POLL_ADD on ring A's fd: submit failed");
		goto out;
	}
	s.target = &a;
	if (tw_thread_start(tc, &th, "sender", 0, send_fn, &s)) {
		tc_fail(tc, "pthread_create failed");
		goto out;
	}
	t0 = now_ns();
	ret = tring_wait(&b, 1, POLL_NS, 0, NULL);
	took = now_ns() - t0;
	if (tw_threads_join(tc, &th, 1, NULL, &a) >= V_FAIL)
		goto out;
	if (s.cqe.user_data != SEND_UD || s.cqe.res != 0)
		tc_fail(tc, "MSG_RING to ring A: the sender's CQE has user_data 0x%llx res %d, "
			"want 0x%llx and 0", (unsigned long long)s.cqe.user_data, s.cqe.res,
			SEND_UD);
	else if (io_uring_peek_cqe(&b.ring, &cqe) || !(cqe->res & POLLIN) || took > PROMPT_NS)
		tc_fail(tc, "lost wake-up: a POLL_ADD on the ring fd did not fire within %.3f s of "
			"a message queued as local task_work (wait on B: %s after %.3f s, %u CQEs)",
			ns_to_s(PROMPT_NS), ret ? strerror(-ret) : "0", ns_to_s(took),
			io_uring_cq_ready(&b.ring));
	else
		expect_one(tc, &b, "B: the poll on A's fd", POLL_UD, -1);
	/* Entering A runs the local work: the message becomes a CQE. */
	dl = tc_deadline(tc);
	if (tring_await(tc, &a, 1, &dl, "the message's CQE on ring A") == V_PASS)
		expect_one(tc, &a, "A: the message", MSG_UD, MSG_LEN);
out:
	tring_exit(&b);
out_a:
	tring_exit(&a);
	return tc_verdict(tc);
}

static const struct scenario regress_ringfd_poll = {
	.name = "regress_ringfd_poll",
	.summary = "a POLL_ADD on a DEFER_TASKRUN ring fd fires when local task_work arrives",
	.profiles = PROFILES_LOCAL_TW,
	.run = run,
	.needs = NEED(MSG_RING),
	.fix_commit = "-",
	.fix_subject = "io_uring: wake ->poll_wq when local task_work arrives "
		       "(io_local_work_wake_poll, Linux 7.3)",
	.seeded_faults = "  wrong-msg  the message sent carries user_data and payload 1 off\n",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_ringfd_poll);
}
