/* SPDX-License-Identifier: MIT */
/*
 * CQEs told apart by their user_data: a scenario that submits a handful of
 * requests, each with a user_data of its own, and checks each one's res.
 * Used by the regression tests of the 7.2-to-7.3 review.
 */
#ifndef TW_REAP_UD_H
#define TW_REAP_UD_H

#include "harness.h"

/* res[] of a user_data whose CQE has not come (no res is this low). */
#define REAP_NONE	INT32_MIN

/* Mark all n of res[] as not come. */
void reap_ud_init(int *res, unsigned n);
/*
 * Reap every CQE in r's CQ: the res of the CQE with user_data uds[i] goes to
 * res[i]. A CQE of any other user_data, or a second one of the same, is a
 * failure (reported, with its user_data and res). False after a failure.
 */
bool reap_ud(struct tcase *tc, struct tring *r, const uint64_t *uds, int *res, unsigned n);

#endif
