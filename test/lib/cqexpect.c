// SPDX-License-Identifier: MIT
/* The exact CQEs of one step (see cqexpect.h). */
#include <sched.h>

#include "cqexpect.h"

/* Queue a NOP with user_data ud and submit until the kernel has taken every
 * SQE (a request refused at prep ends its submit call). */
static int fence(struct tcase *tc, struct tring *r, uint64_t ud, const struct deadline *dl,
		 const char *step)
{
	struct io_uring_sqe *sqe = tring_sqe(r);

	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, ud);
	while (io_uring_sq_ready(&r->ring)) {
		if (io_uring_submit(&r->ring) < 0 || deadline_passed(dl)) {
			tc_fail(tc, "%s: the submission of the step's SQEs failed", step);
			return -1;
		}
		sched_yield();
	}
	return 0;
}

/*
 * A NOP sent with the step (CQE_UD_FENCE) lets the first wait return even
 * when none of its CQEs is posted yet; once all are in, another NOP
 * (CQE_UD_LAST) is sent, and nothing else may come before it.
 */
void cqe_expect(struct tcase *tc, struct tring *r, const char *step, const struct cqe_want *w,
		int n)
{
	struct deadline dl = tc_deadline(tc);
	struct io_uring_cqe *cqe;
	bool seen[CQE_WANT_MAX] = { false };
	int got = 0;

	if (fence(tc, r, n ? CQE_UD_FENCE : CQE_UD_LAST, &dl, step))
		return;
	while (!tc_failed(tc)) {
		uint64_t ud;
		int i;

		if (tring_await(tc, r, 1, &dl, "the CQEs of %s, %d of %d so far", step, got,
				n) != V_PASS)
			return;
		io_uring_peek_cqe(&r->ring, &cqe);
		ud = cqe->user_data;
		for (i = 0; i < n && (seen[i] || w[i].ud != ud); i++)
			;
		if (ud == CQE_UD_FENCE || ud == CQE_UD_LAST) {
			io_uring_cqe_seen(&r->ring, cqe);
			if (ud == CQE_UD_LAST)
				return;
			continue;
		}
		if (i == n)
			tc_fail(tc, "%s: CQE user_data 0x%llx res %d flags 0x%x: not expected, or "
				"twice", step, (unsigned long long)ud, cqe->res, cqe->flags);
		else if (cqe->flags != w[i].flags || cqe->res != w[i].res)
			tc_fail(tc, "%s: CQE user_data 0x%llx res %d flags 0x%x, expected res %d "
				"flags 0x%x", step, (unsigned long long)ud, cqe->res, cqe->flags,
				w[i].res, w[i].flags);
		seen[i < n ? i : 0] = true;
		io_uring_cqe_seen(&r->ring, cqe);
		if (++got == n && fence(tc, r, CQE_UD_LAST, &dl, step))
			return;
	}
}
