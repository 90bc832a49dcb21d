// SPDX-License-Identifier: MIT
/*
 * Self-test of the fuzzy synchronisation (src/race/fuzzy.c): two threads race a
 * long step (A) against a short one (B). After calibration the measured
 * durations must be about right, the chosen positions must cover the whole
 * window, the offsets that really happened must follow them across the
 * window (else the racers only ever meet in one spot - what fuzzy sync is
 * there to prevent), the same seed must choose the same positions, and a
 * rendezvous nobody comes to must end at its deadline, and a stopped race
 * must not be waited for.
 */
#include "selftest.h"
#include <sched.h>

#include "race/fuzzy.h"

#define STEP_A_NS	(40 * NSEC_PER_USEC)
#define STEP_B_NS	(10 * NSEC_PER_USEC)
#define ATTEMPTS	400
#define BUCKETS		10

struct race {
	struct fuzzy f;
	unsigned attempts;
	double pos[ATTEMPTS];
	int64_t seen[ATTEMPTS];
	int err;
};

static void busy_for(int64_t ns)
{
	int64_t end = now_ns() + ns;

	while (now_ns() < end)
		;
}

static void *racer(struct race *r, enum fuzzy_side side)
{
	struct deadline dl = deadline_in(10 * NSEC_PER_SEC);
	cpu_set_t cpu;

	/* A racer per CPU: on a shared one they would only take turns. */
	CPU_ZERO(&cpu);
	CPU_SET(side == FUZZY_A ? 0 : 1, &cpu);
	sched_setaffinity(0, sizeof(cpu), &cpu);

	for (unsigned i = 0; i < r->attempts && !r->err; i++) {
		if (fuzzy_start(&r->f, side, &dl)) {
			r->err = -ETIMEDOUT;
			break;
		}
		busy_for(side == FUZZY_A ? STEP_A_NS : STEP_B_NS);
		if (fuzzy_end(&r->f, side, &dl)) {
			r->err = -ETIMEDOUT;
			break;
		}
		if (side == FUZZY_B) {
			r->pos[i] = fuzzy_position(&r->f);
			r->seen[i] = fuzzy_offset_seen(&r->f);
		}
	}
	return NULL;
}

static void *racer_a(void *r) { return racer(r, FUZZY_A); }
static void *racer_b(void *r) { return racer(r, FUZZY_B); }

static int run_race(struct race *r, uint64_t seed, unsigned calibrate, unsigned attempts)
{
	pthread_t a, b;

	memset(r, 0, sizeof(*r));
	fuzzy_init(&r->f, seed, calibrate);
	r->attempts = attempts;
	pthread_create(&a, NULL, racer_a, r);
	pthread_create(&b, NULL, racer_b, r);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return r->err;
}

/* Buckets of [lo, hi] that values in v[from..to) fall into. */
static unsigned buckets_hit(const int64_t *v, unsigned from, unsigned to, int64_t lo, int64_t hi)
{
	bool hit[BUCKETS] = { false };
	unsigned n = 0;

	for (unsigned i = from; i < to; i++) {
		if (v[i] < lo || v[i] > hi)
			continue;
		hit[(v[i] - lo) * BUCKETS / (hi - lo + 1)] = true;
	}
	for (unsigned b = 0; b < BUCKETS; b++)
		n += hit[b];
	return n;
}

/* Median offset seen for the attempts placed in [pos_lo, pos_hi) of the window. */
static double median_seen(const struct race *r, unsigned from, double pos_lo, double pos_hi)
{
	int64_t v[ATTEMPTS];
	unsigned n = 0;

	for (unsigned i = from; i < r->attempts; i++)
		if (r->pos[i] >= pos_lo && r->pos[i] < pos_hi)
			v[n++] = r->seen[i];
	for (unsigned i = 1; i < n; i++)	/* insertion sort: n is small */
		for (unsigned j = i; j && v[j - 1] > v[j]; j--) {
			int64_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n ? (double)v[n / 2] : 0;
}

int main(void)
{
	static struct race r, again, other, still;
	const unsigned cal = FUZZY_CALIBRATE_DEFAULT;
	int64_t lo, hi, pos_ns[ATTEMPTS];
	struct deadline dl;
	int64_t t0;
	bool same = true, differ = false;
	unsigned spread, still_spread;
	double low, high;

	st_begin("fuzzy sync self-test: offsets spread over the window, replayable from the seed");
	if (ncpus() < 2) {
		printf("needs 2 CPUs (racers on one CPU only take turns)\n");
		return 77;
	}
	if (!st_ok(run_race(&r, 0x5eed, cal, ATTEMPTS) == 0, "%u attempts, no missed rendezvous",
		   ATTEMPTS))
		return st_end();
	fuzzy_window(&r.f, &lo, &hi);
	st_ok(lo < -STEP_B_NS / 2 && lo > -STEP_B_NS * 20 && hi > STEP_A_NS / 2 &&
	      hi < STEP_A_NS * 20, "window [%.1f, %.1f] us measured from steps of %lld and %lld us",
	      (double)lo / 1000, (double)hi / 1000, STEP_B_NS / 1000, STEP_A_NS / 1000);
	st_ok(r.pos[cal - 1] < 0 && r.pos[cal] >= 0, "the first %u attempts only calibrate", cal);
	for (unsigned i = cal; i < ATTEMPTS; i++)
		pos_ns[i] = lo + (int64_t)(r.pos[i] * (double)(hi - lo));
	st_ok(buckets_hit(pos_ns, cal, ATTEMPTS, lo, hi) == BUCKETS,
	      "chosen offsets reach all %u tenths of the window", BUCKETS);
	/* Scheduling noise moves single attempts; the bulk must follow. */
	spread = buckets_hit(r.seen, cal, ATTEMPTS, lo, hi);
	low = median_seen(&r, cal, 0, 0.25);
	high = median_seen(&r, cal, 0.75, 1);
	st_ok(spread >= BUCKETS - 2 && high - low > (double)(hi - lo) / 4,
	      "offsets seen cover %u/%u tenths; median %.1f us for positions < 1/4, %.1f us > 3/4",
	      spread, BUCKETS, low / 1000, high / 1000);
	/* The same pair without fuzzing: where the race lands on its own. */
	run_race(&still, 0x5eed, ATTEMPTS, ATTEMPTS);
	still_spread = buckets_hit(still.seen, cal, ATTEMPTS, lo, hi);
	st_ok(still_spread <= spread, "unfuzzed, the offsets cover %u/%u tenths (fuzzed: %u)",
	      still_spread, BUCKETS, spread);

	run_race(&again, 0x5eed, cal, ATTEMPTS);
	run_race(&other, 0x5eee, cal, ATTEMPTS);
	for (unsigned i = 0; i < ATTEMPTS; i++) {
		same = same && r.pos[i] == again.pos[i];
		differ = differ || r.pos[i] != other.pos[i];
	}
	st_ok(same, "same seed: the same %u positions in the window", ATTEMPTS - cal);
	st_ok(differ, "another seed: other positions");

	fuzzy_init(&r.f, 1, 0);
	t0 = now_ns();
	dl = deadline_in(50 * NSEC_PER_MSEC);
	st_ok(fuzzy_start(&r.f, FUZZY_A, &dl) == -ETIMEDOUT && now_ns() - t0 >= 50 * NSEC_PER_MSEC &&
	      now_ns() - t0 < 2 * NSEC_PER_SEC, "a rendezvous nobody comes to ends at its deadline");
	fuzzy_stop(&r.f);
	dl = deadline_in(10 * NSEC_PER_SEC);
	st_ok(fuzzy_start(&r.f, FUZZY_A, &dl) == -ECANCELED && fuzzy_end(&r.f, FUZZY_B, &dl) ==
	      -ECANCELED && !deadline_passed(&dl), "after fuzzy_stop() starts and ends return "
	      "-ECANCELED at once");
	return st_end();
}
