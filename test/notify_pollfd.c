// SPDX-License-Identifier: MIT
/*
 * Polling the ring fd: an owner asleep in poll() or epoll_wait() on its
 * ring, or waiting on another ring that holds a multishot POLL_ADD on it,
 * is woken whenever work reaches the ring - also work queued from a wake-up
 * handler. On DEFER_TASKRUN rings that work is local task_work, which
 * io_uring_poll() reports as EPOLLIN; the wake-up for sleepers came with
 * io_local_work_wake_poll() (Linux 7.3): kernels without it fail the DEFER
 * cases, an XFAIL through test/known-issues. Rounds and checks:
 * test/lib/notify.c.
 */
#include "lib/notify.h"

static enum verdict run(struct tcase *tc)
{
	return notify_run(tc, 1u << N_POLL | 1u << N_EPOLL_WAKE | 1u << N_MULTISHOT);
}

static const struct scenario notify_pollfd = {
	.name = "notify_pollfd",
	.summary = "poll/epoll on a ring fd, and a multishot poll on it from another ring, wake "
		   "whenever work reaches the ring",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(MSG_RING),
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &notify_pollfd);
}
