// SPDX-License-Identifier: MIT
/* Ring references one at a time (see ringfd.h). */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ringfd.h"

int ringfd_dedicated_number(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024)
		return (int)(rl.rlim_cur * 7 / 8);
	return 900;
}

int tring_move_fd(struct tring *r, int fd)
{
	int old = r->ring.ring_fd, ret = fcntl(old, F_DUPFD_CLOEXEC, fd);

	if (ret < 0)
		return -errno;
	if (ret != fd) {
		close(ret);
		return -EBUSY;
	}
	close(old);
	r->ring.ring_fd = fd;
	if (!r->registered)
		r->ring.enter_ring_fd = fd;
	return 0;
}

void tring_unmap(struct tring *r)
{
	struct io_uring *ring = &r->ring;

	munmap(ring->sq.sqes, ring->sq.ring_entries * sizeof(struct io_uring_sqe));
	munmap(ring->sq.ring_ptr, ring->sq.ring_sz);
	if (ring->cq.ring_ptr != ring->sq.ring_ptr)
		munmap(ring->cq.ring_ptr, ring->cq.ring_sz);
	r->live = false;
}

int tring_unregister_fd(struct tring *r)
{
	struct io_uring_rsrc_update up = { .offset = (unsigned)r->ring.enter_ring_fd };
	long ret = syscall(__NR_io_uring_register, r->ring.enter_ring_fd,
			   IORING_UNREGISTER_RING_FDS | IORING_REGISTER_USE_REGISTERED_RING, &up, 1);

	if (ret < 0)
		return -errno;
	if (ret == 1)
		r->registered = false;
	return (int)ret;
}
