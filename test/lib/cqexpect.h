/* SPDX-License-Identifier: MIT */
/*
 * The exact CQEs of one step: a test queues the step's SQEs, names every
 * CQE the step must produce (user_data, res, flags), and cqe_expect()
 * submits and waits for exactly those, in any order, each once; then a NOP
 * must come before anything else (a CQE of no step, a second one). For
 * request-by-request scenarios (poll_requests, async_cancel), where a
 * ledger of streams would say less.
 */
#ifndef TW_CQEXPECT_H
#define TW_CQEXPECT_H

#include "harness.h"

#define CQE_WANT_MAX	4
#define CQE_UD_FENCE	0xfe11ce00ull	/* a NOP sent with a step */
#define CQE_UD_LAST	0xfe11ce01ull	/* a NOP sent once its CQEs are in */

struct cqe_want {
	uint64_t ud;
	int32_t res;
	uint32_t flags;
};

/*
 * Submit what is queued on r (again after a request refused at prep ended
 * a submit call, until the kernel took every SQE) and check the step's
 * CQEs against w[0..n), n <= CQE_WANT_MAX; a failure or hang is reported
 * with the step's name. Completions that come by task_work are run by the
 * waits.
 */
void cqe_expect(struct tcase *tc, struct tring *r, const char *step, const struct cqe_want *w,
		int n);

#endif
