// SPDX-License-Identifier: MIT
/*
 * A thread of a child process sets up three DEFER_TASKRUN rings: A sends
 * itself an IOSQE_ASYNC MSG_RING, B and C send one to each other. Its one
 * bound io-wq worker (IORING_REGISTER_IOWQ_MAX_WORKERS) is blocked first,
 * in an IOSQE_ASYNC openat() of a FIFO, so the messages wait in io-wq. Then
 * the thread exits and the child closes the rings and exits.
 * The thread's exit cancel (io_uring_cancel_generic) waits only for
 * requests holding an io_uring file (REQ_F_INFLIGHT); the queued messages
 * have not looked theirs up yet. io-wq's exit then runs its queued bound
 * work: each MSG_RING takes its target's file and completes into its own
 * ring's local task_work list, which only the gone thread would run. The
 * request there holds the target's file: A holds itself, B and C each
 * other, and no ring of the three is ever freed (6.18, 7.2; 7.3 looks the
 * file up before the punt: doc/bugs/msg-ring-exit-leak.md). kill_midflight
 * met it as rings whose teardown never finished after a SIGKILL.
 * Checks: once the child is reaped, every ring's teardown finishes
 * (teardown probes); the FIFO's open and the messages are accepted.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define NRINGS		3		/* A, B, C */
#define FREED_NS	(2 * NSEC_PER_SEC)	/* teardown takes milliseconds */
#define PROBE_UD	0x9e0000ull

static const char *const ring_what[NRINGS] = {
	"A (to itself)", "B (to C)", "C (to B)",
};
/* Where each ring's message goes. */
static const unsigned target[NRINGS] = { 0, 2, 1 };

struct ctx {
	struct tcase *tc;
	struct teardown_probe probe[NRINGS];
	struct tring r[NRINGS];
	char fifo[64];
};

/* Where the worker sleeps, for -v. */
static const char *worker_wchan(pid_t tid)
{
	static char wchan[64];
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", (int)tid);
	wchan[0] = 0;
	if ((f = fopen(path, "r"))) {
		if (!fgets(wchan, sizeof(wchan), f))
			wchan[0] = 0;
		fclose(f);
	}
	return wchan[0] ? wchan : "?";
}

/* The rings' submitter: it blocks its io-wq worker, queues the messages, exits. */
static void *submitter(struct tw_thread *t)
{
	struct ctx *c = t->arg;
	struct tcase *tc = c->tc;
	unsigned workers[2] = { 1, 1 };	/* bound, unbound */
	struct io_uring_sqe *sqe;
	struct deadline dl;
	pid_t wrk;
	int ret;

	for (unsigned i = 0; i < NRINGS; i++) {
		char name[8];

		snprintf(name, sizeof(name), "%c", 'A' + i);
		if (tring_init(tc, &c->r[i], name, tc->prof, NULL) != V_PASS)
			return NULL;
		if ((ret = probe_arm(&c->probe[i], &c->r[i], PROBE_UD)) < 0) {
			tc_fail(tc, "ring %s: teardown probe: %s", name, strerror(-ret));
			return NULL;
		}
	}
	ret = io_uring_register_iowq_max_workers(&c->r[0].ring, workers);
	if (ret < 0) {
		tc_refused(tc, NEED_IOWQ_MAX_WORKERS, ret, "ring A: io_uring_register_iowq_max_workers");
		return NULL;
	}
	io_uring_prep_openat(sqe = tring_sqe(&c->r[0]), AT_FDCWD, c->fifo, O_RDONLY, 0);
	sqe->flags |= IOSQE_ASYNC;
	if ((ret = io_uring_submit(&c->r[0].ring)) != 1) {
		tc_fail(tc, "ring A: submit of openat(FIFO): %d", ret);
		return NULL;
	}
	/* The worker is in the FIFO's open: the messages queue behind it. */
	dl = tc_deadline(tc);
	while ((wrk = proc_find_thread(getpid(), "iou-wrk-")) <= 0 && !deadline_passed(&dl))
		sched_yield();	/* a bounded poll of /proc, as proc_task_wait_state() */
	if (wrk <= 0 || proc_task_wait_state(wrk, 'S', &dl)) {
		tc_hang(tc, NULL, &c->r[0], "the io-wq worker did not block in open(FIFO)");
		return NULL;
	}
	/* ... unless the open has completed: then nothing holds the messages back. */
	tring_get_events(&c->r[0]);
	if (io_uring_cq_ready(&c->r[0].ring)) {
		tc_fail(tc, "IOSQE_ASYNC openat() of a FIFO nobody writes completed (res %d): "
			"expected it to block the io-wq worker", c->r[0].ring.cq.cqes[0].res);
		return NULL;
	}
	tc_log(tc, "io-wq worker %d sleeps in %s", wrk, worker_wchan(wrk));
	for (unsigned i = 0; i < NRINGS; i++) {
		io_uring_prep_msg_ring(sqe = tring_sqe(&c->r[i]), tring_fd(&c->r[target[i]]), 0,
				       0x100 + i, 0);
		sqe->flags |= IOSQE_ASYNC;
		if ((ret = io_uring_submit(&c->r[i].ring)) != 1)
			tc_fail(tc, "ring %c: submit of MSG_RING: %d", 'A' + i, ret);
	}
	return NULL;	/* the thread exits with the messages still queued */
}

static int child(void *arg)
{
	struct ctx *c = arg;
	struct tw_thread th = { 0 };

	for (unsigned i = 0; i < NRINGS; i++)
		probe_drop_writer(&c->probe[i]);
	if (tw_thread_start(c->tc, &th, "submitter", 0, submitter, c) ||
	    tw_threads_join(c->tc, &th, 1, NULL, NULL) != V_PASS)
		return 1;
	for (unsigned i = 0; i < NRINGS; i++)
		if (c->r[i].ring.ring_fd > 0)
			tring_exit(&c->r[i]);
	return 0;
}

static enum verdict run(struct tcase *tc)
{
	struct ctx c = { .tc = tc };
	char dir[] = "/tmp/tw-msg-exit-leak.XXXXXX";
	struct deadline dl;
	struct child ch;
	char leaked[128] = "";
	unsigned left = 0;

	if (!mkdtemp(dir))
		return tc_fail(tc, "mkdtemp: %s", strerror(errno));
	snprintf(c.fifo, sizeof(c.fifo), "%s/fifo", dir);
	if (mkfifo(c.fifo, 0600)) {
		tc_fail(tc, "mkfifo: %s", strerror(errno));
		goto out_dir;
	}
	for (unsigned i = 0; i < NRINGS; i++) {
		char what[16];

		snprintf(what, sizeof(what), "%s", ring_what[i]);
		if (probe_create(&c.probe[i], what)) {
			tc_fail(tc, "probe pipe: %s", strerror(errno));
			goto out;
		}
	}
	if (proc_spawn(&ch, child, &c)) {
		tc_fail(tc, "fork: %s", strerror(errno));
		goto out;
	}
	for (unsigned i = 0; i < NRINGS; i++)
		probe_drop_reader(&c.probe[i]);
	proc_reap_or_kill(tc, &ch, "the rings' process");
	if (tc_verdict(tc) != V_PASS)
		goto out;
	/* Nothing of ours holds a ring now. */
	dl = deadline_in(FREED_NS);
	for (unsigned i = 0; i < NRINGS; i++) {
		if (probe_wait(&c.probe[i], &dl) != -ETIMEDOUT)
			continue;
		snprintf(leaked + strlen(leaked), sizeof(leaked) - strlen(leaked), "%s%s",
			 left++ ? ", " : "", ring_what[i]);
	}
	if (left)
		tc_fail(tc, "%u of %d DEFER_TASKRUN rings not freed %.1f s after their process "
			"exited: %s. An IOSQE_ASYNC MSG_RING that io-wq ran after its submitter's "
			"exit cancel holds its target's file from the ring's local task_work list "
			"(leak)", left, NRINGS, ns_to_s(FREED_NS), leaked);
out:
	for (unsigned i = 0; i < NRINGS; i++)
		probe_close(&c.probe[i]);
	unlink(c.fifo);
out_dir:
	rmdir(dir);
	return tc_verdict(tc);
}

static const struct scenario regress_msg_exit_leak = {
	.name = "regress_msg_exit_leak",
	.summary = "DEFER_TASKRUN rings whose submitter exits with IOSQE_ASYNC MSG_RINGs among "
		   "them still queued in io-wq are freed",
	/* One DEFER profile: each failing run leaves its rings behind for good. */
	.profiles = PMASK(P_DEFER),
	.run = run,
	.needs = NEED(MSG_RING) | NEED(IOWQ_MAX_WORKERS),
	.fix_commit = "-",
	.fix_subject = "io_uring: io_queue_iowq() looks the file up before the punt, so the "
		       "exit cancel finds a queued MSG_RING (Linux 7.3)",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_msg_exit_leak);
}
