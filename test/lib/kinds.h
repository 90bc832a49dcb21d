/* SPDX-License-Identifier: MIT */
/*
 * request_kinds' machinery (test/request_kinds.c runs the phases).
 *
 * One owner thread and its rings; helper threads on other CPUs complete
 * what the owner queued: a job is one byte into each pipe of a list (a
 * seeded order, after a seeded spin), or a stream of records into a
 * multishot stream (test/lib/mstream.h). Every request is accounted in the
 * once-ledger, whose channel is the request's role.
 *
 * A phase (kinds_<phase>.c) reads as its scenario:
 *   kinds_begin()          alone on a ring: nothing queued, nothing fed
 *   kinds_prep*()          queue requests by role; a fed read opens a pipe
 *                          whose write end goes into the helper's job
 *   kinds_feed()           submit, and a helper starts on the job
 *   kinds_collect()        reap until every request queued has its CQE
 *   kinds_expect*()        judge each role's result and completion order
 *   kinds_finish()         the helper's job done, the pipes closed
 * so the counts (CQEs awaited, pipes, fds fed) follow from what was queued.
 */
#ifndef TW_KINDS_H
#define TW_KINDS_H

#include "harness.h"
#include "mstream.h"

#define KINDS_HELPERS		MSTREAMS	/* one per multishot stream */
#define KINDS_ASYNC		24		/* IOSQE_ASYNC requests per phase */
#define KINDS_PIPES_MAX		KINDS_ASYNC	/* per phase: at most one per async read */
#define KINDS_DRAINED_READS	4
#define KINDS_TIMERS		12

enum kinds_role {		/* the once-ledger's channel: what a request is */
	/* links */
	ROLE_CHAIN_HEAD,		/* nop->read->nop */
	ROLE_CHAIN_READ,
	ROLE_CHAIN_TAIL,
	ROLE_PROMPT_READ,		/* read->link timeout: a helper completes it */
	ROLE_PROMPT_READ_TIMEOUT,
	ROLE_IDLE_READ,			/* read->link timeout: nobody writes */
	ROLE_IDLE_READ_TIMEOUT,
	ROLE_BAD_READ,			/* a read of a write end fails its link */
	ROLE_BAD_READ_NOP,
	ROLE_RACING_READ,		/* read->link timeout: a write races the timer */
	ROLE_RACING_READ_TIMEOUT,
	/* drain */
	ROLE_DRAINED_READ,		/* KINDS_DRAINED_READS of them */
	ROLE_DRAIN_NOP = ROLE_DRAINED_READ + KINDS_DRAINED_READS,
	ROLE_NOP_AFTER_DRAIN,
	/* cancel */
	ROLE_CANCEL_TARGET,
	ROLE_CANCEL,
	/* judged per CQE (kinds.c: check_once) */
	ROLE_ASYNC_NOP,
	ROLE_ASYNC_MEMFD_READ,
	ROLE_ASYNC_PIPE_READ,
	ROLE_TIMEOUT,
	ROLE_MULTISHOT_CANCEL,
	ROLES
};

enum cancel_mode { BY_UD, BY_FD, BY_ANY, BY_TIMEOUT_REMOVE, CANCEL_MODES };

struct kinds_helper {		/* a thread on another CPU that writes what it is told */
	struct tw_thread t;
	struct kinds *k;
	struct tw_barrier go, done;
	int fd[KINDS_PIPES_MAX];
	unsigned nfd, spin, stream;
	uint32_t records;	/* > 0: a stream of 8-byte records into fd[0] */
	struct tw_credit credit;
	bool quit;
};

struct kinds {
	struct tcase *tc;
	struct tring rings[2];	/* [1]: only for drains (see kinds_drain) */
	struct tring *ring;	/* where the phase running acts */
	struct ledger *once, *records;
	struct rng rng;
	struct kinds_helper h[KINDS_HELPERS];
	unsigned nhelpers, arrivals;
	unsigned queued, done;	/* requests of this phase queued, CQEs reaped */
	int pipes[KINDS_PIPES_MAX][2];
	char sink[KINDS_PIPES_MAX];	/* what the pipe reads read */
	unsigned npipes;
	int fed[KINDS_PIPES_MAX];	/* write ends the next job writes to */
	unsigned nfed;
	uint32_t seq[ROLES];
	int32_t res[ROLES];
	unsigned at[ROLES];	/* arrival order of the last CQE per role */
	struct mstreams ms;
	bool skipped[CANCEL_MODES];
	unsigned outcome[CANCEL_MODES][2];	/* completed, cancelled */
	int memfd;
	uint64_t areads[KINDS_ASYNC];
	int64_t timer_due[KINDS_TIMERS];
};

/* The phases (one file each), run in a seeded rotation. */
void kinds_links(struct kinds *k);
void kinds_drain(struct kinds *k);
void kinds_cancel(struct kinds *k);
void kinds_multishot(struct kinds *k);
void kinds_async(struct kinds *k);
void kinds_timeouts(struct kinds *k);

/* Rings, ledgers, the memfd, the multishot streams and the helper threads. */
enum verdict kinds_setup(struct kinds *k, struct tcase *tc);
/* The helpers quit and are joined (one that does not is a hang). */
void kinds_stop_helpers(struct kinds *k);
/* The ledgers verified, the rings' teardown proven. */
void kinds_teardown(struct kinds *k);
void kinds_cancel_log(struct kinds *k);

/* ---- what a phase uses ---------------------------------------------- */

/* The phase runs on r: nothing of it queued, reaped or fed yet. */
void kinds_begin(struct kinds *k, struct tring *r);
/* Queue a NOP of this role, accounted in the once-ledger; another
 * io_uring_prep_*() may turn it into any request (sqe->flags: set after). */
struct io_uring_sqe *kinds_prep(struct kinds *k, enum kinds_role role, unsigned flags);
void kinds_prep_read(struct kinds *k, enum kinds_role role, int fd, unsigned flags, void *buf,
		     unsigned len, uint64_t off);
/* A one-byte read of a new pipe the helper writes to; returns its read end. */
int kinds_prep_fed_read(struct kinds *k, enum kinds_role role, unsigned flags);
/* A one-byte read of a new pipe nobody writes; returns its write end. */
int kinds_prep_idle_read(struct kinds *k, enum kinds_role role, unsigned flags);
void kinds_prep_link_timeout(struct kinds *k, enum kinds_role role, struct __kernel_timespec *ts);
/* The ud of the last request of this role. */
uint64_t kinds_last_ud(const struct kinds *k, enum kinds_role role);
/* Submit, and a seeded helper writes to the fed pipes (after up to spin_max loops). */
struct kinds_helper *kinds_feed(struct kinds *k, unsigned spin_max);
/* A helper's multishot stream s: records into wfd, with credit. */
void kinds_feed_stream(struct kinds *k, unsigned s, int wfd, uint32_t records, int32_t credit);
/* Wait at the helper's go or done barrier; a miss is a hang. */
void kinds_sync(struct kinds *k, struct tw_barrier *b, const char *what);
/* Submit what is queued, then reap until every request queued completed
 * (and the multishot streams settled); a miss is a hang naming what. 0 or -1. */
int kinds_collect(struct kinds *k, const char *what);
/* The helper (if any) done with its job, the pipes closed, back to rings[0]. */
void kinds_finish(struct kinds *k, struct kinds_helper *h);
/* Fail unless the role's last CQE had res want / a completed before b. */
void kinds_expect(struct kinds *k, const char *phase, enum kinds_role role, int32_t want);
void kinds_expect_before(struct kinds *k, const char *phase, enum kinds_role a,
			 enum kinds_role b);
/* A busy loop of n steps: widens a race by less than a sleep could. */
void kinds_spin(unsigned n);

#endif
