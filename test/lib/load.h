/* SPDX-License-Identifier: MIT */
/*
 * A request mix: a seeded stream of requests that keeps a ring busy on
 * every completion path at once, for scenarios that kill or close rings
 * mid-flight. Each kind ends a different way:
 *   MSG_RING         to other rings: remote (local task_work on DEFER targets)
 *   POLL_ADD, READ   on fds a writer thread feeds: poll wake-ups -> task_work
 *   TIMEOUT          short ones fire from hrtimer context, long ones stay
 *   IOSQE_ASYNC      reads and nops through io-wq
 *   linked           poll->nop, read->link timeout (link failure, cancels)
 * and the "pending" set stays in flight until the ring's teardown cancels
 * it. Every CQE is checked against the results its kind may have.
 */
#ifndef TW_LOAD_H
#define TW_LOAD_H

#include "harness.h"

enum load_kind {
	LOAD_MSG,		/* MSG_RING sent from this ring */
	LOAD_MSG_IN,		/* a MSG_RING message received */
	LOAD_POLL,
	LOAD_READ,
	LOAD_TIMEOUT,		/* fires within a millisecond */
	LOAD_TIMEOUT_LONG,	/* outlives any round */
	LOAD_ASYNC_READ,
	LOAD_ASYNC_NOP,
	LOAD_NOP,
	LOAD_LINK_POLL,		/* head of poll -> nop */
	LOAD_LINK_NOP,
	LOAD_LINK_READ,		/* head of read -> link timeout */
	LOAD_LINK_TIMEOUT,
	LOAD_PENDING,		/* only teardown (or task exit) may end these */
	LOAD_KINDS
};

/* What a MSG_RING message carries as res: the receiver checks it. */
#define LOAD_MSG_LEN	0x4d5347

/* user_data of a mix request: a tag, the kind, a sequence number. */
uint64_t load_ud(enum load_kind kind, uint32_t seq);
bool load_owns(uint64_t ud);
enum load_kind load_kind_of(uint64_t ud);
const char *load_kind_name(enum load_kind kind);
/* NULL if res is a result a request of this kind may have, else why not. */
const char *load_check(uint64_t ud, int32_t res);

/* The fds the mix reads and polls, fed by load_feed() from a writer thread. */
#define LOAD_SOURCES	3	/* a pipe, a stream socket pair, an eventfd */

struct load_sources {
	int rfd[LOAD_SOURCES];
	int wfd[LOAD_SOURCES];		/* non-blocking: the writer never sleeps in write() */
};

int load_sources_open(struct load_sources *s);
void load_sources_close(struct load_sources *s);
/* One pass of the writer: a few bytes (an eventfd count) into each source. */
int load_feed(const struct load_sources *s, struct rng *rng);

struct load {
	struct tring *r;
	const struct load_sources *src;
	const int *targets;		/* ring fds for MSG_RING; -1 entries are skipped */
	unsigned ntargets;
	uint32_t msg_inline_only;	/* bit i: no IOSQE_ASYNC MSG_RING to targets[i] */
	bool async_read_no_pipe;	/* IOSQE_ASYNC reads take the socket, not the pipe */
	unsigned inflight;		/* own requests whose CQE is still to come */
	unsigned long_timeouts;
	uint32_t seq;
	uint64_t reaped;
	uint64_t seen[LOAD_KINDS];	/* CQEs reaped, per kind */
	char scratch[64];		/* shared by all reads: the data is never looked at */
};

void load_init(struct load *l, struct tring *r, const struct load_sources *src,
	       const int *targets, unsigned ntargets);
/* Queue about budget CQEs' worth of the seeded mix and submit it. */
int load_submit(struct load *l, struct rng *rng, unsigned budget);
/*
 * Reap the CQ. Returns the number of CQEs; why[0] != 0 describes the first
 * CQE whose result its kind may not have.
 */
unsigned load_reap(struct load *l, char *why, size_t len);

/* Pipes nobody writes (we hold the write ends): what the pending set waits on. */
struct load_idle {
	int rfd, wfd;			/* read and polled */
	int sink_rfd, sink_wfd;		/* a tee's destination */
};

int load_idle_open(struct load_idle *idle);
void load_idle_close(struct load_idle *idle);
/*
 * Queue the pending set on r (not submitted): a read and a poll on the idle
 * pipe (armed poll), a long timeout, an IOSQE_ASYNC read (io-wq arms poll
 * for it) and a tee from the idle pipe (blocks in an io-wq worker). Only
 * teardown or the submitter's exit cancels them. Returns the SQEs queued.
 */
int load_prep_pending(struct tring *r, const struct load_idle *idle);
#define LOAD_PENDING_NR	5

#endif
