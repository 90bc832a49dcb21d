// SPDX-License-Identifier: MIT
/*
 * cc -O2 -Wall -o /tmp/pipe-read-erestartsys doc/bugs/pipe-read-erestartsys.c -luring
 * Suite: test/regress_read_restart.t -p default
 * Says: res -512
 *
 * io_uring (6.1.y): a read of a pipe that runs blocking in an io-wq worker
 * and is cancelled completes with -ERESTARTSYS (-512), a kernel-internal
 * code that must never reach user space (a plain read(2) would restart or
 * return -EINTR).
 *
 * 6.1's pipes have no FMODE_NOWAIT, so io_read() cannot try a pipe without
 * blocking: every attempt from the submitter returns -EAGAIN and re-arms
 * poll; once a poll wake-up has found the pipe readable APOLL_MAX_RETRY
 * times, the read goes to io-wq and blocks there in pipe_read().
 *
 *   1. two reads of 1 byte of an empty pipe (poll armed);
 *   2. one byte into the pipe: both go to io-wq, one gets the byte, the
 *      other blocks in pipe_read();
 *   3. an ASYNC_CANCEL of the blocked one: io-wq signals its worker
 *      (-EALREADY), pipe_read() returns -ERESTARTSYS, and io_read() hands
 *      it back unchanged: io_wq_submit_work() posts it as the read's res.
 *
 * Fixed upstream by ab05caca123c ("io_uring/rw: fix missing ERESTARTSYS
 * conversion in read paths"): doc/bugs/pipe-read-erestartsys.md. Kernels
 * whose pipes have FMODE_NOWAIT (6.4 and later) keep such a read on poll,
 * so the cancel finds it there: this reproducer cannot tell there.
 *
 * Exit status: 0 the cancelled read completed with -EINTR (fixed), 1 with
 * a restart code (bug), 77 it never ran blocking in io-wq (cannot tell).
 */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ATTEMPTS	5
#define UD_CANCEL	3

static int next_cqe(struct io_uring *ring, long ms, __u64 *ud, int *res)
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

/* One attempt, the blocked read given settle_ms to reach pipe_read():
 * 0 fixed, 1 bug, 2 the read was not running in io-wq, 77 cannot tell. */
static int attempt(long settle_ms)
{
	int fds[2], res, ret, read_res = 0, cancel_res = 0;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	char buf[2];
	__u64 ud, other;

	ret = io_uring_queue_init(8, &ring, 0);
	if (ret) {
		printf("io_uring_queue_init: %s: cannot tell\n", strerror(-ret));
		return 77;
	}
	if (pipe(fds)) {
		perror("pipe");
		io_uring_queue_exit(&ring);
		return 77;
	}
	for (unsigned i = 0; i < 2; i++) {
		io_uring_prep_read(sqe = io_uring_get_sqe(&ring), fds[0], &buf[i], 1, 0);
		sqe->user_data = i + 1;
	}
	ret = 77;
	if (io_uring_submit(&ring) != 2 || write(fds[1], "x", 1) != 1) {
		printf("submit or write failed: cannot tell\n");
		goto out;
	}
	if (next_cqe(&ring, 5000, &ud, &res) || (ud != 1 && ud != 2) || res != 1) {
		printf("no read completed with the byte written: cannot tell\n");
		goto out;
	}
	other = 3 - ud;
	/* The other read has no data: nothing may complete while it settles. */
	if (!next_cqe(&ring, settle_ms, &ud, &res)) {
		printf("read %llu completed with res %d without data\n",
		       (unsigned long long)ud, res);
		ret = res <= -512 && res >= -516 ? 1 : 77;
		goto out;
	}
	io_uring_prep_cancel64(sqe = io_uring_get_sqe(&ring), other, 0);
	sqe->user_data = UD_CANCEL;
	io_uring_submit(&ring);
	for (unsigned i = 0; i < 2; i++) {
		if (next_cqe(&ring, 5000, &ud, &res)) {
			printf("read %llu and its cancel: %u of 2 CQEs in 5 s: cannot tell\n",
			       (unsigned long long)other, i);
			goto out;
		}
		if (ud == UD_CANCEL)
			cancel_res = res;
		else
			read_res = res;
	}
	if (read_res <= -512 && read_res >= -516) {
		printf("a pipe read running blocking in io-wq, cancelled (cancel %d), completed "
		       "with res %d (-ERESTARTSYS is -512): expected -EINTR\n", cancel_res,
		       read_res);
		ret = 1;
	} else if (read_res == -EINTR) {
		ret = 0;	/* the cancel said -EALREADY (-ENOENT on 6.1's SQPOLL) */
	} else if (cancel_res == 0 && read_res == -ECANCELED) {
		ret = 2;	/* found on poll or queued: not running */
	} else {
		printf("read %d, cancel %d: unexpected: cannot tell\n", read_res, cancel_res);
	}
out:
	io_uring_queue_exit(&ring);
	close(fds[0]);
	close(fds[1]);
	return ret;
}

int main(void)
{
	long settle_ms = 50;

	for (unsigned i = 0; i < ATTEMPTS; i++, settle_ms *= 2) {
		int ret = attempt(settle_ms);

		if (ret == 0)
			printf("fixed: the cancelled read blocked in io-wq completed with -EINTR\n");
		if (ret != 2)
			return ret;
	}
	printf("in %d attempts the read left without data was never running in io-wq (the "
	       "cancel found it on poll: pipes have FMODE_NOWAIT here?): cannot tell\n",
	       ATTEMPTS);
	return 77;
}
