// SPDX-License-Identifier: MIT
/*
 * A CQ wait with a timeout whose sleep is broken up by task_work: polls on
 * pipes complete one by one while the owner waits for more CQEs than will
 * arrive. Each completion is task_work that wakes the waiter
 * (io_cqring_wait() runs it and goes back to sleep). Kernels that armed the
 * whole timeout anew at every sleep, instead of once for the wait, extended
 * the wait by each wake-up: with wake-ups coming faster than the timeout it
 * only ended once they stopped.
 * Checks: the wait returns at its timeout, not before it and not much
 * after (0 with the CQEs that did arrive); every poll completes exactly
 * once, with POLLIN (ledger).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define NR_PIPES	16
#define FEED_NS		(30 * NSEC_PER_MSEC)		/* one poll completion each */
#define WAIT_NS		(200 * NSEC_PER_MSEC)		/* < NR_PIPES * FEED_NS */
#define SLACK_NS	(150 * NSEC_PER_MSEC)
#define EARLY_NS	(1 * NSEC_PER_MSEC)	/* clock reads around the syscall */

struct feed {
	struct tcase *tc;
	int wfd[NR_PIPES];
	struct tw_event go;
};

/* Completes one poll every FEED_NS: pacing the load, not synchronisation. */
static void *feeder(struct tw_thread *t)
{
	struct feed *f = t->arg;
	struct deadline dl = tc_deadline(f->tc);
	int64_t next;

	if (tw_event_wait(&f->go, &dl))
		return NULL;
	next = now_ns();
	for (unsigned i = 0; i < NR_PIPES; i++) {
		next += FEED_NS;
		sleep_until_ns(next);
		if (write(f->wfd[i], "x", 1) != 1)
			tc_fail(f->tc, "write to pipe %u: %s", i, strerror(errno));
	}
	return NULL;
}

static const char *check_res(uint64_t ud, int32_t res, uint32_t flags, void *arg)
{
	(void)ud, (void)flags, (void)arg;
	return res > 0 && (res & POLLIN) ? NULL : "POLLIN";
}

static enum verdict run(struct tcase *tc)
{
	const struct tring_opts o = { .sq_entries = 32, .cq_entries = 64, .attach_wq_fd = -1 };
	struct feed f = { .tc = tc };
	/* Seeded: the wait is given a quarter of the timeout it is judged by. */
	int64_t wait_ns = harness_seeded("early-wait") ? WAIT_NS / 4 : WAIT_NS;
	struct ledger *l = ledger_new(tc, "polls", 1, 1, NR_PIPES, 0);
	int rfd[NR_PIPES], fds[2];
	struct tw_thread th = { 0 };
	unsigned got = 0;
	struct deadline dl;
	struct tring r;
	int64_t t0, took;
	enum verdict v;
	int ret;

	if (!l)
		return tc_fail(tc, "out of memory");
	ledger_set_check(l, check_res, NULL);
	v = tring_init(tc, &r, "ring", tc->prof, &o);
	if (v != V_PASS)
		return v;
	for (unsigned i = 0; i < NR_PIPES; i++) {
		struct io_uring_sqe *sqe = tring_sqe(&r);

		if (pipe2(fds, O_CLOEXEC))
			return tc_fail(tc, "pipe: %s", strerror(errno));
		rfd[i] = fds[0];
		f.wfd[i] = fds[1];
		io_uring_prep_poll_add(sqe, rfd[i], POLLIN);
		io_uring_sqe_set_data64(sqe, ledger_ud(l, 0, 0, i));
	}
	/* Seeded: one poll's user_data on a NOP too - a 17th CQE. */
	if (harness_seeded("dup-cqe")) {
		struct io_uring_sqe *sqe = tring_sqe(&r);

		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, ledger_ud(l, 0, 0, 3));
	}
	if (io_uring_submit(&r.ring) < NR_PIPES)
		return tc_fail(tc, "submit of %u POLL_ADD failed", NR_PIPES);
	ledger_sent(l, 0, 0, NR_PIPES);
	if (tw_thread_start(tc, &th, "feeder", 0, feeder, &f))
		return tc_fail(tc, "pthread_create failed");
	/* More CQEs than will arrive within the timeout. */
	tw_event_set(&f.go);
	t0 = now_ns();
	ret = tring_wait(&r, NR_PIPES, wait_ns, 0, NULL);
	took = now_ns() - t0;
	got = io_uring_cq_ready(&r.ring);
	tc_log(tc, "wait for %u CQEs, timeout %.3f s: %s after %.3f s with %u CQEs", NR_PIPES,
	       ns_to_s(WAIT_NS), ret ? strerror(-ret) : "0", ns_to_s(took), got);
	if (took < WAIT_NS - EARLY_NS && got < NR_PIPES)
		tc_fail(tc, "early return: a wait for %u CQEs with a %.3f s timeout returned %s "
			"after %.3f s with %u", NR_PIPES, ns_to_s(WAIT_NS), ret ? strerror(-ret) :
			"0", ns_to_s(took), got);
	else if (took > WAIT_NS + SLACK_NS)
		tc_fail(tc, "timeout extended: a wait for %u CQEs with a %.3f s timeout returned "
			"%s after %.3f s, woken by %u task_work completions on the way",
			NR_PIPES, ns_to_s(WAIT_NS), ret ? strerror(-ret) : "0", ns_to_s(took), got);
	/* At its timeout a wait returns 0 if CQEs are there, else -ETIME. */
	else if (ret != 0 && ret != -ETIME)
		tc_fail(tc, "a wait for %u CQEs returned %s after %.3f s with %u, expected 0 or "
			"-ETIME", NR_PIPES, strerror(-ret), ns_to_s(took), got);
	v = tw_threads_join(tc, &th, 1, NULL, &r);
	/* Every poll completes once: the rest arrived after the wait. */
	dl = tc_deadline(tc);
	if (v < V_FAIL)
		tring_await_ledger(tc, l, &r, NR_PIPES, &dl, "the %u polls to complete", NR_PIPES);
	/* Exactly once each: a CQE more is a duplicate (or never issued). */
	tring_get_events(&r);
	ledger_reap(l, &r);
	if (v < V_FAIL)
		ledger_verify(l);
	for (unsigned i = 0; i < NR_PIPES; i++) {
		close(rfd[i]);
		close(f.wfd[i]);
	}
	tring_exit(&r);
	ledger_free(l);
	return tc_verdict(tc);
}

static const struct scenario regress_wait_timeout = {
	.name = "regress_wait_timeout",
	.summary = "a CQ wait woken by task_work again and again still times out on time",
	/* Rings whose normal task_work wakes the waiter (TWA_SIGNAL) at every
	 * completion; DEFER_TASKRUN and SQPOLL wake it only for its batch. */
	.profiles = PMASK(P_DEFAULT) | PMASK(P_SINGLE),
	.run = run,
	.fix_commit = "12521a5d5cb7",
	.fix_subject = "io_uring: fix CQ waiting timeout handling",
	.seeded_faults = "  early-wait  the wait is given a quarter of its timeout\n"
			 "  dup-cqe     a NOP carries a poll's user_data: one CQE too many\n",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_wait_timeout);
}
