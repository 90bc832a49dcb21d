/* SPDX-License-Identifier: MIT */
/*
 * Checked batched waits. A consumer that knows how many completions were
 * already delivered to its ring (CQEs posted, or task_work queued for it)
 * can tell a lost wake-up from slow producers: a wait for `want` CQEs while
 * at least `want` were delivered must return at once, never at its timeout.
 * And a wait that returns before its timeout must have its batch, unless
 * something in the ring may legitimately end it early (timeouts, min_wait).
 */
#ifndef TW_WAIT_CHECK_H
#define TW_WAIT_CHECK_H

#include "harness.h"

#define WAIT_EARLY_OK	(1u << 0)	/* timeouts/min_wait in play: early return is fine */

struct wait_check {
	struct tcase *tc;
	struct tring *r;
	const struct ledger *l;
	int64_t slice_ns;		/* timeout of one wait */
	int64_t last_progress;
	unsigned waits, slept_to_timeout;
};

void wait_check_init(struct wait_check *wc, struct tcase *tc, struct tring *r,
		     const struct ledger *l);
/* Call whenever CQEs were reaped: resets the no-progress clock. */
void wait_check_progress(struct wait_check *wc);
/*
 * One wait for `want` CQEs, `avail` of them known delivered. The timeout is
 * the standard slice, or shorter if timeout_ns (> 0) says so - e.g. to wake
 * up when a load phase ends; only full-slice waits are judged for lost
 * wake-ups. Returns 0, or -1 after recording a failure or hang.
 */
int wait_check_batch(struct wait_check *wc, unsigned want, int64_t avail, int64_t timeout_ns,
		     unsigned flags);
/* Fail if the CQ overflowed: the tests' flow control promises it never does. */
void wait_check_overflow(struct tcase *tc, struct tring *r);

#endif
