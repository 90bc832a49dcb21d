// SPDX-License-Identifier: MIT
/*
 * A task's first ring, with each allocation of its set-up failing in turn.
 * The first io_uring_setup() of a task also builds its task context
 * (io_uring/tctx.c: the struct io_uring_task, its inflight counter, its
 * io-wq with the ring's hash map, the node that ties it to the ring,
 * __io_uring_add_tctx_node and its error path); a task that already has
 * one never allocates these again. So every set-up here runs in a thread
 * new to io_uring, with /proc/self/task/TID/fail-nth failing its n-th
 * allocation, n = 1, 2, ... until the set-up makes fewer than n. Runs only
 * where fault injection is asked for and there (-F, root, a kernel with
 * CONFIG_FAULT_INJECTION and FAILSLAB; on by default in guest/vm-run
 * guests), else a skip that says why. Checks, for every n:
 *  - the set-up succeeds or fails with -ENOMEM (or -EAGAIN: an SQ thread
 *    that could not be created), nothing else;
 *  - after a failure the same thread sets up a ring without faults, and
 *    a NOP completes on it (the half-built task context was undone, not
 *    left behind);
 *  - a NOP completes on a ring that was set up despite the fault;
 *  - at least one set-up failed (else fail-nth did nothing).
 * A kernel splat is the runner's to see (runner/kmsg-patterns).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "race/faultinj.h"
#include "harness.h"

#define NTH_MAX		400	/* a set-up makes far fewer allocations */

struct attempt {
	struct tcase *tc;
	unsigned nth;
	int setup;		/* io_uring_setup's answer with allocation nth failing */
	bool exhausted;		/* fail-nth still counting: fewer allocations than nth */
};

/* A NOP round trip on the ring, then its teardown. */
static void nop_and_exit(struct attempt *a, struct io_uring *ring, const char *which)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret;

	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, 0x5e7);
	ret = io_uring_submit_and_wait(ring, 1);
	if (ret != 1)
		tc_fail(a->tc, "allocation %u failing: NOP on the %s ring: submit %d (%s)", a->nth,
			which, ret, ret < 0 ? strerror(-ret) : "ok");
	else if (io_uring_peek_cqe(ring, &cqe) || cqe->user_data != 0x5e7 || cqe->res)
		tc_fail(a->tc, "allocation %u failing: NOP on the %s ring did not complete with 0",
			a->nth, which);
	io_uring_queue_exit(ring);
}

/* The thread new to io_uring: one set-up with allocation nth failing. */
static void *first_ring(struct tw_thread *t)
{
	struct attempt *a = t->arg;
	struct io_uring_params p = { .flags = a->tc->prof->setup_flags, .sq_thread_idle = 10 };
	struct io_uring ring;
	char path[64], buf[16] = "";
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", gettid());
	fd = open(path, O_RDWR | O_CLOEXEC);
	snprintf(buf, sizeof(buf), "%u", a->nth);
	if (fd < 0 || pwrite(fd, buf, strlen(buf), 0) < 0) {
		tc_fail(a->tc, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	a->setup = io_uring_queue_init_params(8, &ring, &p);
	memset(buf, 0, sizeof(buf));
	a->exhausted = pread(fd, buf, sizeof(buf) - 1, 0) > 0 && atoi(buf) > 0;
	pwrite(fd, "0", 1, 0);
	close(fd);
	if (a->setup == 0) {
		nop_and_exit(a, &ring, "first");
		return NULL;
	}
	if (a->setup != -ENOMEM && a->setup != -EAGAIN) {
		tc_fail(a->tc, "io_uring_setup (%s) of a task's first ring with allocation %u "
			"failing: %s, expected -ENOMEM or -EAGAIN", a->tc->prof->name, a->nth,
			strerror(-a->setup));
		return NULL;
	}
	memset(&p, 0, sizeof(p));
	p.flags = a->tc->prof->setup_flags;
	p.sq_thread_idle = 10;
	ret = io_uring_queue_init_params(8, &ring, &p);
	if (ret)
		tc_fail(a->tc, "io_uring_setup (%s) after one that failed at allocation %u: %s, "
			"expected a ring", a->tc->prof->name, a->nth, strerror(-ret));
	else
		nop_and_exit(a, &ring, "second");
	return NULL;
}

static enum verdict run(struct tcase *tc)
{
	const char *why = faults_missing(tc);
	unsigned refused = 0, nth;
	struct attempt a = { .tc = tc };
	struct tw_thread t;
	int ret;

	if (why)
		return tc_skip(tc, "%s", why);
	if ((ret = faults_arm(0)) < 0)
		return tc_fail(tc, "arming the fault attributes: %s", strerror(-ret));
	for (nth = 1; nth <= NTH_MAX && !tc_failed(tc); nth++) {
		a.nth = nth;
		a.exhausted = false;
		if (tw_thread_start(tc, &t, "first-ring", nth, first_ring, &a)) {
			tc_fail(tc, "pthread_create failed");
			break;
		}
		if (tw_threads_join(tc, &t, 1, NULL, NULL) != V_PASS)
			break;
		refused += a.setup < 0;
		if (a.exhausted)
			break;
	}
	faults_restore(tc);
	if (!tc_failed(tc) && (!refused || nth > NTH_MAX))
		tc_fail(tc, "fail-nth %s: %u set-ups (%s), %u refused", !refused ? "had no effect" :
			"never ran out", nth - 1, tc->prof->name, refused);
	tc_log(tc, "a task's first ring: allocations 1..%u failed one at a time, %u refused",
		nth, refused);
	return tc_verdict(tc);
}

static const struct scenario tctx_setup_nomem = {
	.name = "tctx_setup_nomem",
	.summary = "a task's first ring with each allocation of its set-up (task context, io-wq) "
		   "failing in turn: -ENOMEM only, undone, the next set-up works",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs_root = true,
	.min_threads = 1,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &tctx_setup_nomem);
}
