/* SPDX-License-Identifier: MIT */
/*
 * Multishot streams: one multishot request per stream, fed by a writer with
 * sequenced 8-byte records. Streams 0 and 1 are multishot POLL_ADD on pipes
 * (each CQE says "readable": the owner drains the pipe), streams 2 and 3 are
 * multishot RECV on seqpacket sockets (one record per CQE, in a buffer of a
 * provided buffer ring, given back at once). Every record goes to a ledger
 * (producer = stream, FIFO) in the order the CQEs deliver it; each CQE but
 * the last carries F_MORE, nothing follows the last, and the last is the
 * cancel's -ECANCELED - or an end the kernel may choose (-ENOBUFS, or data it
 * could not post more after), after which the request is armed again.
 */
#ifndef TW_MSTREAM_H
#define TW_MSTREAM_H

#include "harness.h"

#define MSTREAMS	4
#define MSTREAM_BUFS	64	/* provided buffers: more than the writers' credit */
#define MSTREAM_TAG	0x5eull	/* user_data >> 56 of the multishot requests */
/* The recv streams as a part: a scenario using mstreams declares
 * .part_needs = NEED(RECV_MULTISHOT) (kernels before 6.0 skip them). */
#define MSTREAM_RECV_PART	"multishot recv streams"

struct mstream {
	int rfd, wfd;		/* the writer writes records to wfd */
	bool active, armed, ended;	/* in this round; a CQE is due; cancelled */
	uint64_t consumed;
};

struct mstreams {
	struct tcase *tc;
	struct tring *ring;
	struct ledger *records;	/* MSTREAMS producers, 1 channel, FIFO */
	unsigned n;		/* streams in use: 4, or 2 before multishot recv (6.0) */
	uint32_t target;	/* records each active stream must consume */
	void (*consumed)(void *arg, unsigned stream);	/* one record consumed */
	void *arg;
	struct mstream s[MSTREAMS];
	struct io_uring_buf_ring *br;
	uint64_t bufs[MSTREAM_BUFS];
};

/* Pipes, sockets and the buffer ring (a kernel before multishot recv: poll
 * streams only, the recv streams a skipped part). */
enum verdict mstreams_setup(struct mstreams *m);
void mstreams_teardown(struct mstreams *m);
/* Arm every stream (queued, not submitted); each must consume target records. */
void mstreams_start(struct mstreams *m, uint32_t target);
static inline bool mstreams_owns(uint64_t ud) { return ud >> 56 == MSTREAM_TAG; }
static inline uint64_t mstreams_ud(unsigned s) { return MSTREAM_TAG << 56 | s; }
void mstreams_cqe(struct mstreams *m, const struct io_uring_cqe *cqe);
/* The caller cancels the requests now: their last CQE must be -ECANCELED. */
void mstreams_stop(struct mstreams *m);
/* All records consumed, and no cancelled request awaits its last CQE. */
bool mstreams_settled(const struct mstreams *m);
void mstreams_end(struct mstreams *m);

#endif
