// SPDX-License-Identifier: MIT
/*
 * cc -O2 -o /tmp/msg-ring-exit-leak doc/bugs/msg-ring-exit-leak.c -luring -lpthread
 * /tmp/msg-ring-exit-leak [plain]   (plain: the same with a ring without
 *                                    DEFER_TASKRUN, which is freed)
 *
 * A DEFER_TASKRUN ring that sends itself an IOSQE_ASYNC MSG_RING, whose
 * submitter exits while the message is still queued in io-wq, is never
 * freed. The exiting task's cancel (io_uring_cancel_generic) waits only for
 * "tracked" requests, those holding an io_uring file; the queued MSG_RING
 * has not looked its file up yet, so the cancel does not wait for it. Then
 * io-wq's exit runs the bound work still queued: the MSG_RING takes the
 * ring's file and completes into the ring's local task_work list, which
 * only the gone submitter would run. The request there holds the ring's
 * file, so the ring's last fput never comes: ring, requests and submitter's
 * task_struct stay allocated forever (a ring sending to another DEFER ring
 * that sends back leaks both the same way). Seen on 6.18 and 7.2; 7.3 looks
 * the file up before the punt (io_queue_iowq), so the exit cancel waits for
 * the message and cancels it: the ring is freed.
 *
 * How the ring's end is seen: the read end of a pipe is the ring's only
 * registered file, and nothing else holds it; the ring drops it when it is
 * freed, and then the write end, which we keep, polls POLLERR.
 * To make the message wait in io-wq, one bound worker at most, and before
 * the message an IOSQE_ASYNC openat() of a FIFO that blocks that worker.
 *
 * Exit status: 0 the ring was freed (fixed), 1 it was not (bug), 77 this
 * kernel cannot run the reproducer.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FREED_WITHIN_MS
#define FREED_WITHIN_MS	5000	/* a freed ring drops its files in microseconds */
#endif

static struct io_uring ring;
static unsigned ring_flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
static int probe_rfd;
static char fifo[64];

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Until an io-wq worker of ours sleeps (in the FIFO's open), 5 s at most. */
static int worker_blocked(void)
{
	long long end = now_ms() + 5000;

	do {
		DIR *d = opendir("/proc/self/task");
		struct dirent *e;
		int found = 0;

		while (d && (e = readdir(d))) {
			char path[300], buf[256], *p;
			FILE *f;

			snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
			if (e->d_name[0] == '.' || !(f = fopen(path, "r")))
				continue;
			if (fgets(buf, sizeof(buf), f) && strstr(buf, "(iou-wrk-") &&
			    (p = strrchr(buf, ')')) && p[2] == 'S')
				found = 1;
			fclose(f);
		}
		if (d)
			closedir(d);
		if (found)
			return 0;
		usleep(1000);	/* a bounded poll of /proc: nothing to wait on */
	} while (now_ms() < end);
	return -1;
}

/* The submitter: ring, probe, blocked worker, queued message, then it exits. */
static void *submitter(void *arg)
{
	unsigned workers[2] = { 1, 1 };	/* bound, unbound */
	struct io_uring_sqe *sqe;
	int ret;

	(void)arg;
	ret = io_uring_queue_init(8, &ring, ring_flags);
	if (ret < 0) {
		fprintf(stderr, "io_uring_queue_init(%#x): %s\n", ring_flags, strerror(-ret));
		exit(77);
	}
	if ((ret = io_uring_register_files(&ring, &probe_rfd, 1)) < 0 ||
	    (ret = io_uring_register_iowq_max_workers(&ring, workers)) < 0) {
		fprintf(stderr, "register files / iowq max workers: %s\n", strerror(-ret));
		exit(77);
	}
	close(probe_rfd);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_openat(sqe, AT_FDCWD, fifo, O_RDONLY, 0);
	sqe->flags |= IOSQE_ASYNC;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_msg_ring(sqe, ring.ring_fd, 0, 0x1234, 0);
	sqe->flags |= IOSQE_ASYNC;
	if ((ret = io_uring_submit(&ring)) != 2) {
		fprintf(stderr, "submit: %d\n", ret);
		exit(77);
	}
	if (worker_blocked()) {
		fprintf(stderr, "the io-wq worker never blocked in open(FIFO)\n");
		exit(77);
	}
	return NULL;	/* exits: the message is still queued behind the open */
}

static int child(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, submitter, NULL) || pthread_join(t, NULL))
		return 77;
	io_uring_queue_exit(&ring);	/* our last reference to the ring */
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/msg-ring-exit-leak.XXXXXX";
	struct pollfd pfd;
	int probe[2], status, ret;
	long long t0;
	pid_t pid;

	if (argc > 1 && !strcmp(argv[1], "plain"))
		ring_flags = 0;
	if (!mkdtemp(dir))
		return 77;
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	if (mkfifo(fifo, 0600) || pipe(probe))
		return 77;
	probe_rfd = probe[0];
	pid = fork();
	if (pid == 0) {
		close(probe[1]);
		_exit(child());
	}
	close(probe[0]);
	ret = waitpid(pid, &status, 0);
	unlink(fifo);
	rmdir(dir);
	if (ret != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "child: status %#x\n", status);
		return WIFEXITED(status) && WEXITSTATUS(status) == 77 ? 77 : 1;
	}
	/* The child and its threads are gone: nothing of ours holds the ring. */
	t0 = now_ms();
	pfd = (struct pollfd){ .fd = probe[1], .events = 0 };
	ret = poll(&pfd, 1, FREED_WITHIN_MS);
	if (ret == 1 && (pfd.revents & POLLERR))
		return 0;
	printf("BUG: the %s ring is not freed %lld ms after its process exited "
	       "(an IOSQE_ASYNC MSG_RING to itself ran in io-wq after the exit cancel)\n",
	       ring_flags ? "DEFER_TASKRUN" : "plain", now_ms() - t0);
	return 1;
}
