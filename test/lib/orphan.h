/* SPDX-License-Identifier: MIT */
/*
 * Orphan rounds: an owner task leaves work pending on a ring (pending.h),
 * may reap some of it, and goes away while a survivor keeps the ring. The
 * survivor completes the work before, during and after the exit, sends
 * MSG_RING into the ring, accounts every CQE in two ledgers (must post /
 * may be stranded), and proves with a teardown probe that the ring's
 * teardown cleans up whatever could not post. The scenario (test/orphans.c)
 * is the owner: what it does before it goes away, how it goes away, and
 * what the kernel may post then.
 */
#ifndef TW_ORPHAN_H
#define TW_ORPHAN_H

#include "race/fuzzy.h"
#include "harness.h"
#include "handover.h"
#include "pending.h"

#define ORPHAN_RING_CQ	256	/* a round posts < 40 CQEs: it never overflows */
#define ORPHAN_MAX_MSGS	16	/* MSG_RING per round: 8 at most */

enum orphan_kind { EXIT_THREAD, EXIT_PROCESS, EXIT_EXEC, EXIT_FDPASS, EXIT_KINDS };
extern const char *const orphan_kind_names[EXIT_KINDS];

/* When the survivor fired a read or poll, or sent a MSG_RING. */
enum orphan_phase {
	PH_NONE,	/* not (yet) */
	PH_LIVE,	/* before the go: the owner still returns to user space after it */
	PH_RACE,	/* from "exiting" until the owner is reaped: during its exit */
	PH_GONE,	/* after the owner was reaped */
	PH_COUNT
};

/* What may become of a request, as bits. */
#define OUT_POSTED	1u	/* its own result: 1 byte, POLLIN, -ETIME, the payload */
#define OUT_CANCELLED	2u	/* -ECANCELED */
#define OUT_STRANDED	4u	/* no CQE before the ring's teardown (which nobody sees) */
#define OUT_REFUSED	8u	/* MSG_RING: -EOWNERDEAD for the sender, no message */

/* What the kernel may do with the owner's requests (and MSG_RING). */
struct orphan_expect {
	uint8_t fired[PH_COUNT];	/* reads and polls, by the phase they fired in */
	uint8_t msg[PH_COUNT];		/* MSG_RING into the ring, by the phase of its send */
	uint8_t read_any;		/* reads: also this, whenever fired */
	uint8_t tracked, timeouts;	/* the io_uring-fd poll, the timeouts */
};

/* NULL if the kernel may post res for a request of this pending_channel
 * fired (or sent) in phase ph, else what it may post. */
typedef const char *(*orphan_check_fn)(const struct orphan_expect *e, unsigned channel,
				       enum orphan_phase ph, uint32_t seq, int32_t res);

/* One round, in MAP_SHARED memory: the owner may be another process. */
struct orphan_round {
	struct tcase *tc;
	enum orphan_kind kind;
	unsigned no, owner_reaped, cancelled;
	struct orphan_expect exp;
	orphan_check_fn check;
	struct ledger *must, *may;
	struct pending work;
	struct tring ring;		/* the survivor's view of the ring */
	struct teardown_probe probe;
	int ring_efd;			/* registered on the ring: the survivor waits on it */
	struct handover handover;	/* fd-passed: how the ring is handed over */
	bool abort, owner_failed, owner_reaps_again;
	uint32_t msg_seq;
	uint8_t read_phase[PENDING_MAX_READS], poll_phase, msg_phase[ORPHAN_MAX_MSGS];
	char why[200];
	struct tw_event submitted, go, exiting, ring_ready, ring_taken;
	struct fuzzy *race;		/* NULL, or the owner's exit (A) vs the firing (B) */
	int64_t exit_ns, fire_ns[2];	/* the owner's exit began; the firing began, ended */
};

/* Messages start with the round: "%s round %u" and RD(rd). */
#define RD(rd)		orphan_kind_names[(rd)->kind], (rd)->no

struct orphans {
	struct tcase *tc;
	struct orphan_round *rd;
	struct tring src;	/* the survivor's: MSG_RING source, tracked poll target */
	struct rng rng;
	/* from the scenario */
	struct orphan_expect (*expect)(const struct profile *p, enum orphan_kind k);
	orphan_check_fn check;
	void *(*owner_thread)(struct tw_thread *t);	/* EXIT_THREAD */
	int (*owner_child[EXIT_KINDS])(void *rd);	/* the others, in a forked child */
	struct fuzzy *race;		/* per exit kind, across rounds (MAP_SHARED) */
	/* totals */
	unsigned rounds[EXIT_KINDS];
	unsigned raced[2], fired_before_exit[2];	/* [fuzzy] */
	int64_t stranded;
};

enum verdict orphans_init(struct orphans *o, struct tcase *tc);
/* One round of one exit kind: V_PASS, or the case's verdict. */
enum verdict orphans_round(struct orphans *o, enum orphan_kind kind, unsigned no);
void orphans_fini(struct orphans *o);

#endif
