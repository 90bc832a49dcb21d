// SPDX-License-Identifier: MIT
/*
 * request_kinds' multishot phase: multishot POLL_ADD on pipes and multishot
 * RECV (provided buffer ring) on seqpacket sockets, each fed by its own
 * helper (test/lib/mstream.h): every record once, in write order (ledger
 * FIFO per stream); F_MORE on all but the last CQE, nothing after it.
 */
#include "kinds.h"

#define RECORDS		48	/* per multishot stream and round */
#define STREAM_CREDIT	12	/* a helper's unconsumed records (< MSTREAM_BUFS / 2) */

void kinds_multishot(struct kinds *k)
{
	struct mstreams *m = &k->ms;

	ledger_reset(k->records);
	kinds_begin(k, &k->rings[0]);
	mstreams_start(m, RECORDS);
	for (unsigned s = 0; s < m->n; s++)
		kinds_feed_stream(k, s, m->s[s].wfd, RECORDS, STREAM_CREDIT);
	io_uring_submit(&k->ring->ring);
	for (unsigned s = 0; s < m->n; s++)
		kinds_sync(k, &k->h[s].go, "start");
	if (kinds_collect(k, "multishot records"))
		return;
	for (unsigned s = 0; s < m->n; s++)
		io_uring_prep_cancel64(kinds_prep(k, ROLE_MULTISHOT_CANCEL, 0), mstreams_ud(s), 0);
	mstreams_stop(m);
	if (kinds_collect(k, "multishot cancels"))
		return;
	for (unsigned s = 0; s < m->n; s++)
		kinds_sync(k, &k->h[s].done, "finish");
	mstreams_end(m);
	ledger_verify(k->records);
}
