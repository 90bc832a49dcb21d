// SPDX-License-Identifier: MIT
/* A ring's shared memory driven by hand (see ringmem.h). */
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ringmem.h"

#define REG_RESIZE_RINGS	33	/* IORING_REGISTER_RESIZE_RINGS (6.13) */

void ringmem_publish(struct io_uring *ring)
{
	struct io_uring_sq *q = &ring->sq;

	if (q->sqe_head != q->sqe_tail) {
		q->sqe_head = q->sqe_tail;
		__atomic_store_n(q->ktail, q->sqe_tail, __ATOMIC_RELEASE);
	}
}

int ringmem_resize(struct io_uring *ring, struct io_uring_params *p)
{
	long ret = syscall(__NR_io_uring_register, ring->ring_fd, REG_RESIZE_RINGS, p, 1);

	return ret < 0 ? -errno : 0;
}

int ringmem_remap(struct io_uring *ring, struct io_uring_params *p, bool *sq_array_guessed)
{
	struct io_uring fresh;
	size_t sqes = ring->sq.ring_entries * sizeof(struct io_uring_sqe);
	int ret;

	p->features |= IORING_FEAT_SINGLE_MMAP;	/* every kernel that resizes has it */
	/*
	 * Before 7.x the kernel did not fill in sq_off.array on a resize (the
	 * array is never at 0 without NO_SQARRAY): it follows the CQEs, cache
	 * line aligned (rings_size()).
	 */
	if (!p->sq_off.array) {
		p->sq_off.array = (p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe) + 63) &
				  ~63u;
		*sq_array_guessed = true;
	}
	ret = io_uring_queue_mmap(ring->ring_fd, p, &fresh);
	if (ret)
		return ret;
	munmap(ring->sq.sqes, sqes);
	if (ring->cq.ring_ptr != ring->sq.ring_ptr)
		munmap(ring->cq.ring_ptr, ring->cq.ring_sz);
	munmap(ring->sq.ring_ptr, ring->sq.ring_sz);
	fresh.sq.sqe_head = ring->sq.sqe_head;
	fresh.sq.sqe_tail = ring->sq.sqe_tail;
	ring->sq = fresh.sq;
	ring->cq = fresh.cq;
	/* The kernel filled the array slots of the SQEs it carried over only. */
	for (unsigned i = 0; i < ring->sq.ring_entries; i++)
		ring->sq.array[i] = i;
	return 0;
}
