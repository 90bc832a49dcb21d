/* SPDX-License-Identifier: MIT */
/*
 * Closed-loop tokens over a socketpair per producer, for the wake-up
 * fan-in workloads (pollwake, epoll_wake): a producer writes one byte,
 * then waits until the consumer has seen it and acked. One token in flight
 * per producer means every token is exactly one wake-up of the consumer's
 * side - none merge - so ops count wake-ups, and the latency is write() to
 * the consumer seeing it.
 */
#ifndef TW_BENCH_TOKEN_H
#define TW_BENCH_TOKEN_H

#include "bench.h"

/* Drain the read side every this many tokens: the bytes are not read one
 * by one (the wake-up is what is measured), but must not fill the socket. */
#define TOKEN_DRAIN_EVERY	64

struct token_slot {
	struct token_fan *fan;
	int id;
	int tx, rx;			/* socketpair: producer writes tx */
	uint32_t sent;			/* tokens written (the producer's seq) */
	uint32_t ack;			/* tokens seen by the consumer (futex) */
	uint32_t waiting;		/* the producer sleeps on ack */
	int64_t t_sent;			/* the write's time, for the latency */
	uint32_t undrained;		/* consumer only */
} __attribute__((aligned(64)));

struct token_fan {
	struct measurement *meas;
	struct token_slot slot[BENCH_MAX_PRODUCERS];
	int producers_done;		/* atomic */
};

/* Socketpairs for meas->producers slots: 0 or -errno. */
int token_fan_init(struct token_fan *f, struct measurement *meas);
void token_fan_exit(struct token_fan *f);
/* Starts the producers (they wait at meas->ready), 0 or -errno. */
int token_producers_start(struct token_fan *f, pthread_t *t);
bool token_producers_done(const struct token_fan *f);

/* The consumer was woken for slot at now: latency, drain, ack. False for a
 * wake-up with no token outstanding (not counted as an operation). */
bool token_seen(struct token_slot *s, int64_t now, struct hist *lat, bool counting);

#endif
