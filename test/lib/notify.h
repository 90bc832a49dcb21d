/* SPDX-License-Identifier: MIT */
/* Wake-ups of an owner asleep outside io_uring_enter(): see test/lib/notify.c. */
#ifndef TW_NOTIFY_H
#define TW_NOTIFY_H

#include "harness.h"

enum notify_mode { N_EVENTFD, N_EVENTFD_ASYNC, N_POLL, N_EPOLL_WAKE, N_MULTISHOT, N_COUNT };

/* Rounds until the case's duration ends, each in one of the modes set in
 * the mask (1u << N_...). */
enum verdict notify_run(struct tcase *tc, unsigned modes);

#endif
