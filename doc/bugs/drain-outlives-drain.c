// SPDX-License-Identifier: MIT
/*
 * cc -O2 -o /tmp/drain-outlives-drain doc/bugs/drain-outlives-drain.c -luring
 *
 * After an IOSQE_IO_DRAIN request has completed, a request submitted later
 * still waits until no other request of the ring is in flight, and forever
 * if what is in flight waits for it:
 *
 *   1. one submit: a NOP with IOSQE_IO_DRAIN, then a read of an empty pipe;
 *   2. the NOP completes (the read, held behind it, is issued then);
 *   3. an ASYNC_CANCEL of the read: it is never issued, the read never
 *      cancelled - both stay in flight until data arrives in the pipe.
 *
 * io_drain_req() (6.16's "io_uring: drain based on allocates reqs") keeps
 * ctx->drain_active set after the drain until a request that is not a drain
 * finds the defer list empty - the read, queued behind the drain, is issued
 * from io_queue_deferred() instead, which never clears it. Every later
 * request then goes through io_drain_req(), and the first one on the defer
 * list waits for nr_req_allocated == nr_drained: for every request in flight.
 * 7.3 ends the drain when a drained request completes, but not a drained
 * link: step 1 also as NOP (IOSQE_IO_DRAIN | IOSQE_IO_LINK) -> NOP, read.
 *
 * Both shapes on a plain, a DEFER_TASKRUN and an SQPOLL ring. Exit status:
 * 0 the cancel completed every time (fixed), 1 it did not once (bug), 77
 * this kernel cannot run the reproducer.
 */
#include <errno.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define UD_DRAIN	1
#define UD_READ		2
#define UD_CANCEL	3

/* Wait for a CQE for up to ms; its user_data and res. 0, or -ETIME. */
static int next_cqe(struct io_uring *ring, unsigned ms, __u64 *ud, int *res)
{
	struct __kernel_timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L };
	struct io_uring_cqe *cqe;
	int ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);

	if (ret)
		return ret;
	*ud = cqe->user_data;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/* 0 fixed, 1 bug, 77 cannot tell. */
static int one_ring(const char *name, unsigned flags, int link)
{
	struct io_uring_params p = { .flags = flags, .sq_thread_idle = 1000 };
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	int fds[2], res, ret, status = 0, got = 0;
	bool cancelled = false;
	char byte;
	__u64 ud;

	ret = io_uring_queue_init_params(8, &ring, &p);
	if (ret < 0) {
		printf("%s: skipped, io_uring_queue_init: %s\n", name, strerror(-ret));
		return 77;
	}
	if (pipe(fds))
		return 77;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_nop(sqe);
	sqe->flags |= IOSQE_IO_DRAIN | (link ? IOSQE_IO_LINK : 0);
	sqe->user_data = UD_DRAIN;
	if (link) {		/* the drained request is a link: NOP -> NOP */
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_nop(sqe);
		sqe->user_data = UD_DRAIN;
	}
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_read(sqe, fds[0], &byte, 1, 0);
	sqe->user_data = UD_READ;
	if (io_uring_submit(&ring) < 0)
		return 77;
	for (int i = 0; i <= link; i++)
		if (next_cqe(&ring, 5000, &ud, &res) || ud == UD_READ) {
			printf("%s: skipped, the drained NOP did not complete first\n", name);
			return 77;
		}
	/* The drain is over. Cancel the read, which waits for data. */
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_cancel64(sqe, UD_READ, 0);
	sqe->user_data = UD_CANCEL;
	io_uring_submit(&ring);
	while (got < 2 && !next_cqe(&ring, 2000, &ud, &res)) {
		got++;
		cancelled |= ud == UD_CANCEL;
		/* Not a hang: the cancel ran before the read was issued. End the read. */
		if (ud == UD_CANCEL && res == -ENOENT) {
			printf("%s: note: the cancel ran before the read was issued (-ENOENT)\n",
			       name);
			if (write(fds[1], "x", 1) != 1)
				return 77;
		}
	}
	if (!cancelled) {
		printf("%s: BUG: an ASYNC_CANCEL submitted after the drain completed was not "
		       "issued within 2 s (%d of 2 CQEs)", name, got);
		/* What it waits for: the read. Data ends the read, then the cancel runs. */
		if (write(fds[1], "x", 1) == 1)
			for (int i = 0; i < 2 && !next_cqe(&ring, 2000, &ud, &res); i++)
				printf("%s ud %llu res %d", i ? "," : "; after a write to the pipe:",
				       (unsigned long long)ud, res);
		printf("\n");
		status = 1;
	}
	io_uring_queue_exit(&ring);
	close(fds[0]);
	close(fds[1]);
	return status;
}

int main(void)
{
	static const struct { const char *name; unsigned flags; } rings[] = {
		{ "plain", 0 },
		{ "defer", IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN },
		{ "sqpoll", IORING_SETUP_SQPOLL },
	};
	int bug = 0, ran = 0;

	for (int link = 0; link <= 1; link++) {
		for (unsigned i = 0; i < sizeof(rings) / sizeof(rings[0]); i++) {
			char name[32];
			int ret;

			snprintf(name, sizeof(name), "%s, drained %s", rings[i].name,
				 link ? "link" : "NOP");
			ret = one_ring(name, rings[i].flags, link);
			bug |= ret == 1;
			ran += ret != 77;
		}
	}
	return bug ? 1 : ran ? 0 : 77;
}
