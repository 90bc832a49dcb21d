// SPDX-License-Identifier: MIT
/* Sequenced MSG_RING batches (see msgseq.h). */
#include "msgseq.h"

void msgseq_prep(struct tring *src, int fd, const struct ledger *l, unsigned p, unsigned c,
		 uint32_t seq, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = tring_sqe(src);
		uint64_t ud = ledger_ud(l, p, c, seq + i);

		io_uring_prep_msg_ring(sqe, fd, seq + i, ud, 0);
		io_uring_sqe_set_data64(sqe, ud);
	}
}

enum verdict msgseq_reap(struct tcase *tc, struct tring *src, struct ledger *l, unsigned n,
			 const struct deadline *dl, msgseq_refused_fn refused, void *arg,
			 const char *fmt, ...)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	enum verdict v;
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	v = tring_await_ledger(tc, l, src, n, dl, "%s", what);
	if (v != V_PASS)
		return v;
	io_uring_for_each_cqe(&src->ring, head, cqe) {
		unsigned p, c;
		uint32_t seq;

		ledger_decode(cqe->user_data, &p, &c, &seq);
		ledger_sent(l, p, c, 1);
		/* Refused: issued, but its CQE must never reach the target. */
		if (cqe->res != 0) {
			ledger_withdraw(l, p, c, seq);
			refused(arg, p, seq, cqe->res);
		}
		seen++;
	}
	io_uring_cq_advance(&src->ring, seen);
	return V_PASS;
}
