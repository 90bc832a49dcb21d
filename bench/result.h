/* SPDX-License-Identifier: MIT */
/* A (workload, mode, producers) row: its repeats and their statistics. */
#ifndef TW_BENCH_RESULT_H
#define TW_BENCH_RESULT_H

#include "bench.h"

#define BENCH_MAX_REPEATS	50

struct result {
	const struct workload *w;
	const char *mode;
	int producers;
	enum bench_status status;
	char reason[240];
	int repeats;			/* measured runs */
	double ops_s[BENCH_MAX_REPEATS];
	double cpu_ns[BENCH_MAX_REPEATS];
	double sleeps[BENCH_MAX_REPEATS];	/* consumer sleeps per op; < 0 unknown */
	uint64_t ops;			/* over all repeats */
	uint64_t errors;
	struct hist *lat;		/* all repeats merged */
	const struct result *ref;	/* the floor/comparison row, if run */
};

struct stat3 {
	double min, median, max;
};

struct stat3 stat3_of(const double *v, int n);
/* (max - min) / median of ops/s, in per cent. */
double result_spread_pct(const struct result *res);
/* The reference workload for w at the same producer count: its floor. */
const char *result_ref_name(const struct workload *w);

struct report_info {
	const struct bench_opts *o;
	const char *release, *machine, *accel, *started;
	char clock_start[64], clock_end[64];	/* the clocksource (end: at the JSON) */
	long cpus;
};

void report_header(FILE *f, const struct report_info *ri);
void report_row(FILE *f, const struct result *res);
int report_json(const char *path, const struct report_info *ri, const struct result *res,
		int n, const char *status, double seconds);

#endif
