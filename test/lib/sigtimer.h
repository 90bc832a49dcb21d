/* SPDX-License-Identifier: MIT */
/*
 * A timer that interrupts the calling thread: for waits that a signal must
 * end (-EINTR), or that have no timeout of their own.
 */
#ifndef TW_SIGTIMER_H
#define TW_SIGTIMER_H

#include <signal.h>
#include <time.h>

/*
 * Install a handler that does nothing for sig, without SA_RESTART (a wait
 * it interrupts returns -EINTR), and create a disarmed CLOCK_MONOTONIC
 * timer that sends sig to the calling thread (SIGEV_THREAD_ID): 0, or -1
 * with errno set (timer_create()).
 */
int sigtimer_create(timer_t *timer, int sig);

#endif
