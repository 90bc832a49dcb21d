// SPDX-License-Identifier: MIT
/* The request mix (see load.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "load.h"

#define UD_TAG		0x4cull		/* 'L' */
#define UD_TAG_SHIFT	56
#define UD_KIND_SHIFT	48

/*
 * Timespecs are read when the SQE is prepared in the kernel, which for
 * SQPOLL is later than io_uring_submit(): they must outlive the call.
 */
static struct __kernel_timespec ts_short[] = {
	{ .tv_nsec = 10 * 1000 }, { .tv_nsec = 100 * 1000 }, { .tv_nsec = 900 * 1000 },
};
static struct __kernel_timespec ts_long = { .tv_sec = 600 };
/* Pending reads never get data; teardown cancels them. */
static char pending_sink[2][8];

static const char *const kind_names[LOAD_KINDS] = {
	[LOAD_MSG] = "msg_ring", [LOAD_MSG_IN] = "msg_ring message", [LOAD_POLL] = "poll",
	[LOAD_READ] = "read", [LOAD_TIMEOUT] = "timeout", [LOAD_TIMEOUT_LONG] = "long timeout",
	[LOAD_ASYNC_READ] = "async read", [LOAD_ASYNC_NOP] = "async nop", [LOAD_NOP] = "nop",
	[LOAD_LINK_POLL] = "linked poll", [LOAD_LINK_NOP] = "nop linked to a poll",
	[LOAD_LINK_READ] = "read with link timeout", [LOAD_LINK_TIMEOUT] = "link timeout",
	[LOAD_PENDING] = "pending request",
};

uint64_t load_ud(enum load_kind kind, uint32_t seq)
{
	return UD_TAG << UD_TAG_SHIFT | (uint64_t)kind << UD_KIND_SHIFT | seq;
}

bool load_owns(uint64_t ud)
{
	return ud >> UD_TAG_SHIFT == UD_TAG && load_kind_of(ud) < LOAD_KINDS;
}

enum load_kind load_kind_of(uint64_t ud)
{
	return (enum load_kind)((ud >> UD_KIND_SHIFT) & 0xff);
}

const char *load_kind_name(enum load_kind kind)
{
	return kind < LOAD_KINDS ? kind_names[kind] : "unknown";
}

const char *load_check(uint64_t ud, int32_t res)
{
	if (!load_owns(ud))
		return "CQE with a user_data the mix never used";
	switch (load_kind_of(ud)) {
	case LOAD_MSG:
		/* The targets live as long as the sender: the message is posted
		 * (or queued as local task_work). -EOVERFLOW: the target's CQ
		 * was full and io_post_aux_cqe() could not allocate an
		 * overflow entry (GFP_ATOMIC), which msg_ring.c reports. */
		return res == 0 || res == -EOVERFLOW ? NULL : "MSG_RING to a live ring failed";
	case LOAD_MSG_IN:
		return res == LOAD_MSG_LEN ? NULL : "message does not carry the len sent";
	case LOAD_POLL:
	case LOAD_LINK_POLL:
		return res > 0 && (res & POLLIN) ? NULL : "poll did not report POLLIN";
	case LOAD_READ:
	case LOAD_ASYNC_READ:
		return res > 0 ? NULL : "read of a fed source did not return data";
	case LOAD_TIMEOUT:
	case LOAD_TIMEOUT_LONG:
		return res == -ETIME ? NULL : "timeout did not end with -ETIME";
	case LOAD_ASYNC_NOP:
	case LOAD_NOP:
	case LOAD_LINK_NOP:
		return res == 0 ? NULL : "nop failed";
	case LOAD_LINK_READ:
		/* Data, or cancelled by its link timeout (-EINTR if the
		 * cancel interrupted a blocking read in io-wq). */
		return res > 0 || res == -ECANCELED || res == -EINTR ? NULL :
		       "linked read: neither data nor cancelled";
	case LOAD_LINK_TIMEOUT:
		/* -ETIME: fired and cancelled the read; -ECANCELED: the read
		 * finished first; -EALREADY/-ENOENT: fired as the read was
		 * completing (io_req_task_link_timeout -> io_try_cancel). */
		return res == -ETIME || res == -ECANCELED || res == -EALREADY || res == -ENOENT ?
		       NULL : "link timeout result outside -ETIME/-ECANCELED/-EALREADY/-ENOENT";
	case LOAD_PENDING:
		return "a request only teardown may end completed";
	default:
		return "unknown kind";
	}
}

int load_sources_open(struct load_sources *s)
{
	int p[2], sv[2], efd;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0) {
		close(p[0]);
		close(p[1]);
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	s->rfd[0] = p[0];
	s->wfd[0] = p[1];
	s->rfd[1] = sv[0];
	s->wfd[1] = sv[1];
	s->rfd[2] = efd;
	s->wfd[2] = efd;
	/* Only the write ends: the read ends stay blocking so that io_uring
	 * arms poll for them (wake-up -> task_work). */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	return 0;
}

void load_sources_close(struct load_sources *s)
{
	for (int i = 0; i < LOAD_SOURCES; i++) {
		if (s->wfd[i] != s->rfd[i])
			close(s->wfd[i]);
		close(s->rfd[i]);
	}
}

int load_feed(const struct load_sources *s, struct rng *rng)
{
	static const char bytes[32];
	uint64_t one = 1;

	for (int i = 0; i < 2; i++) {
		if (write(s->wfd[i], bytes, rng_range(rng, 1, sizeof(bytes))) < 0 &&
		    errno != EAGAIN)
			return -errno;
	}
	if (write(s->wfd[2], &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

void load_init(struct load *l, struct tring *r, const struct load_sources *src,
	       const int *targets, unsigned ntargets)
{
	memset(l, 0, sizeof(*l));
	l->r = r;
	l->src = src;
	l->targets = targets;
	l->ntargets = ntargets;
}

/* An SQE for one request of ours: one more CQE to come. */
static struct io_uring_sqe *next_sqe(struct load *l)
{
	struct io_uring_sqe *sqe = tring_sqe(l->r);

	if (sqe)
		l->inflight++;
	return sqe;
}

/* The prep helpers reset the SQE: flags and user_data come after them. */
static void finish_sqe(struct load *l, struct io_uring_sqe *sqe, enum load_kind kind,
		       unsigned sqe_flags)
{
	sqe->flags |= sqe_flags;
	io_uring_sqe_set_data64(sqe, load_ud(kind, l->seq++));
}

/* A random source and a read length it can serve (eventfd reads are 8 bytes). */
static int pick_source(struct load *l, struct rng *rng, unsigned *len)
{
	unsigned i = (unsigned)rng_below(rng, LOAD_SOURCES);

	*len = i == 2 ? 8 : (unsigned)rng_range(rng, 1, 16);
	return l->src->rfd[i];
}

/* One request (or linked pair) of the mix; returns the CQEs it will post. */
static unsigned prep_one(struct load *l, struct rng *rng)
{
	unsigned pick = (unsigned)rng_below(rng, 100), len;
	struct io_uring_sqe *sqe, *sqe2;
	int fd = pick_source(l, rng, &len), target;

	/* A linked pair needs both SQEs in one submission. */
	if (pick >= 87 && io_uring_sq_space_left(&l->r->ring) < 2)
		pick = 80;
	if (!(sqe = next_sqe(l)))
		return 0;
	if (pick < 20) {
		unsigned i = (unsigned)rng_below(rng, l->ntargets);

		target = l->ntargets ? l->targets[i] : -1;
		if (target >= 0) {
			io_uring_prep_msg_ring(sqe, target, LOAD_MSG_LEN,
					       load_ud(LOAD_MSG_IN, l->seq), 0);
			/* Sometimes from io-wq: posted to the target from a worker. */
			finish_sqe(l, sqe, LOAD_MSG, !(l->msg_inline_only & (1u << i)) &&
				   rng_chance(rng, 12) ? IOSQE_ASYNC : 0);
			return 1;
		}
		io_uring_prep_nop(sqe);
		finish_sqe(l, sqe, LOAD_NOP, 0);
	} else if (pick < 35) {
		io_uring_prep_poll_add(sqe, fd, POLLIN);
		finish_sqe(l, sqe, LOAD_POLL, 0);
	} else if (pick < 55) {
		io_uring_prep_read(sqe, fd, l->scratch, len, 0);
		finish_sqe(l, sqe, LOAD_READ, 0);
	} else if (pick < 65) {
		io_uring_prep_timeout(sqe, &ts_short[rng_below(rng, 3)], 0, 0);
		finish_sqe(l, sqe, LOAD_TIMEOUT, 0);
	} else if (pick < 67 && l->long_timeouts < 2) {
		io_uring_prep_timeout(sqe, &ts_long, 0, 0);
		finish_sqe(l, sqe, LOAD_TIMEOUT_LONG, 0);
		l->long_timeouts++;
	} else if (pick < 77) {
		if (l->async_read_no_pipe && fd == l->src->rfd[0])
			fd = l->src->rfd[1];	/* the socket: the same lengths */
		io_uring_prep_read(sqe, fd, l->scratch, len, 0);
		finish_sqe(l, sqe, LOAD_ASYNC_READ, IOSQE_ASYNC);
	} else if (pick < 87) {
		io_uring_prep_nop(sqe);
		finish_sqe(l, sqe, LOAD_ASYNC_NOP, IOSQE_ASYNC);
	} else {
		bool poll_head = rng_chance(rng, 50);

		if (poll_head)
			io_uring_prep_poll_add(sqe, fd, POLLIN);
		else
			io_uring_prep_read(sqe, fd, l->scratch, len, 0);
		finish_sqe(l, sqe, poll_head ? LOAD_LINK_POLL : LOAD_LINK_READ, IOSQE_IO_LINK);
		sqe2 = next_sqe(l);	/* cannot fail: space checked above */
		if (poll_head) {
			io_uring_prep_nop(sqe2);
			finish_sqe(l, sqe2, LOAD_LINK_NOP, 0);
		} else {
			io_uring_prep_link_timeout(sqe2, &ts_short[rng_below(rng, 3)], 0);
			finish_sqe(l, sqe2, LOAD_LINK_TIMEOUT, 0);
		}
		return 2;
	}
	return 1;
}

int load_submit(struct load *l, struct rng *rng, unsigned budget)
{
	unsigned queued = 0;

	while (queued < budget) {
		unsigned n = prep_one(l, rng);

		if (!n)
			break;
		queued += n;
	}
	return queued ? io_uring_submit(&l->r->ring) : 0;
}

unsigned load_reap(struct load *l, char *why, size_t len)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	why[0] = 0;
	io_uring_for_each_cqe(&l->r->ring, head, cqe) {
		const char *bad = load_check(cqe->user_data, cqe->res);
		enum load_kind kind = load_kind_of(cqe->user_data);

		if (bad && !why[0])
			snprintf(why, len, "%s (user_data 0x%llx): %s, res %d (%s)",
				 load_kind_name(kind), (unsigned long long)cqe->user_data, bad,
				 cqe->res, cqe->res < 0 ? strerror(-cqe->res) : "not an error");
		if (kind < LOAD_KINDS)
			l->seen[kind]++;
		if (kind != LOAD_MSG_IN && l->inflight)
			l->inflight--;
		if (kind == LOAD_TIMEOUT_LONG && l->long_timeouts)
			l->long_timeouts--;
		n++;
	}
	io_uring_cq_advance(&l->r->ring, n);
	l->reaped += n;
	return n;
}

int load_idle_open(struct load_idle *idle)
{
	int p[2], q[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(q, O_CLOEXEC) < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	*idle = (struct load_idle){ p[0], p[1], q[0], q[1] };
	return 0;
}

void load_idle_close(struct load_idle *idle)
{
	close(idle->rfd);
	close(idle->wfd);
	close(idle->sink_rfd);
	close(idle->sink_wfd);
}

int load_prep_pending(struct tring *r, const struct load_idle *idle)
{
	struct io_uring_sqe *sqe[LOAD_PENDING_NR];

	for (int i = 0; i < LOAD_PENDING_NR; i++) {
		sqe[i] = tring_sqe(r);
		if (!sqe[i])
			return -EBUSY;
	}
	/* Armed poll on the pipe: teardown's io_poll_remove_all(). */
	io_uring_prep_read(sqe[0], idle->rfd, pending_sink[0], sizeof(pending_sink[0]), 0);
	io_uring_prep_poll_add(sqe[1], idle->rfd, POLLIN);
	/* On the timeout list: io_kill_timeouts(). */
	io_uring_prep_timeout(sqe[2], &ts_long, 0, 0);
	/* Through io-wq, which arms poll for it. */
	io_uring_prep_read(sqe[3], idle->rfd, pending_sink[1], sizeof(pending_sink[1]), 0);
	sqe[3]->flags |= IOSQE_ASYNC;
	/* Always io-wq, blocked in the pipe wait: io_uring_try_cancel_iowq()
	 * must interrupt the worker. */
	io_uring_prep_tee(sqe[4], idle->rfd, idle->sink_wfd, 1, 0);
	for (int i = 0; i < LOAD_PENDING_NR; i++)
		io_uring_sqe_set_data64(sqe[i], load_ud(LOAD_PENDING, (uint32_t)i));
	return LOAD_PENDING_NR;
}
