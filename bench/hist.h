/* SPDX-License-Identifier: MIT */
/*
 * Log-linear latency histogram: a power-of-two octave split into 16
 * linear sub-buckets, so a percentile is known to within 1/16 of its
 * value (6 %) from 1 ns to about 18 minutes, in fixed memory. Each thread
 * keeps its own and they are added up at the end: recording is a few
 * instructions and never shared.
 */
#ifndef TW_BENCH_HIST_H
#define TW_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS	4
#define HIST_SUB	(1 << HIST_SUB_BITS)
#define HIST_OCTAVES	40
#define HIST_BUCKETS	(HIST_OCTAVES * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t max;
	uint64_t bucket[HIST_BUCKETS];
};

/* On the heap (5 kB): NULL only if out of memory, which aborts. */
struct hist *hist_new(void);
void hist_free(struct hist *h);
void hist_reset(struct hist *h);
void hist_record(struct hist *h, int64_t ns);
void hist_merge(struct hist *into, const struct hist *from);
/* The value below which fraction q (0..1) of the samples lie: the middle
 * of the bucket that holds it; 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);

/* Bucket arithmetic, exposed for the self-test. */
unsigned hist_index(uint64_t ns);
uint64_t hist_bucket_low(unsigned i);
uint64_t hist_bucket_high(unsigned i);

#endif
