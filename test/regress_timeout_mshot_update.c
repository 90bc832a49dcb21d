// SPDX-License-Identifier: MIT
/*
 * A multishot timeout (IORING_TIMEOUT_MULTISHOT) with sqe->off = N fires N
 * times: N - 1 CQEs with IORING_CQE_F_MORE, the last without
 * (io_timeout_finish() counts timeout->repeats down). For a multishot
 * timeout off is no sequence but the number of repeats, and off == 0 means
 * "for ever". An IORING_TIMEOUT_UPDATE of it (io_timeout_update()) cleared
 * off before 7.3, as it does for a counting timeout: the updated timeout
 * then fired for ever. Nor was an absolute time refused for it, which
 * io_timeout_prep() refuses for a multishot timeout (it would re-arm at a
 * time already past). 7.3 keeps off and answers -EINVAL to IORING_TIMEOUT_ABS.
 * Checks: after a relative update to a short interval the timeout fires
 * REPEATS times, the last CQE without F_MORE (the update's CQE: 0); an
 * update of another one with IORING_TIMEOUT_ABS fails with -EINVAL.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#ifndef IORING_TIMEOUT_MULTISHOT
#define IORING_TIMEOUT_MULTISHOT	(1U << 6)
#endif

#define REPEATS		3
#define UD_REPEAT	0x7e		/* the timeout updated to fire soon */
#define UD_UPDATE	0x0d		/* its update */
#define UD_ABS_TARGET	0x7f		/* the timeout updated with an absolute time */
#define UD_ABS		0xab		/* that update */
#define LONG_SECS	60		/* before the update: must not fire */
#define SHORT_NS	(5 * NSEC_PER_MSEC)	/* after it */

static void submit_update(struct tring *r, struct __kernel_timespec *ts, uint64_t target,
			  unsigned flags, uint64_t ud)
{
	struct io_uring_sqe *sqe = tring_sqe(r);

	io_uring_prep_timeout_update(sqe, ts, target, flags);
	io_uring_sqe_set_data64(sqe, ud);
	io_uring_submit(&r->ring);
}

/*
 * The CQEs after a relative update of UD_REPEAT: the update's (0) and
 * REPEATS of the timeout (-ETIME), F_MORE on all but the last. The timer
 * may fire before the update's CQE is seen: they are told by user_data.
 */
static void count_repeats(struct tcase *tc, struct tring *r)
{
	unsigned fired = 0;
	int upd = 1;		/* the update's res, once seen */

	while (upd == 1 || fired < REPEATS) {
		struct deadline dl = tc_deadline(tc);
		struct io_uring_cqe *cqe;
		bool more;

		if (tring_await(tc, r, 1, &dl, "the updated multishot timeout to fire %u times, "
				"%u so far%s", REPEATS, fired,
				upd == 1 ? ", and the update's CQE" : "") != V_PASS)
			return;
		io_uring_peek_cqe(&r->ring, &cqe);
		more = cqe->flags & IORING_CQE_F_MORE;
		if (cqe->user_data == UD_UPDATE && upd == 1) {
			upd = cqe->res;
		} else if (cqe->user_data != UD_REPEAT || cqe->res != -ETIME) {
			tc_fail(tc, "after the update: user_data 0x%llx res %d, expected the "
				"update's (0x%x) or the timeout's (0x%x, -ETIME)",
				(unsigned long long)cqe->user_data, cqe->res, UD_UPDATE, UD_REPEAT);
			return;
		} else if (++fired < REPEATS && !more) {
			tc_fail(tc, "repeat %u of %u came without IORING_CQE_F_MORE", fired, REPEATS);
			return;
		} else if (fired == REPEATS && more) {
			tc_fail(tc, "repeats lost: a multishot timeout of %u repeats, updated: CQE "
				"%u of %u came with IORING_CQE_F_MORE, it goes on for ever", REPEATS,
				REPEATS, REPEATS);
			return;
		}
		io_uring_cqe_seen(&r->ring, cqe);
		if (upd != 1 && upd != 0) {
			tc_refused(tc, NEED_TIMEOUT_MULTISHOT, upd, "update of a multishot timeout");
			return;
		}
	}
}

/*
 * An absolute time, in the past once it fired: refused. CQEs of UD_REPEAT
 * may still come (a kernel that lost its repeats goes on firing it).
 */
static void update_abs(struct tcase *tc, struct tring *r)
{
	struct __kernel_timespec ts = { 0 };
	struct io_uring_cqe *cqe;
	struct timespec now;
	uint64_t ud;
	int res;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ts.tv_sec = now.tv_sec + 1;
	submit_update(r, &ts, UD_ABS_TARGET, IORING_TIMEOUT_ABS, UD_ABS);
	do {
		struct deadline dl = tc_deadline(tc);

		if (tring_await(tc, r, 1, &dl, "the CQE of an IORING_TIMEOUT_ABS update") != V_PASS)
			return;
		io_uring_peek_cqe(&r->ring, &cqe);
		ud = cqe->user_data;
		res = cqe->res;
		io_uring_cqe_seen(&r->ring, cqe);
	} while (ud == UD_REPEAT);
	if (ud != UD_ABS || res != -EINVAL)
		tc_fail(tc, "IORING_TIMEOUT_ABS update of a multishot timeout: user_data 0x%llx "
			"res %d, expected 0x%x and -EINVAL (multishot timeouts take relative "
			"times only)", (unsigned long long)ud, res, UD_ABS);
}

static enum verdict run(struct tcase *tc)
{
	/* Each its own: an SQ thread reads them when it gets to the SQE. */
	struct __kernel_timespec ts = { .tv_sec = LONG_SECS }, soon = { .tv_nsec = SHORT_NS };
	struct io_uring_sqe *sqe;
	struct tring r;
	enum verdict v;

	v = tring_init(tc, &r, "ring", tc->prof, NULL);
	if (v != V_PASS)
		return v;
	sqe = tring_sqe(&r);
	io_uring_prep_timeout(sqe, &ts, REPEATS, IORING_TIMEOUT_MULTISHOT);
	io_uring_sqe_set_data64(sqe, UD_REPEAT);
	sqe = tring_sqe(&r);
	io_uring_prep_timeout(sqe, &ts, REPEATS, IORING_TIMEOUT_MULTISHOT);
	io_uring_sqe_set_data64(sqe, UD_ABS_TARGET);
	if (io_uring_submit(&r.ring) != 2) {
		tc_fail(tc, "submit of two multishot timeouts failed");
		goto out;
	}
	submit_update(&r, &soon, UD_REPEAT, 0, UD_UPDATE);
	count_repeats(tc, &r);
	/* Also after a failure: each check has a bug of its own to catch. */
	if (tc_verdict(tc) == V_PASS || tc_verdict(tc) == V_FAIL)
		update_abs(tc, &r);
out:
	tring_exit(&r);
	return tc_verdict(tc);
}

static const struct scenario regress_timeout_mshot_update = {
	.name = "regress_timeout_mshot_update",
	.summary = "an updated multishot timeout keeps its number of repeats; an absolute "
		   "time is refused",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(TIMEOUT_MULTISHOT),
	.fix_commit = "-",
	.fix_subject = "io_uring/timeout: an update keeps the repeats of a multishot timeout, "
		       "refuses an absolute time (Linux 7.3)",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_timeout_mshot_update);
}
