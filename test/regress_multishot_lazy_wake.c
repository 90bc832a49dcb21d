// SPDX-License-Identifier: MIT
/*
 * The owner of a ring has one multishot request armed and waits for 2 CQEs
 * (io_uring_enter(GETEVENTS, min_complete = 2)). Once it is seen asleep in
 * the kernel, another thread makes the request's socket ready for two CQEs.
 * The wait must end within BOUND_NS: the lost wake-up of issue 13.
 *
 * On DEFER_TASKRUN rings (6.7+) a poll wake-up queues the request's task_work
 * with IOU_F_TWQ_LAZY_WAKE (__io_poll_execute()), and io_req_local_work_add()
 * wakes the owner once as many task_work items were queued as it waits for
 * CQEs (ctx->cq_wait_nr). A multishot request has at most one item queued
 * (a second wake-up finds io_poll_get_ownership() taken and queues nothing),
 * and that item posts a CQE per event, a recv one per buffer it fills: the
 * count stops at 1 and the owner sleeps to its timeout, or forever.
 *
 * The shapes, one ring each, all set up before the first wait (a ring torn
 * down meanwhile would wake the owner: io_ring_exit_work() queues
 * io_tctx_exit_cb() to it with TWA_SIGNAL):
 *   dgram   multishot recv, AF_UNIX SOCK_DGRAM, provided buffers: two
 *           datagrams back to back (two wake-ups, the second finds the
 *           request owned) - the case of issue 13;
 *   stream  multishot recv, AF_UNIX SOCK_STREAM, 64-byte buffers: one
 *           128-byte write (one wake-up, one task_work item, two CQEs);
 *   accept  multishot accept, AF_UNIX listener: two connect()s. Accept polls
 *           with EPOLLEXCLUSIVE, which has no lazy wake since 595e52284d24:
 *           a control that passes on every kernel.
 * Multishot POLL_ADD is left out: it merges the events that come before its
 * task_work runs into one CQE, so two events make one or two CQEs.
 *
 * Checks, per shape and profile: the wait returns 0 within BOUND_NS of the
 * trigger (a wait that sleeps to its TIMEOUT_NS timeout and then finds both
 * CQEs is a lost wake-up, though the timeout rescued it); the CQ holds
 * exactly the request's 2 CQEs, each with IORING_CQE_F_MORE, the bytes sent
 * (and a buffer) or a new socket.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define BOUND_NS	NSEC_PER_SEC		/* a wake-up takes microseconds, even under TCG */
#define TIMEOUT_NS	(1500 * NSEC_PER_MSEC)	/* the wait's rescue: past the bound */
#define BUF_LEN		64
#define NR_BUFS		8			/* more than the CQEs: never short of buffers */
#define BGID		7
#define REQ_UD		0x6d75			/* the multishot request's user_data */
#define BUFS_UD		0x6275			/* PROVIDE_BUFFERS' */

enum shape_id { DGRAM, STREAM, ACCEPT, NR_SHAPES };

struct shape {
	const char *name;
	const char *what;		/* the request and the trigger, for messages */
	int type;			/* SOCK_DGRAM or SOCK_STREAM */
	int res;			/* each CQE's res: bytes received, or -1: a socket */
};

static const struct shape shapes[NR_SHAPES] = {
	[DGRAM] = { "dgram", "multishot recv on an AF_UNIX SOCK_DGRAM socketpair, 2 datagrams "
		    "sent back to back", SOCK_DGRAM, 32 },
	[STREAM] = { "stream", "multishot recv on an AF_UNIX SOCK_STREAM socketpair, one 128-byte "
		     "write into 64-byte provided buffers", SOCK_STREAM, BUF_LEN },
	[ACCEPT] = { "accept", "multishot accept on an AF_UNIX listener, 2 connect()s",
		     SOCK_STREAM, -1 },
};

/* One shape's ring and sockets. */
struct lane {
	const struct shape *sh;
	struct tring ring;
	bool ring_up;
	int fds[2];			/* [0] the request's socket, [1] the trigger's */
	int conns[2];			/* accept: the trigger's clients */
	char bufs[NR_BUFS][BUF_LEN];
};

/* What the owner and the trigger thread share for one wait. */
struct trigger {
	struct tcase *tc;
	struct lane *lane;
	pid_t owner;
	long owner_nvcsw;		/* the owner's switches before its wait */
	struct tw_event entering;	/* owner_nvcsw is set; the owner enters */
	bool fired;			/* the trigger went off */
	int64_t sent_ns;		/* then its last step returned */
};

/* Make the request's socket ready for two CQEs: see shapes[]. */
static int fire(struct lane *l)
{
	char data[2 * BUF_LEN];

	memset(data, 'x', sizeof(data));
	switch (l->sh - shapes) {
	case DGRAM:
		if (send(l->fds[1], data, 32, 0) != 32 || send(l->fds[1], data, 32, 0) != 32)
			return -1;
		return 0;
	case STREAM:
		return write(l->fds[1], data, sizeof(data)) == (ssize_t)sizeof(data) ? 0 : -1;
	default: {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		if (getsockname(l->fds[0], (struct sockaddr *)&ss, &len))
			return -1;
		for (int i = 0; i < 2; i++) {
			l->conns[i] = socket(AF_UNIX, SOCK_STREAM, 0);
			if (l->conns[i] < 0 || connect(l->conns[i], (struct sockaddr *)&ss, len))
				return -1;
		}
		return 0;
	}
	}
}

/* Fires once the owner sleeps in io_uring_enter(): only a wake-up ends its wait then. */
static void *trigger_fn(struct tw_thread *t)
{
	struct trigger *tr = t->arg;
	struct deadline dl = tc_deadline(tr->tc);

	if (tw_event_wait(&tr->entering, &dl) ||
	    proc_task_wait_asleep(tr->owner, tr->owner_nvcsw, &dl)) {
		tc_hang(tr->tc, NULL, &tr->lane->ring, "%s: the owner never went to sleep in "
			"io_uring_enter(min_complete=2)", tr->lane->sh->name);
		return NULL;
	}
	if (fire(tr->lane)) {
		tc_fail(tr->tc, "%s: the trigger failed: %s", tr->lane->sh->name, strerror(errno));
		return NULL;
	}
	tr->sent_ns = now_ns();
	tr->fired = true;
	return NULL;
}

/* Submit one SQE and check its CQE: 0, or the verdict to return. */
static enum verdict submit_one(struct tcase *tc, struct lane *l, const char *what, bool cqe)
{
	struct deadline dl = tc_deadline(tc);
	struct io_uring_cqe *c;
	int ret = io_uring_submit(&l->ring.ring);
	enum verdict v;

	/* SQPOLL: what the SQ thread has not consumed yet, maybe the last SQE too */
	if (ret < 1)
		return tc_fail(tc, "%s: %s: submit returned %d", l->sh->name, what, ret);
	/* The SQ thread issues it before the trigger may fire (khead moves after). */
	while (io_uring_sq_ready(&l->ring.ring)) {
		if (deadline_passed(&dl))
			return tc_hang(tc, NULL, &l->ring, "%s: the SQ thread never took %s",
				       l->sh->name, what);
		sched_yield();
	}
	if (!cqe) {		/* an armed request: no CQE unless refused */
		tring_get_events(&l->ring);
		if (io_uring_peek_cqe(&l->ring.ring, &c))
			return V_PASS;
	} else if ((v = tring_await(tc, &l->ring, 1, &dl, "the %s lane's %s", l->sh->name,
				    what)) != V_PASS) {
		return v;
	} else if (io_uring_peek_cqe(&l->ring.ring, &c)) {
		return tc_hang(tc, NULL, &l->ring, "%s: %s never completed", l->sh->name, what);
	}
	ret = c->res;
	io_uring_cqe_seen(&l->ring.ring, c);
	if (ret < 0 && !cqe)	/* the armed request refused (multishot accept: 5.19) */
		return tc_refused(tc, NEED_RECV_MULTISHOT, ret, what);
	if (ret < 0 || !cqe)
		return tc_fail(tc, "%s: %s: expected %s, got res %d (%s)", l->sh->name, what,
			       cqe ? "res 0" : "no CQE before the trigger", ret,
			       ret < 0 ? strerror(-ret) : "a CQE");
	return V_PASS;
}

/* The lane's ring and sockets, and its request armed. */
static enum verdict lane_setup(struct tcase *tc, struct lane *l)
{
	struct sockaddr autobind = { .sa_family = AF_UNIX };	/* an abstract name, chosen */
	struct io_uring_sqe *sqe;
	enum verdict v;

	v = tring_init(tc, &l->ring, l->sh->name, tc->prof, NULL);
	if (v != V_PASS)
		return v;
	l->ring_up = true;
	if (l->sh->res >= 0) {
		if (socketpair(AF_UNIX, l->sh->type, 0, l->fds))
			return tc_fail(tc, "%s: socketpair: %s", l->sh->name, strerror(errno));
		sqe = tring_sqe(&l->ring);
		io_uring_prep_provide_buffers(sqe, l->bufs, BUF_LEN, NR_BUFS, BGID, 0);
		sqe->user_data = BUFS_UD;
		v = submit_one(tc, l, "PROVIDE_BUFFERS", true);
		if (v != V_PASS)
			return v;
		sqe = tring_sqe(&l->ring);
		io_uring_prep_recv_multishot(sqe, l->fds[0], NULL, 0, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = BGID;
	} else {
		l->fds[0] = socket(AF_UNIX, SOCK_STREAM, 0);
		if (l->fds[0] < 0 || bind(l->fds[0], &autobind, sizeof(sa_family_t)) ||
		    listen(l->fds[0], 8))
			return tc_fail(tc, "%s: listener: %s", l->sh->name, strerror(errno));
		sqe = tring_sqe(&l->ring);
		io_uring_prep_multishot_accept(sqe, l->fds[0], NULL, NULL, 0);
	}
	sqe->user_data = REQ_UD;
	/* Nothing to receive or accept yet: the request arms its poll. */
	return submit_one(tc, l, l->sh->res >= 0 ? "multishot recv" : "multishot accept", false);
}

/* The CQ must hold exactly the request's 2 CQEs; says what it holds if not. */
static bool cqes_ok(struct lane *l, char *why, size_t len)
{
	struct io_uring_cqe *c;
	unsigned head, n = 0, good = 0;
	size_t off = 0;

	io_uring_for_each_cqe(&l->ring.ring, head, c) {
		bool ok = c->user_data == REQ_UD && (c->flags & IORING_CQE_F_MORE) &&
			  (l->sh->res < 0 ? c->res >= 0 :
			   c->res == l->sh->res && (c->flags & IORING_CQE_F_BUFFER));

		good += ok;
		if (off < len)
			off += snprintf(why + off, len - off, "%s{ud 0x%llx res %d flags 0x%x}",
					n ? " " : "", (unsigned long long)c->user_data, c->res,
					c->flags);
		if (l->sh->res < 0 && c->res >= 0)
			close(c->res);		/* an accepted connection */
		n++;
	}
	io_uring_cq_advance(&l->ring.ring, n);
	return n == 2 && good == 2;
}

/* One shape: the owner waits for 2 CQEs while the trigger thread fires. */
static void check_lane(struct tcase *tc, struct lane *l)
{
	struct trigger tr = { .tc = tc, .lane = l, .owner = gettid() };
	struct tw_thread th = { 0 };
	int64_t start, end, after;
	char cqes[256] = "";
	unsigned ready;
	int ret;

	if (tw_thread_start(tc, &th, "trigger", 0, trigger_fn, &tr)) {
		tc_fail(tc, "pthread_create failed");
		return;
	}
	tr.owner_nvcsw = proc_task_nvcsw(tr.owner);
	tw_event_set(&tr.entering);
	start = now_ns();
	ret = tring_wait(&l->ring, 2, TIMEOUT_NS, 0, NULL);
	end = now_ns();
	ready = io_uring_cq_ready(&l->ring.ring);
	if (tw_threads_join(tc, &th, 1, NULL, &l->ring) == V_HANG || !tr.fired)
		return;		/* reported */
	tring_get_events(&l->ring);	/* what the wait left queued, to say what it was */
	after = end - tr.sent_ns;
	if (!cqes_ok(l, cqes, sizeof(cqes))) {
		tc_fail(tc, "%s: %s: expected the request's 2 CQEs (F_MORE, res %d), got %s",
			l->sh->name, l->sh->what, l->sh->res, *cqes ? cqes : "none");
	} else if (ret == 0 && ready >= 2 && after <= BOUND_NS) {
		tc_log(tc, "%s: woken %.3f ms after the trigger", l->sh->name,
		       (double)after / NSEC_PER_MSEC);
	} else if ((ret == 0 || ret == -ETIME) && end - start >= TIMEOUT_NS) {
		tc_fail(tc, "%s: lost wake-up: io_uring_enter(GETEVENTS, min_complete=2) slept to "
			"its %.1f s timeout though both CQEs were postable %.3f s before (%s while "
			"it slept); expected a wake-up within %.1f s%s", l->sh->name,
			ns_to_s(TIMEOUT_NS), ns_to_s(after), l->sh->what, ns_to_s(BOUND_NS),
			tc->prof->props & PROF_LOCAL_TW ?
			"; lazy wake counted 1 task_work item against cq_wait_nr=2" : "");
	} else if (ret == 0 && ready < 2) {
		tc_fail(tc, "%s: early return: io_uring_enter(min_complete=2) returned 0 with %u "
			"CQEs in the CQ (%s)", l->sh->name, ready, l->sh->what);
	} else {
		tc_fail(tc, "%s: slow wake-up: io_uring_enter(min_complete=2) returned %s %.3f s "
			"after the trigger, expected 0 within %.1f s (%s)", l->sh->name,
			ret ? strerror(-ret) : "0", ns_to_s(after), ns_to_s(BOUND_NS),
			l->sh->what);
	}
}

static enum verdict run(struct tcase *tc)
{
	struct lane lanes[NR_SHAPES];
	enum verdict v = V_PASS;

	for (int i = 0; i < NR_SHAPES; i++)
		lanes[i] = (struct lane){ .sh = &shapes[i], .fds = { -1, -1 }, .conns = { -1, -1 } };
	for (int i = 0; i < NR_SHAPES && v == V_PASS; i++)
		v = lane_setup(tc, &lanes[i]);
	/* Every shape is checked even after one failed: each says what it shows. */
	for (int i = 0; i < NR_SHAPES && v == V_PASS && tc_verdict(tc) < V_HANG; i++)
		check_lane(tc, &lanes[i]);
	for (int i = 0; i < NR_SHAPES; i++) {
		struct lane *l = &lanes[i];

		if (l->ring_up)
			tring_exit(&l->ring);
		for (int k = 0; k < 2; k++) {
			if (l->conns[k] >= 0)
				close(l->conns[k]);
			if (l->fds[k] >= 0)
				close(l->fds[k]);
		}
	}
	return tc_verdict(tc);
}

static const struct scenario regress_multishot_lazy_wake = {
	.name = "regress_multishot_lazy_wake",
	.summary = "a wait for 2 CQEs of one multishot recv or accept is woken once both can "
		   "be posted",
	.profiles = PROFILES_ALL,	/* the contract is everyone's; DEFER rings break it */
	.needs = NEED(RECV_MULTISHOT),
	.run = run,
	.fix_commit = "-",
	.fix_subject = "io_uring/poll: don't use lazy wake for multishot requests "
		       "(not upstream; doc/bugs/multishot-lazy-wake.md)",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_multishot_lazy_wake);
}
