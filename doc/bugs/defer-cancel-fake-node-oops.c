// SPDX-License-Identifier: MIT
/*
 * cc -O2 -Wall -o /tmp/defer-cancel-fake-node-oops doc/bugs/defer-cancel-fake-node-oops.c -luring
 * /tmp/defer-cancel-fake-node-oops [SECONDS]   (default 10: how long to try)
 *
 * 6.1.y: a task that exec()s cancels its io_uring requests with its
 * tctx->in_idle set (io_uring_cancel_generic); for a DEFER_TASKRUN ring it
 * runs the ring's local work there (io_uring_try_cancel_requests ->
 * io_run_local_work), and __io_run_local_work() parks an on-stack "fake"
 * llist_node at the head of ctx->work_llist while it runs. A wake-up from
 * another task at that moment (a pipe write waking a poll) adds to the
 * empty list, sees in_idle and calls io_move_task_work_from_local(), whose
 * llist_del_all() takes the list with the exec'ing task's on-stack node in
 * it: it treats that node as a request (NULL pointer oops in
 * __io_req_task_work_add(), in the writer) and the exec'ing task walks into
 * the NULL its list became (a second oops in __io_run_local_work()). It is
 * a race between two CPUs, so it is tried many times: a child arms oneshot
 * polls on pipes in 64 DEFER_TASKRUN rings (every ring polls every pipe),
 * forks a writer and exec()s this program. The writes must come after the
 * exec's cancel began (a write before it leaves work on the lists, and a
 * non-empty list is never moved): the writer, which shares the rings'
 * memory, waits for the cancel's first CQE, then writes each pipe once.
 * A bug shows as the kernel tainted D (an oops) or a child or writer that
 * does not exit within 10 s; neither is waited for then.
 *
 * Exit status: 0 no oops in the time given (fixed, or not hit), 1 the
 * kernel oopsed or a child hung (bug), 77 cannot tell (no DEFER_TASKRUN,
 * the kernel was tainted D before we started).
 * THE BUG OOPSES THE KERNEL IT RUNS ON: run it in a throwaway VM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NRINGS 64	/* rings of the exec'ing child: a chance per ring per exec */
#define NPIPES 4	/* the writer's pipes, written once each per round */
#define NPER 2		/* oneshot polls per ring per pipe */
#define TAINT_DIE 0x80	/* 'D': the kernel oopsed */

static int pipes[NPIPES][2];

static long taint(void)
{
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");
	long t = -1;

	if (f) {
		if (fscanf(f, "%ld", &t) != 1)
			t = -1;
		fclose(f);
	}
	return t;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int setup_ring(struct io_uring *r)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER |
				     IORING_SETUP_DEFER_TASKRUN };

	return io_uring_queue_init_params(NPIPES * NPER, r, &p);
}

/*
 * The writer, forked by the child once its polls are armed, so that it
 * sees the child's rings: a write before the child's exec cancel leaves
 * work on the lists (a non-empty list is never moved: no window), so it
 * waits for the cancel's first CQE (-ECANCELED, posted once the first
 * ring's polls are cancelled: in_idle is set), then writes one byte into
 * each pipe, each waking the polls of every ring not cancelled yet.
 */
static void writer(struct io_uring *rings)
{
	double end = now() + 5;

	for (;;) {
		for (int i = 0; i < NRINGS; i++)
			if (io_uring_smp_load_acquire(rings[i].cq.ktail))
				goto go;
		if (now() > end)
			_exit(0);	/* no exec: the child says why */
	}
go:
	for (int i = 0; i < NPIPES; i++)
		if (write(pipes[i][1], "x", 1) != 1)
			_exit(5);
	_exit(0);
}

/*
 * The child: every ring has NPER polls armed on every pipe, so one write
 * wakes polls of every ring; it starts the writer and execs. The cancel
 * runs each ring's local work while the writer's wake-ups add to it.
 */
static void child(int report, const char *self)
{
	static struct io_uring rings[NRINGS];
	pid_t w;

	for (int i = 0; i < NRINGS; i++) {
		if (setup_ring(&rings[i]))
			_exit(2);
		for (int j = 0; j < NPIPES * NPER; j++)
			io_uring_prep_poll_add(io_uring_get_sqe(&rings[i]), pipes[j / NPER][0],
					       POLLIN);
		if (io_uring_submit(&rings[i]) != NPIPES * NPER)
			_exit(3);
	}
	w = fork();
	if (w == 0)
		writer(rings);
	if (w < 0 || write(report, &w, sizeof(w)) != sizeof(w))
		_exit(3);
	execl(self, self, "image", (char *)NULL);
	_exit(4);
}

/* Wait for pid up to secs: 1 it exited (status in *st), 0 it did not. */
static int wait_for(pid_t pid, double secs, int *st)
{
	int pfd = syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	if (pfd < 0)	/* no pidfd (before 5.3): not a kernel we look at */
		return waitpid(pid, st, 0) == pid;
	if (poll(&p, 1, (int)(secs * 1000)) != 1) {
		close(pfd);
		return 0;
	}
	close(pfd);
	return waitpid(pid, st, 0) == pid;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 10, end;
	long t0 = taint();
	unsigned long rounds = 0;
	struct io_uring probe;

	if (argc > 1 && !strcmp(argv[1], "image"))
		return 0;	/* the exec'd image: the cancel is behind us */
	if (t0 < 0 || (t0 & TAINT_DIE)) {
		printf("cannot tell: the kernel is tainted 0x%lx already (D: an earlier oops)\n", t0);
		return 77;
	}
	if (setup_ring(&probe)) {
		printf("cannot tell: no IORING_SETUP_DEFER_TASKRUN here\n");
		return 77;
	}
	io_uring_queue_exit(&probe);
	/* The writer is the child's child: reparented to us when it exits. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	end = now() + secs;
	while (now() < end) {
		int report[2], st = 0, wst = 0, i, ok;
		pid_t c, w;

		for (i = 0; i < NPIPES; i++)
			if (pipe2(pipes[i], O_CLOEXEC))
				break;
		if (i < NPIPES || pipe2(report, O_CLOEXEC)) {
			printf("cannot tell: %d pipes: %s\n", NPIPES + 1, strerror(errno));
			return 77;
		}
		w = -1;
		c = fork();
		if (c == 0)
			child(report[1], "/proc/self/exe");
		close(report[1]);
		if (c > 0 && read(report[0], &w, sizeof(w)) != sizeof(w))
			w = -1;
		ok = c > 0 && wait_for(c, 10, &st) && (w < 0 || wait_for(w, 10, &wst));
		if (!ok || !WIFEXITED(st) || WEXITSTATUS(st) || !WIFEXITED(wst) ||
		    WEXITSTATUS(wst)) {
			long t = taint();

			if (t >= 0 && (t & TAINT_DIE))
				printf("BUG: the kernel oopsed (tainted 0x%lx) while a DEFER_TASKRUN "
				       "ring's submitter exec'd with polls being woken, round %lu "
				       "(see the kernel log: __io_req_task_work_add, "
				       "__io_run_local_work)\n", t, rounds);
			else if (ok && WIFEXITED(st) && WEXITSTATUS(st) >= 2 && WEXITSTATUS(st) <= 4) {
				printf("cannot tell: the child failed to set up (status 0x%x)\n", st);
				return 77;
			} else
				printf("BUG: the exec'ing child or the writer did not exit within 10 s "
				       "or died (status 0x%x, 0x%x), round %lu\n", st, wst, rounds);
			kill(c, SIGKILL);	/* neither is waited for: it may be stuck */
			if (w > 0)
				kill(w, SIGKILL);
			return 1;
		}
		for (i = 0; i < NPIPES; i++)
			close(pipes[i][0]), close(pipes[i][1]);
		close(report[0]);
		rounds++;
	}
	if (taint() & TAINT_DIE) {
		printf("BUG: the kernel oopsed (tainted 0x%lx) in %lu rounds of exec with a "
		       "DEFER_TASKRUN ring's polls being woken\n", taint(), rounds);
		return 1;
	}
	if (getenv("REPRO_VERBOSE"))
		fprintf(stderr, "%lu rounds, no oops\n", rounds);
	return 0;
}
