// SPDX-License-Identifier: MIT
/*
 * The ledger at the end of a round (see ledger.c): every stream checked
 * exactly, bit by bit, and its state for hang reports.
 */
#include <inttypes.h>
#include <stdio.h>

#include "ledger.h"

#define MAX_RANGES	6	/* sequence ranges listed per message */

enum pick { MISSING, EXTRA, BOTH };	/* what pick_seqs() collects */

static void add_range(char *buf, size_t size, size_t *off, unsigned *ranges, uint64_t start,
		      uint64_t end)
{
	if ((*ranges)++ < MAX_RANGES && *off < size - 48)
		*off += (size_t)snprintf(buf + *off, size - *off, end - start == 1 ? " %" PRIu64 :
					 " %" PRIu64 "-%" PRIu64, start, end - 1);
}

/*
 * The sequences of [from, to) of stream (p, c) that are neither completed
 * nor withdrawn (MISSING), either (EXTRA) or both (BOTH): how many, and
 * the first few as ranges (" 3 6-8 ...") in buf.
 */
static uint64_t pick_seqs(const struct ledger *l, unsigned p, unsigned c, enum pick pick,
			  uint64_t from, uint64_t to, char *buf, size_t size)
{
	const uint64_t *seen = stream_bits(l, l->seen_bits, p, c);
	const uint64_t *gone = stream_bits(l, l->gone_bits, p, c);
	uint64_t n = 0, start = 0, end = 0;
	unsigned ranges = 0;
	size_t off = 0;

	buf[0] = 0;
	for (uint64_t w = from / 64; w * 64 < to; w++) {
		uint64_t s = load(&seen[w]), g = load(&gone[w]);
		uint64_t m = pick == MISSING ? ~(s | g) : pick == EXTRA ? s | g : s & g;

		if (w == from / 64)
			m &= ~0ULL << (from % 64);
		if ((w + 1) * 64 > to)
			m &= ~0ULL >> (64 - to % 64);
		for (; m; m &= m - 1) {
			uint64_t seq = w * 64 + (uint64_t)__builtin_ctzll(m);

			n++;
			if (seq == end && n > 1) {
				end++;
				continue;
			}
			if (n > 1)
				add_range(buf, size, &off, &ranges, start, end);
			start = seq;
			end = seq + 1;
		}
	}
	if (n)
		add_range(buf, size, &off, &ranges, start, end);
	if (ranges > MAX_RANGES)
		snprintf(buf + off, size - off, " ...");
	return n;
}

/* One stream, exactly: [0, sent) each completed once or withdrawn, none
 * both (a CQE racing its withdrawal), nothing beyond sent. */
static void verify_stream(struct ledger *l, unsigned p, unsigned c, uint64_t sent)
{
	const struct ledger_stream *s = stream(l, p, c);
	uint64_t high = load(&s->high), n;
	char buf[256];

	if ((n = pick_seqs(l, p, c, MISSING, 0, sent, buf, sizeof(buf))))
		ledger_violation(l, "lost CQE: producer %u channel %u: %" PRIu64 " of %" PRIu64
			  " requests never completed, seq%s", p, c, n, sent, buf);
	if ((n = pick_seqs(l, p, c, BOTH, 0, high, buf, sizeof(buf))))
		ledger_violation(l, "CQE for a withdrawn request: producer %u channel %u: %" PRIu64
			  " completed after all, seq%s", p, c, n, buf);
	if (high > sent && (n = pick_seqs(l, p, c, EXTRA, sent, high, buf, sizeof(buf))))
		ledger_violation(l, "more CQEs than requests issued: producer %u channel %u: %" PRIu64
			  " completed and %" PRIu64 " withdrawn of %" PRIu64 " issued; seq%s "
			  "never issued", p, c, s->seen, load(&s->withdrawn), sent, buf);
}

bool ledger_verify(struct ledger *l)
{
	unsigned before = ledger_errors(l);

	for (unsigned p = 0; p < l->producers; p++)
		for (unsigned c = 0; c < l->channels; c++) {
			uint64_t sent = load(&stream(l, p, c)->sent);

			/* Sequences past per_stream have no bits to check
			 * (their CQEs were rejected as unknown). */
			if (sent > l->per_stream) {
				ledger_violation(l, "producer %u channel %u: %" PRIu64 " requests issued, "
					  "more than the %u per stream this ledger tracks", p, c,
					  sent, l->per_stream);
				sent = l->per_stream;
			}
			verify_stream(l, p, c, sent);
		}
	return ledger_errors(l) == before;
}

void ledger_dump(const struct ledger *l)
{
	unsigned shown = 0;

	tc_info(l->tc, "  ledger %s: %u producers x %u channels, %" PRIu64 " issued, %" PRIu64
		" completed, %" PRIu64 " withdrawn, %u violations, round %u", l->name, l->producers,
		l->channels, ledger_total_sent(l), l->total_seen, load(&l->total_withdrawn),
		ledger_errors(l), l->round);
	for (unsigned p = 0; p < l->producers; p++)
		for (unsigned c = 0; c < l->channels; c++) {
			const struct ledger_stream *s = stream(l, p, c);
			uint64_t sent = load(&stream(l, p, c)->sent), gone = load(&s->withdrawn);

			if (s->seen + gone == sent)
				continue;
			if (shown++ >= 16) {
				tc_info(l->tc, "    ... more streams behind");
				return;
			}
			tc_info(l->tc, "    producer %u channel %u: issued %" PRIu64 ", completed %"
				PRIu64 ", withdrawn %" PRIu64 ", next expected seq %" PRIu64, p, c,
				sent, s->seen, gone, s->next);
		}
}

