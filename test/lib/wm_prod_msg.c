// SPDX-License-Identifier: MIT
/*
 * Producers of the wait matrix (see wm.h) that are not file I/O: MSG_RING
 * (data, and a fixed file) from the firer's ring, timeouts and link
 * timeouts expiring at planned times, FUTEX_WAIT woken by the firer's
 * FUTEX_WAKE, and WAITID on children the firer kills. SQEs liburing 2.3
 * cannot prepare are filled by hand (the kernel ABI of their first release).
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wm.h"

#define OP_WAITID		50	/* IORING_OP_WAITID, 6.7 */
#define OP_FUTEX_WAIT		51	/* IORING_OP_FUTEX_WAIT, 6.7 */
#define OP_FUTEX_WAKE		52	/* IORING_OP_FUTEX_WAKE, 6.7 */
#define MSG_SEND_FD		1	/* IORING_MSG_SEND_FD, 6.0 */
#define FUTEX2_U32_PRIVATE	(0x02 | 128)	/* FUTEX2_SIZE_U32 | FUTEX2_PRIVATE */
#define FUTEX_MATCH_ANY		0xffffffffu	/* FUTEX_BITSET_MATCH_ANY */

static void set_ud(struct io_uring_sqe *sqe, unsigned k, unsigned i)
{
	io_uring_sqe_set_data64(sqe, WM_UD(k, i));
}

/* A request on the firer's ring, whose CQE reap_fring() judges. */
static struct io_uring_sqe *firer_sqe(struct wm_run *r, unsigned i, int32_t res)
{
	struct io_uring_sqe *sqe = tring_sqe(&r->c->fring);

	io_uring_sqe_set_data64(sqe, i);
	r->fsent++;
	r->fres = res;
	return sqe;
}

static int firer_submit(struct wm_run *r, unsigned i)
{
	int ret = io_uring_submit(&r->c->fring.ring);

	if (ret == 1)
		return 0;
	wm_fail(r, WK_OTHER, "firer: event %u: io_uring_submit: %s", i, strerror(-ret));
	return -1;
}

static int nothing_armed(struct wm_run *r)
{
	(void)r;
	return 0;
}

/* ---- MSG_RING -------------------------------------------------------------- */

/* Data: res = the event number, user_data = WM_UD(0, event). */
static int msg_data_fire(struct wm_run *r, unsigned i)
{
	io_uring_prep_msg_ring(firer_sqe(r, i, 0), tring_fd(r->ring), i, WM_UD(0, i), 0);
	return firer_submit(r, i);
}

static int msg_cqe(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why)
{
	int slot = wm_ud_slot(r, cqe, why);
	int32_t res = r->cell->p == &wm_msg_fd ? 0 : slot;

	if (slot >= 0 && (cqe->res != res || cqe->flags)) {
		*why = "res is not what the message carried, or flags set";
		return -1;
	}
	return slot;
}

const struct wm_producer wm_msg_data = {
	.name = "msg_data", .what = "MSG_RING data from the firer's ring; event: one message",
	.profiles = PROFILES_ALL, .flags = WP_ORDERED, .timings = WM_TIMINGS_ALL,
	.per_event = 1, .need = WN_MSG_RING,
	.arm = nothing_armed, .fire = msg_data_fire, .cqe = msg_cqe,
};

/* A fixed file into slot i of the ring's sparse table (a task_work_add to
 * the owner on DEFER_TASKRUN rings: io_msg_fd_remote). */
static int msg_fd_arm(struct wm_run *r)
{
	return io_uring_register_files_sparse(&r->ring->ring, r->events);
}

static int msg_fd_fire(struct wm_run *r, unsigned i)
{
	struct io_uring_sqe *sqe = firer_sqe(r, i, 0);

	io_uring_prep_rw(IORING_OP_MSG_RING, sqe, tring_fd(r->ring),
			 (void *)(uintptr_t)MSG_SEND_FD, 0, WM_UD(0, i));
	sqe->addr3 = 0;			/* the firer's fixed file 0 */
	sqe->file_index = i + 1;	/* the target's slot i */
	return firer_submit(r, i);
}

const struct wm_producer wm_msg_fd = {
	.name = "msg_fd", .what = "MSG_RING IORING_MSG_SEND_FD of a fixed file; event: one message",
	.profiles = PROFILES_ALL, .timings = WM_TIMINGS_ALL,
	.per_event = 1, .need = WN_MSG_FD,
	.arm = msg_fd_arm, .fire = msg_fd_fire, .cqe = msg_cqe,
};

/* ---- timers ------------------------------------------------------------------ */

static struct __kernel_timespec *due_ts(struct wm_run *r, unsigned i)
{
	r->ts[i].tv_sec = r->due[i] / NSEC_PER_SEC;
	r->ts[i].tv_nsec = r->due[i] % NSEC_PER_SEC;
	return &r->ts[i];
}

static int timeout_arm(struct wm_run *r)
{
	for (unsigned i = 0; i < r->events; i++) {
		struct io_uring_sqe *sqe = wm_sqe(r);

		io_uring_prep_timeout(sqe, due_ts(r, i), 0, IORING_TIMEOUT_ABS);
		set_ud(sqe, 0, i);
	}
	return 0;
}

static int timer_cqe(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why)
{
	int slot = wm_ud_slot(r, cqe, why);
	bool link = r->cell->p->per_event == 2;
	int32_t res = link && !(slot & 1) ? -ECANCELED : -ETIME;

	if (slot >= 0 && cqe->res != res) {
		*why = link ? "expected -ECANCELED for the read, -ETIME for its link timeout"
			    : "a timeout that did not expire (-ETIME)";
		return -1;
	}
	return slot;
}

const struct wm_producer wm_timeout = {
	.name = "timeout", .what = "IORING_OP_TIMEOUT (absolute); event: its expiry (which "
		"ends any wait, io_should_wake: a wait returns on each)",
	.profiles = PROFILES_ALL, .flags = WP_TIMED | WP_ENDS_WAITS, .timings = WM_TIMINGS_ALL,
	.per_event = 1,
	.arm = timeout_arm, .cqe = timer_cqe,
};

static int link_timeout_arm(struct wm_run *r)
{
	for (unsigned i = 0; i < r->events; i++) {
		struct io_uring_sqe *sqe;

		if (pipe2(r->fd[i], O_CLOEXEC))
			return -errno;
		sqe = wm_sqe(r);
		io_uring_prep_read(sqe, r->fd[i][0], &r->rbuf[i], 8, 0);
		sqe->flags |= IOSQE_IO_LINK;
		set_ud(sqe, 0, i);
		sqe = wm_sqe(r);
		io_uring_prep_link_timeout(sqe, due_ts(r, i), IORING_TIMEOUT_ABS);
		set_ud(sqe, 1, i);
	}
	return 0;
}

const struct wm_producer wm_link_timeout = {
	.name = "link_timeout", .what = "READ of a silent pipe with a LINK_TIMEOUT (absolute); "
		"event: its expiry cancels the read (2 CQEs)",
	.profiles = PROFILES_ALL, .flags = WP_TIMED, .timings = WM_TIMINGS_ALL,
	.per_event = 2,
	.arm = link_timeout_arm, .cqe = timer_cqe,
};

/* ---- futex ----------------------------------------------------------------------- */

static int futex_arm(struct wm_run *r)
{
	for (unsigned i = 0; i < r->events; i++) {
		struct io_uring_sqe *sqe = wm_sqe(r);

		r->word[i] = 0;
		/* addr: the word, addr2 (off): the value, addr3: the mask, fd: flags. */
		io_uring_prep_rw(OP_FUTEX_WAIT, sqe, FUTEX2_U32_PRIVATE, &r->word[i], 0, 0);
		sqe->addr3 = FUTEX_MATCH_ANY;
		set_ud(sqe, 0, i);
	}
	return 0;
}

static int futex_fire(struct wm_run *r, unsigned i)
{
	struct io_uring_sqe *sqe = firer_sqe(r, i, 1);	/* it wakes exactly one */

	io_uring_prep_rw(OP_FUTEX_WAKE, sqe, FUTEX2_U32_PRIVATE, &r->word[i], 0, 1);
	sqe->addr3 = FUTEX_MATCH_ANY;
	return firer_submit(r, i);
}

static int zero_cqe(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why)
{
	int slot = wm_ud_slot(r, cqe, why);

	if (slot >= 0 && cqe->res) {
		*why = "res is not 0";
		return -1;
	}
	return slot;
}

const struct wm_producer wm_futex = {
	.name = "futex", .what = "FUTEX_WAIT; event: the firer's ring's FUTEX_WAKE of its word",
	.profiles = PROFILES_ALL, .timings = WM_TIMINGS_ALL, .per_event = 1, .need = WN_FUTEX,
	.arm = futex_arm, .fire = futex_fire, .cqe = zero_cqe,
};

/* ---- waitid ------------------------------------------------------------------------ */

/* A child that only waits to be killed. It shares our memory (CLONE_VM):
 * no page tables to copy, so forty of them cost little; it touches
 * nothing of ours, and dies with us. */
static int child_waits(void *arg)
{
	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;)
		syscall(SYS_pause);
	return 0;
}

#define KID_STACK	(64 * 1024)

static int waitid_arm(struct wm_run *r)
{
	static char *stacks;

	if (!stacks) {
		stacks = mmap(NULL, WM_MAX_N * KID_STACK, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (stacks == MAP_FAILED) {
			stacks = NULL;
			return -ENOMEM;
		}
	}
	for (unsigned i = 0; i < r->events; i++) {
		struct io_uring_sqe *sqe;

		r->kid[i].pid = clone(child_waits, stacks + (i + 1) * KID_STACK,
				      CLONE_VM | SIGCHLD, NULL);
		if (r->kid[i].pid < 0) {
			r->kid[i].pid = 0;
			return -errno;
		}
		sqe = wm_sqe(r);
		/* fd: the pid, len: P_PID, file_index: options, addr2 (off): infop. */
		io_uring_prep_rw(OP_WAITID, sqe, r->kid[i].pid, NULL, P_PID, (uintptr_t)&r->si[i]);
		sqe->file_index = WEXITED;
		set_ud(sqe, 0, i);
	}
	return 0;
}

static int waitid_fire(struct wm_run *r, unsigned i)
{
	if (!kill(r->kid[i].pid, SIGKILL))
		return 0;
	wm_fail(r, WK_OTHER, "firer: event %u: kill: %s", i, strerror(errno));
	return -1;
}

static int waitid_cqe(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why)
{
	int slot = zero_cqe(r, cqe, why);

	if (slot >= 0 && (r->si[slot].si_pid != r->kid[slot].pid ||
			  r->si[slot].si_code != CLD_KILLED)) {
		*why = "siginfo does not name the child killed";
		return -1;
	}
	if (slot >= 0)
		r->kid[slot].pid = 0;	/* reaped */
	return slot;
}

/* Children the ring did not reap (a failed or skipped cell): killed and
 * reaped here, by the case's deadline. */
static void waitid_cleanup(struct wm_run *r)
{
	struct deadline dl = tc_deadline(r->c->tc);

	for (unsigned i = 0; i < WM_MAX_N; i++) {
		siginfo_t si = { 0 };

		if (r->kid[i].pid <= 0)
			continue;
		kill(r->kid[i].pid, SIGKILL);
		while (!waitid(P_PID, r->kid[i].pid, &si, WEXITED | WNOHANG) && !si.si_pid &&
		       !deadline_passed(&dl))
			sched_yield();
		r->kid[i].pid = 0;
	}
}

const struct wm_producer wm_waitid = {
	.name = "waitid", .what = "WAITID(P_PID, WEXITED) on a child; event: the firer kills it",
	.profiles = PROFILES_ALL, .timings = WM_TIMINGS_ALL, .per_event = 1, .need = WN_WAITID,
	.arm = waitid_arm, .fire = waitid_fire, .cqe = waitid_cqe, .cleanup = waitid_cleanup,
};
