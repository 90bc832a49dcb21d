/* SPDX-License-Identifier: MIT */
/*
 * Futex-based synchronisation with deadlines. The words may live in
 * MAP_SHARED memory: the futexes are not process-private, so the same
 * primitives work between threads and between forked processes.
 * Every wait returns -ETIMEDOUT at its deadline instead of hanging.
 */
#ifndef TW_SYNC_H
#define TW_SYNC_H

#include <stdint.h>
#include "timeutil.h"

/* Wait while *word == val, until woken or the deadline. 0, -EAGAIN, -ETIMEDOUT. */
int futex_wait_until(uint32_t *word, uint32_t val, const struct deadline *dl);
void futex_wake_all(uint32_t *word);

/* A barrier for n parties; reusable. */
struct tw_barrier {
	uint32_t n;
	uint32_t arrived;
	uint32_t generation;
};

void tw_barrier_init(struct tw_barrier *b, uint32_t n);
/* 0 when all arrived, -ETIMEDOUT (with arrived count left as is). */
int tw_barrier_wait(struct tw_barrier *b, const struct deadline *dl);

/* A one-shot flag: set once, waiters return. */
struct tw_event {
	uint32_t set;
};

void tw_event_set(struct tw_event *e);
bool tw_event_is_set(struct tw_event *e);
int tw_event_wait(struct tw_event *e, const struct deadline *dl);

/* A counter others wait on to reach a value (progress, credits). */
struct tw_counter {
	uint32_t value;
	uint32_t waiters;
};

void tw_counter_add(struct tw_counter *c, uint32_t n);
uint32_t tw_counter_get(struct tw_counter *c);
/* Wait until value >= target (wrap-safe), 0 or -ETIMEDOUT. */
int tw_counter_wait_ge(struct tw_counter *c, uint32_t target, const struct deadline *dl);

/*
 * Credits: flow control so that producers never have more requests in
 * flight than the consumer's CQ can hold (CQ overflow has its own test).
 */
struct tw_credit {
	int32_t avail;
	uint32_t waiters;
};

void tw_credit_init(struct tw_credit *c, int32_t n);
/* Take between 1 and max credits; returns how many, or -ETIMEDOUT. */
int tw_credit_take(struct tw_credit *c, int32_t max, const struct deadline *dl);
void tw_credit_give(struct tw_credit *c, int32_t n);

#endif
