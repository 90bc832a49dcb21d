/* SPDX-License-Identifier: MIT */
/*
 * MSG_RING senders aimed at a ring fd number that may be closed under them.
 * Each sender thread has its own ring and sends batches by number; every
 * SQE is accounted in its ledger (exactly once on the sender's ring) and
 * its result judged by what the number named around the batch:
 *   0        unless the batch was issued after close() returned;
 *   -EBADF   unless the fd was open from before the batch until its CQEs;
 *   anything else is a failure (-EBADFD: the number named a non-ring).
 * A sender stops after a batch issued after the close: that batch proves
 * the -EBADF. It never sends more than its ledger's sequence space, so a
 * caller bounds what can land in the target's CQ.
 */
#ifndef TW_MSGSEND_H
#define TW_MSGSEND_H

#include "race/fuzzy.h"
#include "harness.h"

enum fd_state { FD_OPEN, FD_CLOSING, FD_CLOSED };

/* An fd number whose close the senders using it can see. Shareable (MAP_SHARED). */
struct fd_watch {
	uint32_t state;
};

enum fd_state fd_watch_state(struct fd_watch *w);
/* close(fd), with the state around it. */
void fd_watch_close(struct fd_watch *w, int fd);
/*
 * The same close as racer B of f (the senders' submits are racer A): each
 * attempt calibrates with the close of a dup() of fd (the same fput, not
 * the last reference), then fd is closed at the seeded point of the window.
 * Stops f. false: racer A stopped coming (a sender's quota used up) or the
 * deadline passed, and fd is still open: the caller closes it plainly.
 */
bool fd_watch_close_fuzzy(struct fd_watch *w, int fd, struct fuzzy *f,
			  const struct deadline *dl);

struct msg_sender {
	struct tcase *tc;
	int fd;				/* where the messages go */
	struct fd_watch *watch;		/* ... and what the senders know of it */
	struct ledger *led;		/* 1 producer, 1 channel: the sequence space */
	uint32_t quota;			/* = the ledger's per_stream */
	uint64_t msg_ud;		/* user_data of the messages (| sequence) */
	uint32_t msg_len;		/* their res */
	struct tw_barrier *start;	/* NULL: start at once */
	struct tw_counter *done;	/* NULL, or counts finished senders */
	uint64_t *delivered;		/* NULL, or counts messages that got 0 (atomic) */
	struct fuzzy *race;		/* NULL, or each submit is racer A of it */
	uint64_t ok, ebadf;		/* this sender's results */
	unsigned close_in_submit;	/* batches whose submit the close landed in */
	/* Private. */
	bool closed_before, open_after;
	char why[96];
};

/* The thread body; t->arg is the struct msg_sender. */
void *msg_sender_main(struct tw_thread *t);

#endif
