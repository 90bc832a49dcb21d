/* SPDX-License-Identifier: MIT */
/* Monotonic time and deadlines: every wait in the suite has one. */
#ifndef TW_TIMEUTIL_H
#define TW_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define NSEC_PER_USEC	1000LL
#define NSEC_PER_MSEC	1000000LL
#define NSEC_PER_SEC	1000000000LL

struct deadline {
	int64_t end_ns;			/* CLOCK_MONOTONIC */
};

static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static inline struct deadline deadline_in(int64_t ns)
{
	return (struct deadline){ .end_ns = now_ns() + ns };
}

static inline int64_t deadline_left(const struct deadline *dl)
{
	int64_t left = dl->end_ns - now_ns();

	return left > 0 ? left : 0;
}

static inline bool deadline_passed(const struct deadline *dl)
{
	return now_ns() >= dl->end_ns;
}

static inline struct timespec ns_to_timespec(int64_t ns)
{
	return (struct timespec){ .tv_sec = ns / NSEC_PER_SEC, .tv_nsec = ns % NSEC_PER_SEC };
}

static inline double ns_to_s(int64_t ns)
{
	return (double)ns / NSEC_PER_SEC;
}

/* Sleep until an absolute monotonic time. Only for pacing and for placing a
 * fault at a chosen moment, never to wait for another thread's progress. */
void sleep_until_ns(int64_t when);

#endif
