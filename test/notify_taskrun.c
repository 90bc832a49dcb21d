// SPDX-License-Identifier: MIT
/*
 * IORING_SQ_TASKRUN: with IORING_SETUP_TASKRUN_FLAG the kernel raises it in
 * the shared sq_flags when task_work is queued for the ring
 * (io_req_normal_work_add / io_ctx_mark_taskrun) and clears it once the
 * work ran (ctx_flush_and_put / __io_run_local_work). An application that
 * only peeks at the CQ, and enters the kernel only when the flag says so,
 * relies on exactly that. Without the flag it must stay clear. Per round:
 *
 * normal task_work (default, coop, coop_flag, single): a forked child is
 * the submitter (it enables an R_DISABLED ring, so SINGLE_ISSUER is its),
 * arms reads on a socket and stops itself (SIGSTOP: a stopped task runs no
 * task_work, nothing can clear the flag). The parent writes the socket - the
 * wake-ups queue the child's task_work from the parent's context - and
 * must then see the flag set (or clear without TASKRUN_FLAG) through its
 * own mapping of the ring. After SIGCONT the child runs the work on its way
 * back to user space: it must find every CQE posted and the flag cleared
 * without entering the kernel.
 *
 * local task_work (defer, defer_flag): the owner arms reads, a writer
 * thread completes them, and the owner peeks without any system call: the
 * flag must come up (it is all a peek-only application has), must stay
 * clear without TASKRUN_FLAG; one io_uring_enter() then posts every CQE and
 * clears the flag.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define MAX_READS	4

struct round {
	struct tw_event armed, written, done;
	unsigned reads;
	unsigned ready_after;		/* child: CQEs found on resume, no syscall */
	unsigned flags_after;		/* child: sq_flags then */
};

struct notify {
	struct tcase *tc;
	struct ledger *led;
	struct round *rd;		/* MAP_SHARED */
	struct tring ring;
	/* A socketpair, not a pipe: reads on it are poll-driven (task_work) on
	 * every kernel, while pipes only support NOWAIT since 6.x - before,
	 * io_uring reads them blocking in io-wq, with no task_work at all. */
	int sock[2];
	uint64_t buf[MAX_READS];
	bool want_flag;
};

/* One read per stream and round: seq 0, the round is the ledger's generation. */
static void arm_reads(struct notify *n)
{
	for (unsigned i = 0; i < n->rd->reads; i++) {
		struct io_uring_sqe *sqe = tring_sqe(&n->ring);

		io_uring_prep_read(sqe, n->sock[0], &n->buf[i], sizeof(n->buf[i]), 0);
		io_uring_sqe_set_data64(sqe, ledger_ud(n->led, i, 0, 0));
		ledger_sent(n->led, i, 0, 1);
	}
	io_uring_submit(&n->ring.ring);
}

static bool flag_up(struct notify *n)
{
	return tring_sq_flags(&n->ring) & IORING_SQ_TASKRUN;
}

static void check_flag(struct notify *n, const char *when)
{
	if (flag_up(n) != n->want_flag)
		tc_fail(n->tc, "IORING_SQ_TASKRUN is %s %s (sq_flags 0x%x); %s",
			flag_up(n) ? "set" : "clear", when, tring_sq_flags(&n->ring),
			n->want_flag ? "TASKRUN_FLAG promises it while work is pending" :
				       "the ring was set up without TASKRUN_FLAG");
}

static int submitter_child(void *arg)
{
	struct notify *n = arg;
	struct round *rd = n->rd;

	if (tring_enable(&n->ring) < 0)
		return 1;
	arm_reads(n);
	tw_event_set(&rd->armed);
	raise(SIGSTOP);
	/* Back from the stop: the task_work ran on the way to user space. */
	rd->ready_after = io_uring_cq_ready(&n->ring.ring);
	rd->flags_after = tring_sq_flags(&n->ring);
	ledger_reap(n->led, &n->ring);
	tw_event_set(&rd->done);
	return 0;
}

static void stopped_owner_round(struct notify *n, struct rng *rng)
{
	struct tring_opts o = { .extra_flags = IORING_SETUP_R_DISABLED, .attach_wq_fd = -1 };
	struct round *rd = n->rd;
	struct deadline dl;
	struct child c;
	int status;

	memset(rd, 0, sizeof(*rd));
	rd->reads = (unsigned)rng_range(rng, 1, MAX_READS);
	ledger_reset(n->led);
	if (tring_init(n->tc, &n->ring, "ring", n->tc->prof, &o) != V_PASS)
		return;
	if (proc_spawn(&c, submitter_child, n)) {
		tc_fail(n->tc, "fork: %s", strerror(errno));
		goto out;
	}
	dl = tc_deadline(n->tc);
	if (tw_event_wait(&rd->armed, &dl)) {
		tc_hang(n->tc, n->led, &n->ring, "child never armed its reads");
		goto kill;
	}
	while (proc_task_state(c.pid) != 'T' && !deadline_passed(&dl))
		sched_yield();
	if (proc_task_state(c.pid) != 'T') {
		tc_hang(n->tc, NULL, &n->ring, "child %d never stopped", c.pid);
		goto kill;
	}
	/* Our write runs the poll wake-ups that queue the child's task_work. */
	if (write(n->sock[1], n->buf, rd->reads * sizeof(n->buf[0])) < 0)
		tc_fail(n->tc, "socket write: %s", strerror(errno));
	check_flag(n, "while the stopped submitter has task_work queued");
	kill(c.pid, SIGCONT);
	if (tw_event_wait(&rd->done, &dl)) {
		tc_hang(n->tc, n->led, &n->ring, "child never resumed after SIGCONT");
		goto kill;
	}
	if (rd->ready_after != rd->reads)
		tc_fail(n->tc, "lost CQE: the submitter found %u of %u CQEs on resuming, without "
			"entering the kernel", rd->ready_after, rd->reads);
	if (rd->flags_after & IORING_SQ_TASKRUN)
		tc_fail(n->tc, "IORING_SQ_TASKRUN still set (sq_flags 0x%x) after the task_work ran",
			rd->flags_after);
	ledger_verify(n->led);
kill:
	dl = tc_deadline(n->tc);
	if (proc_kill_reap(&c, &dl, &status))
		tc_hang(n->tc, NULL, NULL, "child %d not reaped", c.pid);
out:
	tring_exit(&n->ring);
}

static void *writer(struct tw_thread *t)
{
	struct notify *n = t->arg;
	struct deadline dl = tc_deadline(n->tc);

	if (tw_event_wait(&n->rd->armed, &dl) == 0 &&
	    write(n->sock[1], n->buf, n->rd->reads * sizeof(n->buf[0])) < 0)
		tc_fail(n->tc, "socket write: %s", strerror(errno));
	tw_event_set(&n->rd->written);
	return NULL;
}

/* The peek-only owner: no system call until the flag says so. */
static void peek_round(struct notify *n, struct rng *rng)
{
	struct round *rd = n->rd;
	struct deadline dl;
	struct tw_thread t;

	memset(rd, 0, sizeof(*rd));
	rd->reads = (unsigned)rng_range(rng, 1, MAX_READS);
	ledger_reset(n->led);
	arm_reads(n);
	if (tw_thread_start(n->tc, &t, "writer", 0, writer, n)) {
		tc_fail(n->tc, "pthread_create failed");
		return;
	}
	tw_event_set(&rd->armed);
	dl = tc_deadline(n->tc);
	while (!tw_event_is_set(&rd->written) && !deadline_passed(&dl))
		;	/* spin: a futex wait would enter the kernel */
	check_flag(n, "after the writer queued local task_work, before any enter");
	tring_get_events(&n->ring);
	if (io_uring_cq_ready(&n->ring.ring) != rd->reads)
		tc_fail(n->tc, "lost CQE: %u of %u CQEs after entering the kernel once",
			io_uring_cq_ready(&n->ring.ring), rd->reads);
	if (flag_up(n))
		tc_fail(n->tc, "IORING_SQ_TASKRUN still set (sq_flags 0x%x) after the local work ran",
			tring_sq_flags(&n->ring));
	ledger_reap(n->led, &n->ring);
	ledger_verify(n->led);
	dl = tc_deadline(n->tc);
	if (tw_thread_join(&t, &dl))
		tc_hang(n->tc, n->led, &n->ring, "writer did not finish");
}

static enum verdict run(struct tcase *tc)
{
	struct notify n = { .tc = tc };
	bool local = tc->prof->props & PROF_LOCAL_TW;
	struct deadline end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	uint32_t round = 0;
	struct rng rng;
	enum verdict v;

	n.want_flag = tc->prof->props & PROF_TASKRUN_FLAG;
	n.rd = proc_shared_alloc(sizeof(*n.rd));
	n.led = ledger_new(tc, "reads", MAX_READS, 1, 1, 0);
	if (!n.rd || !n.led || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, n.sock))
		return tc_fail(tc, "set-up: %s", strerror(errno));
	rng_seed(&rng, tc->seed, 0);
	if (local) {
		v = tring_init(tc, &n.ring, "ring", tc->prof, NULL);
		if (v != V_PASS)
			return v;
	} else {
		/* Set the profile up once here: a refusal is judged once (needs.c). */
		v = tring_init(tc, &n.ring, "ring", tc->prof, NULL);
		if (v != V_PASS)
			return v;
		tring_exit(&n.ring);
	}
	do {
		if (local)
			peek_round(&n, &rng);
		else
			stopped_owner_round(&n, &rng);
	} while (++round < 1u << 20 && !tc_failed(tc) && !deadline_passed(&end));
	tc_log(tc, "%u rounds", round);
	if (local)
		tring_exit(&n.ring);
	return tc_verdict(tc);
}

static const struct scenario notify_taskrun = {
	.name = "notify_taskrun",
	.summary = "IORING_SQ_TASKRUN is raised while task_work is pending, cleared once it ran, "
		   "never set without TASKRUN_FLAG; a peek-only owner makes progress",
	.profiles = PROFILES_ALL & ~PMASK(P_SQPOLL),
	.run = run,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &notify_taskrun);
}
