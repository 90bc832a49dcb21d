// SPDX-License-Identifier: MIT
/*
 * The CQE ledger: every request a test issues carries a user_data naming
 * (producer, channel, sequence). The ledger rejects CQEs it never issued,
 * duplicates and bad results, checks per-stream FIFO order where promised,
 * and at the end of a round lists every request that never completed.
 *
 * Producers (any thread or process) only bump their stream's 'sent'. One
 * consumer at a time accounts CQEs. Everything lives in one MAP_SHARED
 * mapping so that the two sides may be different processes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "harness.h"

#define UD_TAG_SHIFT	56
#define UD_P_SHIFT	44
#define UD_C_SHIFT	32
#define UD_FIELD_MASK	0xfffu
#define MAX_REPORTED	12	/* violations printed in full per ledger */

struct ledger_stream {
	uint64_t sent;			/* producer: issued requests (atomic) */
	uint64_t seen;			/* consumer: accounted CQEs */
	uint64_t next;			/* consumer: next sequence in FIFO order */
};

struct ledger {
	struct tcase *tc;
	char name[32];
	unsigned producers, channels, flags;
	uint32_t per_stream;
	uint8_t tag;
	size_t map_len;
	size_t words_per_stream;
	ledger_check_fn check;
	void *check_arg;
	uint64_t total_seen;
	unsigned errors;		/* violations, all kinds */
	struct ledger_stream *streams;
	uint64_t *seen_bits;
};

static uint8_t next_tag = 0xa0;

struct ledger *ledger_new(struct tcase *tc, const char *name, unsigned producers,
			  unsigned channels, uint32_t per_stream, unsigned flags)
{
	size_t nstreams = (size_t)producers * channels;
	size_t words = ((size_t)per_stream + 63) / 64;
	size_t len = sizeof(struct ledger) + nstreams * sizeof(struct ledger_stream) +
		     nstreams * words * sizeof(uint64_t);
	struct ledger *l;

	if (!producers || !channels || producers > LEDGER_MAX_PRODUCERS ||
	    channels > LEDGER_MAX_CHANNELS)
		return NULL;
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

void ledger_reset(struct ledger *l)
{
	size_t nstreams = (size_t)l->producers * l->channels;

	memset(l->streams, 0, nstreams * sizeof(*l->streams));
	memset(l->seen_bits, 0, nstreams * l->words_per_stream * sizeof(uint64_t));
	l->total_seen = 0;
}

uint64_t ledger_ud(const struct ledger *l, unsigned p, unsigned c, uint32_t seq)
{
	return (uint64_t)l->tag << UD_TAG_SHIFT | (uint64_t)(p & UD_FIELD_MASK) << UD_P_SHIFT |
	       (uint64_t)(c & UD_FIELD_MASK) << UD_C_SHIFT | seq;
}

void ledger_decode(uint64_t ud, unsigned *p, unsigned *c, uint32_t *seq)
{
	*p = (ud >> UD_P_SHIFT) & UD_FIELD_MASK;
	*c = (ud >> UD_C_SHIFT) & UD_FIELD_MASK;
	*seq = (uint32_t)ud;
}

bool ledger_owns(const struct ledger *l, uint64_t ud)
{
	return (uint8_t)(ud >> UD_TAG_SHIFT) == l->tag;
}

static struct ledger_stream *stream(const struct ledger *l, unsigned p, unsigned c)
{
	return &l->streams[(size_t)p * l->channels + c];
}

static uint64_t *stream_bits(const struct ledger *l, unsigned p, unsigned c)
{
	return &l->seen_bits[((size_t)p * l->channels + c) * l->words_per_stream];
}

static uint64_t stream_sent(const struct ledger *l, unsigned p, unsigned c)
{
	return __atomic_load_n(&stream(l, p, c)->sent, __ATOMIC_ACQUIRE);
}

__attribute__((format(printf, 2, 3)))
static void violation(struct ledger *l, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->errors++ < MAX_REPORTED)
		tc_fail(l->tc, "ledger %s: %s", l->name, msg);
	else if (l->errors == MAX_REPORTED + 1)
		tc_info(l->tc, "ledger %s: further violations not shown", l->name);
}

void ledger_sent(struct ledger *l, unsigned p, unsigned c, uint32_t n)
{
	/* A test bug, but counting it into some other stream's memory would
	 * surface as a phantom loss or duplicate there. */
	if (p >= l->producers || c >= l->channels) {
		violation(l, "ledger_sent: producer %u channel %u out of range (%u x %u)", p, c,
			  l->producers, l->channels);
		return;
	}
	__atomic_add_fetch(&stream(l, p, c)->sent, n, __ATOMIC_RELEASE);
}

bool ledger_cqe(struct ledger *l, uint64_t ud, int32_t res, uint32_t flags)
{
	unsigned p, c, before = l->errors;
	struct ledger_stream *s;
	uint64_t *bits, bit;
	const char *why;
	uint32_t seq;

	ledger_decode(ud, &p, &c, &seq);
	if (!ledger_owns(l, ud) || p >= l->producers || c >= l->channels ||
	    seq >= l->per_stream) {
		violation(l, "unknown CQE: user_data 0x%016" PRIx64 " res %d flags 0x%x", ud, res,
			  flags);
		return false;
	}
	s = stream(l, p, c);
	bits = stream_bits(l, p, c);
	bit = 1ULL << (seq % 64);
	if (bits[seq / 64] & bit) {
		violation(l, "duplicate CQE: producer %u channel %u seq %u (res %d)", p, c, seq,
			  res);
		return false;
	}
	bits[seq / 64] |= bit;
	s->seen++;
	l->total_seen++;
	if (l->flags & LEDGER_FIFO) {
		/*
		 * A gap (seq > next) is not reported here: it is either a CQE
		 * that arrives later (reported below when it does) or a lost
		 * one (reported by ledger_verify()).
		 */
		if (seq < s->next)
			violation(l, "order: producer %u channel %u: seq %u completed after seq %"
				  PRIu64, p, c, seq, s->next - 1);
		else
			s->next = seq + 1;
	}
	if (l->check) {
		why = l->check(ud, res, flags, l->check_arg);
		if (why)
			violation(l, "bad result: producer %u channel %u seq %u: %s (res %d, flags 0x%x)",
				  p, c, seq, why, res, flags);
	}
	return l->errors == before;
}

uint64_t ledger_total_sent(const struct ledger *l)
{
	uint64_t sum = 0;

	for (unsigned p = 0; p < l->producers; p++)
		for (unsigned c = 0; c < l->channels; c++)
			sum += stream_sent(l, p, c);
	return sum;
}

uint64_t ledger_total_seen(const struct ledger *l)
{
	return l->total_seen;
}

int64_t ledger_outstanding(const struct ledger *l)
{
	return (int64_t)(ledger_total_sent(l) - l->total_seen);
}

uint64_t ledger_stream_seen(const struct ledger *l, unsigned p, unsigned c)
{
	return stream(l, p, c)->seen;
}

unsigned ledger_errors(const struct ledger *l)
{
	return l->errors;
}

/* Report the missing sequence numbers of one stream (sent <= per_stream),
 * the first few of them as ranges. */
static void list_missing(struct ledger *l, unsigned p, unsigned c, uint64_t sent)
{
	const uint64_t *bits = stream_bits(l, p, c);
	char buf[256];
	size_t off = 0;
	unsigned shown = 0;
	uint64_t lost = 0;

	buf[0] = 0;
	for (uint64_t seq = 0; seq < sent; seq++) {
		uint64_t end;

		if (bits[seq / 64] & (1ULL << (seq % 64)))
			continue;
		end = seq;
		while (end + 1 < sent && !(bits[(end + 1) / 64] & (1ULL << ((end + 1) % 64))))
			end++;
		lost += end - seq + 1;
		if (shown++ < 6 && off < sizeof(buf) - 40)
			off += snprintf(buf + off, sizeof(buf) - off, end == seq ? " %" PRIu64 :
					" %" PRIu64 "-%" PRIu64, seq, end);
		seq = end;
	}
	violation(l, "lost CQE: producer %u channel %u: %" PRIu64 " of %" PRIu64
		  " requests never completed, seq%s%s", p, c, lost, sent, buf,
		  shown > 6 ? " ..." : "");
}

bool ledger_verify(struct ledger *l)
{
	unsigned before = l->errors;

	for (unsigned p = 0; p < l->producers; p++)
		for (unsigned c = 0; c < l->channels; c++) {
			uint64_t sent = stream_sent(l, p, c);

			/* Sequences past per_stream have no seen bits to check
			 * (their CQEs were rejected as unknown). */
			if (sent > l->per_stream) {
				violation(l, "producer %u channel %u: %" PRIu64 " requests issued, "
					  "more than the %u per stream this ledger tracks", p, c,
					  sent, l->per_stream);
				sent = l->per_stream;
			}
			if (stream(l, p, c)->seen < sent)
				list_missing(l, p, c, sent);
		}
	return l->errors == before;
}

void ledger_dump(const struct ledger *l)
{
	unsigned shown = 0;

	tc_info(l->tc, "  ledger %s: %u producers x %u channels, %" PRIu64 " issued, %" PRIu64
		" completed, %u violations", l->name, l->producers, l->channels,
		ledger_total_sent(l), l->total_seen, l->errors);
	for (unsigned p = 0; p < l->producers; p++)
		for (unsigned c = 0; c < l->channels; c++) {
			const struct ledger_stream *s = stream(l, p, c);
			uint64_t sent = stream_sent(l, p, c);

			if (s->seen == sent)
				continue;
			if (shown++ >= 16) {
				tc_info(l->tc, "    ... more streams behind");
				return;
			}
			tc_info(l->tc, "    producer %u channel %u: issued %" PRIu64 ", completed %"
				PRIu64 ", next expected seq %" PRIu64, p, c, sent, s->seen, s->next);
		}
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
