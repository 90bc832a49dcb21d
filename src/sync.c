// SPDX-License-Identifier: MIT
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sync.h"

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

void sleep_until_ns(int64_t when)
{
	struct timespec ts = ns_to_timespec(when);

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int futex_wait_until(uint32_t *word, uint32_t val, const struct deadline *dl)
{
	struct timespec ts = ns_to_timespec(dl->end_ns);
	long ret;

	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline. */
	ret = syscall(SYS_futex, word, FUTEX_WAIT_BITSET, val, &ts, NULL,
		      FUTEX_BITSET_MATCH_ANY);
	if (ret == 0)
		return 0;
	if (errno == ETIMEDOUT)
		return -ETIMEDOUT;
	if (errno == EAGAIN || errno == EINTR)
		return -EAGAIN;
	return -errno;
}

void futex_wake_all(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void tw_barrier_init(struct tw_barrier *b, uint32_t n)
{
	b->n = n;
	b->arrived = 0;
	b->generation = 0;
}

int tw_barrier_wait(struct tw_barrier *b, const struct deadline *dl)
{
	uint32_t gen = LOAD(&b->generation);

	if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == b->n) {
		STORE(&b->arrived, 0);
		__atomic_add_fetch(&b->generation, 1, __ATOMIC_RELEASE);
		futex_wake_all(&b->generation);
		return 0;
	}
	while (LOAD(&b->generation) == gen) {
		if (futex_wait_until(&b->generation, gen, dl) == -ETIMEDOUT &&
		    LOAD(&b->generation) == gen)
			return -ETIMEDOUT;
	}
	return 0;
}

void tw_event_set(struct tw_event *e)
{
	STORE(&e->set, 1);
	futex_wake_all(&e->set);
}

bool tw_event_is_set(struct tw_event *e)
{
	return LOAD(&e->set) != 0;
}

int tw_event_wait(struct tw_event *e, const struct deadline *dl)
{
	while (!LOAD(&e->set)) {
		if (futex_wait_until(&e->set, 0, dl) == -ETIMEDOUT && !LOAD(&e->set))
			return -ETIMEDOUT;
	}
	return 0;
}

void tw_counter_add(struct tw_counter *c, uint32_t n)
{
	__atomic_add_fetch(&c->value, n, __ATOMIC_RELEASE);
	if (LOAD(&c->waiters))
		futex_wake_all(&c->value);
}

uint32_t tw_counter_get(struct tw_counter *c)
{
	return LOAD(&c->value);
}

int tw_counter_wait_ge(struct tw_counter *c, uint32_t target, const struct deadline *dl)
{
	int ret = 0;

	__atomic_add_fetch(&c->waiters, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		uint32_t v = __atomic_load_n(&c->value, __ATOMIC_SEQ_CST);

		if ((int32_t)(v - target) >= 0)
			break;
		if (futex_wait_until(&c->value, v, dl) == -ETIMEDOUT &&
		    (int32_t)(LOAD(&c->value) - target) < 0) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	__atomic_sub_fetch(&c->waiters, 1, __ATOMIC_SEQ_CST);
	return ret;
}

void tw_credit_init(struct tw_credit *c, int32_t n)
{
	c->avail = n;
	c->waiters = 0;
}

int tw_credit_take(struct tw_credit *c, int32_t max, const struct deadline *dl)
{
	for (;;) {
		int32_t avail = __atomic_load_n(&c->avail, __ATOMIC_SEQ_CST);
		int ret = 0;

		if (avail > 0) {
			int32_t take = avail < max ? avail : max;

			if (__atomic_compare_exchange_n(&c->avail, &avail, avail - take, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return take;
			continue;
		}
		/* Announce ourselves before re-checking, so a give() cannot miss us. */
		__atomic_add_fetch(&c->waiters, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&c->avail, __ATOMIC_SEQ_CST) == avail)
			ret = futex_wait_until((uint32_t *)&c->avail, (uint32_t)avail, dl);
		__atomic_sub_fetch(&c->waiters, 1, __ATOMIC_SEQ_CST);
		if (ret == -ETIMEDOUT && __atomic_load_n(&c->avail, __ATOMIC_SEQ_CST) <= 0)
			return -ETIMEDOUT;
	}
}

void tw_credit_give(struct tw_credit *c, int32_t n)
{
	__atomic_add_fetch(&c->avail, n, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->waiters, __ATOMIC_SEQ_CST))
		futex_wake_all((uint32_t *)&c->avail);
}
