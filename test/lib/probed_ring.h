/* SPDX-License-Identifier: MIT */
/*
 * A probed ring, for a teardown test across processes. The owner (a forked
 * child) sets the ring up with a teardown probe as its only fixed file; the
 * observer (the case) takes its own reference to the ring fd with
 * pidfd_getfd(). Whatever the owner does next (close its fd and stop,
 * exec), the probe tells the observer when the ring's teardown finished.
 * (A ring handed over to be used by another process: handover.h.)
 *
 * The struct lives in MAP_SHARED memory (proc_shared_alloc()).
 */
#ifndef TW_PROBED_RING_H
#define TW_PROBED_RING_H

#include "harness.h"

struct probed_ring {
	struct tw_event ready;		/* owner: ring set up, or err says why not */
	struct tw_event taken;		/* observer: has its own reference */
	int ring_fd;			/* the ring's fd number in the owner */
	int err;			/* owner: 0, -errno of registering the probe,
					 * or -1 (no ring; tring_init() reported why) */
};

/* Owner, once the ring is set up: register the probe's read end as the
 * ring's only fixed file (no request that teardown would have to cancel)
 * and note the fd number; h->err says how registering went. */
void probed_ring_register(struct probed_ring *h, struct tring *r, struct teardown_probe *p);
/* Owner: drop its own reader of the probe, say the ring is ready, and wait
 * (the case's hang deadline) until the observer took it: 0, or -1 (no ring,
 * or no observer). */
int probed_ring_offer(struct tcase *tc, struct probed_ring *h, struct teardown_probe *p);
/* Observer: wait (until dl) for the owner's ring and take a reference to
 * it: the new fd, or -1 with the verdict set. who names the owner
 * ("owner"), ring its ring ("SQPOLL ring") in the messages. */
int probed_ring_take(struct tcase *tc, struct probed_ring *h, const struct child *owner,
		  const struct deadline *dl, const char *who, const char *ring);

#endif
