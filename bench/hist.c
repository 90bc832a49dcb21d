// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"

struct hist *hist_new(void)
{
	struct hist *h = calloc(1, sizeof(*h));

	if (!h) {
		fprintf(stderr, "twbench: out of memory\n");
		abort();
	}
	return h;
}

void hist_free(struct hist *h)
{
	free(h);
}

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

/* Octave 0 holds 0..15 one per bucket; octave k >= 1 holds
 * [16 << (k-1), 32 << (k-1)) in 16 buckets of 1 << (k-1). */
unsigned hist_index(uint64_t ns)
{
	unsigned msb, octave, sub;

	if (ns < HIST_SUB)
		return (unsigned)ns;
	msb = 63 - (unsigned)__builtin_clzll(ns);
	octave = msb - HIST_SUB_BITS + 1;
	if (octave >= HIST_OCTAVES)
		return HIST_BUCKETS - 1;
	sub = (unsigned)(ns >> (msb - HIST_SUB_BITS)) & (HIST_SUB - 1);
	return octave * HIST_SUB + sub;
}

uint64_t hist_bucket_low(unsigned i)
{
	unsigned octave = i / HIST_SUB, sub = i % HIST_SUB;

	if (octave == 0)
		return sub;
	return (uint64_t)(HIST_SUB + sub) << (octave - 1);
}

uint64_t hist_bucket_high(unsigned i)
{
	unsigned octave = i / HIST_SUB;

	return hist_bucket_low(i) + (octave == 0 ? 0 : (1ULL << (octave - 1)) - 1);
}

void hist_record(struct hist *h, int64_t ns)
{
	uint64_t v = ns > 0 ? (uint64_t)ns : 0;

	h->bucket[hist_index(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *into, const struct hist *from)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	/* The smallest value with at least q of the samples at or below it. */
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen > rank) {
			uint64_t mid = (hist_bucket_low(i) + hist_bucket_high(i)) / 2;

			return mid < h->max ? mid : h->max;
		}
	}
	return h->max;
}
