// SPDX-License-Identifier: MIT
/*
 * The submitter of a DEFER_TASKRUN ring exec()s - io_uring_task_cancel()
 * frees its io_uring_task - and lives on, while another process keeps the
 * ring. A MSG_RING to the ring is then local task_work for the submitter,
 * which no longer runs it. When the last reference goes, the ring's exit
 * work moves that work off the ring: 6.12's io_move_task_work_from_local()
 * queued it as normal task_work on the submitter's freed io_uring_task (a
 * NULL pointer oops in the kworker, and the ring was never freed). Fixed
 * kernels hand it to the fallback work, which cancels it.
 * Checks: the message is accepted (0, or -EOWNERDEAD), the ring's teardown
 * finishes (teardown probe), and the exec'd submitter is reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/fdpass.h"
#include "harness.h"

/* Set for the exec'd submitter: "<ready write fd> <hold read fd>". */
#define EXEC_ENV	"TW_REGRESS_EXEC_LOCAL_TW"

struct shared {
	struct tw_event ready;		/* submitter: ring set up */
	struct tw_event taken;		/* observer: has its own reference */
	int ring_fd;
	int err;
};

struct ctx {
	struct tcase *tc;
	struct shared *sh;
	struct teardown_probe probe;
	int ready[2];			/* the exec'd submitter says it runs */
	int hold[2];			/* it lives until the write end closes */
};

static int submitter(void *arg)
{
	struct ctx *c = arg;
	struct deadline dl;
	struct tring r;
	char env[32];

	probe_drop_writer(&c->probe);
	close(c->ready[0]);
	close(c->hold[1]);
	if (tring_init(c->tc, &r, "defer", c->tc->prof, NULL) != V_PASS) {
		c->sh->err = -1;
		tw_event_set(&c->sh->ready);
		return 1;
	}
	c->sh->err = io_uring_register_files(&r.ring, &c->probe.rfd, 1);
	probe_drop_reader(&c->probe);
	c->sh->ring_fd = tring_fd(&r);
	tw_event_set(&c->sh->ready);
	dl = tc_deadline(c->tc);
	if (c->sh->err || tw_event_wait(&c->sh->taken, &dl))
		return 1;
	/* Our fd goes; we stay the ring's submitter task. */
	tring_exit(&r);
	snprintf(env, sizeof(env), "%d %d", c->ready[1], c->hold[0]);
	setenv(EXEC_ENV, env, 1);
	execl("/proc/self/exe", "regress-exec-local-tw", (char *)NULL);
	tc_fail(c->tc, "execl(/proc/self/exe): %s", strerror(errno));
	return 1;
}

/* The exec'd submitter: say so, then wait (bounded) to be let go. */
static int exec_image(const char *env)
{
	int ready_fd, hold_fd;
	struct pollfd pfd;

	if (sscanf(env, "%d %d", &ready_fd, &hold_fd) != 2 || write(ready_fd, "r", 1) != 1)
		return 1;
	pfd = (struct pollfd){ .fd = hold_fd, .events = POLLIN };
	return poll(&pfd, 1, 120 * 1000) == 1 ? 0 : 1;
}

static int send_msg(struct tcase *tc, int ring_fd, int *res)
{
	struct io_uring_cqe *cqe;
	struct deadline dl;
	struct tring src;

	if (tring_init(tc, &src, "sender", &profiles[P_DEFAULT], NULL) != V_PASS)
		return -1;
	io_uring_prep_msg_ring(tring_sqe(&src), ring_fd, 7, 0x77, 0);
	dl = tc_deadline(tc);
	if (io_uring_submit(&src.ring) != 1 || tring_wait_ready(&src, 1, &dl)) {
		tc_hang(tc, NULL, &src, "MSG_RING to the exec'd submitter's ring did not complete");
		tring_exit(&src);
		return -1;
	}
	io_uring_peek_cqe(&src.ring, &cqe);
	*res = cqe->res;
	tring_exit(&src);
	return 0;
}

static enum verdict run(struct tcase *tc)
{
	struct shared *sh = proc_shared_alloc(sizeof(*sh));
	struct ctx c = { .tc = tc, .sh = sh };
	struct pollfd pfd;
	struct deadline dl;
	struct child ch;
	int fd = -1, res, status;

	if (!kernel_has_op(IORING_OP_MSG_RING))
		return tc_skip(tc, "IORING_OP_MSG_RING not supported (Linux 5.18+)");
	if (!sh || probe_create(&c.probe, "defer ring") || pipe(c.ready) ||
	    pipe(c.hold))
		return tc_fail(tc, "mmap/pipe: %s", strerror(errno));
	if (proc_spawn(&ch, submitter, &c))
		return tc_fail(tc, "fork: %s", strerror(errno));
	probe_drop_reader(&c.probe);
	close(c.ready[1]);
	close(c.hold[0]);
	dl = tc_deadline(tc);
	if (tw_event_wait(&sh->ready, &dl)) {
		tc_hang(tc, NULL, NULL, "the submitter did not set up its ring");
		goto out;
	}
	if (sh->err) {
		if (tc_verdict(tc) == V_PASS)
			tc_fail(tc, "registering the probe as a fixed file: %s", strerror(-sh->err));
		goto out;
	}
	fd = fdpass_take(ch.pidfd, sh->ring_fd);
	if (fd < 0) {
		tc_skip(tc, "cannot take the submitter's ring fd (pidfd_getfd): %s", strerror(-fd));
		goto out;
	}
	tw_event_set(&sh->taken);
	pfd = (struct pollfd){ .fd = c.ready[0], .events = POLLIN };
	if (poll(&pfd, 1, (int)(tc->hang_ns / NSEC_PER_MSEC)) != 1) {
		tc_hang(tc, NULL, NULL, "the submitter did not come back from exec");
		goto out;
	}
	/* Local task_work for a task that exec'd: only teardown can end it. */
	if (send_msg(tc, fd, &res))
		goto out;
	if (res != 0 && res != -EOWNERDEAD)
		tc_fail(tc, "MSG_RING to the ring of an exec'd submitter: %s, expected 0 or "
			"-EOWNERDEAD", strerror(-res));
	close(fd);
	fd = -1;
	dl = tc_deadline(tc);
	if (probe_wait(&c.probe, &dl))
		tc_hang(tc, NULL, NULL, "teardown of a DEFER_TASKRUN ring whose submitter exec'd, "
			"with a message pending for it, did not finish");
out:
	if (fd >= 0)
		close(fd);
	close(c.hold[1]);
	dl = tc_deadline(tc);
	if (proc_reap(&ch, &dl, &status) && proc_kill_reap(&ch, &dl, &status))
		tc_hang(tc, NULL, NULL, "the exec'd submitter (pid %d) could not be reaped", ch.pid);
	close(c.ready[0]);
	probe_close(&c.probe);
	munmap(sh, sizeof(*sh));
	return tc_verdict(tc);
}

static const struct scenario regress_exec_local_tw = {
	.name = "regress_exec_local_tw",
	.summary = "a DEFER_TASKRUN ring whose submitter exec'd, with a message queued for it, "
		   "is torn down cleanly",
	.profiles = PROFILES_LOCAL_TW,
	.run = run,
	.fix_commit = "af0a2ffef0e6",
	.fix_subject = "io_uring: avoid normal tw intermediate fallback",
};

int main(int argc, char **argv)
{
	const char *env = getenv(EXEC_ENV);

	if (env)
		return exec_image(env);
	return harness_main(argc, argv, &regress_exec_local_tw);
}
