/* SPDX-License-Identifier: MIT */
/*
 * A ring's shared memory driven by hand, where liburing 2.3 does not help:
 * SQEs published to the kernel without entering it (an SQ thread, or a
 * resize, finds them there), and the CQ resized under live traffic
 * (IORING_REGISTER_RESIZE_RINGS, 6.13+) with the new rings mapped in place
 * of the old ones.
 */
#ifndef TW_RINGMEM_H
#define TW_RINGMEM_H

#include <stdbool.h>
#include <liburing.h>

/* Make the SQEs queued since the last publish visible at the SQ tail. */
void ringmem_publish(struct io_uring *ring);
/* IORING_REGISTER_RESIZE_RINGS with p (sq_entries, cq_entries, flags):
 * 0 or -errno; the caller maps the new rings with ringmem_remap(). */
int ringmem_resize(struct io_uring *ring, struct io_uring_params *p);
/*
 * Map the rings a resize returned in p, as liburing would at set-up, and
 * unmap the old ones; our SQ positions carry over. *sq_array_guessed is set
 * if the kernel left sq_off.array 0 (before 7.x) and it was computed.
 * 0 or -errno.
 */
int ringmem_remap(struct io_uring *ring, struct io_uring_params *p, bool *sq_array_guessed);

#endif
