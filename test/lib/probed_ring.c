// SPDX-License-Identifier: MIT
/* A ring set up with a teardown probe by its owner, taken by the observer
 * (see probed_ring.h). */
#include <stdio.h>
#include <string.h>

#include "fdpass.h"
#include "probed_ring.h"

void probed_ring_register(struct probed_ring *h, struct tring *r, struct teardown_probe *p)
{
	h->err = io_uring_register_files(&r->ring, &p->rfd, 1);
	h->ring_fd = tring_fd(r);
}

int probed_ring_offer(struct tcase *tc, struct probed_ring *h, struct teardown_probe *p)
{
	struct deadline dl;

	probe_drop_reader(p);
	tw_event_set(&h->ready);
	dl = tc_deadline(tc);
	return h->err || tw_event_wait(&h->taken, &dl) ? -1 : 0;
}

int probed_ring_take(struct tcase *tc, struct probed_ring *h, const struct child *owner,
		  const struct deadline *dl, const char *who, const char *ring)
{
	char what[96];
	int fd;

	if (tw_event_wait(&h->ready, dl)) {
		tc_hang(tc, NULL, NULL, "the %s did not set up its %s", who, ring);
		return -1;
	}
	if (h->err) {
		/* err -1: the owner's tring_init() reported a skip or failure. */
		if (tc_verdict(tc) == V_PASS)
			tc_fail(tc, "registering the probe as a fixed file: %s", strerror(-h->err));
		return -1;
	}
	fd = fdpass_take(owner->pidfd, h->ring_fd);
	if (fd < 0) {
		snprintf(what, sizeof(what), "taking the %s's ring fd (pidfd_getfd)", who);
		tc_refused(tc, NEED_PIDFD_GETFD, fd, what);
		return -1;
	}
	tw_event_set(&h->taken);
	return fd;
}
