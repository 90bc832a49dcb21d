// SPDX-License-Identifier: MIT
/*
 * A 32-byte CQE that finds one free CQ slot on a ring with mixed CQE sizes
 * (IORING_SETUP_CQE_MIXED) overflows. Two bugs of that path:
 *  - ordering: io_cqe_cache_refill() left the one cached slot it could not
 *    use for the big CQE in ctx->cqe_cached, and the next 16-byte CQE took
 *    it - ahead of the big CQE still on the overflow list;
 *  - busy wait: a wait that needs the overflowed CQE posted finds no room for
 *    it; io_cqring_wait() "retried" without sleeping while ctx->check_cq
 *    stayed set, spinning on the CPU until its timeout. Fixed kernels return
 *    to the application, which has to make room.
 * Checks: no CPU-bound wait; every CQE comes back once, in posting order.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#ifndef IORING_SETUP_CQE_MIXED
#define IORING_SETUP_CQE_MIXED	(1U << 18)
#endif
#define NOP_CQE32		(1U << 5)	/* IORING_NOP_CQE32 */
#define CQE_F_SKIP		(1U << 5)	/* IORING_CQE_F_SKIP: a filler */
#define CQE_F_32		(1U << 15)	/* IORING_CQE_F_32 */

#define CQ_SIZE		8
#define UD_BIG		9			/* the 32-byte CQE */
#define NR_CQES		11			/* user_data 0..10 */
#define WAIT_NS		(200 * NSEC_PER_MSEC)

/* One NOP, posting a 16- or a 32-byte CQE; returns 0 or -1 (verdict set). */
static int nop(struct tcase *tc, struct tring *r, uint64_t ud, bool big)
{
	struct io_uring_sqe *sqe = tring_sqe(r);
	int ret;

	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, ud);
	if (big) {
		sqe->rw_flags = NOP_CQE32;	/* sqe->nop_flags */
		sqe->off = ud;			/* big_cqe[0] */
	}
	ret = io_uring_submit(&r->ring);
	if (ret != 1) {
		tc_fail(tc, "submit of NOP %llu: %s", (unsigned long long)ud,
			ret < 0 ? strerror(-ret) : "not taken");
		return -1;
	}
	return 0;
}

/* Consume CQEs (32-byte ones take two slots, fillers are skipped) up to n,
 * checking that user_data counts up from *next. */
static void reap(struct tcase *tc, struct tring *r, unsigned *next, unsigned n)
{
	struct io_uring_cq *cq = &r->ring.cq;
	unsigned head = *cq->khead, tail = __atomic_load_n(cq->ktail, __ATOMIC_ACQUIRE);

	while (head != tail && *next < n) {
		struct io_uring_cqe *cqe = &cq->cqes[head & *cq->kring_mask];

		head++;
		if (cqe->flags & CQE_F_SKIP)
			continue;
		if (cqe->flags & CQE_F_32)
			head++;
		if (cqe->user_data == UD_BIG && cqe->res == -EINVAL)
			tc_refused(tc, NEED_NOP_CQE32, cqe->res, "a NOP with IORING_NOP_CQE32");
		else if (cqe->user_data != *next) {
			tc_fail(tc, "order: CQE %llu%s came where %u was due (CQE %u overflowed as "
				"a 32-byte CQE with one slot free)",
				(unsigned long long)cqe->user_data,
				cqe->flags & CQE_F_32 ? " (32-byte)" : "", *next, UD_BIG);
			/* one report: what follows is out of step by this one */
			*next = NR_CQES;
			break;
		}
		else if (cqe->res != 0 || !(cqe->flags & CQE_F_32) != (*next != UD_BIG))
			tc_fail(tc, "CQE %u: res %d flags 0x%x, expected res 0%s", *next, cqe->res,
				cqe->flags, *next == UD_BIG ? " and IORING_CQE_F_32" : "");
		(*next)++;
	}
	__atomic_store_n(cq->khead, head, __ATOMIC_RELEASE);
}

/*
 * A full CQ, two slots made free at its start, a 16-byte CQE into the first
 * (the refill cached both: the second stays cached), then a 32-byte CQE that
 * finds one slot free and overflows.
 */
static int one_slot_free(struct tcase *tc, struct tring *r, unsigned *next)
{
	struct deadline dl = tc_deadline(tc);

	for (unsigned i = 0; i < CQ_SIZE; i++)
		if (nop(tc, r, i, false))
			return -1;
	if (tring_await(tc, r, CQ_SIZE, &dl, "%u NOPs", CQ_SIZE) != V_PASS)
		return -1;
	reap(tc, r, next, 2);
	return nop(tc, r, 8, false) || nop(tc, r, UD_BIG, true) ? -1 : 0;
}

/* Every CQE up to NR_CQES, in order: entering flushes the overflow list
 * into the room that reaping makes. */
static void drain(struct tcase *tc, struct tring *r, unsigned *next)
{
	while (*next < NR_CQES && tc_verdict(tc) <= V_FAIL) {
		struct deadline dl = tc_deadline(tc);

		reap(tc, r, next, NR_CQES);
		if (*next < NR_CQES &&
		    tring_await(tc, r, 1, &dl, "CQEs %u..%u to come back from the overflow list",
				*next, NR_CQES - 1) != V_PASS)
			return;
	}
}

/* The later 16-byte CQE must queue up behind the overflowed big one. */
static void check_order(struct tcase *tc)
{
	const struct tring_opts o = { .sq_entries = CQ_SIZE, .cq_entries = CQ_SIZE,
				      .extra_flags = IORING_SETUP_CQE_MIXED, .attach_wq_fd = -1 };
	unsigned next = 0;
	struct tring r;

	if (tring_init(tc, &r, "ring", tc->prof, &o) != V_PASS)
		return;
	if (!one_slot_free(tc, &r, &next) && !nop(tc, &r, 10, false))
		drain(tc, &r, &next);
	tring_exit(&r);
}

/*
 * Kernels with the busy wait spin with no regard for their timeout or for
 * signals, not even SIGKILL: the loop ends only once the CQ has room. The
 * rescuer makes that room if the wait has not returned in time: it reaps
 * the CQ (the head is the application's to move, from any thread).
 */
struct rescue {
	struct tcase *tc;
	struct tring *r;
	unsigned *next;
	pid_t waiter;
	uint32_t state;			/* 0 waiting, 1 returned, 2 rescued */
	struct tw_event returned;
	int64_t cpu_ns;			/* the waiter's CPU time when rescued */
};

static void *rescuer(struct tw_thread *t)
{
	struct rescue *rs = t->arg;
	struct deadline dl = deadline_in(3 * WAIT_NS);
	uint32_t waiting = 0;

	if (!tw_event_wait(&rs->returned, &dl) ||
	    !__atomic_compare_exchange_n(&rs->state, &waiting, 2, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return NULL;
	rs->cpu_ns = proc_task_cpu_ns(rs->waiter);
	reap(rs->tc, rs->r, rs->next, NR_CQES);
	return NULL;
}

static void check_wait(struct tcase *tc)
{
	const struct tring_opts o = { .sq_entries = CQ_SIZE, .cq_entries = CQ_SIZE,
				      .extra_flags = IORING_SETUP_CQE_MIXED, .attach_wq_fd = -1 };
	struct rescue rs = { .tc = tc, .waiter = gettid() };
	struct tw_thread th = { 0 };
	uint32_t waiting = 0;
	unsigned next = 0;
	int64_t t0, wall;
	struct tring r;
	int ret;

	if (tring_init(tc, &r, "ring", tc->prof, &o) != V_PASS)
		return;
	if (one_slot_free(tc, &r, &next))
		goto out;
	rs.r = &r;
	rs.next = &next;
	if (tw_thread_start(tc, &th, "rescuer", 0, rescuer, &rs)) {
		tc_fail(tc, "pthread_create failed");
		goto out;
	}
	/* Wants CQE 9 posted, for which there is no room until someone reaps.
	 * (DEFER_TASKRUN: only the submitter may wait, so this thread.) */
	t0 = now_ns();
	ret = tring_wait(&r, CQ_SIZE, WAIT_NS, 0, NULL);
	wall = now_ns() - t0;
	if (!__atomic_compare_exchange_n(&rs.state, &waiting, 1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		tc_fail(tc, "busy wait: a wait for %u CQEs (timeout %.3f s) that needs an "
			"overflowed 32-byte CQE posted spun on the CPU (%.3f s of CPU after "
			"%.3f s) and returned (%s) only once another thread reaped the CQ",
			CQ_SIZE, ns_to_s(WAIT_NS), ns_to_s(rs.cpu_ns), ns_to_s(wall),
			ret ? strerror(-ret) : "0");
	else if (ret != 0 && ret != -ETIME)
		tc_fail(tc, "wait with a 32-byte CQE overflowed: %s, expected 0 or -ETIME",
			strerror(-ret));
	tw_event_set(&rs.returned);
	tw_threads_join(tc, &th, 1, NULL, &r);
	tc_log(tc, "wait with a 32-byte CQE overflowed: %s after %.3f s",
	       ret ? strerror(-ret) : "0", ns_to_s(wall));
	if (!nop(tc, &r, 10, false))
		drain(tc, &r, &next);
out:
	tring_exit(&r);
}

static enum verdict run(struct tcase *tc)
{
	struct tring probe;
	const struct tring_opts o = { .extra_flags = IORING_SETUP_CQE_MIXED, .attach_wq_fd = -1 };
	enum verdict v = tring_init(tc, &probe, "probe", tc->prof, &o);

	if (v != V_PASS)
		return v;	/* refused: judged by the needs table (src/needs.c) */
	tring_exit(&probe);
	check_order(tc);
	if (tc_verdict(tc) != V_SKIP)
		check_wait(tc);
	return tc_verdict(tc);
}

static const struct scenario regress_cqe_mixed = {
	.name = "regress_cqe_mixed",
	.summary = "a 32-byte CQE overflowing with one CQ slot free: later CQEs stay behind it, "
		   "a wait that needs it posted does not spin",
	.profiles = PMASK(P_DEFAULT) | PMASK(P_DEFER),
	.run = run,
	.needs = NEED(CQE_MIXED) | NEED(NOP_CQE32),
	.fix_commit = "-",
	.fix_subject = "io_uring: drop the cached CQE slot a 32b CQE cannot use; return from "
		       "the wait when overflow finds no room (Linux 7.3)",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_cqe_mixed);
}
