/* SPDX-License-Identifier: MIT */
/*
 * Work left pending on a ring, for exit and cancel scenarios: reads on
 * pipes (poll-armed, completed by a write), polls on an eventfd, a poll on
 * an io_uring fd (REQ_F_INFLIGHT: exit-time cancellation must find it),
 * timeouts, and a NOP that marks the end of the batch. Each request goes to
 * the ledger its channel is mapped to; the triggers complete the reads and
 * polls from anywhere (another thread or process), once each.
 * struct pending may live in MAP_SHARED memory: buffers and timespecs are
 * inside, so that an SQ thread of another process reads the same values.
 */
#ifndef TW_PENDING_H
#define TW_PENDING_H

#include "harness.h"

#define PENDING_MAX_READS	6
#define PENDING_MAX_POLLS	6
#define PENDING_MAX_TIMEOUTS	3

enum pending_channel {
	PC_READ,	/* res: 1 (the byte written) */
	PC_POLL,	/* res: POLLIN */
	PC_TRACKED,	/* res: POLLIN, once the io_uring fd has a CQE */
	PC_TIMEOUT,	/* res: -ETIME */
	PC_SYNC,	/* the NOP, res 0: all before it were consumed */
	PC_MSG,		/* for the test's own MSG_RING traffic */
	PC_COUNT
};

extern const char *const pending_channel_names[PC_COUNT];

struct pending {
	struct ledger *led[PC_COUNT];	/* where each channel's requests are accounted */
	unsigned producer;		/* the submitter's ledger producer */
	unsigned nread, npoll, ntimeout;
	int pipe_r[PENDING_MAX_READS], pipe_w[PENDING_MAX_READS];
	bool read_fired[PENDING_MAX_READS], polls_fired;
	int poll_efd, tracked_fd;
	char buf[PENDING_MAX_READS][8];
	struct __kernel_timespec ts[PENDING_MAX_TIMEOUTS];
};

/* Random counts and timeouts (up to timeout_max_ms) from rng; pipes and the
 * poll eventfd are O_CLOEXEC. tracked_fd must be an io_uring fd. 0 or -errno. */
int pending_setup(struct pending *w, struct rng *rng, int tracked_fd, unsigned timeout_max_ms);
void pending_close(struct pending *w);
/* Queue the batch on r (NOP last); returns the number of SQEs queued. */
unsigned pending_prep(struct pending *w, struct tring *r);
/* After a successful submit of the batch: record it in the ledgers. */
void pending_sent(struct pending *w);
/* Complete reads / polls not completed yet, each with probability pct. */
void pending_fire_reads(struct pending *w, struct rng *rng, unsigned pct);
void pending_fire_polls(struct pending *w, struct rng *rng, unsigned pct);
/* Reap until the batch's NOP is in (*reaped counts CQEs): 0, -ETIMEDOUT or -errno. */
int pending_reap_until_sync(struct pending *w, struct tring *r, const struct deadline *dl,
			    unsigned *reaped);
/*
 * Reap until ledger l has nothing outstanding, sleeping on efd, an eventfd
 * registered on r: that works where io_uring_enter() refuses a waiter (a
 * DEFER_TASKRUN ring's non-submitter: -EEXIST; SQPOLL after its SQ thread
 * died: -EOWNERDEAD). 0, -ETIMEDOUT or -errno.
 */
int pending_collect(struct pending *w, struct tring *r, int efd, const struct ledger *l,
		    const struct deadline *dl);
/* Account r's CQEs in the ledger that owns each; *synced once the NOP is seen. */
unsigned pending_reap(struct pending *w, struct tring *r, bool *synced);

#endif
