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
 * Checks: the submitter really exec'd (its new image says so: a closed pipe
 * is not enough), the message is accepted (0, or -EOWNERDEAD), the ring's
 * teardown finishes (teardown probe), and the exec'd submitter exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/probed_ring.h"
#include "harness.h"

/* Set for the exec'd submitter: "<ready write fd> <hold read fd>". */
#define EXEC_ENV	"TW_REGRESS_EXEC_LOCAL_TW"

struct ctx {
	struct tcase *tc;
	struct probed_ring *probed;	/* MAP_SHARED: the submitter's ring */
	struct teardown_probe probe;
	int ready[2];			/* the exec'd submitter says it runs */
	int hold[2];			/* it lives until the write end closes */
};

static int submitter(void *arg)
{
	struct ctx *c = arg;
	struct tring r;
	char env[32];

	probe_drop_writer(&c->probe);
	close(c->ready[0]);
	close(c->hold[1]);
	if (tring_init(c->tc, &r, "defer", c->tc->prof, NULL) == V_PASS)
		probed_ring_register(c->probed, &r, &c->probe);
	else
		c->probed->err = -1;
	if (probed_ring_offer(c->tc, c->probed, &c->probe))
		return 1;
	/* Our fd goes; we stay the ring's submitter task. */
	tring_exit(&r);
	if (harness_seeded("no-exec"))
		return 0;	/* the ready pipe closes without a word */
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
	if (poll(&pfd, 1, 120 * 1000) != 1)
		return 1;
	return harness_seeded("child-exit") ? 3 : 0;
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
	if (tring_submit_await(tc, &src, 1, 1, &dl, "a MSG_RING to the exec'd submitter's "
			       "ring") != V_PASS) {
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
	struct probed_ring *probed = proc_shared_alloc(sizeof(*probed));
	struct ctx c = { .tc = tc, .probed = probed };
	struct pollfd pfd;
	struct deadline dl;
	struct child ch;
	int fd = -1, res;
	char word = 0;

	if (!probed || probe_create(&c.probe, "defer ring") || pipe(c.ready) ||
	    pipe(c.hold))
		return tc_fail(tc, "mmap/pipe: %s", strerror(errno));
	if (proc_spawn(&ch, submitter, &c))
		return tc_fail(tc, "fork: %s", strerror(errno));
	probe_drop_reader(&c.probe);
	close(c.ready[1]);
	close(c.hold[0]);
	dl = tc_deadline(tc);
	fd = probed_ring_take(tc, probed, &ch, &dl, "submitter", "ring");
	if (fd < 0)
		goto out;
	pfd = (struct pollfd){ .fd = c.ready[0], .events = POLLIN };
	if (poll(&pfd, 1, (int)(tc->hang_ns / NSEC_PER_MSEC)) != 1) {
		tc_hang(tc, NULL, NULL, "the submitter did not come back from exec");
		goto out;
	}
	/* POLLHUP alone: it ended (or failed to exec) without a word. */
	if (read(c.ready[0], &word, 1) != 1 || word != 'r') {
		tc_fail(tc, "the submitter did not exec: its ready pipe %s", word ? "said something "
			"else" : "closed without the exec'd image's word");
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
	proc_reap_or_kill(tc, &ch, "the exec'd submitter");
	close(c.ready[0]);
	probe_close(&c.probe);
	munmap(probed, sizeof(*probed));
	return tc_verdict(tc);
}

static const struct scenario regress_exec_local_tw = {
	.name = "regress_exec_local_tw",
	.summary = "a DEFER_TASKRUN ring whose submitter exec'd, with a message queued for it, "
		   "is torn down cleanly",
	.profiles = PROFILES_LOCAL_TW,
	.run = run,
	.needs = NEED(MSG_RING) | NEED(PIDFD_GETFD),
	.fix_commit = "af0a2ffef0e6",
	.fix_subject = "io_uring: avoid normal tw intermediate fallback",
	.seeded_faults = "  child-exit  the exec'd submitter exits 3\n"
			 "  no-exec     the submitter exits 0 instead of exec'ing\n",
};

int main(int argc, char **argv)
{
	const char *env = getenv(EXEC_ENV);

	if (env)
		return exec_image(env);
	return harness_main(argc, argv, &regress_exec_local_tw);
}
