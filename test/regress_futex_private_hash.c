// SPDX-License-Identifier: MIT
/*
 * Since 6.16 a process gets a futex hash of its own (the mm's private hash)
 * when it creates its first thread (copy_process() with CLONE_VM ->
 * futex_hash_allocate_default()); before that, private futexes hash into
 * the global table. Installing the private hash moves waiters from an old
 * private hash, not from the global one: a waiter there is not found by a
 * FUTEX_WAKE after it. A futex(2) waiter blocks, so its process cannot make
 * a thread meanwhile; an IORING_OP_FUTEX_WAIT does not block the
 * submitter. Before 7.3 a single-threaded process's private FUTEX_WAIT was
 * queued in the global table, and once the process made a thread no wake
 * reached it. 7.3 allocates the private hash at prep (io_futex_prep_private()).
 * Checks, in a single-threaded child (no SQ thread, no io-wq yet): a private
 * FUTEX_WAIT is queued; after the child started (and joined) a thread,
 * FUTEX_WAKE_PRIVATE wakes one waiter, and the wait completes with 0.
 */
#include <errno.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

#define OP_FUTEX_WAIT	51		/* IORING_OP_FUTEX_WAIT (6.7) */
#define FUTEX2_U32	0x02		/* FUTEX2_SIZE_U32 */
#define FUTEX2_PRIV	0x80		/* FUTEX2_PRIVATE */
#define MATCH_ANY	0xffffffffull	/* FUTEX_BITSET_MATCH_ANY */
#define UD_WAIT		0xf7

static uint32_t futex_word;		/* 0: the value the wait expects */

static void *idle_thread(struct tw_thread *t)
{
	(void)t;
	return NULL;
}

/* The waiting process; a thread of its own is what the scenario needs. */
static int waiter(void *arg)
{
	struct tcase *tc = arg;
	struct tw_thread th = { 0 };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct deadline dl;
	struct tring r;
	long woken;

	if (tring_init(tc, &r, "ring", tc->prof, NULL) != V_PASS)
		return 0;
	sqe = tring_sqe(&r);
	io_uring_prep_rw(OP_FUTEX_WAIT, sqe, FUTEX2_U32 | FUTEX2_PRIV, &futex_word, 0, 0);
	sqe->addr2 = 0;
	sqe->addr3 = MATCH_ANY;
	io_uring_sqe_set_data64(sqe, UD_WAIT);
	if (io_uring_submit(&r.ring) != 1 || tring_get_events(&r) < 0) {
		tc_fail(tc, "submit of a FUTEX_WAIT failed");
		goto out;
	}
	if (!io_uring_peek_cqe(&r.ring, &cqe)) {
		if (cqe->res == -EINVAL)
			tc_refused(tc, NEED_FUTEX, cqe->res, "FUTEX_WAIT (u32, private)");
		else
			tc_fail(tc, "FUTEX_WAIT on a word holding the value expected completed at "
				"once, res %d", cqe->res);
		goto out;
	}
	/* The first thread of the process: now it has a private futex hash. */
	if (tw_thread_start(tc, &th, "thread", 0, idle_thread, NULL)) {
		tc_fail(tc, "pthread_create failed");
		goto out;
	}
	if (tw_threads_join(tc, &th, 1, NULL, &r) >= V_FAIL)
		goto out;
	woken = syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	if (woken != 1) {
		tc_fail(tc, "lost wake-up: FUTEX_WAKE_PRIVATE woke %ld waiters (%s), expected the "
			"FUTEX_WAIT queued before the process made its first thread", woken,
			woken < 0 ? strerror(errno) : "no error");
		goto out;
	}
	dl = tc_deadline(tc);
	if (tring_await(tc, &r, 1, &dl, "the woken FUTEX_WAIT's CQE") != V_PASS)
		goto out;
	io_uring_peek_cqe(&r.ring, &cqe);
	if (cqe->user_data != UD_WAIT || cqe->res != 0)
		tc_fail(tc, "woken FUTEX_WAIT: user_data 0x%llx res %d, expected 0x%x and 0",
			(unsigned long long)cqe->user_data, cqe->res, UD_WAIT);
out:
	tring_exit(&r);
	return harness_seeded("child-exit") ? 3 : 0;
}

static enum verdict run(struct tcase *tc)
{
	struct child c;

	/* A fork: a process of one thread, without a private futex hash yet. */
	if (proc_spawn(&c, waiter, tc))
		return tc_fail(tc, "fork: %s", strerror(errno));
	proc_reap_or_kill(tc, &c, "the waiting process");
	return tc_verdict(tc);
}

static const struct scenario regress_futex_private_hash = {
	.name = "regress_futex_private_hash",
	.summary = "a private FUTEX_WAIT queued before the process's first thread is woken "
		   "after it",
	/* not sqpoll: the SQ thread is a thread of the process, made with the ring */
	.profiles = PROFILES_ALL & ~PMASK(P_SQPOLL),
	.run = run,
	.needs = NEED(FUTEX),
	.fix_commit = "-",
	.fix_subject = "io_uring/futex: allocate the private futex hash before the first "
		       "private wait is queued (Linux 7.3)",
	.seeded_faults = "  child-exit  the waiting process exits with status 3\n",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_futex_private_hash);
}
