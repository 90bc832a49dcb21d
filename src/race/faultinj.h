/* SPDX-License-Identifier: MIT */
/*
 * Fault injection for the test's own tasks: failslab and fail_page_alloc
 * (debugfs, task-filter) and fail-nth (/proc/self/task/TID/fail-nth).
 * Whoever arms the attributes restores them; only root may.
 */
#ifndef TW_FAULTINJ_H
#define TW_FAULTINJ_H

#include "harness.h"

/* NULL if this case may inject faults here, else why not (a skip reason):
 * not asked for (-F), not root, no fault injection in the kernel. */
const char *faults_missing(const struct tcase *tc);
/* Fail pct per cent of the slab and page allocations of tasks with make-it-fail
 * set, quietly; allocations that may sleep too, user pages not. fail-nth
 * obeys the same filters. 0 or -errno. */
int faults_arm(unsigned pct);
/* Allocations failed since faults_arm() (slab and page, fail-nth's too),
 * or -errno. */
long faults_injected(void);
/* Put back every value faults_arm() changed; a value that does not stick
 * fails the case. */
void faults_restore(struct tcase *tc);
/* /proc/self/task/<this thread>/NAME = val (make-it-fail, fail-nth). */
int fault_task_knob(const char *name, const char *val);
/* make-it-fail = 0 for this thread, retried until it sticks: 0 or -errno. */
int fault_task_disarm(void);

#endif
