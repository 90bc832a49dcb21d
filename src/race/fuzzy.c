// SPDX-License-Identifier: MIT
/*
 * Fuzzy synchronisation (fuzzy.h): a spinning rendezvous per attempt, step
 * durations measured while calibrating, then seeded offsets over the whole
 * overlap window.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzy.h"
#include "harness.h"
#include "sync.h"

/* Spin this long before yielding between checks: long enough for the other
 * racer on another CPU, short enough not to starve it on a shared one. */
#define SPIN_BEFORE_YIELD_NS	(20 * NSEC_PER_USEC)
/* After calibration the means follow the machine slowly (a load change). */
#define AVG_WEIGHT		16

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static uint32_t load_acq(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Spin until *word >= target (wrap-safe) or the deadline. */
static int spin_until_reached(const uint32_t *word, uint32_t target, const uint32_t *stopped,
			      const struct deadline *dl)
{
	int64_t t0 = now_ns(), now;
	unsigned n = 0;

	while ((int32_t)(load_acq(word) - target) < 0) {
		if (load_acq(stopped))
			return -ECANCELED;
		cpu_relax();
		if (++n % 64)
			continue;
		now = now_ns();
		if (now >= dl->end_ns)
			return -ETIMEDOUT;
		if (now - t0 > SPIN_BEFORE_YIELD_NS)
			sched_yield();
	}
	return 0;
}

/* Wait until *word >= target: spin a little, then sleep on the futex in
 * slices (the other side wakes us when it stores). */
static int sleep_until_reached(uint32_t *word, uint32_t target, uint32_t *sleeping,
			       const uint32_t *stopped, const struct deadline *dl)
{
	int64_t t0 = now_ns();
	struct deadline slice;
	uint32_t v;

	while ((int32_t)((v = load_acq(word)) - target) < 0) {
		if (load_acq(stopped))
			return -ECANCELED;
		if (now_ns() - t0 < SPIN_BEFORE_YIELD_NS) {
			cpu_relax();
			continue;
		}
		if (deadline_passed(dl))
			return -ETIMEDOUT;
		__atomic_store_n(sleeping, 1, __ATOMIC_SEQ_CST);
		/* Re-checked by the futex itself: a store after our load wakes us;
		 * the slice bounds a fuzzy_stop() that came just before. */
		slice = deadline_in(NSEC_PER_MSEC);
		futex_wait_until(word, v, slice.end_ns < dl->end_ns ? &slice : dl);
		__atomic_store_n(sleeping, 0, __ATOMIC_RELAXED);
	}
	return 0;
}

static void store_and_wake(uint32_t *word, uint32_t v, const uint32_t *sleeping)
{
	__atomic_store_n(word, v, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(sleeping, __ATOMIC_SEQ_CST))
		futex_wake_all(word);
}

/* Busy-wait until an absolute time: the delays are too short and too
 * precise for a sleep. */
static int64_t spin_until_time(int64_t when)
{
	int64_t now;

	while ((now = now_ns()) < when)
		cpu_relax();
	return now;
}

void fuzzy_init(struct fuzzy *f, uint64_t seed, unsigned calibrate)
{
	memset(f, 0, sizeof(*f));
	f->calibrate = calibrate ? calibrate : FUZZY_CALIBRATE_DEFAULT;
	f->position = -1;
	rng_seed(&f->rng, seed, 0xf022);
}

void fuzzy_set_window(struct fuzzy *f, enum fuzzy_window_kind kind)
{
	f->kind = kind;
}

void fuzzy_window(const struct fuzzy *f, int64_t *lo_ns, int64_t *hi_ns)
{
	*lo_ns = -(int64_t)f->avg_ns[FUZZY_B];
	*hi_ns = (int64_t)f->avg_ns[FUZZY_A];
	if (f->kind == FUZZY_B_ENDS_IN_A) {
		*hi_ns += *lo_ns;
		if (*hi_ns < *lo_ns)	/* B is slower than A: its end cannot fit */
			*hi_ns = *lo_ns;
	}
}

/* B, before arriving: where this attempt's offset goes, and who waits. */
static void plan_attempt(struct fuzzy *f)
{
	int64_t lo, hi, extra;

	f->delay_ns[FUZZY_A] = f->delay_ns[FUZZY_B] = 0;
	if (f->samples < f->calibrate) {
		f->position = -1;
		return;
	}
	f->racing = true;
	/* 53 random bits: a uniform double in [0, 1). */
	f->position = (double)(rng_next(&f->rng) >> 11) / (double)(1ULL << 53);
	fuzzy_window(f, &lo, &hi);
	/* The starts drift apart by the skew on their own; add what is missing. */
	extra = lo + (int64_t)(f->position * (double)(hi - lo)) - (int64_t)f->avg_skew_ns;
	if (extra > 0)
		f->delay_ns[FUZZY_B] = extra;
	else
		f->delay_ns[FUZZY_A] = -extra;
}

int fuzzy_start(struct fuzzy *f, enum fuzzy_side side, const struct deadline *dl)
{
	enum fuzzy_side other = side == FUZZY_A ? FUZZY_B : FUZZY_A;
	uint32_t n = f->arrived_no[side] + !f->arrived[side];
	int64_t met;
	int ret;

	if (!f->arrived[side]) {
		if (side == FUZZY_B)
			plan_attempt(f);
		/* A reads B's plan once it sees B's count. */
		store_and_wake(&f->arrived_no[side], n, &f->sleeping[other]);
		f->arrived[side] = true;
	}
	/* Both near: then both spinning, so that they leave together. */
	if ((ret = sleep_until_reached(&f->arrived_no[other], n, &f->sleeping[side], &f->stopped,
				       dl)))
		return ret;
	__atomic_store_n(&f->started[side], n, __ATOMIC_RELEASE);
	if ((ret = spin_until_reached(&f->started[other], n, &f->stopped, dl)))
		return ret;
	f->arrived[side] = false;
	met = now_ns();
	f->start_ns[side] = spin_until_time(met + f->delay_ns[side]);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static double median(const int64_t *v, unsigned n)
{
	int64_t tmp[FUZZY_CALIBRATE_MAX];

	memcpy(tmp, v, n * sizeof(*v));
	qsort(tmp, n, sizeof(*tmp), cmp_i64);
	return (double)tmp[n / 2];
}

/* A sample of a racer that was preempted or migrated mid-step is not what
 * the step takes: keep it out of the means. */
static void update_mean(double *avg, double x)
{
	double dev = x > *avg ? x - *avg : *avg - x;
	double scale = *avg > 0 ? *avg : -*avg;

	if (dev <= 4 * scale + 1000)
		*avg += (x - *avg) / AVG_WEIGHT;
}

/* B, once both ended: learn from this attempt. */
static void learn(struct fuzzy *f)
{
	int64_t dur[2] = { f->end_ns[FUZZY_A] - f->start_ns[FUZZY_A],
			   f->end_ns[FUZZY_B] - f->start_ns[FUZZY_B] };
	unsigned i = f->samples++;

	if (i < FUZZY_CALIBRATE_MAX) {
		f->cal_ns[FUZZY_A][i] = dur[FUZZY_A];
		f->cal_ns[FUZZY_B][i] = dur[FUZZY_B];
		f->cal_skew_ns[i] = f->start_ns[FUZZY_B] - f->start_ns[FUZZY_A];
		f->avg_ns[FUZZY_A] = median(f->cal_ns[FUZZY_A], i + 1);
		f->avg_ns[FUZZY_B] = median(f->cal_ns[FUZZY_B], i + 1);
		f->avg_skew_ns = median(f->cal_skew_ns, i + 1);
		return;
	}
	if (f->racing) {
		update_mean(&f->avg_ns[FUZZY_A], (double)dur[FUZZY_A]);
		update_mean(&f->avg_ns[FUZZY_B], (double)dur[FUZZY_B]);
	}
}

int fuzzy_end(struct fuzzy *f, enum fuzzy_side side, const struct deadline *dl)
{
	enum fuzzy_side other = side == FUZZY_A ? FUZZY_B : FUZZY_A;
	uint32_t n = f->ended[side] + !f->leaving[side];
	int ret;

	if (!f->leaving[side]) {
		f->end_ns[side] = now_ns();
		store_and_wake(&f->ended[side], n, &f->sleeping[other]);
		f->leaving[side] = true;
	}
	/* No precision needed here: a side far ahead sleeps. */
	ret = sleep_until_reached(&f->ended[other], n, &f->sleeping[side], &f->stopped, dl);
	if (ret)
		return ret;
	f->leaving[side] = false;
	if (side == FUZZY_B)
		learn(f);
	return 0;
}

void fuzzy_end_for(struct fuzzy *f, enum fuzzy_side side, int64_t end_ns)
{
	enum fuzzy_side other = side == FUZZY_A ? FUZZY_B : FUZZY_A;

	f->end_ns[side] = end_ns;
	store_and_wake(&f->ended[side], f->ended[side] + 1, &f->sleeping[other]);
}

void fuzzy_pin(enum fuzzy_side side, cpu_set_t *saved)
{
	unsigned n = ncpus();
	cpu_set_t one;

	if (saved)
		sched_getaffinity(0, sizeof(*saved), saved);
	if (n < 2)
		return;
	CPU_ZERO(&one);
	CPU_SET(side == FUZZY_A ? n - 1 : 0, &one);
	sched_setaffinity(0, sizeof(one), &one);
}

void fuzzy_unpin(const cpu_set_t *saved)
{
	sched_setaffinity(0, sizeof(*saved), saved);
}

void fuzzy_stop(struct fuzzy *f)
{
	__atomic_store_n(&f->stopped, 1, __ATOMIC_SEQ_CST);
	futex_wake_all(&f->arrived_no[FUZZY_A]);
	futex_wake_all(&f->arrived_no[FUZZY_B]);
	futex_wake_all(&f->ended[FUZZY_A]);
	futex_wake_all(&f->ended[FUZZY_B]);
}

bool fuzzy_racing(const struct fuzzy *f)
{
	return f->position >= 0;
}

double fuzzy_position(const struct fuzzy *f)
{
	return f->position;
}

int64_t fuzzy_offset_seen(const struct fuzzy *f)
{
	return f->start_ns[FUZZY_B] - f->start_ns[FUZZY_A];
}
