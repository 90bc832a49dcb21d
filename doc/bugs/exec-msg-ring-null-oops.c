// SPDX-License-Identifier: MIT
/*
 * cc -O2 -Wall -o /tmp/exec-msg-ring-null-oops doc/bugs/exec-msg-ring-null-oops.c -luring
 * Suite: test/regress_exec_local_tw.t -p defer
 * Says: teardown of .*did not finish
 *
 * WARNING: on an affected kernel (6.11, 6.12.y without af0a2ffef0e6) this
 * oopses a kworker (taint D) and leaks a ring. Run it in a throwaway VM.
 *
 * The submitter of an IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN
 * ring exec()s: io_uring_task_cancel() frees its io_uring_task and sets
 * current->io_uring to NULL, but the task lives on and stays the ring's
 * submitter_task. Another process still holds the ring and sends it a
 * MSG_RING: io_msg_remote_post() queues the message as local task_work with
 * req->task = the submitter, who never runs it. When the last reference
 * goes, the ring's exit work moves that work off the ring; 6.12's
 * io_move_task_work_from_local() -> io_req_normal_work_add() adds it to
 * req->task->io_uring->task_list, a NULL io_uring_task: "BUG: kernel NULL
 * pointer dereference" in llist_add_batch(), in the kworker, and the ring
 * is never freed. Upstream 6.13 hands the work to the fallback kthread
 * (af0a2ffef0e6, "io_uring: avoid normal tw intermediate fallback").
 *
 * Who does what: this process sets the ring up (it is the submitter),
 * registers the read end of a pipe as the ring's only fixed file, forks
 * the watcher, which inherits the ring, and exec()s itself. The exec'd
 * image tells the watcher it runs; the watcher sends the MSG_RING, drops
 * the last reference to the ring and waits for the pipe's write end to
 * poll POLLERR: the ring was freed. The exec'd image waits for its verdict.
 *
 * "enable" (argv[1]): the same without exec. The ring is set up
 * IORING_SETUP_R_DISABLED; a child that never used io_uring enables it
 * (IORING_REGISTER_ENABLE_RINGS makes it the submitter_task) and drops
 * its copy; its current->io_uring was never allocated. This process is
 * the watcher.
 *
 * Exit status: 0 the ring was freed (fixed, or a kernel without the bug),
 * 1 it was not (bug), 77 this kernel cannot run the scenario (no
 * DEFER_TASKRUN, no MSG_RING) or a step failed.
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
#include <unistd.h>

#define EXECD_ARG	"--exec-d"	/* argv[1] of the exec'd image */
#define FREED_WITHIN_MS	10000		/* a freed ring drops its files in microseconds */
#define STEP_MS		10000		/* any other step: exec, a MSG_RING's CQE */

enum { FIXED = 0, BUG = 1, CANNOT_TELL = 77 };

static int enable_mode;

/* One byte from fd within ms, or -1 (timeout, EOF, error). */
static int read_byte(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&pfd, 1, ms) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return (unsigned char)c;
}

/* The watcher's MSG_RING to the exec'd submitter's ring: its CQE's res. */
static int send_msg(int target_fd, int *res)
{
	struct __kernel_timespec ts = { .tv_sec = STEP_MS / 1000 };
	struct io_uring_cqe *cqe;
	struct io_uring src;
	int ret;

	ret = io_uring_queue_init(4, &src, 0);
	if (ret < 0)
		return ret;
	io_uring_prep_msg_ring(io_uring_get_sqe(&src), target_fd, 0, 0x77, 0);
	ret = io_uring_submit(&src);
	if (ret == 1)
		ret = io_uring_wait_cqe_timeout(&src, &cqe, &ts);
	if (ret >= 0) {
		*res = cqe->res;
		ret = 0;
	}
	io_uring_queue_exit(&src);
	return ret;
}

/*
 * The watcher: once the submitter has exec'd, a MSG_RING to its ring, the
 * ring's last reference dropped, then: is the ring freed?
 */
static int watch(struct io_uring *ring, int probe_w, int ready_r)
{
	struct pollfd pfd = { .fd = probe_w, .events = 0 };
	int ret, res;

	if (read_byte(ready_r, STEP_MS) != 'r') {
		printf("the submitter did not say it runs within %d ms\n", STEP_MS);
		return CANNOT_TELL;
	}
	ret = send_msg(ring->ring_fd, &res);
	if (ret < 0 || (res != 0 && res != -EOWNERDEAD)) {
		printf("MSG_RING to the exec'd submitter's ring: %s\n",
		       strerror(ret < 0 ? -ret : -res));
		return CANNOT_TELL;
	}
	/* Our fd and our copy of the mmaps: nothing else holds the ring now. */
	io_uring_queue_exit(ring);
	ret = poll(&pfd, 1, FREED_WITHIN_MS);
	if (ret == 1 && (pfd.revents & POLLERR))
		return FIXED;
	printf("BUG: teardown of the DEFER_TASKRUN ring whose submitter %s, with a "
	       "MSG_RING pending for it, did not finish within %d ms (see the kernel log: "
	       "a NULL pointer dereference in the ring's exit work?)\n",
	       enable_mode ? "never used io_uring" : "exec'd", FREED_WITHIN_MS);
	return BUG;
}

/* The exec'd submitter: say so, then wait for the watcher's verdict. */
static int execd(int ready_w, int verdict_r, pid_t watcher)
{
	int v;

	if (write(ready_w, "r", 1) != 1)
		return CANNOT_TELL;
	close(ready_w);
	v = read_byte(verdict_r, FREED_WITHIN_MS + 3 * STEP_MS);
	if (v < 0) {
		printf("no verdict from the watcher\n");
		kill(watcher, SIGKILL);
		v = CANNOT_TELL;
	}
	waitpid(watcher, NULL, 0);
	return v;
}

/* "enable": the submitter enables the ring, lets it go and waits (bounded). */
static int enabler(struct io_uring *ring, int ready_w, int hold_r)
{
	/* liburing 2.3 declares io_uring_enable_rings() but does not export it */
	if (syscall(__NR_io_uring_register, ring->ring_fd, IORING_REGISTER_ENABLE_RINGS,
		    NULL, 0) < 0) {
		printf("IORING_REGISTER_ENABLE_RINGS: %s\n", strerror(errno));
		return CANNOT_TELL;
	}
	io_uring_queue_exit(ring);	/* the ring's file stays the parent's */
	if (write(ready_w, "r", 1) != 1)
		return CANNOT_TELL;
	read_byte(hold_r, FREED_WITHIN_MS + 3 * STEP_MS);
	return 0;
}

int main(int argc, char **argv)
{
	int probe[2], ready[2], verdict[2], ret;
	char a1[16], a2[16], a3[16];
	struct io_uring ring;
	pid_t pid;

	if (argc == 5 && !strcmp(argv[1], EXECD_ARG))
		return execd(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	enable_mode = argc > 1 && !strcmp(argv[1], "enable");
	/* Only ready[1] and verdict[0] go through the exec. */
	if (pipe2(probe, O_CLOEXEC) || pipe2(ready, O_CLOEXEC) || pipe2(verdict, O_CLOEXEC))
		return CANNOT_TELL;
	ret = io_uring_queue_init(8, &ring, IORING_SETUP_SINGLE_ISSUER |
				  IORING_SETUP_DEFER_TASKRUN |
				  (enable_mode ? IORING_SETUP_R_DISABLED : 0));
	if (ret < 0) {
		printf("io_uring_queue_init(SINGLE_ISSUER | DEFER_TASKRUN%s): %s\n",
		       enable_mode ? " | R_DISABLED" : "", strerror(-ret));
		return CANNOT_TELL;
	}
	ret = io_uring_register_files(&ring, &probe[0], 1);
	if (ret < 0) {
		printf("io_uring_register_files: %s\n", strerror(-ret));
		return CANNOT_TELL;
	}
	close(probe[0]);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return CANNOT_TELL;
	if (enable_mode) {
		if (pid == 0) {
			close(verdict[1]);
			_exit(enabler(&ring, ready[1], verdict[0]));
		}
		close(ready[1]);
		ret = watch(&ring, probe[1], ready[0]);
		close(verdict[1]);	/* lets the enabler go */
		waitpid(pid, NULL, 0);
		return ret;
	}
	if (pid == 0) {
		close(ready[1]);
		close(verdict[0]);
		ret = watch(&ring, probe[1], ready[0]);
		fflush(stdout);
		_exit(write(verdict[1], &(char){ ret }, 1) == 1 ? 0 : 1);
	}
	close(ready[0]);
	close(verdict[1]);
	if (fcntl(ready[1], F_SETFD, 0) || fcntl(verdict[0], F_SETFD, 0))
		return CANNOT_TELL;
	snprintf(a1, sizeof(a1), "%d", ready[1]);
	snprintf(a2, sizeof(a2), "%d", verdict[0]);
	snprintf(a3, sizeof(a3), "%d", (int)pid);
	/* The ring's fd is O_CLOEXEC: the watcher holds the ring from here. */
	execl("/proc/self/exe", argv[0], EXECD_ARG, a1, a2, a3, (char *)NULL);
	printf("execl(/proc/self/exe): %s\n", strerror(errno));
	return CANNOT_TELL;	/* ready[1] closes: the watcher gives up */
}
