/* SPDX-License-Identifier: MIT */
/*
 * The references that keep a ring alive, one at a time: its fd (moved to a
 * dedicated number), its mappings, its registered ring fd. A ring's
 * io_uring_release() - and so its teardown - runs only once all are gone.
 */
#ifndef TW_RINGFD_H
#define TW_RINGFD_H

#include "harness.h"

#ifndef IORING_FEAT_REG_REG_RING
#define IORING_FEAT_REG_REG_RING		(1U << 13)
#endif
#ifndef IORING_REGISTER_USE_REGISTERED_RING
#define IORING_REGISTER_USE_REGISTERED_RING	(1U << 31)
#endif

/* A high fd number no open() or socket() of ours gets (lowest-free rule):
 * once closed, it names no file at all. */
int ringfd_dedicated_number(void);
/* Move the ring's fd to number fd (which must be free). 0 or -errno. */
int tring_move_fd(struct tring *r, int fd);
/* Drop the SQ/CQ/SQE mappings: each holds a reference to the ring's file.
 * The ring's memory must not be touched afterwards. */
void tring_unmap(struct tring *r);
/* Unregister the registered ring fd through itself (the plain fd may be
 * closed already): 1 on success, else -errno. Linux 6.3+. */
int tring_unregister_fd(struct tring *r);

struct load_idle;
/*
 * The ring whose references go one at a time ("target", the case's
 * profile): its fd moved to number fd, its mappings not inherited by a
 * fork (they would hold the file), a teardown probe armed and the pending
 * set (load.h, on idle) in flight. V_PASS, a skip, or a failure reported.
 */
enum verdict ringfd_target_init(struct tcase *tc, struct tring *t, const struct tring_opts *o,
				int fd, struct teardown_probe *probe,
				const struct load_idle *idle);
/*
 * Registered, all else gone (the plain fd closed, no fork's copy left):
 * unmap, show the registered index still works and that the ring outlives
 * alive_ns (probe), then unregister - the fput that ends the ring.
 * 0, or -1 with the failure reported.
 */
int ringfd_release_registered(struct tcase *tc, struct tring *t, struct teardown_probe *probe,
			      int64_t alive_ns);

#endif
