// SPDX-License-Identifier: MIT
/*
 * IORING_OP_ASYNC_CANCEL beyond a cancel by user_data, on a ring of the
 * case's profile (io_uring/cancel.c, and futex.c's cancel). Each step
 * names every CQE it must see (test/lib/cqexpect.h). The steps:
 *  - refusals at prep (io_async_cancel_prep): -EINVAL for FD with ANY,
 *    OP with ANY, an unknown flag, off set (not an opcode past the last:
 *    refused only since 7.x, 6.18 looks for it and finds nothing);
 *  - by fixed file (FD | FD_FIXED, io_async_cancel): the poll on that slot
 *    is cancelled (0, the poll -ECANCELED); a slot past the table, an
 *    empty slot and a closed fd are -EBADF;
 *  - by opcode with ALL (6.6): every poll, and the cancel says how many (2);
 *  - a futex wait (6.7) cancelled by user_data (io_futex_cancel ->
 *    io_cancel_remove; the cancel answers 1), and another one left when the ring is
 *    closed: its teardown must cancel it (io_futex_remove_all ->
 *    io_cancel_remove_all) and finish (a probe); so must a NOP drained
 *    behind a poll that never fires (io_cancel_defer_files);
 *  - work another task's io-wq runs (a splice from an empty pipe that a
 *    second thread submitted), cancelled with ANY: found only by the walk
 *    over every task of the ring (__io_async_cancel's slow path), counted
 *    (1), and the splice completes once, interrupted (-EINTR; the raw
 *    -ERESTARTSYS that kernels without io_fixup_restart_res leak is a
 *    failure: test/known-issues). Rings whose other tasks may not submit
 *    (SINGLE_ISSUER) or whose io-wq is the SQ thread's skip this step.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "lib/cqexpect.h"
#include "lib/iowq_busy.h"

#define CANCEL_FD_FIXED		(1U << 3)	/* IORING_ASYNC_CANCEL_FD_FIXED */
#define CANCEL_OP		(1U << 5)	/* IORING_ASYNC_CANCEL_OP */
#define TW_OP_FUTEX_WAIT	51		/* IORING_OP_FUTEX_WAIT, 6.7 */
#define TW_FUTEX2_SIZE_U32	0x02
#define TW_FUTEX2_PRIVATE	128

struct state {
	struct tcase *tc;
	struct tring r;
	int p[2], hold[2], null;
	uint32_t futex[2];
	struct tw_event submitted, release;	/* the splicing thread's hand-over */
	pid_t splicer;			/* its thread id: its worker is iou-wrk-<it> */
};

static struct io_uring_sqe *cancel_sqe(struct state *s, uint64_t ud, unsigned flags, int fd,
				       uint64_t target)
{
	struct io_uring_sqe *sqe = tring_sqe(&s->r);

	io_uring_prep_cancel64(sqe, target, (int)flags);
	sqe->fd = fd;
	io_uring_sqe_set_data64(sqe, ud);
	return sqe;
}

static void poll_on(struct state *s, int fd, bool fixed, uint64_t ud)
{
	struct io_uring_sqe *sqe = tring_sqe(&s->r);

	io_uring_prep_poll_add(sqe, fd, POLLIN);
	if (fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, ud);
}

static void expect(struct state *s, const char *step, const struct cqe_want *w, int n)
{
	cqe_expect(s->tc, &s->r, step, w, n);
}

static void refusals(struct state *s)
{
	static const struct { const char *what; unsigned flags; unsigned len; uint64_t off; } bad[] = {
		{ "ASYNC_CANCEL with FD and ANY", IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ANY,
		  0, 0 },
		{ "ASYNC_CANCEL with OP and ANY", CANCEL_OP | IORING_ASYNC_CANCEL_ANY, 0, 0 },
		{ "ASYNC_CANCEL with an unknown flag", 1u << 30, 0, 0 },
		{ "ASYNC_CANCEL with off set", 0, 0, 1 },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]) && !tc_failed(s->tc); i++) {
		struct io_uring_sqe *sqe = cancel_sqe(s, 0x10 + i, bad[i].flags, -1, 0x99);

		sqe->len = bad[i].len;
		sqe->off = bad[i].off;
		expect(s, bad[i].what, (struct cqe_want[]){ { 0x10 + i, -EINVAL, 0 } }, 1);
	}
}

static void by_file_and_op(struct state *s)
{
	const unsigned fdf = IORING_ASYNC_CANCEL_FD | CANCEL_FD_FIXED;

	poll_on(s, 0, true, 0x20);
	cancel_sqe(s, 0x21, fdf, 0, 0);
	expect(s, "ASYNC_CANCEL by fixed file", (struct cqe_want[]){ { 0x20, -ECANCELED, 0 },
	       { 0x21, 0, 0 } }, 2);
	cancel_sqe(s, 0x22, fdf, 5, 0);
	expect(s, "ASYNC_CANCEL by a fixed file past the table",
	       (struct cqe_want[]){ { 0x22, -EBADF, 0 } }, 1);
	cancel_sqe(s, 0x23, fdf, 1, 0);
	expect(s, "ASYNC_CANCEL by an empty fixed file slot",
	       (struct cqe_want[]){ { 0x23, -EBADF, 0 } }, 1);
	cancel_sqe(s, 0x24, IORING_ASYNC_CANCEL_FD, -1, 0);
	expect(s, "ASYNC_CANCEL by a closed fd", (struct cqe_want[]){ { 0x24, -EBADF, 0 } }, 1);
	/* Before 6.6 a cancel by opcode finds no poll (io_poll_file_find). */
	if (tc_part_predated(s->tc, NEED_CANCEL_OP, "cancel by opcode"))
		return;
	poll_on(s, s->p[0], false, 0x25);
	poll_on(s, s->p[0], false, 0x26);
	cancel_sqe(s, 0x27, CANCEL_OP | IORING_ASYNC_CANCEL_ALL, -1, 0)->len = IORING_OP_POLL_ADD;
	expect(s, "ASYNC_CANCEL of every poll by opcode", (struct cqe_want[]){
	       { 0x25, -ECANCELED, 0 }, { 0x26, -ECANCELED, 0 }, { 0x27, 2, 0 } }, 3);
}

static void futex_wait(struct state *s, uint32_t *word, uint64_t ud)
{
	struct io_uring_sqe *sqe = tring_sqe(&s->r);

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = TW_OP_FUTEX_WAIT;
	sqe->fd = TW_FUTEX2_SIZE_U32 | TW_FUTEX2_PRIVATE;
	sqe->addr = (uint64_t)(uintptr_t)word;
	sqe->off = 0;			/* the value it waits on: the word holds 0 */
	sqe->addr3 = 0xffffffffull;	/* FUTEX_BITSET_MATCH_ANY */
	io_uring_sqe_set_data64(sqe, ud);
}

static void futexes(struct state *s)
{
	if (tc_part_predated(s->tc, NEED_FUTEX, "futex waits"))
		return;
	futex_wait(s, &s->futex[0], 0x30);
	futex_wait(s, &s->futex[0], 0x33);
	cancel_sqe(s, 0x31, 0, -1, 0x30);
	/* A futex (or waitid) cancel answers how many it found, 1, where a
	 * poll's answers 0 (io_cancel_remove; so since 6.7). The wait it
	 * passes over stays. */
	expect(s, "ASYNC_CANCEL of one of two futex waits", (struct cqe_want[]){
	       { 0x30, -ECANCELED, 0 }, { 0x31, 1, 0 } }, 2);
	cancel_sqe(s, 0x34, 0, -1, 0x33);
	expect(s, "ASYNC_CANCEL of the other", (struct cqe_want[]){ { 0x33, -ECANCELED, 0 },
	       { 0x34, 1, 0 } }, 2);
	/* Left waiting: the ring's teardown cancels it (run() proves it ends). */
	futex_wait(s, &s->futex[1], 0x32);
	expect(s, "a futex wait left for the teardown", NULL, 0);
}

/* A NOP drained behind a poll that never fires: it waits on the ring's
 * defer list, which the teardown must cancel (io_cancel_defer_files). */
static void drained_for_teardown(struct state *s)
{
	struct io_uring_sqe *sqe;

	poll_on(s, s->p[0], false, 0x50);
	sqe = tring_sqe(&s->r);
	io_uring_prep_nop(sqe);
	sqe->flags |= IOSQE_IO_DRAIN;
	io_uring_sqe_set_data64(sqe, 0x51);
	/* No NOP after them: it would be drained as well. */
	if (io_uring_submit(&s->r.ring) != 2)
		tc_fail(s->tc, "submit of a poll and a drained NOP failed");
}

/* The second thread: a splice of its own, held by its own io-wq worker
 * until the case thread has cancelled it. */
static void *splicer(struct tw_thread *t)
{
	struct state *s = t->arg;
	struct io_uring_sqe *sqe = tring_sqe(&s->r);
	struct deadline dl = tc_deadline(s->tc);

	s->splicer = gettid();
	io_uring_prep_splice(sqe, s->hold[0], -1, s->null, -1, 16, 0);
	io_uring_sqe_set_data64(sqe, 0x40);
	if (io_uring_submit(&s->r.ring) != 1)
		tc_fail(s->tc, "the second thread's splice: submit failed");
	tw_event_set(&s->submitted);
	if (tw_event_wait(&s->release, &dl))
		tc_hang(s->tc, NULL, &s->r, "splicer: never released");
	return NULL;
}

static void other_task_work(struct state *s)
{
	struct deadline dl = tc_deadline(s->tc);
	struct tw_thread t;

	if (s->r.prof->props & (PROF_SINGLE_ISSUER | PROF_SQPOLL))
		return;
	if (tw_thread_start(s->tc, &t, "splicer", 0, splicer, s)) {
		tc_fail(s->tc, "pthread_create of the splicer failed");
		return;
	}
	if (tw_event_wait(&s->submitted, &dl))
		tc_hang(s->tc, NULL, &s->r, "the second thread never submitted its splice");
	if (!tc_failed(s->tc) && iowq_worker_busy(s->splicer, &dl) < 0)
		tc_hang(s->tc, NULL, &s->r, "no io-wq worker of the second thread ever slept in "
			"its splice");
	if (!tc_failed(s->tc)) {
		cancel_sqe(s, 0x41, IORING_ASYNC_CANCEL_ANY, -1, 0);
		cqe_expect(s->tc, &s->r, "ASYNC_CANCEL (ANY) of the splice another task's "
			   "worker runs", (struct cqe_want[]){ { 0x41, 1, 0 },
			   { 0x40, -EINTR, 0 } }, 2);
	}
	tw_event_set(&s->release);
	tw_threads_join(s->tc, &t, 1, NULL, &s->r);
}

static enum verdict run(struct tcase *tc)
{
	struct state s = { .tc = tc };
	int files[2];
	enum verdict v;

	v = tring_init(tc, &s.r, "ring", tc->prof, NULL);
	if (v != V_PASS)
		return v;
	if (pipe(s.p) || pipe(s.hold) || (s.null = open("/dev/null", O_WRONLY)) < 0)
		return tc_fail(tc, "pipes, /dev/null: %s", strerror(errno));
	files[0] = s.p[0];
	files[1] = -1;
	if (io_uring_register_files(&s.r.ring, files, 2))
		return tc_fail(tc, "registration of a fixed file and an empty slot failed");
	refusals(&s);
	if (!tc_failed(tc))
		by_file_and_op(&s);
	if (!tc_failed(tc))
		other_task_work(&s);
	/* Last: what is left for the teardown would match ANY. */
	if (!tc_failed(tc))
		futexes(&s);
	if (!tc_failed(tc))
		drained_for_teardown(&s);
	if (io_uring_unregister_files(&s.r.ring))
		tc_fail(tc, "unregistering the fixed files failed");
	if (!tc_failed(tc))
		tring_exit_proven(tc, &s.r, 1, 0x9e0be);
	tring_exit(&s.r);
	return tc_verdict(tc);
}

static const struct scenario async_cancel = {
	.name = "async_cancel",
	.summary = "ASYNC_CANCEL refusals, by fixed file, by opcode, of futex waits, of work "
		   "another task's io-wq runs; a futex wait at teardown: exact results",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(CANCEL_FD_ANY),
	.part_needs = NEED(CANCEL_OP) | NEED(FUTEX),
	.min_threads = 1,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &async_cancel);
}
