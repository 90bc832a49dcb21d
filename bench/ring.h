/* SPDX-License-Identifier: MIT */
/* Rings in the benchmark's modes, and the waits its consumers use. */
#ifndef TW_BENCH_RING_H
#define TW_BENCH_RING_H

#include <liburing.h>
#include <stddef.h>

/*
 * Modes (the suite's profile names): default (no flags: task_work_add
 * with a signal-style notification), coop (COOP_TASKRUN | TASKRUN_FLAG:
 * no IPI), defer (DEFER_TASKRUN | SINGLE_ISSUER: local work, run when the
 * owner waits), sqpoll (the SQ thread issues and runs the task_work).
 * 0, or -errno with why filled (a kernel that refuses a flag: a skip).
 */
int bench_ring_init(struct io_uring *ring, const char *mode, unsigned entries,
		    char *why, size_t whylen);

/* Waits for want CQEs for at most timeout_ms: 0 (CQEs or timeout) or
 * -errno of a real failure. */
int bench_ring_wait(struct io_uring *ring, unsigned want, int timeout_ms);

/* The res a benchmark message carries, to tell it from the sender's
 * own error CQEs (a failed IOSQE_CQE_SKIP_SUCCESS request still posts). */
#define BENCH_MSG_RES	0x7e57

#endif
