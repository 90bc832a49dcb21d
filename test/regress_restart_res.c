// SPDX-License-Identifier: MIT
/*
 * A request that io-wq runs blocking, interrupted: io-wq cancels running
 * work by a notify signal to the worker (__io_wq_worker_cancel() ->
 * __set_notify_signal()), and a sleep in the kernel that the signal ends
 * returns one of the internal restart codes (-ERESTARTSYS = -512, ...).
 * Those must never reach user space: a syscall would be restarted, a
 * request cannot be. Before 7.3 only some handlers mapped them to -EINTR
 * (read/write in rw.c, the socket ops in net.c); others, such as openat,
 * completed with -512. 7.3 maps them in io_issue_sqe() for every request
 * (io_fixup_restart_res()). Shape: an IORING_OP_OPENAT of a FIFO for
 * reading, forced to io-wq (IOSQE_ASYNC, where it is issued blocking:
 * fifo_open() waits for a writer), then an ASYNC_CANCEL of it.
 * Checks: the cancel finds the open running (-EALREADY); the open then
 * completes with -EINTR, not with a restart code.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "lib/reap_ud.h"

#define UD_OPEN		0x0e
#define UD_CANCEL	0xca
#define ERESTART_MAX	512		/* -ERESTARTSYS; the others are -513..-516 */

/* The io-wq worker that runs the open, asleep in it: S, once it exists. */
static int worker_asleep(struct tcase *tc, struct tring *r)
{
	struct deadline dl = tc_deadline(tc);
	pid_t tid;

	/* Made by our task_work on the way out of io_uring_enter(). */
	while ((tid = proc_find_thread(getpid(), "iou-wrk-")) < 0 && deadline_left(&dl))
		sched_yield();
	if (tid < 0 || proc_task_wait_state(tid, 'S', &dl)) {
		tc_hang(tc, NULL, r, "no io-wq worker asleep in the open of a FIFO (%s)",
			tid < 0 ? "none made" : "not asleep");
		return -1;
	}
	return 0;
}

static enum verdict run(struct tcase *tc)
{
	char dir[] = "/tmp/tw-restart-res.XXXXXX", fifo[64];
	static const uint64_t uds[2] = { UD_OPEN, UD_CANCEL };
	struct io_uring_sqe *sqe;
	struct deadline dl;
	int res[2];
	struct tring r;
	enum verdict v;

	if (!mkdtemp(dir))
		return tc_fail(tc, "mkdtemp: %s", strerror(errno));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	if (mkfifo(fifo, 0600)) {
		tc_fail(tc, "mkfifo: %s", strerror(errno));
		goto out_dir;
	}
	v = tring_init(tc, &r, "ring", tc->prof, NULL);
	if (v != V_PASS)
		goto out_fifo;
	/* Blocking in io-wq: O_NONBLOCK is added only to the inline attempt. */
	sqe = tring_sqe(&r);
	io_uring_prep_openat(sqe, AT_FDCWD, fifo, O_RDONLY | O_CLOEXEC, 0);
	sqe->flags |= IOSQE_ASYNC;
	io_uring_sqe_set_data64(sqe, UD_OPEN);
	if (io_uring_submit(&r.ring) != 1) {
		tc_fail(tc, "submit of an OPENAT of a FIFO failed");
		goto out;
	}
	if (worker_asleep(tc, &r))
		goto out;
	sqe = tring_sqe(&r);
	io_uring_prep_cancel64(sqe, UD_OPEN, 0);
	io_uring_sqe_set_data64(sqe, UD_CANCEL);
	dl = tc_deadline(tc);
	if (tring_submit_await(tc, &r, 1, 2, &dl, "the ASYNC_CANCEL of an open in io-wq, and "
			       "the open") != V_PASS)
		goto out;
	reap_ud_init(res, 2);
	if (!reap_ud(tc, &r, uds, res, 2))
		goto out;
	if (res[0] >= 0)
		close(res[0]);
	if (res[0] <= -ERESTART_MAX && res[0] >= -ERESTART_MAX - 4)
		tc_fail(tc, "restart code leaked: an OPENAT of a FIFO interrupted in io-wq by its "
			"cancel completed with %d, an internal restart code (expected -EINTR)",
			res[0]);
	else if (res[1] != -EALREADY || res[0] != -EINTR)
		tc_fail(tc, "cancel of an OPENAT asleep in io-wq: cancel res %d, open res %d; "
			"expected -EALREADY and -EINTR", res[1], res[0]);
out:
	tring_exit(&r);
out_fifo:
	unlink(fifo);
out_dir:
	rmdir(dir);
	return tc_verdict(tc);
}

static const struct scenario regress_restart_res = {
	.name = "regress_restart_res",
	.summary = "a request interrupted in io-wq completes with -EINTR, never with a restart "
		   "code (-ERESTARTSYS)",
	.profiles = PROFILES_ALL,
	.run = run,
	.fix_commit = "-",
	.fix_subject = "io_uring: map the restart codes to -EINTR in io_issue_sqe() for every "
		       "request (Linux 7.3)",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_restart_res);
}
