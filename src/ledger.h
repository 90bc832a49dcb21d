/* SPDX-License-Identifier: MIT */
/*
 * Inside the ledger (ledger.c: accounting, ledger_verify.c: the end of a
 * round), not for tests: its memory layout and the helpers both use.
 */
#ifndef TW_LEDGER_H
#define TW_LEDGER_H

#include <inttypes.h>

#include "harness.h"

struct ledger_stream {
	uint64_t sent;			/* producer: issued requests (atomic) */
	uint64_t withdrawn;		/* producer: issued, never to complete (atomic) */
	uint64_t high;			/* one past the highest seq seen or withdrawn (atomic) */
	uint64_t seen;			/* consumer: accounted CQEs */
	uint64_t next;			/* consumer: next sequence in FIFO order */
};

struct ledger {
	struct tcase *tc;
	char name[32];
	unsigned producers, channels, flags;
	uint32_t per_stream;
	uint32_t round;			/* ledger_reset()s so far; user_data has its low bits */
	uint8_t tag;
	size_t map_len;
	size_t words_per_stream;
	ledger_check_fn check;
	void *check_arg;
	uint64_t total_seen;
	uint64_t total_withdrawn;	/* atomic */
	unsigned errors;		/* violations, all kinds (atomic) */
	struct ledger_stream *streams;
	uint64_t *seen_bits;		/* per stream: completed */
	uint64_t *gone_bits;		/* per stream: withdrawn */
};

static inline struct ledger_stream *stream(const struct ledger *l, unsigned p, unsigned c)
{
	return &l->streams[(size_t)p * l->channels + c];
}

static inline uint64_t *stream_bits(const struct ledger *l, uint64_t *bits, unsigned p, unsigned c)
{
	return &bits[((size_t)p * l->channels + c) * l->words_per_stream];
}

static inline uint64_t load(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_ACQUIRE);
}

static inline bool test_bit(const uint64_t *bits, uint64_t seq)
{
	return load(&bits[seq / 64]) & 1ULL << seq % 64;
}

/* Count a violation; print the first few in full (the case fails). */
__attribute__((format(printf, 2, 3)))
void ledger_violation(struct ledger *l, const char *fmt, ...);

#endif
