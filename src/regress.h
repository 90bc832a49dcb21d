/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the regression tests (test/regress_*.c): each reproduces one
 * known kernel bug and names its fix in struct scenario (fix_commit,
 * fix_subject), so that a failure reads "may be missing fix ...".
 */
#ifndef TW_REGRESS_H
#define TW_REGRESS_H

#include <sys/types.h>
#include "timeutil.h"

/* Poll (bounded, yielding) until thread tid of this process is in the
 * given state ('S' asleep, 'T' stopped): 0, or -ETIMEDOUT at the deadline. */
int task_wait_state(pid_t pid, pid_t tid, char state, const struct deadline *dl);
/* A thread's state letter, for any process ('?' if unreadable). */
char task_state(pid_t pid, pid_t tid);
/* CPU time a thread of process pid has used, in ns; -1 if unreadable. */
int64_t task_cpu_ns(pid_t pid, pid_t tid);
/* The first thread of process pid whose name starts with prefix
 * ("iou-sqp-"), or -1. */
pid_t task_find(pid_t pid, const char *prefix);

#endif
