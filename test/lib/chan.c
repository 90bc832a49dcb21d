// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chan.h"

const char *const chan_kind_names[CHAN_KINDS] = {
	"pipe read", "pipe poll", "eventfd read", "socketpair recv",
};

int chan_open(struct chan *c, enum chan_kind kind)
{
	int fds[2];

	c->kind = kind;
	if (kind == CHAN_EVENTFD_READ) {
		c->rfd = c->wfd = eventfd(0, EFD_SEMAPHORE | EFD_CLOEXEC);
		return c->rfd < 0 ? -errno : 0;
	}
	if (kind == CHAN_SOCK_RECV ? socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) :
				     pipe2(fds, O_CLOEXEC))
		return -errno;
	c->rfd = fds[0];
	c->wfd = fds[1];
	/* The owner drains polled pipes itself and must not block doing so. */
	if (kind == CHAN_PIPE_POLL && fcntl(c->rfd, F_SETFL, O_NONBLOCK))
		return -errno;
	return 0;
}

void chan_close(struct chan *c)
{
	close(c->rfd);
	if (c->wfd != c->rfd)
		close(c->wfd);
	c->rfd = c->wfd = -1;
}

void chan_prep(const struct chan *c, struct io_uring_sqe *sqe, uint64_t *buf)
{
	switch (c->kind) {
	case CHAN_PIPE_POLL:
		io_uring_prep_poll_add(sqe, c->rfd, POLLIN);
		break;
	case CHAN_SOCK_RECV:
		io_uring_prep_recv(sqe, c->rfd, buf, sizeof(*buf), 0);
		break;
	default:
		io_uring_prep_read(sqe, c->rfd, buf, sizeof(*buf), 0);
		break;
	}
}

int chan_write(const struct chan *c, uint64_t rec)
{
	if (c->kind == CHAN_EVENTFD_READ)
		rec = 1;
	if (write(c->wfd, &rec, sizeof(rec)) != sizeof(rec))
		return -errno;
	return 0;
}
