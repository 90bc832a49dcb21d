// SPDX-License-Identifier: MIT
/*
 * The last reference to an SQPOLL ring is dropped while its SQ thread is
 * stopped (SIGSTOP of the process that owns it; the ring fd was taken over
 * by another process). The ring's exit work (io_ring_exit_work() ->
 * io_ring_ctx_free() -> io_put_sq_data() -> io_sq_thread_stop()) asked the
 * thread to exit and then waited for it: a stopped thread does not run, so
 * the kworker blocked - with the ring, and the exit work of every ring
 * queued behind it - until someone sent SIGCONT. Fixed kernels let the
 * thread exit on its own and free the ring at once.
 * Checks: the ring's teardown finishes while the SQ thread is stopped
 * (teardown probe: a pipe registered as the ring's only fixed file), and
 * the owner exits with status 0. The ring is set up by a thread of the
 * owner that exits before the stop.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/probed_ring.h"
#include "harness.h"

#define PROMPT_NS	(2 * NSEC_PER_SEC)	/* teardown takes milliseconds */

struct shared {
	struct probed_ring probed;	/* the owner's ring, taken by the observer */
	struct tw_event closed;		/* owner: its fd is gone */
	struct tw_event done;		/* observer: the owner may exit */
};

struct ctx {
	struct tcase *tc;
	struct shared *sh;
	struct teardown_probe probe;
	struct tring ring;		/* the owner's */
};

/*
 * A thread of the owner sets the ring up and exits: its do_exit() takes it
 * off the ring's task list. Otherwise the exit work would wait for the
 * stopped owner to run its tctx-node removal (io_tctx_exit_cb), a wait of
 * its own that this test is not about.
 */
static void *setup_thread(struct tw_thread *t)
{
	struct ctx *c = t->arg;

	/* The probe: only a fixed file, no request that teardown must cancel
	 * through the stopped thread. */
	if (tring_init(c->tc, &c->ring, "sqpoll", c->tc->prof, NULL) == V_PASS)
		probed_ring_register(&c->sh->probed, &c->ring, &c->probe);
	return NULL;
}

/* The owner: its SQ thread is what gets stopped. */
static int owner(void *arg)
{
	struct ctx *c = arg;
	struct tw_thread t = { 0 };
	struct deadline dl;

	probe_drop_writer(&c->probe);
	c->sh->probed.err = -1;
	if (!tw_thread_start(c->tc, &t, "setup", 0, setup_thread, c)) {
		dl = tc_deadline(c->tc);
		if (tw_thread_join(&t, &dl))
			c->sh->probed.err = -1;
	}
	if (probed_ring_offer(c->tc, &c->sh->probed, &c->probe))
		return 1;
	tring_exit(&c->ring);
	tw_event_set(&c->sh->closed);
	/* Stay alive (stopped, then continued) until the observer is done:
	 * an exit would end the SQ thread without any stop. */
	dl = deadline_in(6 * c->tc->hang_ns);
	tw_event_wait(&c->sh->done, &dl);
	return harness_seeded("child-exit") ? 3 : 0;
}

static enum verdict run(struct tcase *tc)
{
	struct shared *sh = proc_shared_alloc(sizeof(*sh));
	struct ctx c = { .tc = tc, .sh = sh };
	struct deadline dl;
	struct child ch;
	char what[80];
	pid_t sqt;
	int fd;
	int64_t t0;

	if (!sh || probe_create(&c.probe, "sqpoll ring"))
		return tc_fail(tc, "mmap/probe: %s", strerror(errno));
	if (proc_spawn(&ch, owner, &c))
		return tc_fail(tc, "fork: %s", strerror(errno));
	probe_drop_reader(&c.probe);
	dl = tc_deadline(tc);
	fd = probed_ring_take(tc, &sh->probed, &ch, &dl, "owner", "SQPOLL ring");
	if (fd < 0)
		goto out;
	if (tw_event_wait(&sh->closed, &dl)) {
		tc_hang(tc, NULL, NULL, "the owner did not close its ring fd");
		goto out_fd;
	}
	/* The SQ thread names itself once it first runs: until then, look. */
	while ((sqt = proc_find_thread(ch.pid, "iou-sqp-")) < 0 && !deadline_passed(&dl))
		sched_yield();
	if (sqt < 0) {
		tc_fail(tc, "the owner's SQ thread (iou-sqp-%d) never showed up", ch.pid);
		goto out_fd;
	}
	/* Stop the owner; its SQ thread stops with it (io threads take SIGSTOP). */
	kill(ch.pid, SIGSTOP);
	if (proc_task_wait_state(sqt, 'T', &dl)) {
		snprintf(what, sizeof(what), "SIGSTOP of the owner's SQ thread (state %c, not T)",
			 proc_task_state(sqt));
		tc_refused(tc, NEED_SQ_IO_THREAD, 0, what);
		goto out_fd;
	}
	t0 = now_ns();
	close(fd);
	fd = -1;
	dl = deadline_in(PROMPT_NS);
	if (probe_wait(&c.probe, &dl)) {
		int64_t cont;

		/* Where the exit work waits (kernel stacks need root). */
		diag_dump_uring_kthreads("#   ");
		cont = now_ns();
		kill(ch.pid, SIGCONT);
		dl = tc_deadline(tc);
		if (probe_wait(&c.probe, &dl))
			tc_hang(tc, NULL, NULL, "teardown of an SQPOLL ring did not finish while its "
				"SQ thread was stopped, nor after SIGCONT");
		else
			tc_fail(tc, "teardown of an SQPOLL ring waited for its stopped SQ thread: "
				"not done %.1f s after the last close, done %.3f s after SIGCONT",
				ns_to_s(cont - t0), ns_to_s(now_ns() - cont));
	} else {
		tc_log(tc, "teardown finished %.3f s after the last close, SQ thread stopped",
		       ns_to_s(now_ns() - t0));
	}
out_fd:
	if (fd >= 0)
		close(fd);
out:
	kill(ch.pid, SIGCONT);
	tw_event_set(&sh->done);
	proc_reap_or_kill(tc, &ch, "the ring's owner");
	probe_close(&c.probe);
	munmap(sh, sizeof(*sh));
	return tc_verdict(tc);
}

static const struct scenario regress_sqpoll_stopped = {
	.name = "regress_sqpoll_stopped",
	.summary = "an SQPOLL ring whose SQ thread is stopped (SIGSTOP) is freed when its last "
		   "reference goes, without waiting for SIGCONT",
	.profiles = PMASK(P_SQPOLL),
	.run = run,
	.needs = NEED(SQ_IO_THREAD) | NEED(PIDFD_GETFD),
	.fix_commit = "-",
	.fix_subject = "io_uring/sqpoll: io_sq_thread_stop() doesn't wait for the thread, "
		       "sqd freed by the last of ring and thread (Linux 7.3)",
	.seeded_faults = "  child-exit  the ring's owner exits 3 at the end\n",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_sqpoll_stopped);
}
