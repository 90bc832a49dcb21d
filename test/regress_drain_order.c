// SPDX-License-Identifier: MIT
/*
 * One submit: a 20 ms IORING_OP_TIMEOUT, a NOP with IOSQE_IO_DRAIN, a NOP.
 * The drained NOP waits on ctx->defer_list for the timeout, and the NOP
 * after it waits there behind it (io_drain_req(): the list is not empty).
 * The timeout completes (from task_work); io_queue_deferred() then releases
 * both NOPs in order, each with io_req_task_queue(). 6.1 runs task_work newest
 * first (tctx_task_work() and __io_run_local_work() walk the llist as
 * llist_add() built it), so the NOP after the drain was issued, and
 * completed, before the drained one - against io_uring_enter(2): "new SQEs
 * will not be started before this one completes". Upstream runs task_work
 * in queue order since 3af0356c162c (DEFER_TASKRUN, 6.5) and 170539bdf109
 * (the others, 6.9); doc/bugs/drain-lifo-tw.md.
 * Checks: the CQEs come as timeout, drained NOP, NOP, each with its result.
 * (request_kinds' drain phase, with reads in flight, fails the same way.)
 */
#include <errno.h>

#include "harness.h"

#define TIMEOUT_NS	(20 * NSEC_PER_MSEC)	/* the request the drain waits for */

enum { UD_TIMEOUT = 1, UD_DRAIN, UD_AFTER };

static const char *const ud_names[] = { "?", "timeout", "drained NOP", "NOP after the drain" };

static const char *ud_name(uint64_t ud)
{
	return ud <= UD_AFTER ? ud_names[ud] : "?";
}

static void prep(struct tring *r, struct __kernel_timespec *ts)
{
	struct io_uring_sqe *sqe = tring_sqe(r);

	io_uring_prep_timeout(sqe, ts, 0, 0);
	io_uring_sqe_set_data64(sqe, UD_TIMEOUT);
	io_uring_prep_nop(sqe = tring_sqe(r));
	sqe->flags |= IOSQE_IO_DRAIN;
	io_uring_sqe_set_data64(sqe, UD_DRAIN);
	io_uring_prep_nop(sqe = tring_sqe(r));
	io_uring_sqe_set_data64(sqe, UD_AFTER);
}

/* The three CQEs, in CQ order; checks each one's place and result. */
static void check_order(struct tcase *tc, struct tring *r)
{
	static const int32_t want_res[] = { 0, -ETIME, 0, 0 };
	struct io_uring_cqe *cqe;
	uint64_t got[3];

	for (unsigned i = 0; i < 3; i++) {
		io_uring_peek_cqe(&r->ring, &cqe);
		got[i] = cqe->user_data;
		if (got[i] >= UD_TIMEOUT && got[i] <= UD_AFTER && cqe->res != want_res[got[i]])
			tc_fail(tc, "%s: res %d, expected %d", ud_name(got[i]), cqe->res,
				want_res[got[i]]);
		io_uring_cqe_seen(&r->ring, cqe);
	}
	if (got[0] != UD_TIMEOUT || got[1] != UD_DRAIN || got[2] != UD_AFTER)
		tc_fail(tc, "order: CQEs %s, %s, %s; expected timeout, drained NOP, NOP after the "
			"drain%s", ud_name(got[0]), ud_name(got[1]), ud_name(got[2]),
			got[0] == UD_AFTER || got[1] == UD_AFTER ?
			": the NOP after the drain completed before the drained NOP" : "");
}

static enum verdict run(struct tcase *tc)
{
	struct __kernel_timespec ts = { .tv_nsec = TIMEOUT_NS };
	struct deadline dl;
	struct tring r;

	if (tring_init(tc, &r, "ring", tc->prof, NULL) != V_PASS)
		return tc_verdict(tc);
	prep(&r, &ts);
	dl = tc_deadline(tc);
	if (tring_submit_await(tc, &r, 3, 3, &dl, "a timeout, a drained NOP and a NOP") == V_PASS)
		check_order(tc, &r);
	tring_exit(&r);
	return tc_verdict(tc);
}

static const struct scenario regress_drain_order = {
	.name = "regress_drain_order",
	.summary = "a NOP submitted after an IOSQE_IO_DRAIN NOP that waits for a timeout "
		   "completes after the drained NOP",
	/* Every profile: the order is task_work's, normal, local or the SQ thread's. */
	.profiles = PROFILES_ALL,
	.run = run,
	.fix_commit = "170539bdf109",
	.fix_subject = "io_uring: handle traditional task_work in FIFO order (and 3af0356c162c "
		       "for DEFER_TASKRUN)",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_drain_order);
}
