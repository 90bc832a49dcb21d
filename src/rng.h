/* SPDX-License-Identifier: MIT */
/*
 * Seeded randomness. Every random choice in a test comes from an rng seeded
 * from the printed run seed, so a failing run's choices can be replayed with
 * -s. xoshiro256** seeded through splitmix64.
 */
#ifndef TW_RNG_H
#define TW_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

uint64_t splitmix64(uint64_t *x);
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, n); n == 0 returns 0. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Uniform in [lo, hi]. */
uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi);
/* True with probability pct/100. */
int rng_chance(struct rng *r, unsigned pct);

#endif
