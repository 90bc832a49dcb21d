// SPDX-License-Identifier: MIT
/*
 * The CQE ledger: every request a test issues carries a user_data naming
 * (producer, channel, round, sequence). The ledger rejects CQEs it never
 * issued, of an earlier round, duplicates and bad results, checks FIFO order
 * where promised, and at the end of a round checks each stream exactly: every
 * sequence of [0, sent) completed once or was withdrawn, none beyond it.
 * Producers (any thread or process) bump 'sent' and may withdraw; one consumer
 * at a time accounts CQEs; all in one MAP_SHARED mapping. The end of a round:
 * ledger_verify.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "ledger.h"

#define UD_TAG_SHIFT	56
#define UD_P_SHIFT	44
#define UD_C_SHIFT	32
#define UD_GEN_SHIFT	24
#define UD_FIELD_MASK	0xfffu
#define UD_GEN_MASK	0xffu
#define UD_SEQ_MASK	0xffffffu
#define MAX_REPORTED	12	/* violations printed in full per ledger */

static uint8_t next_tag = 0xa0;

struct ledger *ledger_new(struct tcase *tc, const char *name, unsigned producers,
			  unsigned channels, uint32_t per_stream, unsigned flags)
{
	size_t nstreams = (size_t)producers * channels;
	size_t words = ((size_t)per_stream + 63) / 64;
	size_t len = sizeof(struct ledger) + nstreams * sizeof(struct ledger_stream) +
		     2 * nstreams * words * sizeof(uint64_t);
	struct ledger *l;

	if (!producers || !channels || producers > LEDGER_MAX_PRODUCERS ||
	    channels > LEDGER_MAX_CHANNELS || per_stream > LEDGER_MAX_PER_STREAM) {
		errno = EINVAL;
		return NULL;
	}
	l = proc_shared_alloc(len);
	if (!l)
		return NULL;
	l->tc = tc;
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->producers = producers;
	l->channels = channels;
	l->flags = flags;
	l->per_stream = per_stream;
	/* A different tag per ledger: a CQE meant for another ledger is unknown here. */
	l->tag = next_tag++;
	if (next_tag == 0)
		next_tag = 0xa0;
	l->map_len = len;
	l->words_per_stream = words;
	l->streams = (struct ledger_stream *)(l + 1);
	l->seen_bits = (uint64_t *)(l->streams + nstreams);
	l->gone_bits = l->seen_bits + nstreams * words;
	return l;
}

void ledger_free(struct ledger *l)
{
	if (l)
		munmap(l, l->map_len);
}

void ledger_set_check(struct ledger *l, ledger_check_fn fn, void *arg)
{
	l->check = fn;
	l->check_arg = arg;
}

/* Set bit seq of a bitmap; was it set already? */
static bool test_and_set(uint64_t *bits, uint64_t seq)
{
	uint64_t bit = 1ULL << (seq % 64);

	return __atomic_fetch_or(&bits[seq / 64], bit, __ATOMIC_ACQ_REL) & bit;
}

static void raise_high(struct ledger_stream *s, uint64_t high)
{
	uint64_t cur = load(&s->high);

	while (cur < high && !__atomic_compare_exchange_n(&s->high, &cur, high, false,
							   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

/* A new round: its requests carry a new generation, so that a late CQE of
 * this round is told from one of the next. Clears only what was used. */
void ledger_reset(struct ledger *l)
{
	for (unsigned p = 0; p < l->producers; p++)
		for (unsigned c = 0; c < l->channels; c++) {
			struct ledger_stream *s = stream(l, p, c);
			size_t used = (load(&s->high) + 63) / 64 * sizeof(uint64_t);

			memset(stream_bits(l, l->seen_bits, p, c), 0, used);
			memset(stream_bits(l, l->gone_bits, p, c), 0, used);
			memset(s, 0, sizeof(*s));
		}
	l->total_seen = 0;
	__atomic_store_n(&l->total_withdrawn, 0, __ATOMIC_RELEASE);
	l->round++;
}

uint64_t ledger_ud(const struct ledger *l, unsigned p, unsigned c, uint32_t seq)
{
	/* Past the sequence space: a seq no ledger accepts (per_stream < 2^24). */
	if (seq > UD_SEQ_MASK)
		seq = UD_SEQ_MASK;
	return (uint64_t)l->tag << UD_TAG_SHIFT | (uint64_t)(p & UD_FIELD_MASK) << UD_P_SHIFT |
	       (uint64_t)(c & UD_FIELD_MASK) << UD_C_SHIFT |
	       (uint64_t)(l->round & UD_GEN_MASK) << UD_GEN_SHIFT | seq;
}

void ledger_decode(uint64_t ud, unsigned *p, unsigned *c, uint32_t *seq)
{
	*p = (ud >> UD_P_SHIFT) & UD_FIELD_MASK;
	*c = (ud >> UD_C_SHIFT) & UD_FIELD_MASK;
	*seq = (uint32_t)ud & UD_SEQ_MASK;
}

bool ledger_owns(const struct ledger *l, uint64_t ud)
{
	return (uint8_t)(ud >> UD_TAG_SHIFT) == l->tag;
}

void ledger_violation(struct ledger *l, const char *fmt, ...)
{
	unsigned n = __atomic_fetch_add(&l->errors, 1, __ATOMIC_RELAXED);
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < MAX_REPORTED)
		tc_fail(l->tc, "ledger %s: %s", l->name, msg);
	else if (n == MAX_REPORTED)
		tc_info(l->tc, "ledger %s: further violations not shown", l->name);
}

void ledger_sent(struct ledger *l, unsigned p, unsigned c, uint32_t n)
{
	/* A test bug, but counting it into some other stream's memory would
	 * surface as a phantom loss or duplicate there. */
	if (p >= l->producers || c >= l->channels) {
		ledger_violation(l, "ledger_sent: producer %u channel %u out of range (%u x %u)", p, c,
			  l->producers, l->channels);
		return;
	}
	__atomic_add_fetch(&stream(l, p, c)->sent, n, __ATOMIC_RELEASE);
}

bool ledger_withdraw(struct ledger *l, unsigned p, unsigned c, uint32_t seq)
{
	struct ledger_stream *s;

	if (p >= l->producers || c >= l->channels || seq >= l->per_stream) {
		ledger_violation(l, "ledger_withdraw: producer %u channel %u seq %u out of range "
			  "(%u x %u x %u)", p, c, seq, l->producers, l->channels, l->per_stream);
		return false;
	}
	s = stream(l, p, c);
	/* A CQE accounted at the same moment is caught by ledger_verify(). */
	if (test_bit(stream_bits(l, l->seen_bits, p, c), seq)) {
		ledger_violation(l, "withdrawn request had completed: producer %u channel %u seq %u", p, c,
			  seq);
		return false;
	}
	if (test_and_set(stream_bits(l, l->gone_bits, p, c), seq)) {
		ledger_violation(l, "withdrawn twice: producer %u channel %u seq %u", p, c, seq);
		return false;
	}
	raise_high(s, (uint64_t)seq + 1);
	__atomic_add_fetch(&s->withdrawn, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&l->total_withdrawn, 1, __ATOMIC_RELEASE);
	return true;
}

bool ledger_cqe(struct ledger *l, uint64_t ud, int32_t res, uint32_t flags)
{
	unsigned p, c, gen = (ud >> UD_GEN_SHIFT) & UD_GEN_MASK, before = l->errors;
	struct ledger_stream *s;
	const char *why;
	uint32_t seq;

	ledger_decode(ud, &p, &c, &seq);
	if (!ledger_owns(l, ud) || p >= l->producers || c >= l->channels ||
	    seq >= l->per_stream) {
		ledger_violation(l, "unknown CQE: user_data 0x%016" PRIx64 " res %d flags 0x%x", ud, res,
			  flags);
		return false;
	}
	if (gen != (l->round & UD_GEN_MASK)) {
		ledger_violation(l, "stale CQE of an earlier round: producer %u channel %u seq %u has "
			  "generation %u, this round's is %u (res %d)", p, c, seq, gen,
			  l->round & UD_GEN_MASK, res);
		return false;
	}
	s = stream(l, p, c);
	if (test_bit(stream_bits(l, l->gone_bits, p, c), seq)) {
		ledger_violation(l, "CQE for a withdrawn request: producer %u channel %u seq %u (res %d)",
			  p, c, seq, res);
		return false;
	}
	if (test_and_set(stream_bits(l, l->seen_bits, p, c), seq)) {
		ledger_violation(l, "duplicate CQE: producer %u channel %u seq %u (res %d)", p, c, seq,
			  res);
		return false;
	}
	raise_high(s, (uint64_t)seq + 1);
	s->seen++;
	l->total_seen++;
	if (l->flags & LEDGER_FIFO) {
		/*
		 * A gap (seq > next) is not reported here: it is either a CQE
		 * that arrives later (reported below when it does) or a lost
		 * one (reported by ledger_verify()).
		 */
		if (seq < s->next)
			ledger_violation(l, "order: producer %u channel %u: seq %u completed after seq %"
				  PRIu64, p, c, seq, s->next - 1);
		else
			s->next = seq + 1;
	}
	if (l->check) {
		why = l->check(ud, res, flags, l->check_arg);
		if (why)
			ledger_violation(l, "bad result: producer %u channel %u seq %u: %s (res %d, flags 0x%x)",
				  p, c, seq, why, res, flags);
	}
	return l->errors == before;
}

uint64_t ledger_total_sent(const struct ledger *l)
{
	uint64_t sum = 0;

	for (unsigned p = 0; p < l->producers; p++)
		for (unsigned c = 0; c < l->channels; c++)
			sum += load(&stream(l, p, c)->sent);
	return sum;
}

uint64_t ledger_total_seen(const struct ledger *l)
{
	return l->total_seen;
}

int64_t ledger_outstanding(const struct ledger *l)
{
	return (int64_t)(ledger_total_sent(l) - l->total_seen - load(&l->total_withdrawn));
}

uint64_t ledger_stream_seen(const struct ledger *l, unsigned p, unsigned c)
{
	return stream(l, p, c)->seen;
}

unsigned ledger_errors(const struct ledger *l)
{
	return __atomic_load_n(&l->errors, __ATOMIC_RELAXED);
}

unsigned ledger_reap(struct ledger *l, struct tring *r)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&r->ring, head, cqe) {
		ledger_cqe(l, cqe->user_data, cqe->res, cqe->flags);
		n++;
	}
	io_uring_cq_advance(&r->ring, n);
	return n;
}
