// SPDX-License-Identifier: MIT
/* A ring handed to another process (see handover.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"
#include "handover.h"

int handover_open(struct handover *h)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, h->sock) == 0)
		return 0;
	h->sock[0] = h->sock[1] = -1;
	return -errno;
}

void handover_close(struct handover *h)
{
	for (int i = 0; i < 2; i++) {
		if (h->sock[i] >= 0)
			close(h->sock[i]);
		h->sock[i] = -1;
	}
}

int handover_ring_init(struct handover *h, struct io_uring *ring, unsigned flags,
		       unsigned cq_entries)
{
	memset(&h->params, 0, sizeof(h->params));
	h->params.flags = flags | (cq_entries ? IORING_SETUP_CQSIZE : 0);
	h->params.cq_entries = cq_entries;
	h->params.sq_thread_idle = 10;
	return io_uring_queue_init_params(64, ring, &h->params);
}

int handover_give(struct handover *h, int ring_fd)
{
	int ret = fdpass_send(h->sock[1], ring_fd);

	h->via_getfd = ret == -EINVAL;	/* scm_fp_copy(), 6.7+ */
	h->owner_fd = ring_fd;
	return h->via_getfd ? 0 : ret;
}

const char *handover_how(const struct handover *h)
{
	return h->via_getfd ? "pidfd_getfd" : "SCM_RIGHTS";
}

int handover_map(const struct handover *h, int fd, struct tring *r, const struct profile *prof,
		 const char *name)
{
	struct io_uring_params p = h->params;

	if (io_uring_queue_mmap(fd, &p, &r->ring)) {
		close(fd);
		return -ENOMEM;
	}
	/* A fresh mapping's view of an SQ others may have used. */
	r->ring.sq.sqe_head = r->ring.sq.sqe_tail = *r->ring.sq.ktail;
	r->prof = prof;
	r->registered = false;
	r->live = true;
	snprintf(r->name, sizeof(r->name), "%s", name);
	return 0;
}

int handover_take(struct handover *h, int pidfd, const struct deadline *dl, struct tring *r,
		  const struct profile *prof, const char *name)
{
	int fd = h->via_getfd ? fdpass_take(pidfd, h->owner_fd) : fdpass_recv(h->sock[0], dl);

	return fd < 0 ? fd : handover_map(h, fd, r, prof, name);
}

void handover_to_hex(const struct handover *h, char hex[HANDOVER_HEX_LEN])
{
	for (size_t i = 0; i < sizeof(h->params); i++)
		sprintf(hex + 2 * i, "%02x", ((const unsigned char *)&h->params)[i]);
}

int handover_map_hex(int fd, const char *hex, struct io_uring *ring)
{
	struct io_uring_params p;

	for (size_t i = 0; i < sizeof(p); i++)
		if (sscanf(hex + 2 * i, "%2hhx", &((unsigned char *)&p)[i]) != 1)
			return -EINVAL;
	if (io_uring_queue_mmap(fd, &p, ring))
		return -ENOMEM;
	ring->sq.sqe_head = ring->sq.sqe_tail = *ring->sq.ktail;
	return 0;
}
