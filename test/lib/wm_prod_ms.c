// SPDX-License-Identifier: MIT
/*
 * Multishot producers of the wait matrix (see wm.h): recv on a datagram and
 * a stream socketpair, accept, and read. One request posts a CQE per event
 * (IORING_CQE_F_MORE), each in a provided buffer of 8 bytes, so that one
 * event is one CQE even when several are read in one go; a cancel ends it.
 *
 * These are poll-driven: their task_work is queued with IOU_F_TWQ_LAZY_WAKE
 * (poll.c, __io_poll_execute), and one run of it may post several CQEs
 * (the request retries until the socket or pipe is empty). A second
 * wake-up that finds the first one's task_work still queued adds nothing:
 * on DEFER_TASKRUN rings the lazy count (tw.c, io_req_local_work_add) then
 * counts fewer items than CQEs to come, the known lost wake-up of 6.7 and
 * later (test/known-issues).
 */
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "wm.h"

#define IORING_OP_READ_MULTISHOT_	49	/* 6.7; liburing 2.3 has no prep helper */

/* Buffers provided, then the multishot request prep() makes on r->fd[0][0];
 * err: creating that fd's -errno. */
static int ms_arm(struct wm_run *r, int err, void (*prep)(struct io_uring_sqe *, int))
{
	struct io_uring_sqe *sqe;
	int ret = err ? err : wm_provide_buffers(r);

	if (ret)
		return ret;
	sqe = wm_sqe(r);
	prep(sqe, r->fd[0][0]);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = 1;
	io_uring_sqe_set_data64(sqe, WM_UD_MS);
	return 0;
}

static void prep_recv(struct io_uring_sqe *sqe, int fd)
{
	io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
}

static void prep_read(struct io_uring_sqe *sqe, int fd)
{
	io_uring_prep_rw(IORING_OP_READ_MULTISHOT_, sqe, fd, NULL, 0, 0);
}

static int recv_ms_dgram_arm(struct wm_run *r)
{
	return ms_arm(r, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, r->fd[0]) ? -errno : 0,
		      prep_recv);
}

static int recv_ms_stream_arm(struct wm_run *r)
{
	return ms_arm(r, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->fd[0]) ? -errno : 0,
		      prep_recv);
}

static int read_ms_arm(struct wm_run *r)
{
	return ms_arm(r, pipe2(r->fd[0], O_CLOEXEC) ? -errno : 0, prep_read);
}

static int write_fire(struct wm_run *r, unsigned i)
{
	return wm_write_event(r, r->fd[0][1], i);
}

static int buffer_cqe(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why)
{
	if (cqe->user_data != WM_UD_MS) {
		*why = "not a CQE of the multishot request";
		return -1;
	}
	return wm_buffer_slot(r, cqe, why);
}

const struct wm_producer wm_recv_ms_dgram = {
	.name = "recv_ms_dgram", .what = "multishot RECV on an AF_UNIX datagram socketpair, "
		"provided buffers; event: a datagram (N <= 8: a unix socket queues 10 datagrams, "
		"net.unix.max_dgram_qlen)",
	.profiles = PROFILES_ALL, .flags = WP_MULTISHOT, .timings = WM_TIMINGS_ALL,
	.per_event = 1, .max_n = 8, .need = WN_RECV_MS,
	.arm = recv_ms_dgram_arm, .fire = write_fire, .cqe = buffer_cqe,
};

const struct wm_producer wm_recv_ms_stream = {
	.name = "recv_ms_stream", .what = "multishot RECV on an AF_UNIX stream socketpair, "
		"8-byte provided buffers; event: 8 bytes sent",
	.profiles = PROFILES_ALL, .flags = WP_MULTISHOT, .timings = WM_TIMINGS_ALL,
	.per_event = 1, .need = WN_RECV_MS,
	.arm = recv_ms_stream_arm, .fire = write_fire, .cqe = buffer_cqe,
};

const struct wm_producer wm_read_ms = {
	.name = "read_ms", .what = "IORING_OP_READ_MULTISHOT of a pipe, 8-byte provided "
		"buffers; event: a write",
	.profiles = PROFILES_ALL, .flags = WP_MULTISHOT, .timings = WM_TIMINGS_ALL,
	.per_event = 1, .need = WN_READ_MS,
	.arm = read_ms_arm, .fire = write_fire, .cqe = buffer_cqe,
};

/* ---- accept ------------------------------------------------------------- */

static struct sockaddr_un listen_addr(struct wm_run *r, socklen_t *len)
{
	static unsigned serial;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	/* Abstract: nothing in the file system to clean up. */
	*len = offsetof(struct sockaddr_un, sun_path) + 1 +
	       snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "tw-wait-matrix-%d-%u-%u",
			(int)getpid(), r->cell->idx, serial++);
	return sun;
}

static int accept_arm(struct wm_run *r)
{
	socklen_t len;
	struct sockaddr_un sun = listen_addr(r, &len);
	struct io_uring_sqe *sqe;

	r->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&sun, len) ||
	    listen(r->lfd, WM_MAX_N + 8))
		return -errno;
	/* The firer connects to the same address (getsockname gives it). */
	sqe = wm_sqe(r);
	io_uring_prep_multishot_accept(sqe, r->lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, WM_UD_MS);
	return 0;
}

static int accept_fire(struct wm_run *r, unsigned i)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);

	r->cfd[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (r->cfd[i] >= 0 && !getsockname(r->lfd, (struct sockaddr *)&sun, &len) &&
	    !connect(r->cfd[i], (struct sockaddr *)&sun, len))
		return 0;
	wm_fail(r, WK_OTHER, "firer: event %u: connect to the listener: %s", i, strerror(errno));
	return -1;
}

static int accept_cqe(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why)
{
	if (cqe->user_data != WM_UD_MS || cqe->res < 0) {
		*why = "not an accepted connection of the multishot accept";
		return -1;
	}
	close(cqe->res);
	*why = "more connections accepted than made";
	/* Connections are not told apart: a slot per CQE, in arrival order. */
	return r->nseen < r->events ? (int)r->nseen : -1;
}

const struct wm_producer wm_accept_ms = {
	.name = "accept_ms", .what = "multishot ACCEPT on an AF_UNIX listener; event: a connect",
	.profiles = PROFILES_ALL, .flags = WP_MULTISHOT, .timings = WM_TIMINGS_ALL,
	.per_event = 1, .need = WN_ACCEPT_MS,
	.arm = accept_arm, .fire = accept_fire, .cqe = accept_cqe,
};
