// SPDX-License-Identifier: MIT
/*
 * A read of a pipe that runs blocking in an io-wq worker, cancelled, must
 * complete with -EINTR: -ERESTARTSYS (-512) and the other restart codes are
 * kernel-internal and never reach user space. 6.1's pipes have no
 * FMODE_NOWAIT, so io_read() answers every attempt from the submitter with
 * -EAGAIN and re-arms poll; after APOLL_MAX_RETRY wake-ups that found the
 * pipe readable the read goes to io-wq and blocks in pipe_read(). Two reads
 * of an empty pipe, then one byte: both go to io-wq, one takes the byte,
 * the other blocks. An ASYNC_CANCEL of that one signals its worker
 * (-EALREADY); pipe_read() returns -ERESTARTSYS, which 6.1's io_read()
 * hands back unchanged and io_wq_submit_work() posts as the read's res.
 * Fixed upstream by ab05caca123c (io_read() maps the restart codes to
 * -EINTR); doc/bugs/pipe-read-erestartsys.md. Kernels whose pipes have
 * FMODE_NOWAIT (6.4 and later) keep such a read on poll, where the cancel
 * finds it (-ECANCELED): the case is a skip there, after a few attempts.
 * Checks: the first read gets the byte; the other does not complete
 * without data; cancelled while it runs in io-wq it completes with -EINTR
 * (what the cancel itself returns is not this test's business).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define ATTEMPTS	5
#define SETTLE_NS	(50 * NSEC_PER_MSEC)	/* doubled every attempt */
#define UD_CANCEL	3

static bool restart_code(int32_t res)
{
	return res <= -512 && res >= -516;	/* ERESTARTSYS .. ERESTART_RESTARTBLOCK */
}

/* The next CQE: its user_data and res; false at the deadline. */
static bool next_cqe(struct tring *r, const struct deadline *dl, uint64_t *ud, int32_t *res)
{
	struct io_uring_cqe *cqe;

	if (tring_wait_ready(r, 1, dl))
		return false;
	io_uring_peek_cqe(&r->ring, &cqe);
	*ud = cqe->user_data;
	*res = cqe->res;
	io_uring_cqe_seen(&r->ring, cqe);
	return true;
}

/* Cancel the read left without data after settle_ns; true if it was
 * running in io-wq then (the case was decided), false to try again. */
static bool cancel_blocked(struct tcase *tc, struct tring *r, uint64_t other, int64_t settle_ns)
{
	int32_t res, read_res = 0, cancel_res = 0;
	struct io_uring_sqe *sqe;
	struct deadline dl;
	uint64_t ud;

	dl = deadline_in(settle_ns);
	if (next_cqe(r, &dl, &ud, &res)) {
		tc_fail(tc, "read %llu completed with res %d%s without data",
			(unsigned long long)ud, res, restart_code(res) ? " (a restart code)" : "");
		return true;
	}
	io_uring_prep_cancel64(sqe = tring_sqe(r), other, 0);
	io_uring_sqe_set_data64(sqe, UD_CANCEL);
	dl = tc_deadline(tc);
	if (tring_submit_await(tc, r, 1, 2, &dl, "a read and its ASYNC_CANCEL") != V_PASS)
		return true;
	for (unsigned i = 0; i < 2 && next_cqe(r, &dl, &ud, &res); i++)
		*(ud == UD_CANCEL ? &cancel_res : &read_res) = res;
	if (cancel_res == 0 && read_res == -ECANCELED)
		return false;	/* found on poll or queued: not running yet */
	if (restart_code(read_res))
		tc_fail(tc, "a pipe read blocked in io-wq, cancelled (cancel %d), completed with "
			"res %d, a kernel-internal restart code (-ERESTARTSYS is -512); expected "
			"-EINTR", cancel_res, read_res);
	else if (read_res != -EINTR)
		tc_fail(tc, "a pipe read cancelled while it ran in io-wq: read %d, cancel %d; "
			"expected -EINTR (or -ECANCELED and 0 if it was not running)", read_res,
			cancel_res);
	/* The cancel says -EALREADY, or on 6.1's SQPOLL rings -ENOENT: not checked. */
	return true;
}

/* One attempt: true once the case is decided. */
static bool attempt(struct tcase *tc, int64_t settle_ns)
{
	struct io_uring_sqe *sqe;
	bool decided = true;
	struct deadline dl;
	struct tring r;
	int32_t res = 0;
	uint64_t ud = 0;
	char buf[2];
	int fds[2];

	if (tring_init(tc, &r, "ring", tc->prof, NULL) != V_PASS)
		return true;
	if (pipe(fds)) {
		tring_exit(&r);
		tc_fail(tc, "pipe: %s", strerror(errno));
		return true;
	}
	for (unsigned i = 0; i < 2; i++) {
		io_uring_prep_read(sqe = tring_sqe(&r), fds[0], &buf[i], 1, 0);
		io_uring_sqe_set_data64(sqe, i + 1);
	}
	dl = tc_deadline(tc);
	if (io_uring_submit(&r.ring) != 2 || write(fds[1], "x", 1) != 1) {
		tc_fail(tc, "submit of two pipe reads, or the write of a byte, failed");
	} else if (tring_await(tc, &r, 1, &dl, "a read of a pipe with a byte in it") == V_PASS) {
		if (!next_cqe(&r, &dl, &ud, &res) || (ud != 1 && ud != 2) || res != 1)
			tc_fail(tc, "first CQE: ud %llu res %d, expected a read with 1 byte",
				(unsigned long long)ud, res);
		else
			decided = cancel_blocked(tc, &r, 3 - ud, settle_ns);
	}
	tring_exit(&r);
	close(fds[0]);
	close(fds[1]);
	return decided;
}

static enum verdict run(struct tcase *tc)
{
	int64_t settle_ns = SETTLE_NS;

	for (unsigned i = 0; i < ATTEMPTS; i++, settle_ns *= 2)
		if (attempt(tc, settle_ns))
			return tc_verdict(tc);
	return tc_skip(tc, "in %d attempts the pipe read left without data was never running "
		       "in io-wq (the cancel found it on poll: pipes support NOWAIT here)", ATTEMPTS);
}

static const struct scenario regress_read_restart = {
	.name = "regress_read_restart",
	.summary = "a pipe read blocked in io-wq and cancelled completes with -EINTR, never a "
		   "restart code (-ERESTARTSYS)",
	/* io-wq is the ring's, whatever the task_work: one profile of each kind. */
	.profiles = PMASK(P_DEFAULT) | PMASK(P_DEFER) | PMASK(P_SQPOLL),
	.run = run,
	.fix_commit = "ab05caca123c",
	.fix_subject = "io_uring/rw: fix missing ERESTARTSYS conversion in read paths",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_read_restart);
}
