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
 * polls on pipes in 64 DEFER_TASKRUN rings (every ring polls every pipe)
 * and exec()s this program, while a writer process writes each pipe once.
 * The writes must come after the exec's cancel began (a write before it
 * leaves work on the lists, and a non-empty list is never moved), so the
 * writer's delay after the child's word sweeps the time an exec takes.
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
#define SWEEP 32	/* rounds per sweep of the writer's delay */
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
 * The child: every ring has NPER polls armed on every pipe, so one write
 * wakes polls of every ring; then exec. The cancel runs each ring's local
 * work while the writer's wake-ups add to it.
 */
static void child(int ready, int report, const char *self)
{
	static struct io_uring rings[NRINGS];
	char fd[16];
	double t;

	for (int i = 0; i < NRINGS; i++) {
		if (setup_ring(&rings[i]))
			_exit(2);
		for (int j = 0; j < NPIPES * NPER; j++)
			io_uring_prep_poll_add(io_uring_get_sqe(&rings[i]), pipes[j / NPER][0],
					       POLLIN);
		if (io_uring_submit(&rings[i]) != NPIPES * NPER)
			_exit(3);
	}
	snprintf(fd, sizeof(fd), "%d", report);
	t = now();
	if (write(report, &t, sizeof(t)) != sizeof(t) || write(ready, &t, sizeof(t)) != sizeof(t))
		_exit(3);
	execl(self, self, "image", fd, (char *)NULL);
	_exit(4);
}

/* The exec'd image: when it runs, for the next rounds' timing. */
static int image(const char *fd)
{
	double t = now();

	return write(atoi(fd), &t, sizeof(t)) == sizeof(t) ? 0 : 6;
}

/*
 * The writer: a write before the child's cancel leaves work on the lists
 * (a non-empty list is never moved: no window), so the first write must
 * come just after the cancel began. When that is is not known: the delay
 * after the child's word sweeps [0, the time its exec took last) over
 * SWEEP rounds. Then one byte into each pipe, each waking every ring.
 */
static void writer(int ready, double span, unsigned long round)
{
	struct pollfd p = { .fd = ready, .events = POLLIN };
	double t;

	if (poll(&p, 1, 10000) != 1 || read(ready, &t, sizeof(t)) != sizeof(t))
		_exit(0);	/* the child failed: it says why */
	t += span * (round % SWEEP) / SWEEP;
	while (now() < t)
		;
	for (int i = 0; i < NPIPES; i++)
		if (write(pipes[i][1], "x", 1) != 1)
			_exit(5);
	_exit(0);
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
	double span = 1e-3;	/* how long an exec took, ready to image */

	if (argc > 2 && !strcmp(argv[1], "image"))
		return image(argv[2]);	/* the cancel is behind us */
	if (t0 < 0 || (t0 & TAINT_DIE)) {
		printf("cannot tell: the kernel is tainted 0x%lx already (D: an earlier oops)\n", t0);
		return 77;
	}
	if (setup_ring(&probe)) {
		printf("cannot tell: no IORING_SETUP_DEFER_TASKRUN here\n");
		return 77;
	}
	io_uring_queue_exit(&probe);
	end = now() + secs;
	while (now() < end) {
		double t[2];
		int ready[2], report[2], st = 0, wst = 0, i, ok;
		pid_t c, w;

		for (i = 0; i < NPIPES; i++)
			if (pipe2(pipes[i], O_CLOEXEC))
				break;
		if (i < NPIPES || pipe2(ready, O_CLOEXEC) || pipe2(report, O_NONBLOCK)) {
			printf("cannot tell: %d pipes: %s\n", NPIPES + 1, strerror(errno));
			return 77;
		}
		w = fork();
		if (w == 0)
			writer(ready[0], span, rounds);
		c = fork();
		if (c == 0)
			child(ready[1], report[1], "/proc/self/exe");
		ok = c > 0 && w > 0 && wait_for(c, 10, &st) && wait_for(w, 10, &wst);
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
			kill(w, SIGKILL);
			return 1;
		}
		for (i = 0; i < NPIPES; i++)
			close(pipes[i][0]), close(pipes[i][1]);
		if (read(report[0], t, sizeof(t)) == sizeof(t))	/* ready, image */
			span = span * 0.75 + 0.25 * (t[1] - t[0]);
		close(ready[0]);
		close(ready[1]);
		close(report[0]);
		close(report[1]);
		rounds++;
	}
	if (taint() & TAINT_DIE) {
		printf("BUG: the kernel oopsed (tainted 0x%lx) in %lu rounds of exec with a "
		       "DEFER_TASKRUN ring's polls being woken\n", taint(), rounds);
		return 1;
	}
	if (getenv("REPRO_VERBOSE"))
		fprintf(stderr, "%lu rounds, no oops (exec: %.0f us)\n", rounds, span * 1e6);
	return 0;
}
