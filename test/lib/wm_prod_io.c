// SPDX-License-Identifier: MIT
/*
 * Producers of the wait matrix (see wm.h): one-shot reads and writes on
 * pipes and sockets, POLL_ADD (one-shot, multishot, EPOLLEXCLUSIVE),
 * linked requests, IOSQE_ASYNC splices completing from io-wq, and
 * cancelations. Each event is one request's CQE (two for a link or a
 * cancel), its user_data WM_UD(k, event).
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wm.h"

static int pipes(int (*fd)[2], unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (pipe2(fd[i], O_CLOEXEC))
			return -errno;
	return 0;
}

static int socketpairs(struct wm_run *r, int type)
{
	for (unsigned i = 0; i < r->events; i++)
		if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, r->fd[i]))
			return -errno;
	return 0;
}

static void set_ud(struct io_uring_sqe *sqe, unsigned k, unsigned i)
{
	io_uring_sqe_set_data64(sqe, WM_UD(k, i));
}

/* The CQE of a one-shot request with an exact result. */
static int cqe_res(struct wm_run *r, const struct io_uring_cqe *cqe, const int32_t *res,
		   const char **why)
{
	int slot = wm_ud_slot(r, cqe, why);

	if (slot >= 0 && cqe->res != res[slot % r->cell->p->per_event]) {
		*why = "not the result this request must complete with";
		return -1;
	}
	return slot;
}

/* ---- reads and writes ---------------------------------------------------- */

static int read_arm(struct wm_run *r)
{
	int ret = pipes(r->fd, r->events);

	for (unsigned i = 0; !ret && i < r->events; i++) {
		struct io_uring_sqe *sqe = wm_sqe(r);

		io_uring_prep_read(sqe, r->fd[i][0], &r->rbuf[i], 8, 0);
		set_ud(sqe, 0, i);
	}
	return ret;
}

static int write_fire(struct wm_run *r, unsigned i)
{
	return wm_write_event(r, r->fd[i][1], i);
}

static int read_cqe(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why)
{
	static const int32_t res[] = { 8 };
	int slot = cqe_res(r, cqe, res, why);

	if (slot >= 0 && r->rbuf[slot] != (uint64_t)slot) {
		*why = "the read did not read its event's number";
		return -1;
	}
	return slot;
}

const struct wm_producer wm_pipe_read = {
	.name = "pipe_read", .what = "one-shot READ of a pipe; event: a write",
	.profiles = PROFILES_ALL, .timings = WM_TIMINGS_ALL, .per_event = 1,
	.arm = read_arm, .fire = write_fire, .cqe = read_cqe,
};

/* The ring writes into a full one-page pipe; the event makes room. */
static int pipe_write_arm(struct wm_run *r)
{
	static char fill[4096];
	int ret = pipes(r->fd, r->events);

	for (unsigned i = 0; !ret && i < r->events; i++) {
		int *fd = r->fd[i], tmp = fd[0];
		struct io_uring_sqe *sqe;

		fd[0] = fd[1];		/* the ring's end: the write end */
		fd[1] = tmp;
		if (fcntl(fd[0], F_SETPIPE_SZ, 4096) < 0 || write(fd[0], fill, 4096) != 4096 ||
		    fcntl(fd[1], F_SETFL, O_NONBLOCK))
			return -errno;
		r->rbuf[i] = i;
		sqe = wm_sqe(r);
		io_uring_prep_write(sqe, fd[0], &r->rbuf[i], 8, 0);
		set_ud(sqe, 0, i);
	}
	return ret;
}

/* The firer's end (non-blocking) read empty: room for the ring's write. */
static int drain_fire(struct wm_run *r, unsigned i)
{
	char buf[4096];

	while (read(r->fd[i][1], buf, sizeof(buf)) > 0)
		;
	return 0;
}

static int write_cqe(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why)
{
	static const int32_t res[] = { 8 };

	return cqe_res(r, cqe, res, why);
}

const struct wm_producer wm_pipe_write = {
	.name = "pipe_write", .what = "one-shot WRITE to a full pipe; event: the reader drains it",
	.profiles = PROFILES_ALL, .timings = WM_TIMINGS_ALL, .per_event = 1,
	.arm = pipe_write_arm, .fire = drain_fire, .cqe = write_cqe,
};

static int recv_arm(struct wm_run *r)
{
	int ret = socketpairs(r, SOCK_STREAM);

	for (unsigned i = 0; !ret && i < r->events; i++) {
		struct io_uring_sqe *sqe = wm_sqe(r);

		io_uring_prep_recv(sqe, r->fd[i][0], &r->rbuf[i], 8, 0);
		set_ud(sqe, 0, i);
	}
	return ret;
}

const struct wm_producer wm_sock_recv = {
	.name = "sock_recv", .what = "one-shot RECV on a stream socketpair; event: a send",
	.profiles = PROFILES_ALL, .timings = WM_TIMINGS_ALL, .per_event = 1,
	.arm = recv_arm, .fire = write_fire, .cqe = read_cqe,
};

/* The ring sends on a socket whose send buffer is full; the event drains
 * the peer. */
static int send_arm(struct wm_run *r)
{
	static char fill[4096];
	int ret = socketpairs(r, SOCK_STREAM), small = 1;

	for (unsigned i = 0; !ret && i < r->events; i++) {
		struct io_uring_sqe *sqe;

		if (setsockopt(r->fd[i][0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) ||
		    fcntl(r->fd[i][1], F_SETFL, O_NONBLOCK))
			return -errno;
		while (send(r->fd[i][0], fill, sizeof(fill), MSG_DONTWAIT) > 0)
			;
		r->rbuf[i] = i;
		sqe = wm_sqe(r);
		io_uring_prep_send(sqe, r->fd[i][0], &r->rbuf[i], 8, 0);
		set_ud(sqe, 0, i);
	}
	return ret;
}

const struct wm_producer wm_sock_send = {
	.name = "sock_send", .what = "one-shot SEND on a full stream socket; event: the peer drains it",
	.profiles = PROFILES_ALL, .timings = WM_TIMINGS_ALL, .per_event = 1,
	.arm = send_arm, .fire = drain_fire, .cqe = write_cqe,
};

/* ---- polls --------------------------------------------------------------- */

static int poll_arm_mask(struct wm_run *r, unsigned mask)
{
	int ret = pipes(r->fd, mask & EPOLLEXCLUSIVE ? 1 : r->events);

	for (unsigned i = 0; !ret && i < r->events; i++) {
		struct io_uring_sqe *sqe = wm_sqe(r);

		io_uring_prep_poll_add(sqe, r->fd[mask & EPOLLEXCLUSIVE ? 0 : i][0], mask);
		set_ud(sqe, 0, i);
	}
	return ret;
}

static int poll_arm(struct wm_run *r)
{
	return poll_arm_mask(r, POLLIN);
}

static int poll_cqe(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why)
{
	int slot = wm_ud_slot(r, cqe, why);

	if (slot >= 0 && !(cqe->res & POLLIN)) {
		*why = "poll result without POLLIN";
		return -1;
	}
	return slot;
}

const struct wm_producer wm_poll = {
	.name = "poll", .what = "one-shot POLL_ADD (POLLIN) on a pipe; event: a write",
	.profiles = PROFILES_ALL, .timings = WM_TIMINGS_ALL, .per_event = 1,
	.arm = poll_arm, .fire = write_fire, .cqe = poll_cqe,
};

/* EPOLLEXCLUSIVE polls (no lazy wake: REQ_F_POLL_NO_LAZY) share one pipe;
 * each write wakes one of them. */
static int excl_arm(struct wm_run *r)
{
	return poll_arm_mask(r, POLLIN | EPOLLEXCLUSIVE);
}

static int excl_fire(struct wm_run *r, unsigned i)
{
	return wm_write_event(r, r->fd[0][1], i);
}

const struct wm_producer wm_poll_excl = {
	.name = "poll_excl", .what = "one-shot POLL_ADD with EPOLLEXCLUSIVE, all on one pipe; "
		"event: a write (wakes one)",
	.profiles = PROFILES_ALL, .timings = WM_TIMINGS_ALL, .per_event = 1,
	.arm = excl_arm, .fire = excl_fire, .cqe = poll_cqe,
};

static int poll_ms_arm(struct wm_run *r)
{
	int ret = pipes(r->fd, 1);
	struct io_uring_sqe *sqe;

	if (ret)
		return ret;
	sqe = wm_sqe(r);
	io_uring_prep_poll_multishot(sqe, r->fd[0][0], POLLIN);
	io_uring_sqe_set_data64(sqe, WM_UD_MS);
	return 0;
}

static int poll_ms_cqe(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why)
{
	*why = "not a POLLIN CQE of the multishot poll";
	if (cqe->user_data != WM_UD_MS || !(cqe->res & POLLIN))
		return -1;
	*why = "more CQEs than events";
	return r->nseen < r->events ? (int)r->nseen : -1;
}

const struct wm_producer wm_poll_ms = {
	.name = "poll_ms", .what = "multishot POLL_ADD on a pipe; event: a write (wake-ups may "
		"fold into one CQE where the waiter does not run each in between)",
	.profiles = PROFILES_ALL, .flags = WP_MULTISHOT | WP_FOLDS, .timings = WM_TIMINGS_ALL,
	.per_event = 1, .need = WN_POLL_MS,
	.arm = poll_ms_arm, .fire = excl_fire, .cqe = poll_ms_cqe,
};

/* ---- links, io-wq, cancelation ------------------------------------------- */

/* READ -> NOP: a linked request's task_work never waits lazily. */
static int link_arm(struct wm_run *r)
{
	int ret = pipes(r->fd, r->events);

	for (unsigned i = 0; !ret && i < r->events; i++) {
		struct io_uring_sqe *sqe = wm_sqe(r);

		io_uring_prep_read(sqe, r->fd[i][0], &r->rbuf[i], 8, 0);
		sqe->flags |= IOSQE_IO_LINK;
		set_ud(sqe, 0, i);
		sqe = wm_sqe(r);
		io_uring_prep_nop(sqe);
		set_ud(sqe, 1, i);
	}
	return ret;
}

static int link_cqe(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why)
{
	static const int32_t res[] = { 8, 0 };

	return cqe_res(r, cqe, res, why);
}

const struct wm_producer wm_link = {
	.name = "link", .what = "READ of a pipe linked to a NOP; event: a write (2 CQEs)",
	.profiles = PROFILES_ALL, .timings = WM_TIMINGS_ALL, .per_event = 2,
	.arm = link_arm, .fire = write_fire, .cqe = link_cqe,
};

/* SPLICE pipe -> pipe never runs inline: an io-wq worker blocks in it. */
static int async_arm(struct wm_run *r)
{
	int ret = pipes(r->fd, r->events);

	if (!ret)
		ret = pipes(r->afd, r->events);
	for (unsigned i = 0; !ret && i < r->events; i++) {
		struct io_uring_sqe *sqe = wm_sqe(r);

		io_uring_prep_splice(sqe, r->fd[i][0], -1, r->afd[i][1], -1, 8, 0);
		sqe->flags |= IOSQE_ASYNC;
		set_ud(sqe, 0, i);
	}
	return ret;
}

const struct wm_producer wm_async = {
	.name = "async", .what = "IOSQE_ASYNC SPLICE pipe to pipe, blocked in io-wq; event: a "
		"write to its source",
	.profiles = PROFILES_ALL, .timings = WM_TIMINGS_ALL, .per_event = 1, .need = WN_SPLICE,
	.arm = async_arm, .fire = write_fire, .cqe = write_cqe,
};

/* The owner cancels pending reads: before its wait, or in the same enter. */
static int cancel_fire(struct wm_run *r, unsigned i)
{
	struct io_uring_sqe *sqe = wm_sqe(r);

	io_uring_prep_cancel64(sqe, WM_UD(0, i), 0);
	set_ud(sqe, 1, i);
	return 0;
}

static int cancel_cqe(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why)
{
	static const int32_t res[] = { -ECANCELED, 0 };

	return cqe_res(r, cqe, res, why);
}

const struct wm_producer wm_cancel = {
	.name = "cancel", .what = "ASYNC_CANCEL of pending pipe READs by the owner, before its "
		"wait or submitted with it (2 CQEs)",
	.profiles = PROFILES_ALL, .flags = WP_SELF, .per_event = 2,
	.timings = (1u << WT_BEFORE) | (1u << WT_B2B),
	.arm = read_arm, .fire = cancel_fire, .cqe = cancel_cqe,
};
