/* SPDX-License-Identifier: MIT */
/*
 * Inside the harness (tc.c, case.c, harness.c), not for tests: the area a
 * case shares with the parent that watches it, and running one case.
 */
#ifndef TW_CASE_H
#define TW_CASE_H

#include "harness.h"

#define EXIT_SKIP		77
#define EXIT_HANG		3
#define DEFAULT_DURATION	0.4
#define DEFAULT_HANG_S		10.0

/* A case's verdict and reason, MAP_SHARED: written by the case process
 * (and its children), read by the parent after it is gone. */
#define CASE_PARTS		8
struct case_shared {
	int verdict;
	char reason[480];
	unsigned nparts;		/* sub-checks skipped (tc_skip_part) */
	char parts[CASE_PARTS][64];	/* their names, each reported once */
};

/* "pass", "skip", "fail", "hang", "crash" (tc.c). */
extern const char *const verdict_names[];
/* The worst verdict wins; the first reason given for it is kept (tc.c). */
void tc_set_verdict(struct tcase *tc, enum verdict v, const char *reason);
/* Run the case in a forked process under the watchdog: its verdict, the
 * reason in tc->shared (case.c). */
enum verdict case_run(struct tcase *tc);

#endif
