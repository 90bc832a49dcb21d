// SPDX-License-Identifier: MIT
/*
 * Self-test of the seeded randomness (src/rng.c): a printed seed must
 * replay the same choices (same seed and stream, same sequence - on any
 * machine, hence the known answers), streams must differ (each thread its
 * own), and the bounded helpers must stay in their bounds and reach both
 * ends.
 */
#include "selftest.h"

#define N	10000

static bool same_sequence(uint64_t seed_a, uint64_t stream_a, uint64_t seed_b,
			  uint64_t stream_b)
{
	struct rng a, b;

	rng_seed(&a, seed_a, stream_a);
	rng_seed(&b, seed_b, stream_b);
	for (int i = 0; i < N; i++)
		if (rng_next(&a) != rng_next(&b))
			return false;
	return true;
}

/* Any of the first N outputs of the two generators equal at the same index? */
static int collisions(uint64_t seed_a, uint64_t stream_a, uint64_t seed_b, uint64_t stream_b)
{
	struct rng a, b;
	int n = 0;

	rng_seed(&a, seed_a, stream_a);
	rng_seed(&b, seed_b, stream_b);
	for (int i = 0; i < N; i++)
		n += rng_next(&a) == rng_next(&b);
	return n;
}

static void check_bounds(uint64_t n)
{
	static bool hit[16];
	struct rng r;
	bool in_bounds = true, all_hit = true;

	memset(hit, 0, sizeof(hit));
	rng_seed(&r, 42, n);
	for (int i = 0; i < N; i++) {
		uint64_t v = rng_below(&r, n);

		in_bounds = in_bounds && v < n;
		if (v < n && n <= 16)
			hit[v] = true;
	}
	for (uint64_t v = 0; v < n && n <= 16; v++)
		all_hit = all_hit && hit[v];
	st_ok(in_bounds && all_hit, "rng_below(%llu): %d draws all below it%s",
	      (unsigned long long)n, N, n <= 16 ? ", every value drawn" : "");
}

int main(void)
{
	uint64_t x = 0, lo = ~0ull, hi = 0;
	bool never = true, always = true;
	struct rng r;

	st_begin("rng self-test: seeds replay, streams differ, bounds hold");
	/* splitmix64's published first output for state 0. */
	st_ok(splitmix64(&x) == 0xe220a8397b1dcdafULL, "splitmix64 known answer");
	/* First output for seed 1, stream 0, as computed by an independent
	 * reimplementation (splitmix64 seeding, xoshiro256**): a change here
	 * means seeds printed by older runs no longer replay. */
	rng_seed(&r, 1, 0);
	x = rng_next(&r);
	st_ok(x == 0xb3f2af6d0fc710c5ULL, "rng seed 1 stream 0 known answer (0x%016llx)",
	      (unsigned long long)x);
	st_ok(same_sequence(0x1234, 7, 0x1234, 7), "same seed and stream: same %d values", N);
	st_ok(collisions(0x1234, 7, 0x1234, 8) == 0, "neighbour streams: no value in common");
	st_ok(collisions(0x1234, 0, 0x1235, 0) == 0, "neighbour seeds: no value in common");
	st_ok(collisions(0, 0, 0, 1) == 0, "seed 0: streams still differ");

	rng_seed(&r, 99, 0);
	st_ok(rng_below(&r, 0) == 0 && rng_below(&r, 1) == 0, "rng_below(0) and (1) are 0");
	check_bounds(2);
	check_bounds(7);
	check_bounds(16);
	check_bounds(1000003);
	check_bounds(~0ull);
	for (int i = 0; i < N; i++) {
		uint64_t v = rng_range(&r, 10, 13);

		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		never = never && !rng_chance(&r, 0);
		always = always && rng_chance(&r, 100);
	}
	st_ok(lo == 10 && hi == 13, "rng_range(10, 13): inclusive, from %llu to %llu",
	      (unsigned long long)lo, (unsigned long long)hi);
	st_ok(never && always, "rng_chance: 0%% never, 100%% always");
	return st_end();
}
