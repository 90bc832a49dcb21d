// SPDX-License-Identifier: MIT
/*
 * An IORING_OP_TIMEOUT with a count (sqe->off = N) completes once N other
 * completions were posted after it; the CQEs of timeouts do not count
 * (ctx->cq_timeouts is subtracted from the CQ tail, io_flush_timeouts()).
 * A timeout that fires bumps cq_timeouts (io_timeout_fn()); before 7.3 one
 * that was cancelled (TIMEOUT_REMOVE or ASYNC_CANCEL: io_timeout_cancel())
 * did not, so its -ECANCELED CQE counted as an event: a counting timeout
 * completed one event early. 7.3 bumps cq_timeouts in io_timeout_cancel().
 * Checks: a timeout waiting for 2 completions, after a plain timer is
 * removed (its CQE -ECANCELED, the remove's CQE 0: one event), is still
 * pending once every task_work has run; a NOP then completes it with res 0;
 * every CQE comes once with the res expected.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "lib/reap_ud.h"

#define UD_COUNT	0xc0	/* the timeout with a count */
#define UD_TIMER	0x71	/* the plain timer, removed */
#define UD_REMOVE	0x4e	/* its TIMEOUT_REMOVE */
#define UD_NOP		0x0b	/* the second event */
#define COUNT		2	/* the events the count timeout waits for */
#define LONG_SECS	60	/* timers that must not fire during the case */

static enum verdict run(struct tcase *tc)
{
	static const uint64_t uds[4] = { UD_COUNT, UD_TIMER, UD_REMOVE, UD_NOP };
	struct __kernel_timespec ts = { .tv_sec = LONG_SECS };
	struct io_uring_sqe *sqe;
	int res[4];		/* by uds[]: count, timer, remove, nop */
	struct deadline dl;
	struct tring r;
	enum verdict v;

	v = tring_init(tc, &r, "ring", tc->prof, NULL);
	if (v != V_PASS)
		return v;
	/* The count is taken at issue: nothing has completed before it. */
	sqe = tring_sqe(&r);
	io_uring_prep_timeout(sqe, &ts, COUNT, 0);
	io_uring_sqe_set_data64(sqe, UD_COUNT);
	sqe = tring_sqe(&r);
	io_uring_prep_timeout(sqe, &ts, 0, 0);
	io_uring_sqe_set_data64(sqe, UD_TIMER);
	if (io_uring_submit(&r.ring) != 2) {
		tc_fail(tc, "submit of the two timeouts failed");
		goto out;
	}
	/* Event 1: the remove's own CQE. The timer's -ECANCELED is no event. */
	sqe = tring_sqe(&r);
	io_uring_prep_timeout_remove(sqe, UD_TIMER, 0);
	io_uring_sqe_set_data64(sqe, UD_REMOVE);
	dl = tc_deadline(tc);
	if (tring_submit_await(tc, &r, 1, 2, &dl, "the TIMEOUT_REMOVE of a pending timer") !=
	    V_PASS)
		goto out;
	/* Run what task_work there is: a count timeout that fired would post now. */
	tring_get_events(&r);
	reap_ud_init(res, 4);
	if (!reap_ud(tc, &r, uds, res, 4))
		goto out;
	if (res[0] != REAP_NONE) {
		tc_fail(tc, "early: a timeout waiting for %d completions completed (res %d) after "
			"one, with a removed timer's CQE (res %d) counted as another", COUNT,
			res[0], res[1]);
		goto out;
	}
	if (res[1] != -ECANCELED || res[2] != 0) {
		tc_fail(tc, "TIMEOUT_REMOVE: remove res %d, the timer's res %d; expected 0 and "
			"-ECANCELED", res[2], res[1]);
		goto out;
	}
	/* Event 2: now the count is reached. */
	sqe = tring_sqe(&r);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, UD_NOP);
	dl = tc_deadline(tc);
	if (tring_submit_await(tc, &r, 1, 2, &dl, "a timeout waiting for %d completions, after "
			       "%d (and a NOP)", COUNT, COUNT) != V_PASS)
		goto out;
	if (reap_ud(tc, &r, uds, res, 4) && (res[0] != 0 || res[3] != 0))
		tc_fail(tc, "the count timeout completed with res %d, the NOP with %d; expected 0 "
			"and 0", res[0], res[3]);
out:
	tring_exit(&r);
	return tc_verdict(tc);
}

static const struct scenario regress_timeout_cancel_seq = {
	.name = "regress_timeout_cancel_seq",
	.summary = "a removed timeout's CQE does not count towards a timeout waiting for N "
		   "completions",
	/* the SQ thread runs SQPOLL's task_work: no point where all of it has run */
	.profiles = PROFILES_ALL & ~PMASK(P_SQPOLL),
	.run = run,
	.needs = NEED(TIMEOUT_REMOVE),
	.fix_commit = "-",
	.fix_subject = "io_uring/timeout: a cancelled timeout's CQE is no event for counting "
		       "timeouts (Linux 7.3)",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_timeout_cancel_seq);
}
