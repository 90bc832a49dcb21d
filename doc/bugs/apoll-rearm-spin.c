// SPDX-License-Identifier: MIT
/*
 * cc -O2 -Wall -o /tmp/apoll-rearm-spin doc/bugs/apoll-rearm-spin.c -luring
 * Suite: test/regress_apoll_rearm.t -p defer_flag
 * Says: spin: .* ran [0-9.]+ s without returning \(running in
 *
 * io_uring (6.1.y): once a request has used up its poll re-arm budget
 * (APOLL_MAX_RETRY), the budget goes negative and the request is re-armed
 * for ever. A read of a pipe (no FMODE_NOWAIT on 6.1) that io-wq armed
 * again then spins in the submitter's task_work - io_queue_async() ->
 * io_arm_poll_handler() says ready, io_req_task_queue(), again - whenever
 * the pipe holds data: on a DEFER_TASKRUN ring inside io_uring_enter(),
 * without a reschedule point (soft lockup, RCU stall), deaf to SIGKILL.
 *
 * A child process owns an IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN |
 * TASKRUN_FLAG ring with one IOSQE_ASYNC read of an empty pipe; io-wq arms
 * poll for it. ROUNDS times: write a byte (the poll fires), read it back
 * through another open file of the pipe, io_uring_get_events() (the read
 * retries, finds nothing, re-arms: one retry used). ROUNDS is more than
 * the kernel's budget (128). Then a byte is written and left there, and
 * the child calls io_uring_get_events() once more, watched by the parent
 * (pinned to another CPU): a fixed kernel returns and the read completes
 * with the byte; 6.1.176 spins. The parent sees the child running in the
 * kernel, drains the pipe (the re-arm then finds it empty and the loop
 * ends) and reports.
 *
 * Exit status: 0 the read completed (fixed), 1 the submitter spun in the
 * kernel (bug), 77 cannot tell (fewer than 2 CPUs, no DEFER_TASKRUN, ...).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS		200	/* more than APOLL_MAX_RETRY (128) */
#define SETTLE_NS	1000000000LL	/* io-wq arms poll in microseconds */
#define RETURN_NS	2000000000LL	/* io_uring_get_events() takes microseconds */
#define SAMPLE_NS	1000000000LL	/* how long the parent watches the spin */
#define READ_UD		7
#define OP_READ		22		/* IORING_OP_READ, as fdinfo prints it */

enum outcome { O_NONE, O_FIXED, O_CANNOT };

struct shared {
	volatile int phase;		/* 0 rounds, 1 in the last get_events, 2 returned */
	volatile int drained;		/* the parent took the byte */
	volatile int outcome;
	char msg[256];
};

static struct shared *sh;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void pause_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

static void report(enum outcome o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void report(enum outcome o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sh->msg, sizeof(sh->msg), fmt, ap);
	va_end(ap);
	sh->outcome = o;
}

/* Is the read armed on the pipe? The ring's fdinfo lists it under PollList. */
static int read_armed(int ring_fd)
{
	char path[64], line[128];
	int in_list = 0, armed = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ring_fd);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		int op;

		if (!strncmp(line, "PollList:", 9))
			in_list = 1;
		else if (in_list && sscanf(line, " op=%d,", &op) == 1)
			armed |= op == OP_READ;
		else if (in_list)
			in_list = 0;
	}
	fclose(f);
	return armed;
}

static int cqe_ready(struct io_uring *ring, int *res)
{
	struct io_uring_cqe *cqe;

	if (io_uring_peek_cqe(ring, &cqe))
		return 0;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 1;
}

/* Wait for the read's CQE a while. */
static int wait_cqe_ns(struct io_uring *ring, long long ns, int *res)
{
	struct __kernel_timespec ts = { ns / 1000000000LL, ns % 1000000000LL };
	struct io_uring_cqe *cqe;

	if (io_uring_wait_cqe_timeout(ring, &cqe, &ts))
		return 0;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 1;
}

static int child(int rfd, int wfd, int drain_fd)
{
	unsigned flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	static char buf[1];
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	char byte = 'x';
	int ret, res, round;

	ret = io_uring_queue_init(8, &ring, flags);
	if (ret < 0)
		return report(O_CANNOT, "no DEFER_TASKRUN ring: %s", strerror(-ret)), 0;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_read(sqe, rfd, buf, 1, 0);
	sqe->flags |= IOSQE_ASYNC;	/* io-wq: it arms poll from there */
	sqe->user_data = READ_UD;
	if ((ret = io_uring_submit(&ring)) != 1)
		return report(O_CANNOT, "submit: %d", ret), 0;
	for (round = 0;; round++) {
		long long t0 = now_ns();
		int armed;

		/* Armed, by the task or by io-wq (that one takes a moment)? */
		while (!(armed = read_armed(ring.ring_fd)) && now_ns() - t0 < SETTLE_NS)
			pause_us(100);
		if (cqe_ready(&ring, &res))
			return report(O_CANNOT, "round %d: the read completed (res %d) before "
				      "any data", round, res), 0;
		if (write(wfd, &byte, 1) != 1)
			return report(O_CANNOT, "write: %s", strerror(errno)), 0;
		if (!armed) {
			/* Not armed: the read waits in io-wq, blocking, and gets the byte. */
			if (!wait_cqe_ns(&ring, RETURN_NS, &res) || res != 1)
				return report(O_CANNOT, "round %d: not armed, and no CQE with the "
					      "byte", round), 0;
			return report(O_FIXED, "the read gave up polling after %d wake-ups and "
				      "completed in io-wq", round), 0;
		}
		if (round == ROUNDS)
			break;
		/* Take the byte back: the retry finds the pipe empty and re-arms. */
		if (read(drain_fd, &byte, 1) != 1)
			return report(O_CANNOT, "round %d: drain: %s", round, strerror(errno)), 0;
		io_uring_get_events(&ring);
		if (cqe_ready(&ring, &res))
			return report(O_CANNOT, "round %d: the read completed (res %d) with the "
				      "pipe empty", round, res), 0;
	}
	/* Still re-armed after ROUNDS wake-ups; this time the byte stays. */
	sh->phase = 1;
	io_uring_get_events(&ring);
	sh->phase = 2;
	if (sh->drained)
		return 0;	/* the parent reports */
	if (!wait_cqe_ns(&ring, RETURN_NS, &res))
		return report(O_CANNOT, "the last retry returned, the read did not complete"), 0;
	if (res != 1)
		return report(O_CANNOT, "the read completed with res %d, not 1", res), 0;
	return report(O_FIXED, "the read completed in the submitter's task_work after %d "
		      "re-arms", ROUNDS), 0;
}

/* A task's state letter and voluntary context switches, from /proc. */
static int task_state(pid_t pid, char *state, long *nvcsw)
{
	char path[64], line[128];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		found += sscanf(line, "State: %c", state) == 1;
		found += sscanf(line, "voluntary_ctxt_switches: %ld", nvcsw) == 1;
	}
	fclose(f);
	return found == 2 ? 0 : -1;
}

/* Two CPUs we may run on: the child's and the parent's. */
static int pick_cpus(int cpu[2])
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (int i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &set))
			cpu[n++] = i;
	return n == 2 ? 0 : -1;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * The child is in its last io_uring_get_events() (phase 1). Give it
 * RETURN_NS; then look at it for SAMPLE_NS: running in every look and no
 * voluntary context switch is a spin in the kernel. Then drain the pipe
 * (the re-arm finds it empty and the loop ends) and see it return.
 */
static int watch_last_retry(pid_t pid, int drain_fd)
{
	long long t_enter = now_ns(), t_drain;
	int looks = 0, running = 0, status;
	long nvcsw0 = -1, nvcsw = -1;
	char state, byte;

	while (sh->phase < 2 && now_ns() - t_enter < RETURN_NS)
		pause_us(1000);
	if (sh->phase >= 2)
		return waitpid(pid, &status, 0), -1;	/* the child reports */
	for (long long t0 = now_ns(); now_ns() - t0 < SAMPLE_NS; looks++) {
		if (task_state(pid, &state, &nvcsw))
			break;
		if (nvcsw0 < 0)
			nvcsw0 = nvcsw;
		running += state == 'R';
		pause_us(10000);
	}
	sh->drained = 1;
	t_drain = now_ns();
	if (read(drain_fd, &byte, 1) != 1)
		perror("drain");
	while (sh->phase < 2 && now_ns() - t_drain < RETURN_NS)
		pause_us(100);
	if (running < looks || nvcsw != nvcsw0 || !looks) {
		printf("cannot tell: io_uring_get_events() had not returned after %.1f s, but it "
		       "was not spinning (running in %d of %d looks, %ld voluntary context "
		       "switches)\n", RETURN_NS / 1e9, running, looks, nvcsw - nvcsw0);
	} else {
		printf("bug: spin: io_uring_get_events() ran %.1f s without returning (running "
		       "in %d of %d looks over the last %.1f s, no voluntary context switch): an "
		       "IOSQE_ASYNC read of a pipe holding a byte re-armed its poll again and "
		       "again (woken %d times before, the byte taken back each time); ",
		       (t_drain - t_enter) / 1e9, running, looks, SAMPLE_NS / 1e9, ROUNDS);
	}
	if (sh->phase < 2) {
		printf("still not returned %.1f s after the pipe was drained: the child (pid %d) "
		       "is left behind\n", RETURN_NS / 1e9, (int)pid);
		kill(pid, SIGKILL);
		return running == looks && looks ? 1 : 77;	/* not waited for */
	}
	printf("it returned %.1f ms after the pipe was drained from another process\n",
	       (now_ns() - t_drain) / 1e6);
	waitpid(pid, &status, 0);
	return running == looks && looks && nvcsw == nvcsw0 ? 1 : 77;
}

int main(void)
{
	int p[2], drain_fd, cpu[2], status, ret;
	char path[64];
	pid_t pid;

	if (pick_cpus(cpu)) {
		printf("cannot tell: needs 2 CPUs (the child spins on one)\n");
		return 77;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || pipe(p))
		return perror("setup"), 77;
	/* Another open file of the pipe, non-blocking, to take bytes back;
	 * the read's own stays blocking (O_NONBLOCK would make it NOWAIT). */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	if ((drain_fd = open(path, O_RDONLY | O_NONBLOCK)) < 0)
		return perror(path), 77;
	pid = fork();
	if (pid < 0)
		return perror("fork"), 77;
	if (pid == 0) {
		pin(cpu[0]);
		_exit(child(p[0], p[1], drain_fd));
	}
	pin(cpu[1]);
	while (sh->phase < 1 && waitpid(pid, &status, WNOHANG) == 0)
		pause_us(1000);
	if (sh->phase >= 1 && (ret = watch_last_retry(pid, drain_fd)) >= 0)
		return ret;
	if (sh->phase < 1)
		waitpid(pid, &status, 0);
	if (sh->outcome == O_FIXED) {
		printf("fixed: %s\n", sh->msg);
		return 0;
	}
	printf("cannot tell: %s\n", sh->outcome ? sh->msg : "the child died");
	return 77;
}
