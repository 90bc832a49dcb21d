// SPDX-License-Identifier: MIT
/* The other tasks of exec_fork's rounds (see exec_fork.h). */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec_fork.h"

static uint32_t state(struct xf *x)
{
	return __atomic_load_n(&x->enable_state, __ATOMIC_ACQUIRE);
}

/* A sender: its own ring, one MSG_RING at a time, judged by the target's state around it. */
static void *sender(struct tw_thread *t)
{
	struct xf *x = t->arg;
	struct tring src;
	uint32_t ok = 0, attempt = 0;
	bool after_ok = false;

	if (tring_init(x->tc, &src, "sender", &profiles[P_DEFAULT], NULL) != V_PASS)
		return NULL;
	while (ok < x->quota && !tc_failed(x->tc)) {
		struct io_uring_sqe *sqe = tring_sqe(&src);
		struct deadline dl = tc_deadline(x->tc);
		uint32_t before = state(x), after;
		struct __kernel_timespec ts = { 0 };
		struct io_uring_cqe *cqe;
		int res;

		/* A refused message reuses the sequence: if it was delivered
		 * after all, the next one is a duplicate in the ledger. */
		io_uring_prep_msg_ring(sqe, x->target_fd, attempt++,
				       ledger_ud(x->led, t->idx, 0, ok), 0);
		ts.tv_sec = deadline_left(&dl) / NSEC_PER_SEC + 1;
		if (io_uring_submit(&src.ring) != 1 ||
		    io_uring_wait_cqe_timeout(&src.ring, &cqe, &ts)) {
			tc_hang(x->tc, x->led, &src, "sender %u: MSG_RING did not complete",
				t->idx);
			break;
		}
		res = cqe->res;
		io_uring_cqe_seen(&src.ring, cqe);
		after = state(x);
		if (res == 0) {
			ledger_sent(x->led, t->idx, 0, 1);
			ok++;
			after_ok = true;
		} else if (res == -EBADFD && !after_ok && before < 2) {
			tw_counter_add(&x->refused, 1);
		} else {
			tc_fail(x->tc, "sender %u [%s]: MSG_RING into the %s ring returned %d "
				"(%s), expected %s", t->idx, x->tc->prof->name,
				after == 0 ? "disabled" : before == 2 ? "enabled" : "being enabled",
				res, strerror(-res), after == 0 ? "-EBADFD" :
				before == 2 || after_ok ? "0" : "0 or -EBADFD");
			break;
		}
		if (res == 0 && after == 0)
			tc_fail(x->tc, "sender %u [%s]: MSG_RING into a ring still disabled "
				"returned 0, expected -EBADFD", t->idx, x->tc->prof->name);
	}
	tring_exit(&src);
	return NULL;
}

unsigned xf_start_senders(struct xf *x, struct tw_thread *th)
{
	for (unsigned i = 0; i < XF_NSENDERS; i++)
		if (tw_thread_start(x->tc, &th[i], "sender", i, sender, x))
			return tc_fail(x->tc, "pthread_create"), i;
	return XF_NSENDERS;
}

int xf_exec_child(void *arg)
{
	struct xf *x = arg;
	char fd[16], ud[20], params[HANDOVER_HEX_LEN];

	if (tring_enable(&x->ring))
		return 2;
	for (unsigned i = 0; i < XF_NREADS; i++) {
		struct io_uring_sqe *sqe = tring_sqe(&x->ring);

		io_uring_prep_read(sqe, x->pipes[i][0], &x->buf[i], 1, 0);
		/* One stream per read: the writer completes them in any order. */
		io_uring_sqe_set_data64(sqe, ledger_ud(x->led, i, 0, 0));
	}
	if (io_uring_submit(&x->ring.ring) != XF_NREADS)
		return 3;
	/* SQPOLL: the exec kills the SQ thread; what it did not fetch is never issued. */
	for (struct deadline dl = tc_deadline(x->tc);
	     io_uring_smp_load_acquire(x->ring.ring.sq.khead) != *x->ring.ring.sq.ktail;
	     sched_yield())
		if (deadline_passed(&dl))
			return 7;
	for (unsigned i = 0; i < XF_NREADS; i++)
		ledger_sent(x->led, i, 0, 1);
	/* The image inherits the ring: no FD_CLOEXEC, and how to map it. */
	fcntl(tring_fd(&x->ring), F_SETFD, 0);
	snprintf(fd, sizeof(fd), "%d", tring_fd(&x->ring));
	snprintf(ud, sizeof(ud), "%llx", (unsigned long long)ledger_ud(x->led, 0, XF_EXEC_NOP, 0));
	handover_to_hex(&x->h, params);
	tw_event_set(&x->submitted);	/* the writer starts: wake-ups race the exec */
	execl("/proc/self/exe", "exec_fork", XF_EXEC_ARG, fd, params, ud, (char *)NULL);
	return 4;
}

/* The exec'd image: same task, the old mm and io_uring_task gone. */
int xf_exec_image(char **argv)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	int ret;

	if (handover_map_hex(atoi(argv[2]), argv[3], &ring))
		return 5;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, strtoull(argv[4], NULL, 16));
	ret = io_uring_submit(&ring);
	return ret == 1 ? 0 : ret == -EOWNERDEAD ? XF_IMAGE_OWNERDEAD : ret < 0 ? 100 - ret : 6;
}

int xf_fdpass_owner(void *arg)
{
	struct xf *x = arg;
	struct deadline dl = tc_deadline(x->tc);
	struct io_uring ring;
	int ret;

	ret = handover_ring_init(&x->h, &ring, x->tc->prof->setup_flags | IORING_SETUP_R_DISABLED,
				 1024);
	if (!ret)
		ret = handover_give(&x->h, ring.ring_fd);
	if (ret) {
		snprintf(x->why, sizeof(x->why), "ring set-up or SCM_RIGHTS: %s", strerror(-ret));
		x->child_failed = true;
	}
	tw_event_set(&x->ready);
	if (!x->child_failed && tw_event_wait(&x->taken, &dl))
		return 1;
	return x->child_failed;	/* the owner dies: the ring is the receiver's alone */
}

static int clone_child(struct xf *x)
{
	struct io_uring src;
	struct io_uring_cqe *cqe;

	if (io_uring_queue_init(8, &src, 0))
		return 2;
	x->leftover_fd = src.ring_fd;	/* lands in the shared fd table */
	for (uint32_t i = 0; i < x->quota; i++) {
		io_uring_prep_msg_ring(io_uring_get_sqe(&src), x->target_fd, i,
				       ledger_ud(x->led, 0, 0, i), 0);
		if (io_uring_submit(&src) != 1 || io_uring_wait_cqe(&src, &cqe) || cqe->res)
			return 3;
		io_uring_cqe_seen(&src, cqe);
		ledger_sent(x->led, 0, 0, 1);
	}
	/* Not SINGLE_ISSUER: use the parent's ring directly, through the shared SQ. */
	for (uint32_t i = 0; i < XF_NREADS && !(x->tc->prof->props & PROF_SINGLE_ISSUER); i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&x->ring.ring);

		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, ledger_ud(x->led, 0, XF_CLONE_NOP, i));
		ledger_sent(x->led, 0, XF_CLONE_NOP, 1);
	}
	io_uring_submit(&x->ring.ring);
	return 0;	/* exit without closing: src stays in the shared table */
}

int xf_clone_spawn(struct xf *x, struct child *c)
{
	fflush(stdout);
	c->pid = (pid_t)syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, NULL, NULL, 0);
	if (c->pid == 0)
		_exit(clone_child(x));
	if (c->pid < 0 || (c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0)) < 0)
		return -1;
	return 0;
}

void xf_drain(struct xf *x, int efd, const char *what)
{
	struct deadline dl = tc_deadline(x->tc);
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t cnt;

	while (!tc_failed(x->tc)) {
		if (ledger_reap(x->led, &x->ring))
			dl = tc_deadline(x->tc);
		if (ledger_outstanding(x->led) <= 0)
			return;
		if (deadline_passed(&dl)) {
			tc_hang(x->tc, x->led, &x->ring, "%s", what);
			return;
		}
		if (efd < 0)
			tring_wait(&x->ring, 1, 5 * NSEC_PER_MSEC, 0, NULL);
		else if (poll(&pfd, 1, 5) > 0 && read(efd, &cnt, 8) < 0)
			tc_fail(x->tc, "eventfd read: %m");
	}
}
