// SPDX-License-Identifier: MIT
/* A timer that interrupts the calling thread (see sigtimer.h). */
#include <unistd.h>

#include "sigtimer.h"

static void on_signal(int sig)
{
	(void)sig;
}

int sigtimer_create(timer_t *timer, int sig)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = sig };
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(sig, &sa, NULL);
#ifdef sigev_notify_thread_id
	sev.sigev_notify_thread_id = gettid();
#else
	sev._sigev_un._tid = gettid();	/* glibc < 2.35 spells it so */
#endif
	return timer_create(CLOCK_MONOTONIC, &sev, timer);
}
