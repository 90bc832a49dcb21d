// SPDX-License-Identifier: MIT
/*
 * cc -O2 -Wall -o /tmp/drain-lifo-tw doc/bugs/drain-lifo-tw.c -luring
 * Suite: test/regress_drain_order.t
 * Says: completed before the drained NOP
 *
 * io_uring (6.1.y): a request submitted after an IOSQE_IO_DRAIN request
 * completes before it. io_uring_enter(2): "new SQEs will not be started
 * before this one completes".
 *
 *   1. one submit: a 20 ms IORING_OP_TIMEOUT, a NOP with IOSQE_IO_DRAIN, a
 *      NOP;
 *   2. the drained NOP waits for the timeout; the NOP after it waits behind
 *      it on ctx->defer_list (io_drain_req(): the list is not empty);
 *   3. the timeout completes (-ETIME); io_queue_deferred() releases both
 *      deferred NOPs, in order, each with io_req_task_queue();
 *   4. 6.1 runs task_work newest first (tctx_task_work() and
 *      __io_run_local_work() walk the llist as llist_add() left it), so the
 *      NOP after the drain is issued and completes before the drained one.
 *
 * Fixed upstream by 3af0356c162c ("io_uring: maintain ordering for
 * DEFER_TASKRUN tw list", 6.5) and 170539bdf109 ("io_uring: handle
 * traditional task_work in FIFO order", 6.9): doc/bugs/drain-lifo-tw.md.
 *
 * On a plain, a DEFER_TASKRUN and an SQPOLL ring. Exit status: 0 the order
 * was timeout, drained NOP, NOP on every ring (fixed); 1 the NOP came
 * before the drained NOP on one (bug); 77 this kernel cannot run the
 * reproducer.
 */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>

enum { UD_TIMEOUT = 1, UD_DRAIN, UD_AFTER };

static const char *const ud_names[] = { "?", "timeout", "drained NOP", "NOP after the drain" };

/* 0 fixed, 1 bug, 77 cannot tell. */
static int one_ring(const char *name, unsigned flags)
{
	struct io_uring_params p = { .flags = flags, .sq_thread_idle = 1000 };
	struct __kernel_timespec timeout = { .tv_nsec = 20 * 1000000L }, ts = { .tv_sec = 5 };
	unsigned order[3], n = 0;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int ret, res[3];

	ret = io_uring_queue_init_params(8, &ring, &p);
	if (ret) {
		printf("%s: io_uring_queue_init: %s: cannot tell\n", name, strerror(-ret));
		return 77;
	}
	io_uring_prep_timeout(sqe = io_uring_get_sqe(&ring), &timeout, 0, 0);
	sqe->user_data = UD_TIMEOUT;
	io_uring_prep_nop(sqe = io_uring_get_sqe(&ring));
	sqe->flags |= IOSQE_IO_DRAIN;
	sqe->user_data = UD_DRAIN;
	io_uring_prep_nop(sqe = io_uring_get_sqe(&ring));
	sqe->user_data = UD_AFTER;
	ret = io_uring_submit(&ring);
	if (ret != 3) {
		printf("%s: submit: %d: cannot tell\n", name, ret);
		ret = 77;
		goto out;
	}
	while (n < 3 && !io_uring_wait_cqe_timeout(&ring, &cqe, &ts)) {
		order[n] = cqe->user_data;
		res[n++] = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	if (n < 3) {
		printf("%s: %u of 3 CQEs in 5 s: cannot tell\n", name, n);
		ret = 77;
	} else if (order[0] == UD_TIMEOUT && order[1] == UD_DRAIN && order[2] == UD_AFTER) {
		ret = 0;
		if (res[0] != -ETIME || res[1] || res[2]) {
			printf("%s: results %d, %d, %d: cannot tell\n", name, res[0], res[1], res[2]);
			ret = 77;
		}
	} else {
		printf("%s: CQE order %s, %s, %s: the NOP after the drain %s\n", name,
		       ud_names[order[0] % 4], ud_names[order[1] % 4], ud_names[order[2] % 4],
		       order[1] == UD_AFTER || order[0] == UD_AFTER ?
		       "completed before the drained NOP" : "is out of place");
		ret = 1;
	}
out:
	io_uring_queue_exit(&ring);
	return ret;
}

int main(void)
{
	static const struct {
		const char *name;
		unsigned flags;
	} rings[] = {
		{ "plain", 0 },
		{ "defer", IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN },
		{ "sqpoll", IORING_SETUP_SQPOLL },
	};
	int bug = 0, told = 0;

	for (unsigned i = 0; i < sizeof(rings) / sizeof(rings[0]); i++) {
		int r = one_ring(rings[i].name, rings[i].flags);

		bug |= r == 1;
		told += r != 77;
	}
	if (bug)
		return 1;
	if (!told)
		return 77;
	printf("fixed: the NOP after the drain completed after it on every ring\n");
	return 0;
}
