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
 * the message.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "harness.h"

#define PROMPT_NS	(200 * NSEC_PER_MSEC)
#define POLL_NS		(600 * NSEC_PER_MSEC)

struct sender {
	struct tcase *tc;
	struct tring *target;
	pid_t poller;
	int res;
};

/* Sends once the poller sleeps: then only a wake-up can end its poll(). */
static void *send_fn(struct tw_thread *t)
{
	struct sender *s = t->arg;
	struct deadline dl = tc_deadline(s->tc);
	struct io_uring_cqe *cqe;
	struct tring src;

	if (tring_init(s->tc, &src, "sender", &profiles[P_DEFAULT], NULL) != V_PASS)
		return NULL;
	if (proc_task_wait_state(s->poller, 'S', &dl)) {
		tc_hang(s->tc, NULL, s->target, "the submitter never went to sleep on ring B");
		goto out;
	}
	io_uring_prep_msg_ring(tring_sqe(&src), tring_fd(s->target), 5, 0x55, 0);
	if (io_uring_submit(&src.ring) != 1 || tring_wait_ready(&src, 1, &dl)) {
		tc_hang(s->tc, NULL, &src, "MSG_RING to the polled ring did not complete");
		goto out;
	}
	io_uring_peek_cqe(&src.ring, &cqe);
	s->res = cqe->res;
out:
	tring_exit(&src);
	return NULL;
}

static enum verdict run(struct tcase *tc)
{
	struct sender s = { .tc = tc, .poller = gettid(), .res = 1 };
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
	io_uring_prep_poll_add(tring_sqe(&b), tring_fd(&a), POLLIN);
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
	if (s.res != 0)
		tc_fail(tc, "MSG_RING to ring A: res %d, expected 0", s.res);
	else if (io_uring_peek_cqe(&b.ring, &cqe) || !(cqe->res & POLLIN) || took > PROMPT_NS)
		tc_fail(tc, "lost wake-up: a POLL_ADD on the ring fd did not fire within %.3f s of "
			"a message queued as local task_work (wait on B: %s after %.3f s, %u CQEs)",
			ns_to_s(PROMPT_NS), ret ? strerror(-ret) : "0", ns_to_s(took),
			io_uring_cq_ready(&b.ring));
	/* Entering A runs the local work: the message becomes a CQE. */
	dl = tc_deadline(tc);
	if (tring_wait_ready(&a, 1, &dl))
		tc_hang(tc, NULL, &a, "the message never became a CQE");
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
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_ringfd_poll);
}
