/* SPDX-License-Identifier: MIT */
/*
 * Sequenced MSG_RING batches from a sender's own ring into a target ring.
 * Message seq of stream (p, c) carries res = seq (the payload the target
 * checks) and user_data ledger_ud(l, p, c, seq), at the target and on the
 * sender's CQE alike. Each sender CQE counts its message as sent; one that
 * says the message was not queued at the target (res not 0) withdraws it
 * (its CQE at the target is a violation) and the caller judges the res.
 */
#ifndef TW_MSGSEQ_H
#define TW_MSGSEQ_H

#include "harness.h"

/* Queue messages seq .. seq + n - 1 of stream (p, c) to the ring behind fd
 * (not submitted). */
void msgseq_prep(struct tring *src, int fd, const struct ledger *l, unsigned p, unsigned c,
		 uint32_t seq, uint32_t n);

/* A sender CQE whose res is not 0, for message seq of producer p: the
 * caller's verdict on it. */
typedef void (*msgseq_refused_fn)(void *arg, unsigned p, uint32_t seq, int32_t res);

/*
 * Wait by dl for n CQEs on the sender's ring, then account all of its CQEs:
 * each is ledger_sent() to the stream its user_data names; any res but 0 is
 * ledger_withdraw()n and goes to refused(). The wait is judged as
 * tring_await_ledger() judges it (a hang with l dumped, or a failure; fmt
 * names what is awaited, read after "waiting for "). V_PASS once reaped, or
 * the wait's verdict with nothing reaped.
 */
enum verdict msgseq_reap(struct tcase *tc, struct tring *src, struct ledger *l, unsigned n,
			 const struct deadline *dl, msgseq_refused_fn refused, void *arg,
			 const char *fmt, ...) __attribute__((format(printf, 8, 9)));

#endif
