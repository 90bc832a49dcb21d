/* SPDX-License-Identifier: MIT */
/*
 * A child of kill_midflight (test/kill_midflight.c kills it): one thread per
 * ring, each ring keeping a request mix in flight (test/lib/load.h:
 * MSG_RING between the child's rings, polls and reads a writer thread
 * feeds, timeouts, io-wq requests, links, and a pending set only teardown
 * ends), every CQE checked against the results its kind may have, and a
 * teardown probe per ring for the parent. Ring thread 0 also keeps doing a
 * racy step (enum race_step) the parent's SIGKILL may be fuzzy-synchronised
 * with (src/race/fuzzy.h). The child lives until it is killed.
 */
#ifndef TW_KILL_KID_H
#define TW_KILL_KID_H

#include "race/fuzzy.h"
#include "harness.h"
#include "load.h"

#define KID_RING_THREADS_MAX	8	/* rings of the case's profile per child */
#define KID_RINGS_MAX		(KID_RING_THREADS_MAX + 1)

/* Ring thread 0's racy step. */
enum race_step {
	STEP_SUBMIT,		/* a submit of the mix (io_uring_enter -> io_submit_sqes) */
	STEP_TEARDOWN,		/* the close of a scratch ring with requests pending
				 * (io_uring_release -> io_ring_ctx_wait_and_kill) */
	STEPS
};
/* Where the kill landed, from the markers around the step. */
enum landed { LANDED_BEFORE, LANDED_INSIDE, LANDED_AFTER };

/* MAP_SHARED: the child reports, the parent waits. */
struct kid_shared {
	struct tw_event loaded;		/* every ring set up and busy */
	struct tw_counter rings_up;	/* ring threads past their set-up */
	uint64_t cqes;			/* reaped by all its rings (atomic) */
	struct fuzzy race;		/* ring thread 0 (A) vs the parent's kill (B) */
	uint32_t steps_begun, steps_done;	/* where ring thread 0 was at the kill */
};

struct kid {
	struct tcase *tc;
	struct kid_shared *sh;
	struct child proc;
	unsigned nrings;
	const struct profile *prof[KID_RINGS_MAX];
	struct teardown_probe probe[KID_RINGS_MAX];
	uint64_t seed;			/* of the child's threads */
	bool use_msg_ring;
	bool setup_kill;		/* killed at a time counted from fork */
	bool in_setup;			/* ... and it was not loaded yet */
	bool fuzzy;			/* the kill is fuzzy-synchronised with a step */
	enum race_step step;
	enum landed landed;
	int64_t kill_delay_ns;
	/* Child side only. */
	struct load_sources src;
	int ring_fds[KID_RINGS_MAX];	/* MSG_RING targets */
	struct tw_barrier targets_known;
	struct deadline life;
};

/* A probe per ring, then fork the child: 0, or -errno (the case failed). */
int kid_spawn(struct tcase *tc, struct kid *k);
/* Another taskrun mode than p's, for the mix of rings a kill tears down. */
const struct profile *kid_pick_mix(const struct profile *p);

#endif
