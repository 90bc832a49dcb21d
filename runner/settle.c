// SPDX-License-Identifier: MIT
/*
 * Waiting for io_uring's deferred teardown to settle. A ring is torn down
 * after its last file reference is gone, not in the exiting task: its
 * release queues io_ring_exit_work, which cancels the ring's requests,
 * waits for their references and frees the context (io_ring_ctx_free), on
 * the "iou_exit" workqueue (since 6.9, commit 73eaa2b58349; Debian's 6.12
 * and 7.x have it) or on events_unbound (6.1.176). What that work logs (a
 * WARNING, a KASAN report) or taints belongs to the program whose ring it
 * was, so the supervisor waits for it before its end marker, and the
 * runner once more at the end of the run.
 *
 * The program's rings were released before it could be reaped (exit_files
 * in do_exit), so their exit work is queued by then. Two signals that
 * userspace sees on every kernel from 6.1 to 7.3, both needed:
 *  - a sentinel ring, closed now: its exit work is queued after the
 *    program's, and a workqueue's pool starts work in the order it was
 *    queued. Its context is freed when the pipe registered as its fixed
 *    file loses its last reader: the write end polls POLLERR (the proof of
 *    src/probe.c). Then the program's exit work has at least started;
 *  - no kworker still in an io_uring teardown: a busy worker's
 *    /proc/PID/comm ends in "+WORKQUEUE" (since 4.18), "+iou_exit" being
 *    io_uring's own; where kernel stacks are readable (root), also a worker
 *    whose stack shows io_ring_exit_work or io_fallback_req_func (the 6.1
 *    events workqueues, shared with the rest of the kernel).
 * Not seen: exit work of a ring released later (held by another ring's file
 * table or in flight in a unix socket), work queued to another NUMA pool.
 * There is no event for a kworker going idle: the second signal is polled.
 *
 * TW_PROC_DIR (meta tests): a fake /proc for the kworker scan.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procfs.h"
#include "supervise.h"

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup	425
#define SYS_io_uring_register	427
#endif

#define SETTLE_POLL_MS	10	/* between scans of the kworkers */
#define BUSY_SHOWN	4	/* kworkers named in the report */

/* A ring whose only reader of a pipe is its fixed file, closed: returns the
 * pipe's write end, or -1 with why. */
static int sentinel_start(char *why, size_t len)
{
	struct io_uring_params p = { 0 };
	int pfd[2], ring;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(why, len, "no sentinel ring (pipe: %s)", strerror(errno));
		return -1;
	}
	ring = (int)syscall(SYS_io_uring_setup, 1, &p);
	if (ring < 0 || syscall(SYS_io_uring_register, ring, IORING_REGISTER_FILES, &pfd[0], 1) < 0) {
		snprintf(why, len, "no sentinel ring (%s: %s)",
			 ring < 0 ? "io_uring_setup" : "IORING_REGISTER_FILES", strerror(errno));
		if (ring >= 0)
			close(ring);
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	close(pfd[0]);
	close(ring);		/* io_uring_release: the exit work is queued */
	return pfd[1];
}

/* POLLERR on the write end: no reader left, the context is freed. */
static int sentinel_wait(int wfd, int sig_fd, const struct deadline *dl)
{
	struct pollfd pfd[2] = { { .fd = wfd, .events = 0 }, { .fd = sig_fd, .events = POLLIN } };

	for (;;) {
		int64_t left = deadline_left(dl);
		int ret = poll(pfd, 2, (int)((left + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC));

		if (ret < 0 && errno != EINTR)
			return -errno;
		if (pfd[0].revents & POLLERR)
			return 0;
		if (pfd[1].revents)
			return -EINTR;
		if (deadline_passed(dl))
			return -ETIMEDOUT;
	}
}

/* Is this busy kworker in an io_uring teardown? */
static bool in_teardown(const char *dir, const char *comm)
{
	char path[512], line[256];
	bool found = false;
	FILE *f;

	if (!strcmp(strchr(comm, '+'), "+iou_exit"))
		return true;
	snprintf(path, sizeof(path), "%s/stack", dir);
	f = fopen(path, "r");		/* root only */
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "io_ring_exit_work") || strstr(line, "io_fallback_req_func");
	fclose(f);
	return found;
}

/* The kworkers in an io_uring teardown now: how many, the first named in busy. */
static int teardown_workers(char *busy, size_t len)
{
	const char *proc = getenv("TW_PROC_DIR");
	struct dirent *de;
	size_t used = 0;
	int n = 0;
	DIR *d;

	proc = proc && *proc ? proc : "/proc";
	d = opendir(proc);
	busy[0] = 0;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char dir[300], path[320], comm[128];

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", proc, de->d_name);
		snprintf(path, sizeof(path), "%s/comm", dir);
		if (procfs_read(path, comm, sizeof(comm)) || strncmp(comm, "kworker", 7) ||
		    !strchr(comm, '+') || !in_teardown(dir, comm))
			continue;
		if (n++ < BUSY_SHOWN && used < len)
			used += (size_t)snprintf(busy + used, len - used, "%s%s (%s)", used ? ", " : "",
						 de->d_name, comm);
	}
	closedir(d);
	return n;
}

bool settle_wait(double secs, int sig_fd, char *report, size_t len)
{
	struct deadline dl = deadline_in((int64_t)(secs * NSEC_PER_SEC));
	struct pollfd sig = { .fd = sig_fd, .events = POLLIN };
	int64_t start = now_ns();
	char sentinel[128] = "", busy[256];
	int wfd, ret = 0, n;

	if (secs <= 0) {
		snprintf(report, len, "io_uring teardown: not waited for");
		return true;
	}
	wfd = sentinel_start(sentinel, sizeof(sentinel));
	if (wfd >= 0) {
		ret = sentinel_wait(wfd, sig_fd, &dl);
		close(wfd);
		snprintf(sentinel, sizeof(sentinel), ret == 0 ? "a sentinel ring's teardown finished" :
			 ret == -ETIMEDOUT ? "a sentinel ring's teardown did not finish" :
			 "interrupted");
	}	/* else no rings here (io_uring_disabled, ...): only the kworkers tell */
	while (ret == 0 && (n = teardown_workers(busy, sizeof(busy))) > 0) {
		if (deadline_passed(&dl)) {
			snprintf(report, len, "io_uring teardown not settled after %.1f s: %s, "
				 "%d kworker%s still in a teardown: %s", secs, sentinel, n,
				 n > 1 ? "s" : "", busy);
			return false;
		}
		if (poll(&sig, 1, SETTLE_POLL_MS) > 0)
			ret = -EINTR;
	}
	if (ret) {
		snprintf(report, len, "io_uring teardown not settled after %.2f s: %s",
			 ns_to_s(now_ns() - start), ret == -EINTR ? "interrupted" : sentinel);
		return false;
	}
	snprintf(report, len, "io_uring teardown settled in %.3f s: %s, no kworker in one",
		 ns_to_s(now_ns() - start), sentinel);
	return true;
}
