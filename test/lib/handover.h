/* SPDX-License-Identifier: MIT */
/*
 * A ring handed from the process that created it to another one, which
 * maps it and carries on with it: over a unix socket (SCM_RIGHTS), or -
 * since 6.7, where scm_fp_copy() refuses io_uring files with EINVAL - by
 * pidfd_getfd() from the creator; or to an exec'd image, which inherits the
 * fd and gets the set-up parameters on its command line. The receiver needs
 * those parameters to map the rings: struct handover carries them, so it
 * lives in memory both sides share (MAP_SHARED) or is filled before fork().
 */
#ifndef TW_HANDOVER_H
#define TW_HANDOVER_H

#include "harness.h"

struct handover {
	struct io_uring_params params;	/* the creator's set-up: how to map the ring */
	int sock[2];			/* SCM_RIGHTS from sock[1] to sock[0] ... */
	int owner_fd;			/* ... or pidfd_getfd() of this fd of the creator */
	bool via_getfd;			/* SCM_RIGHTS refused the ring */
};

/* The socket pair; both ends -1 if it fails. 0 or -errno. */
int handover_open(struct handover *h);
void handover_close(struct handover *h);

/* The creator: set ring up with 64 SQEs, the flags given (CQSIZE added if
 * cq_entries), sq_thread_idle 10 ms, and keep the parameters. 0 or -errno. */
int handover_ring_init(struct handover *h, struct io_uring *ring, unsigned flags,
		       unsigned cq_entries);
/* The creator: pass the ring's fd, over the socket if the kernel lets it,
 * else (-EINVAL) by leaving it to pidfd_getfd(). 0 or -errno. */
int handover_give(struct handover *h, int ring_fd);
/* "SCM_RIGHTS" or "pidfd_getfd": how the ring went. */
const char *handover_how(const struct handover *h);

/*
 * The receiver: take the ring's fd (from the creator behind pidfd, if it
 * went that way) by the deadline, and map it into r, a live tring of
 * profile prof named name. 0, -ENOMEM if it cannot be mapped, or -errno.
 */
int handover_take(struct handover *h, int pidfd, const struct deadline *dl, struct tring *r,
		  const struct profile *prof, const char *name);
/* Map a ring fd this process holds into r (as handover_take() does). */
int handover_map(const struct handover *h, int fd, struct tring *r, const struct profile *prof,
		 const char *name);

/* To an exec'd image: the parameters as hex, for its command line. */
#define HANDOVER_HEX_LEN	(2 * sizeof(struct io_uring_params) + 1)
void handover_to_hex(const struct handover *h, char hex[HANDOVER_HEX_LEN]);
/* In the image: map the inherited ring fd, with the parameters given as hex. */
int handover_map_hex(int fd, const char *hex, struct io_uring *ring);

#endif
