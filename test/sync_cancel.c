// SPDX-License-Identifier: MIT
/*
 * IORING_REGISTER_SYNC_CANCEL: a cancel that returns when its targets are
 * gone (io_sync_cancel, __io_sync_cancel). Polls on pipes, on a fixed file
 * and a timeout are armed on a ring of the case's profile, then cancelled
 * one key at a time - by user_data (one, or all of it), by file, by fixed
 * file, by opcode, any
 * - and the refusals of bad arguments are asked for. Then a request an
 * io-wq worker runs: a splice from an empty pipe (always issued by a
 * worker) blocks there; the cancel finds it running (-EALREADY inside the
 * kernel), signals the worker and sleeps on the ring, running task_work
 * between tries (io_run_task_work_sig), until the interrupted splice has
 * completed. Checks:
 *  - each cancel returns exactly 0, the number matched (ALL, ANY), -ENOENT,
 *    -EBADF, -EINVAL or -EFAULT as its key and arguments say;
 *  - the requests it matched complete once with -ECANCELED, no other
 *    request completes (a table of the armed requests), and a NOP after
 *    the last cancel is the next CQE;
 *  - the running splice completes once, interrupted (-EINTR, never the
 *    raw -ERESTARTSYS some kernels leak: test/known-issues), and the
 *    cancel returns 0 before its own timeout.
 * Before 7.2 io_sync_cancel's loop sleeps between tries and can miss the
 * completion's wake-up, sleeping out its timeout although the splice is
 * done (a kernel bug, test/known-issues: seen on 6.1.176; always on
 * DEFER_TASKRUN rings of 6.18.44, where the completion is local work that
 * wakes no one); 7.2's loop never really sleeps. Not on SQPOLL rings: the
 * SQ thread's io-wq is not on the ring's task list, the cancel finds
 * nothing. doc/results/2026-12-07-coverage.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"
#include "lib/iowq_busy.h"

#define CANCEL_FD_FIXED		(1U << 3)	/* IORING_ASYNC_CANCEL_FD_FIXED, 6.0 */
#define CANCEL_OP		(1U << 5)	/* IORING_ASYNC_CANCEL_OP, 6.6 */
#define NREQ			10
#define UD_FENCE		0xfe11ce00ull

/* struct io_uring_sync_cancel_reg as of 6.6 (liburing 2.3 has no opcode). */
struct tw_sync_cancel {
	uint64_t addr;
	int32_t fd;
	uint32_t flags;
	struct __kernel_timespec timeout;
	uint8_t opcode, pad[7];
	uint64_t pad2[3];
};

/* The requests, by index: what they are, the user_data is 0x100 + index. */
enum { P_A0, P_B0, P_B1, P_FIXED, P_A1, T_LONG, SPLICE_HELD, P_DUP0, P_DUP1 };
enum { ARMED, WANT, DONE };

struct state {
	struct tcase *tc;
	struct tring r;
	int a[2], b[2], c[2], hold[2], null;
	int st[NREQ], want_res[NREQ];
	struct tw_sync_cancel *unmapped;	/* an address with no memory */
};

/* P_DUP1 shares P_DUP0's user_data: one cancel with ALL takes both. */
static uint64_t ud_of(int i) { return 0x100 + (uint64_t)(i == P_DUP1 ? P_DUP0 : i); }

/* Arm a request; submitted with the next sync_cancel or wait. */
static void arm_poll(struct state *s, int i, int fd, bool fixed)
{
	struct io_uring_sqe *sqe = tring_sqe(&s->r);

	io_uring_prep_poll_add(sqe, fd, POLLIN);
	if (fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, ud_of(i));
	s->st[i] = ARMED;
}

/* The requests the cancel matched must complete with want, nothing else. */
static void reap_wanted(struct state *s, const char *what)
{
	struct deadline dl = tc_deadline(s->tc);
	struct io_uring_cqe *cqe;
	int left = 0;

	for (int i = 0; i < NREQ; i++)
		left += s->st[i] == WANT;
	while (left > 0 && !tc_failed(s->tc)) {
		int i, j;

		if (tring_await(s->tc, &s->r, 1, &dl, "%s: the CQEs of %d cancelled request(s)",
				what, left) != V_PASS)
			return;
		io_uring_peek_cqe(&s->r.ring, &cqe);
		/* The request of that user_data still wanted, else any of it. */
		for (i = 0, j = NREQ; i < NREQ && !(ud_of(i) == cqe->user_data && s->st[i] == WANT);
		     i++)
			j = ud_of(i) == cqe->user_data ? i : j;
		i = i < NREQ ? i : j;
		if (i >= NREQ || s->st[i] != WANT ||
		    cqe->res != s->want_res[i])
			tc_fail(s->tc, "%s: CQE user_data 0x%llx res %d: %s", what,
				(unsigned long long)cqe->user_data, cqe->res,
				i >= NREQ ? "unknown" : s->st[i] == DONE ? "completed twice" :
				s->st[i] == ARMED ? "a request the cancel did not match" :
				"not the result expected");
		else
			s->st[i] = DONE, left--;
		io_uring_cqe_seen(&s->r.ring, cqe);
	}
}

/* Submit the armed requests; an SQ thread must have taken them (its head
 * moves after the submission). */
static int submit(struct state *s, const char *what)
{
	struct deadline dl = tc_deadline(s->tc);

	if (io_uring_submit(&s->r.ring) < 0) {
		tc_fail(s->tc, "%s: submit of the armed requests failed", what);
		return -1;
	}
	while (io_uring_sq_ready(&s->r.ring)) {
		if (deadline_passed(&dl)) {
			tc_hang(s->tc, NULL, &s->r, "%s: the SQ thread never took the requests", what);
			return -1;
		}
		sched_yield();
	}
	return 0;
}

/* One sync cancel: its return must be want (for ALL and ANY: how many it
 * matched); the requests mark[] (terminated by -1) complete with -ECANCELED,
 * nothing else. */
static void cancel(struct state *s, const char *what, struct tw_sync_cancel *reg, int want,
		   const int *mark)
{
	int ret;

	if (submit(s, what))
		return;
	for (; mark && *mark >= 0; mark++) {
		s->st[*mark] = WANT;
		if (*mark != SPLICE_HELD)
			s->want_res[*mark] = -ECANCELED;
	}
	ret = syscall(__NR_io_uring_register, tring_fd(&s->r), IORING_REGISTER_SYNC_CANCEL, reg, 1);
	ret = ret < 0 ? -errno : ret;
	if (ret == -EINVAL && reg && (reg->flags & CANCEL_OP) &&
	    tc_part_predated(s->tc, NEED_CANCEL_OP, what)) {
		for (int i = 0; i < NREQ; i++)	/* a later cancel takes them */
			s->st[i] = s->st[i] == WANT ? ARMED : s->st[i];
		return;
	}
	if (ret != want) {
		tc_fail(s->tc, "%s: sync cancel returned %d (%s), expected %d (%s)", what, ret,
			ret < 0 ? strerror(-ret) : "ok", want, want < 0 ? strerror(-want) : "ok");
		return;
	}
	reap_wanted(s, what);
}

/*
 * A splice from an empty pipe blocks its io-wq worker (splice is always
 * issued there, unhashed). The cancel finds it running, signals the worker
 * and sleeps on the ring until the interrupted splice posts its CQE.
 */
static void cancel_running(struct state *s)
{
	struct tw_sync_cancel reg = { .addr = ud_of(SPLICE_HELD) };
	struct deadline dl = tc_deadline(s->tc);
	struct io_uring_sqe *sqe = tring_sqe(&s->r);

	io_uring_prep_splice(sqe, s->hold[0], -1, s->null, -1, 16, 0);
	io_uring_sqe_set_data64(sqe, ud_of(SPLICE_HELD));
	s->st[SPLICE_HELD] = ARMED;
	if (submit(s, "a splice from an empty pipe"))
		return;
	if (iowq_worker_busy(0, &dl) < 0) {
		tc_hang(s->tc, NULL, &s->r, "no io-wq worker ever slept in the splice");
		return;
	}
	reg.timeout.tv_sec = (long long)(s->tc->hang_ns / NSEC_PER_SEC);
	reg.timeout.tv_nsec = (long long)(s->tc->hang_ns % NSEC_PER_SEC);
	/*
	 * The interrupted splice fails with -EINTR: a restart code
	 * (-ERESTARTSYS, -512) must never reach user space. 6.18.44 and 7.2.13
	 * leak it (7.3's io_fixup_restart_res maps it; test/known-issues,
	 * regress_restart_res); never anything else, never twice, never
	 * before the cancel.
	 */
	s->want_res[SPLICE_HELD] = -EINTR;
	cancel(s, "sync cancel of a splice its worker runs", &reg, 0,
	       (const int[]){ SPLICE_HELD, -1 });
}

static enum verdict run(struct tcase *tc)
{
	struct state s = { .tc = tc };
	struct io_uring_sqe *sqe;
	struct __kernel_timespec ts = { .tv_sec = 600 };
	int files[2];
	enum verdict v;

	v = tring_init(tc, &s.r, "ring", tc->prof, NULL);
	if (v != V_PASS)
		return v;
	if (pipe(s.a) || pipe(s.b) || pipe(s.c) || pipe(s.hold) ||
	    (s.null = open("/dev/null", O_WRONLY)) < 0)
		return tc_fail(tc, "pipes and /dev/null: %s", strerror(errno));
	s.unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.unmapped == MAP_FAILED || munmap(s.unmapped, 4096))
		return tc_fail(tc, "an unmapped page: %s", strerror(errno));
	files[0] = s.c[0];
	files[1] = -1;
	if (io_uring_register_files(&s.r.ring, files, 2))
		return tc_fail(tc, "registration of a fixed file and an empty slot failed");
	arm_poll(&s, P_A0, s.a[0], false);
	arm_poll(&s, P_B0, s.b[0], false);
	arm_poll(&s, P_B1, s.b[0], false);
	arm_poll(&s, P_FIXED, 0, true);
	arm_poll(&s, P_A1, s.a[0], false);
	sqe = tring_sqe(&s.r);
	io_uring_prep_timeout(sqe, &ts, 0, 0);
	io_uring_sqe_set_data64(sqe, ud_of(T_LONG));
	s.st[T_LONG] = ARMED;

	cancel(&s, "by user_data", &(struct tw_sync_cancel){ .addr = ud_of(P_A0) }, 0,
	       (const int[]){ P_A0, -1 });
	arm_poll(&s, P_DUP0, s.a[0], false);
	arm_poll(&s, P_DUP1, s.a[0], false);
	cancel(&s, "all of a user_data", &(struct tw_sync_cancel){ .addr = ud_of(P_DUP0),
	       .flags = IORING_ASYNC_CANCEL_ALL }, 2, (const int[]){ P_DUP0, P_DUP1, -1 });
	cancel(&s, "by a user_data nobody has", &(struct tw_sync_cancel){ .addr = 0x99 }, -ENOENT,
	       NULL);
	cancel(&s, "all of a file", &(struct tw_sync_cancel){ .fd = s.b[0],
	       .flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL }, 2,
	       (const int[]){ P_B0, P_B1, -1 });
	cancel(&s, "by fixed file", &(struct tw_sync_cancel){ .fd = 0,
	       .flags = IORING_ASYNC_CANCEL_FD | CANCEL_FD_FIXED }, 0, (const int[]){ P_FIXED, -1 });
	cancel(&s, "by a fixed file past the table", &(struct tw_sync_cancel){ .fd = 5,
	       .flags = IORING_ASYNC_CANCEL_FD | CANCEL_FD_FIXED }, -EBADF, NULL);
	cancel(&s, "by an empty fixed file slot", &(struct tw_sync_cancel){ .fd = 1,
	       .flags = IORING_ASYNC_CANCEL_FD | CANCEL_FD_FIXED }, -EBADF, NULL);
	cancel(&s, "by a closed file", &(struct tw_sync_cancel){ .fd = -1,
	       .flags = IORING_ASYNC_CANCEL_FD }, -EBADF, NULL);
	cancel(&s, "by user_data, a timeout", &(struct tw_sync_cancel){ .addr = ud_of(T_LONG) },
	       0, (const int[]){ T_LONG, -1 });
	cancel(&s, "all polls by opcode", &(struct tw_sync_cancel){ .opcode = IORING_OP_POLL_ADD,
	       .flags = CANCEL_OP | IORING_ASYNC_CANCEL_ALL }, 1, (const int[]){ P_A1, -1 });
	cancel(&s, "any", &(struct tw_sync_cancel){ .flags = IORING_ASYNC_CANCEL_ANY },
	       s.st[P_A1] == ARMED, s.st[P_A1] == ARMED ? (const int[]){ P_A1, -1 } : NULL);
	cancel(&s, "with an unknown flag", &(struct tw_sync_cancel){ .flags = 1u << 31 }, -EINVAL,
	       NULL);
	cancel(&s, "with pad set", &(struct tw_sync_cancel){ .pad = { 1 } }, -EINVAL, NULL);
	cancel(&s, "with pad2 set", &(struct tw_sync_cancel){ .pad2 = { 1 } }, -EINVAL, NULL);
	cancel(&s, "from an unmapped address", s.unmapped, -EFAULT, NULL);
	if (!(tc->prof->props & PROF_SQPOLL) && !tc_failed(tc))
		cancel_running(&s);
	/* Nothing is left to complete: a NOP is the next CQE. */
	sqe = tring_sqe(&s.r);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, UD_FENCE);
	if (!tc_failed(tc)) {
		struct deadline dl = tc_deadline(tc);
		struct io_uring_cqe *cqe;

		if (tring_submit_await(tc, &s.r, 1, 1, &dl, "the NOP after the cancels") == V_PASS &&
		    io_uring_peek_cqe(&s.r.ring, &cqe) == 0 && cqe->user_data != UD_FENCE)
			tc_fail(tc, "after every cancel: CQE user_data 0x%llx res %d, expected the NOP",
				(unsigned long long)cqe->user_data, cqe->res);
	}
	tring_exit(&s.r);
	return tc_verdict(tc);
}

static const struct scenario sync_cancel = {
	.name = "sync_cancel",
	.summary = "IORING_REGISTER_SYNC_CANCEL by user_data, file, fixed file, opcode, any, "
		   "of io-wq work running, and its refusals: exact returns, each target once",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(SYNC_CANCEL) | NEED(CANCEL_FD_ANY),
	.part_needs = NEED(CANCEL_OP),
	.min_threads = 1,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &sync_cancel);
}
