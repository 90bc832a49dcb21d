// SPDX-License-Identifier: MIT
/*
 * A ring with mixed SQE sizes (IORING_SETUP_SQE_MIXED) holds a 128-byte
 * SQE in two SQ entries. An SQ thread that serves more than one ring
 * submits at most IORING_SQPOLL_CAP_ENTRIES_VALUE (8) entries of a ring per
 * round (__io_sq_thread()), a cap the application neither sets nor sees.
 * Before 7.3, io_init_req() failed a 128-byte SQE with -EINVAL when fewer
 * than two entries were left of the round: one that starts at the 8th
 * entry failed, and its second half was read as an SQE of its own in the
 * next round. 7.3 takes the second entry on top of the cap (SQPOLL only).
 * Checks: two SQPOLL rings share an SQ thread (IORING_SETUP_ATTACH_WQ);
 * seven NOPs and an IORING_OP_NOP128 are queued on one with a single tail
 * update, the NOP128 in entries 8 and 9: eight CQEs come, each res 0, the
 * NOP128's too, and none for its second half.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"

#ifndef IORING_SETUP_SQE_MIXED
#define IORING_SETUP_SQE_MIXED	(1U << 19)
#endif
#define OP_NOP128	63		/* IORING_OP_NOP128 */
#define SQ_SIZE		16		/* no wrap: the NOP128 in entries 7 and 8 */
#define CAP		8		/* IORING_SQPOLL_CAP_ENTRIES_VALUE */
#define NR_NOPS		(CAP - 1)	/* user_data 1..7 */
#define UD_NOP128	(CAP)		/* 8 */

static enum verdict run(struct tcase *tc)
{
	struct tring_opts o = { .sq_entries = SQ_SIZE, .extra_flags = IORING_SETUP_SQE_MIXED,
				.attach_wq_fd = -1 };
	struct deadline dl = tc_deadline(tc);
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int res[CAP + 1];
	unsigned strays = 0;
	struct tring a, b;
	enum verdict v;

	v = tring_init(tc, &a, "A", tc->prof, &o);
	if (v != V_PASS)
		return v;
	/* B only makes the SQ thread serve two rings: then it caps each round. */
	o.extra_flags = 0;
	o.attach_wq_fd = tring_fd(&a);
	v = tring_init(tc, &b, "B", tc->prof, &o);
	if (v != V_PASS)
		goto out_a;
	for (unsigned i = 1; i <= NR_NOPS; i++) {
		sqe = tring_sqe(&a);
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, i);
	}
	/* The 128-byte SQE: entry 8 and, right behind it, entry 9. */
	sqe = tring_sqe(&a);
	io_uring_prep_nop(sqe);
	sqe->opcode = OP_NOP128;
	io_uring_sqe_set_data64(sqe, UD_NOP128);
	memset(tring_sqe(&a), 0, sizeof(*sqe));
	if (io_uring_submit(&a.ring) < 0) {
		tc_fail(tc, "submit of 7 NOPs and a NOP128 failed");
		goto out;
	}
	if (tring_await(tc, &a, CAP, &dl, "7 NOPs and a NOP128 on an SQPOLL ring") != V_PASS)
		goto out;
	for (unsigned i = 0; i <= CAP; i++)
		res[i] = 1;
	while (!io_uring_peek_cqe(&a.ring, &cqe)) {
		if (cqe->user_data >= 1 && cqe->user_data <= CAP && res[cqe->user_data] == 1)
			res[cqe->user_data] = cqe->res;
		else
			strays++;
		io_uring_cqe_seen(&a.ring, cqe);
	}
	if (res[UD_NOP128] == -EINVAL && res[1] == 0)
		tc_fail(tc, "NOP128 in SQ entries %u and %u of an SQPOLL ring sharing its thread: "
			"-EINVAL (the SQ thread's cap of %u entries a round split it)%s", CAP,
			CAP + 1, CAP, strays ? "; its second half came as a CQE of its own" : "");
	for (unsigned i = 1; i <= CAP && !tc_failed(tc); i++)
		if (res[i] != 0)
			tc_fail(tc, "%s %u: res %d, expected 0", i == UD_NOP128 ? "NOP128" : "NOP",
				i, res[i]);
	if (strays && !tc_failed(tc))
		tc_fail(tc, "%u CQEs with unknown user_data", strays);
out:
	tring_exit(&b);
out_a:
	tring_exit(&a);
	return tc_verdict(tc);
}

static const struct scenario regress_sqe_mixed_sqpoll = {
	.name = "regress_sqe_mixed_sqpoll",
	.summary = "a 128-byte SQE on an SQE_MIXED ring is not split by the cap of an SQ thread "
		   "serving two rings",
	/* the cap is the SQ thread's */
	.profiles = PMASK(P_SQPOLL),
	.run = run,
	.needs = NEED(SQE_MIXED) | NEED(NOP128) | NEED(ATTACH_WQ),
	.fix_commit = "-",
	.fix_subject = "io_uring: an SQ thread takes both entries of a 128b SQE past its cap "
		       "(Linux 7.3)",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_sqe_mixed_sqpoll);
}
