// SPDX-License-Identifier: MIT
/*
 * A registered eventfd (plain, and async fed from io-wq workers) wakes an
 * owner asleep in poll() on it whenever work reaches its ring: on
 * DEFER_TASKRUN rings when local work is queued (io_req_local_work_add), on
 * other rings when the CQE is posted. Rounds and checks: test/lib/notify.c.
 */
#include "lib/notify.h"

static enum verdict run(struct tcase *tc)
{
	return notify_run(tc, 1u << N_EVENTFD | 1u << N_EVENTFD_ASYNC);
}

static const struct scenario notify_eventfd = {
	.name = "notify_eventfd",
	.summary = "a registered eventfd (plain and async) wakes its sleeper whenever work "
		   "reaches the ring",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(MSG_RING),
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &notify_eventfd);
}
