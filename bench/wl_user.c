// SPDX-License-Identifier: MIT
/*
 * The floor: the same producer/consumer shapes with no io_uring at all, so
 * that the reader sees how far the kernel paths are from what threads
 * alone cost on this machine.
 *   user_mpsc:     msgring's shape. M producers push timestamps into a
 *                  bounded FIFO (a Vyukov array queue: one CAS per push),
 *                  under the same credits and batch; the consumer sleeps on
 *                  a futex when it is empty and a producer wakes it.
 *   user_pingpong: pingpong's shape. Two threads hand a turn back and forth
 *                  through a futex.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

#define SLICE_MS	50

struct cell {
	uint64_t seq;
	int64_t val;
};

struct mpsc {
	struct measurement *meas;
	struct cell *cell;
	uint64_t mask;
	uint64_t head __attribute__((aligned(64)));	/* producers: CAS */
	uint64_t tail __attribute__((aligned(64)));	/* the consumer */
	uint32_t sleeping __attribute__((aligned(64)));
	struct tw_credit credit;
	uint64_t pushed;		/* atomic, at each producer's exit */
	int producers_done;		/* atomic */
};

struct user_producer {
	struct mpsc *q;
	int id;
} __attribute__((aligned(64)));

static const char *user_mpsc_path(const char *mode)
{
	(void)mode;
	return "userspace FIFO + futex wake, no io_uring (floor for msgring)";
}

static const char *user_pingpong_path(const char *mode)
{
	(void)mode;
	return "two threads hand a turn through a futex, no io_uring (floor for pingpong)";
}

static void push(struct mpsc *q, int64_t val)
{
	uint64_t pos = __atomic_load_n(&q->head, __ATOMIC_RELAXED);

	for (;;) {
		struct cell *c = &q->cell[pos & q->mask];
		uint64_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);

		/* Credits keep the queue from filling: seq == pos or a retry. */
		if (seq == pos && __atomic_compare_exchange_n(&q->head, &pos, pos + 1, true,
							      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			c->val = val;
			/* seq_cst, not just release: half of the Dekker pair
			 * with the consumer's sleep (see user_producer_main). */
			__atomic_store_n(&c->seq, pos + 1, __ATOMIC_SEQ_CST);
			return;
		}
		if (seq != pos)
			pos = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
	}
}

static bool pop(struct mpsc *q, int64_t *val)
{
	struct cell *c = &q->cell[q->tail & q->mask];

	if (__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) != q->tail + 1)
		return false;
	*val = c->val;
	__atomic_store_n(&c->seq, q->tail + q->mask + 1, __ATOMIC_RELEASE);
	q->tail++;
	return true;
}

static void *user_producer_main(void *arg)
{
	struct user_producer *p = arg;
	struct mpsc *q = p->q;
	struct measurement *meas = q->meas;
	uint64_t pushed = 0;

	bench_worker_ready(meas, p->id);
	while (!bench_stopping(meas)) {
		int n = bench_take_credits(meas, &q->credit, p->id);
		int64_t t;

		if (!n)
			break;
		t = now_ns();
		for (int i = 0; i < n; i++)
			push(q, t);
		pushed += (uint64_t)n + bench_fault_now(FAULT_LOST_MESSAGE);
		/* The push (seq_cst), then the sleeper check (seq_cst): with the
		 * consumer's announce-then-recheck, one of the two sees the
		 * other, so a push never leaves the consumer asleep. */
		if (__atomic_load_n(&q->sleeping, __ATOMIC_SEQ_CST)) {
			__atomic_store_n(&q->sleeping, 0, __ATOMIC_RELAXED);
			futex_wake_all(&q->sleeping);
		}
	}
	__atomic_add_fetch(&q->pushed, pushed, __ATOMIC_SEQ_CST);
	return NULL;
}

static void user_consume(struct mpsc *q)
{
	struct measurement *meas = q->meas;
	struct hist *lat = hist_new();
	uint64_t popped = 0, ops = 0;
	struct deadline progress = bench_wait_deadline(meas);
	struct sleep_meter sm = { 0 };
	bool stalled = false;		/* FAULT_STALLED_CONSUMER */

	for (;;) {
		int64_t val, now = 0;
		int32_t n = 0;
		bool counting = bench_measuring(meas);

		sleep_meter_tick(&sm, counting);
		while (pop(q, &val)) {
			if (!n)
				now = now_ns();
			if (counting)
				hist_record(lat, now - val);
			n++;
		}
		if (n) {
			popped += (uint64_t)n;
			ops += counting ? (uint64_t)n : 0;
			stalled = stalled || bench_fault_now(FAULT_STALLED_CONSUMER);
			if (!stalled)
				tw_credit_give(&q->credit, n);
			progress = bench_wait_deadline(meas);
			continue;
		}
		if (bench_stopping(meas) && __atomic_load_n(&q->producers_done, __ATOMIC_ACQUIRE) &&
		    popped == __atomic_load_n(&q->pushed, __ATOMIC_ACQUIRE))
			break;
		if (deadline_passed(&progress)) {
			bench_error(meas, "consumer: nothing for %d s (%llu popped)",
				    meas->o->hang_s, (unsigned long long)popped);
			break;
		}
		__atomic_store_n(&q->sleeping, 1, __ATOMIC_SEQ_CST);
		{
			struct cell *c = &q->cell[q->tail & q->mask];
			struct deadline slice = deadline_in(SLICE_MS * NSEC_PER_MSEC);

			if (__atomic_load_n(&c->seq, __ATOMIC_SEQ_CST) != q->tail + 1)
				futex_wait_until(&q->sleeping, 1, &slice);
		}
		__atomic_store_n(&q->sleeping, 0, __ATOMIC_RELAXED);
	}
	bench_add_tally(meas, ops, lat, &sm);
	hist_free(lat);
}

static void *user_consumer_main(void *arg)
{
	struct mpsc *q = arg;

	bench_worker_ready(q->meas, BENCH_CONSUMER);
	user_consume(q);
	return NULL;
}

static enum bench_status user_mpsc_measure(struct measurement *meas, char *why, size_t whylen)
{
	struct user_producer p[BENCH_MAX_PRODUCERS];
	pthread_t pt[BENCH_MAX_PRODUCERS], ct;
	uint64_t cap = 1;
	struct mpsc *q;

	while (cap < (uint64_t)meas->o->window)
		cap <<= 1;
	q = aligned_alloc(64, sizeof(*q));
	if (!q) {
		snprintf(why, whylen, "out of memory");
		return BENCH_ERROR;
	}
	memset(q, 0, sizeof(*q));
	q->cell = calloc(cap, sizeof(*q->cell));
	if (!q->cell) {
		free(q);
		snprintf(why, whylen, "out of memory");
		return BENCH_ERROR;
	}
	for (uint64_t i = 0; i < cap; i++)
		q->cell[i].seq = i;
	q->mask = cap - 1;
	q->meas = meas;
	tw_credit_init(&q->credit, meas->o->window);
	tw_barrier_init(&meas->ready, (uint32_t)meas->producers + 2);
	for (int i = 0; i < meas->producers; i++)
		p[i] = (struct user_producer){ .q = q, .id = i };
	if (pthread_create(&ct, NULL, user_consumer_main, q)) {
		snprintf(why, whylen, "cannot start the consumer thread");
		free(q->cell);
		free(q);
		return BENCH_ERROR;
	}
	if (bench_threads_start(pt, meas->producers, user_producer_main, p, sizeof(p[0]))) {
		bench_error(meas, "cannot start %d producer threads", meas->producers);
		__atomic_store_n(&meas->phase, PH_STOP, __ATOMIC_RELEASE);
	} else {
		bench_drive(meas);
		tw_credit_give(&q->credit, 1 << 24);
		bench_threads_join(pt, meas->producers);
	}
	__atomic_store_n(&q->producers_done, 1, __ATOMIC_RELEASE);
	pthread_join(ct, NULL);
	free(q->cell);
	free(q);
	return meas->errors ? BENCH_ERROR : BENCH_OK;
}

struct turn {
	struct measurement *meas;
	uint32_t turn;			/* odd: side 1 to move, even: side 0 */
};

struct turn_side {
	struct turn *t;
	int id;
} __attribute__((aligned(64)));

/* Until turn has the parity of side id: false after --hang seconds, or
 * when side 1 sees the stop (side 0 always waits for its answer). */
static bool await_turn(struct turn_side *s, uint32_t *now_turn)
{
	struct measurement *meas = s->t->meas;
	struct deadline dl = bench_wait_deadline(meas);

	for (;;) {
		uint32_t v = __atomic_load_n(&s->t->turn, __ATOMIC_ACQUIRE);
		struct deadline slice = deadline_in(SLICE_MS * NSEC_PER_MSEC);

		if ((v & 1) == (uint32_t)s->id) {
			*now_turn = v;
			return true;
		}
		if (s->id == 1 && bench_stopping(meas))
			return false;
		if (deadline_passed(&dl)) {
			bench_error(meas, "side %d: no turn for %d s", s->id, meas->o->hang_s);
			return false;
		}
		futex_wait_until(&s->t->turn, v, &slice);
	}
}

static void *turn_main(void *arg)
{
	struct turn_side *s = arg;
	struct measurement *meas = s->t->meas;
	struct hist *lat = hist_new();
	uint64_t ops = 0;
	struct sleep_meter sm = { 0 };
	uint32_t v;

	bench_worker_ready(meas, s->id == 0 ? BENCH_CONSUMER : 0);
	while (s->id == 1 || !bench_stopping(meas)) {
		int64_t t = now_ns();

		if (s->id == 0)
			sleep_meter_tick(&sm, bench_measuring(meas));
		if (s->id == 0) {
			/* Hand the turn over, then wait until it comes back. */
			__atomic_add_fetch(&s->t->turn, 1, __ATOMIC_RELEASE);
			futex_wake_all(&s->t->turn);
		}
		if (!await_turn(s, &v))
			break;
		if (s->id == 1 && bench_fault_now(FAULT_LOST_REPLY))
			break;		/* the turn is never handed back */
		if (s->id == 1) {
			__atomic_add_fetch(&s->t->turn, 1, __ATOMIC_RELEASE);
			futex_wake_all(&s->t->turn);
		} else if (bench_measuring(meas)) {
			hist_record(lat, now_ns() - t);
			ops++;
		}
	}
	bench_add_tally(meas, ops, lat, s->id == 0 ? &sm : NULL);
	hist_free(lat);
	return NULL;
}

static enum bench_status user_pingpong_measure(struct measurement *meas, char *why, size_t whylen)
{
	struct turn t = { .meas = meas };
	struct turn_side side[2] = { { .t = &t, .id = 0 }, { .t = &t, .id = 1 } };
	pthread_t th[2];

	tw_barrier_init(&meas->ready, 3);
	if (bench_threads_start(th, 2, turn_main, side, sizeof(side[0]))) {
		snprintf(why, whylen, "cannot start two threads");
		return BENCH_ERROR;
	}
	bench_drive(meas);
	bench_threads_join(th, 2);
	return meas->errors ? BENCH_ERROR : BENCH_OK;
}

const struct workload wl_user_mpsc = {
	.name = "user_mpsc",
	.modes = { "user", NULL },
	.fan_in = true,
	.path = user_mpsc_path,
	.measure = user_mpsc_measure,
};

const struct workload wl_user_pingpong = {
	.name = "user_pingpong",
	.modes = { "user", NULL },
	.fan_in = false,
	.path = user_pingpong_path,
	.measure = user_pingpong_measure,
};
