// SPDX-License-Identifier: MIT
/* Ring references one at a time (see ringfd.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "load.h"
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

enum verdict ringfd_target_init(struct tcase *tc, struct tring *t, const struct tring_opts *o,
				int fd, struct teardown_probe *probe,
				const struct load_idle *idle)
{
	enum verdict v = tring_init(tc, t, "target", tc->prof, o);
	int ret;

	if (v != V_PASS)
		return v;
	ret = tring_move_fd(t, fd);
	/* The child inherits the fd, not the mappings (they would hold the file). */
	if (!ret)
		ret = io_uring_ring_dontfork(&t->ring);
	if (!ret)
		ret = probe_arm(probe, t, load_ud(LOAD_PENDING, LOAD_PENDING_NR));
	if (!ret)
		ret = load_prep_pending(t, idle);
	if (ret >= 0)
		ret = io_uring_submit(&t->ring);
	if (ret < 0)
		return tc_fail(tc, "target: set-up at fd %d with probe and pending set: %s",
			       fd, strerror(-ret));
	return V_PASS;
}

int ringfd_release_registered(struct tcase *tc, struct tring *t, struct teardown_probe *probe,
			      int64_t alive_ns)
{
	struct deadline dl = deadline_in(alive_ns);
	int ret;

	tring_unmap(t);
	/* Neither mapped nor open: the registered index still works. */
	ret = tring_wait(t, 1, NSEC_PER_MSEC, 0, NULL);
	if (ret != -ETIME)
		return tc_fail(tc, "owner: wait through the registered ring fd alone: %d, "
			       "expected -ETIME", ret), -1;
	if (probe_wait(probe, &dl) != -ETIMEDOUT)
		return tc_fail(tc, "target torn down while its registered ring fd held it"), -1;
	/* io_ringfd_unregister: the fput that ends the ring. */
	if ((ret = tring_unregister_fd(t)) != 1)
		return tc_fail(tc, "owner: unregister of the ring fd returned %d", ret), -1;
	return 0;
}
