/* SPDX-License-Identifier: MIT */
/*
 * SQPOLL rings driven by hand, for test/sqpoll.c: requests are queued in
 * the SQ and published to the SQ thread, which is woken only when it says
 * it sleeps (IORING_SQ_NEED_WAKEUP: the application's half of the protocol,
 * counted); a round arms hundreds of polls on shared eventfds, sequenced
 * reads on each ring's pipes and a NOP, every request in the ledger
 * (producer: the ring; channel: the eventfd, the pipe, or NOPs); reaping
 * hands each CQE to the scenario's checks. Why each step is there:
 * test/sqpoll.c.
 */
#ifndef TW_SQPOLL_H
#define TW_SQPOLL_H

#include "harness.h"
#include "chan.h"

enum sq_mode { M_BUSY, M_IDLE, M_ASLEEP, M_SHARED, M_EXIT, M_COUNT };
extern const char *const sq_mode_names[M_COUNT];

#define SQ_RINGS	3
#define SQ_NEFD		4	/* each write completes every poll armed on it */
#define SQ_NPIPE	4	/* per ring: sequenced records, one READ each */
#define SQ_MAX_POLLS	160	/* per eventfd and ring: up to 640 at once = 20 capped batches */
#define SQ_MAX_READS	8	/* per pipe and ring and round */
#define SQ_CH_NOP	(SQ_NEFD + SQ_NPIPE)	/* channels: eventfds, pipes, NOPs */
#define SQ_NCH		(SQ_CH_NOP + 1)

struct sring {
	struct tring t;
	uint32_t seq[SQ_NCH];		/* next ledger seq per channel */
	uint32_t nop_next;		/* the NOP seq the next NOP CQE must carry */
	uint64_t expect, got;		/* CQEs owed / reaped this round */
	uint64_t rec_next[SQ_NPIPE];	/* the record the next read must return */
	uint64_t rec_written[SQ_NPIPE];	/* writers: records written so far */
	uint64_t rec_goal[SQ_NPIPE];	/* ... and to write this round */
	unsigned reads[SQ_NPIPE];	/* reads armed this round */
	struct chan pipe[SQ_NPIPE];	/* records: 8 bytes each, in order */
	uint64_t buf[SQ_NPIPE][SQ_MAX_READS];
};

struct exit_shared;

struct sq {
	struct tcase *tc;
	enum sq_mode mode;
	struct sring rings[SQ_RINGS];
	unsigned nrings, writers, wakes, slept;
	uint64_t cancelled;		/* exit: polls the owner's exit cancelled */
	bool pipe_read_order;		/* reads of a pipe wait on poll (6.4): ordered */
	int efd[SQ_NEFD];
	struct ledger *led;
	struct tw_barrier start;
	struct tw_counter writers_done;
	struct exit_shared *xs;		/* exit mode: shared with the owner child */
	struct teardown_probe probe;
	/* The scenario's checks of one CQE reaped from ring ri. */
	void (*complete)(struct sq *s, unsigned ri, struct io_uring_cqe *cqe);
};

/* Publish the queued SQEs to the SQ thread; if it sleeps, wake it. */
void sq_kick(struct sq *s, struct sring *r);
/* Queue n NOPs on channel SQ_CH_NOP and kick. */
void sq_queue_nops(struct sq *s, struct sring *r, unsigned n);
/* Hundreds of polls on the eventfds, and (reads) a few reads per pipe,
 * then a NOP: its CQE says the SQ thread issued everything before it. */
void sq_arm(struct sq *s, struct sring *r, struct rng *rng, bool reads);
/* Hand ring ri's CQEs to s->complete(); returns how many. */
unsigned sq_reap(struct sq *s, unsigned ri);
/*
 * Reap ring ri until `upto` CQEs (0: all owed) are in; busy: keep the SQ
 * thread submitting NOPs while the writers write. Waits are judged
 * (wait_check.h) once the writers are done. 0, or -1 after a failure.
 */
int sq_collect(struct sq *s, unsigned ri, uint64_t upto, bool busy, struct rng *rng,
	       const char *what);
/* Wait until the SQ thread sleeps (NEED_WAKEUP): 0, or -1 after a hang. */
int sq_await_sleep(struct sq *s, struct sring *r);

#endif
