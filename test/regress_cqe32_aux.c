// SPDX-License-Identifier: MIT
/*
 * On an IORING_SETUP_CQE32 ring every CQE has 16 bytes more (big_cqe[2]),
 * zero unless the request put something there. A request's own CQE is
 * copied whole (io_fill_cqe_req()); the CQEs posted for no request of their
 * own - a MSG_RING's message at its target, a multishot request's
 * F_MORE CQEs (io_fill_cqe_aux()) - are written field by field. Since
 * mixed CQE sizes (6.18) and before 7.3 that path cleared big_cqe only for
 * a 32-byte CQE of a mixed ring: on a CQE32 ring such a CQE carried
 * whatever the slot held from the CQE before it, a lap of the ring ago.
 * 7.3 clears it on CQE32 rings too.
 * Checks: the CQ (CQ_SIZE entries) is filled with NOPs whose CQEs carry
 * big_cqe values (IORING_NOP_CQE32) and reaped; then MSG_RINGs from the
 * ring to itself land in the same slots: each message and each sender's
 * CQE has big_cqe 0, 0 (and the user_data and res sent).
 */
#include <errno.h>
#include <string.h>

#include "harness.h"

#define NOP_CQE32	(1U << 5)	/* IORING_NOP_CQE32: extra1 = off, extra2 = addr */
#define CQ_SIZE		4
#define STALE1		0x5151515151515151ull
#define STALE2		0x5252525252525252ull
#define UD_NOP		0x10		/* + i */
#define UD_SEND		0x20		/* + i: the sender's CQE */
#define UD_MSG		0x30		/* + i: the message */
#define MSG_LEN		7		/* its res */

static uint64_t *big(struct io_uring_cqe *cqe)
{
	return (uint64_t *)cqe->big_cqe;
}

/* Wait for n CQEs, check each with check(), reap them. */
static int reap(struct tcase *tc, struct tring *r, unsigned n, const char *what,
		void (*check)(struct tcase *, struct io_uring_cqe *))
{
	struct deadline dl = tc_deadline(tc);
	struct io_uring_cqe *cqe;

	if (tring_await(tc, r, n, &dl, "the %u CQEs of %s", n, what) != V_PASS)
		return -1;
	for (unsigned i = 0; i < n && !io_uring_peek_cqe(&r->ring, &cqe); i++) {
		check(tc, cqe);
		io_uring_cqe_seen(&r->ring, cqe);
	}
	return tc_failed(tc) || tc_verdict(tc) == V_SKIP ? -1 : 0;
}

static void check_nop(struct tcase *tc, struct io_uring_cqe *cqe)
{
	if (cqe->res == -EINVAL)
		tc_refused(tc, NEED_NOP_CQE32, cqe->res, "a NOP with IORING_NOP_CQE32");
	else if (cqe->res != 0 || big(cqe)[0] != STALE1 || big(cqe)[1] != STALE2)
		tc_fail(tc, "NOP 0x%llx with IORING_NOP_CQE32: res %d big_cqe 0x%llx 0x%llx, "
			"expected 0 0x%llx 0x%llx", (unsigned long long)cqe->user_data, cqe->res,
			(unsigned long long)big(cqe)[0], (unsigned long long)big(cqe)[1],
			STALE1, STALE2);
}

static void check_msg(struct tcase *tc, struct io_uring_cqe *cqe)
{
	uint64_t ud = cqe->user_data;
	bool msg = ud >= UD_MSG && ud < UD_MSG + CQ_SIZE;

	if ((!msg && (ud < UD_SEND || ud >= UD_SEND + CQ_SIZE)) ||
	    cqe->res != (msg ? MSG_LEN : 0))
		tc_fail(tc, "CQE user_data 0x%llx res %d: neither a message (0x%x.., res %d) nor "
			"a sender's CQE (0x%x.., res 0)", (unsigned long long)ud, cqe->res, UD_MSG,
			MSG_LEN, UD_SEND);
	else if (big(cqe)[0] || big(cqe)[1])
		tc_fail(tc, "stale big_cqe: the %s CQE 0x%llx of a CQE32 ring carries big_cqe "
			"0x%llx 0x%llx, left in its slot by the CQE a lap before (expected 0 0)",
			msg ? "message's" : "sender's", (unsigned long long)ud,
			(unsigned long long)big(cqe)[0], (unsigned long long)big(cqe)[1]);
}

static enum verdict run(struct tcase *tc)
{
	const struct tring_opts o = { .sq_entries = CQ_SIZE, .cq_entries = CQ_SIZE,
				      .extra_flags = IORING_SETUP_CQE32, .attach_wq_fd = -1 };
	struct io_uring_sqe *sqe;
	struct tring r;
	enum verdict v;

	v = tring_init(tc, &r, "ring", tc->prof, &o);
	if (v != V_PASS)
		return v;
	/* Lap 1: every slot gets big_cqe values. */
	for (unsigned i = 0; i < CQ_SIZE; i++) {
		sqe = tring_sqe(&r);
		io_uring_prep_nop(sqe);
		sqe->rw_flags = NOP_CQE32;	/* sqe->nop_flags */
		sqe->off = STALE1;
		sqe->addr = STALE2;
		io_uring_sqe_set_data64(sqe, UD_NOP + i);
	}
	if (io_uring_submit(&r.ring) != CQ_SIZE) {
		tc_fail(tc, "submit of %u NOPs failed", CQ_SIZE);
		goto out;
	}
	if (reap(tc, &r, CQ_SIZE, "lap 1 (NOPs)", check_nop))
		goto out;
	/* Lap 2: a message (no request of its own at the target) and its sender's CQE each. */
	for (unsigned i = 0; i < CQ_SIZE / 2; i++) {
		sqe = tring_sqe(&r);
		io_uring_prep_msg_ring(sqe, tring_fd(&r), MSG_LEN, UD_MSG + i, 0);
		io_uring_sqe_set_data64(sqe, UD_SEND + i);
	}
	if (io_uring_submit(&r.ring) != CQ_SIZE / 2) {
		tc_fail(tc, "submit of %u MSG_RINGs failed", CQ_SIZE / 2);
		goto out;
	}
	reap(tc, &r, CQ_SIZE, "lap 2 (MSG_RING to the ring itself)", check_msg);
out:
	tring_exit(&r);
	return tc_verdict(tc);
}

static const struct scenario regress_cqe32_aux = {
	.name = "regress_cqe32_aux",
	.summary = "CQEs posted for no request of their own (a MSG_RING's message) on a CQE32 "
		   "ring have big_cqe cleared",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(CQE32) | NEED(MSG_RING) | NEED(NOP_CQE32),
	.fix_commit = "-",
	.fix_subject = "io_uring: clear big_cqe of auxiliary CQEs on CQE32 rings (Linux 7.3)",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_cqe32_aux);
}
