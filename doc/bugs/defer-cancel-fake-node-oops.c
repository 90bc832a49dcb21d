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
 * a race between two CPUs, so it is tried many times: a child arms
 * multishot polls on a pipe in several DEFER_TASKRUN rings and exec()s
 * this program, while a writer process writes (and drains) the pipe in a
 * loop. A bug shows as the kernel tainted D (an oops) or a child that does
 * not exit; neither is waited for.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NRINGS 8	/* rings of the exec'ing child: more windows per exec */
#define NPOLLS 32	/* multishot polls on the pipe, per ring */
#define TAINT_DIE 0x80	/* 'D': the kernel oopsed */

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
				     IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE,
				     .cq_entries = 4096 };

	return io_uring_queue_init_params(NPOLLS, r, &p);
}

/* The child: rings with polls armed on the pipe, then exec (the cancel). */
static void child(int rfd, const char *self)
{
	static struct io_uring rings[NRINGS];

	for (int i = 0; i < NRINGS; i++) {
		if (setup_ring(&rings[i]))
			_exit(2);
		for (int j = 0; j < NPOLLS; j++)
			io_uring_prep_poll_multishot(io_uring_get_sqe(&rings[i]), rfd, POLLIN);
		if (io_uring_submit(&rings[i]) != NPOLLS)
			_exit(3);
	}
	execl(self, self, "image", (char *)NULL);
	_exit(4);
}

/* The writer: every write finds the pipe empty, so it wakes every poll. */
static void writer(int rfd, int wfd)
{
	char c = 'x';

	for (;;) {
		if (write(wfd, &c, 1) == 1 && read(rfd, &c, 1) < 0 && errno != EAGAIN)
			_exit(5);
	}
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
	pid_t w;
	int p[2];

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
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC)) {
		perror("pipe2");
		return 77;
	}
	w = fork();
	if (w == 0)
		writer(p[0], p[1]);
	end = now() + secs;
	while (now() < end) {
		pid_t c = fork();
		int st = 0;

		if (c == 0)
			child(p[0], "/proc/self/exe");
		if (c < 0 || !wait_for(c, 10, &st) || !WIFEXITED(st) || WEXITSTATUS(st)) {
			long t = taint();

			if (t >= 0 && (t & TAINT_DIE))
				printf("BUG: the kernel oopsed (tainted 0x%lx) while a DEFER_TASKRUN "
				       "ring's submitter exec'd with polls being woken, round %lu "
				       "(see the kernel log: __io_req_task_work_add, "
				       "__io_run_local_work)\n", t, rounds);
			else if (c > 0 && !(WIFEXITED(st) && WEXITSTATUS(st) >= 2 &&
					      WEXITSTATUS(st) <= 4))
				printf("BUG: the exec'ing child did not exit within 10 s or died "
				       "(status 0x%x), round %lu\n", st, rounds);
			else {
				printf("cannot tell: the child failed to set up (status 0x%x)\n", st);
				kill(w, SIGKILL);
				return 77;
			}
			kill(w, SIGKILL);	/* not waited for: it may be stuck */
			return 1;
		}
		rounds++;
		if (taint() & TAINT_DIE)
			break;	/* the writer oopsed and the child survived */
	}
	kill(w, SIGKILL);
	if (taint() & TAINT_DIE) {
		printf("BUG: the kernel oopsed (tainted 0x%lx) after %lu rounds of exec with a "
		       "DEFER_TASKRUN ring's polls being woken\n", taint(), rounds);
		return 1;
	}
	if (!wait_for(w, 10, NULL)) {
		printf("BUG: the pipe writer cannot be killed (stuck in the kernel)\n");
		return 1;
	}
	return 0;
}
