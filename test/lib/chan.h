/* SPDX-License-Identifier: MIT */
/*
 * Data channels another thread makes ready: pipes, eventfds, socketpairs.
 * A writer writes 8-byte records; the ring's owner reads them with the
 * request kind the channel stands for. Each wake-up of such a request is
 * task_work queued from the writer's context.
 */
#ifndef TW_CHAN_H
#define TW_CHAN_H

#include "harness.h"

enum chan_kind {
	CHAN_PIPE_READ,			/* READ of one record */
	CHAN_PIPE_POLL,			/* POLL_ADD, then the owner read()s (non-blocking) */
	CHAN_EVENTFD_READ,		/* EFD_SEMAPHORE: each write of 1, one READ of 1 */
	CHAN_SOCK_RECV,			/* SOCK_SEQPACKET: RECV of one record */
	CHAN_KINDS
};

extern const char *const chan_kind_names[CHAN_KINDS];

struct chan {
	enum chan_kind kind;
	int rfd, wfd;
};

int chan_open(struct chan *c, enum chan_kind kind);
void chan_close(struct chan *c);
/* Fill sqe with this channel's request, reading one record into *buf. */
void chan_prep(const struct chan *c, struct io_uring_sqe *sqe, uint64_t *buf);
/* Write record rec (eventfd: a count of 1). 0, or -errno. */
int chan_write(const struct chan *c, uint64_t rec);

#endif
