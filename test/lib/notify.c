// SPDX-License-Identifier: MIT
/*
 * Notifications of work arriving at a ring whose owner sleeps elsewhere;
 * the scenarios notify_eventfd and notify_pollfd draw their modes from here.
 * Every round, the owner of ring A sleeps somewhere other than
 * io_uring_enter() while another thread delivers work to A, and must be
 * woken by the ring's notification:
 *  - eventfd:       a registered eventfd; on a DEFER_TASKRUN ring it is
 *                   signalled when local work arrives (io_req_local_work_add),
 *                   on other rings when the CQE is posted;
 *  - eventfd-async: the same with io_uring_register_eventfd_async(), fed by
 *                   IOSQE_ASYNC MSG_RINGs, i.e. from io-wq workers;
 *  - poll:          poll() on A's fd (io_uring_poll; for DEFER_TASKRUN the
 *                   poll wait queue is activated lazily through task_work);
 *  - epoll-wake:    epoll_wait() on A's fd while the work is queued from a
 *                   wake-up handler: a pipe READ armed on A completes when a
 *                   writer writes (IOU_F_TWQ_IN_WAKE: the poll_wq wake-up
 *                   goes through RCU);
 *  - multishot:     ring B holds a multishot POLL_ADD on A's fd; the owner
 *                   waits on B, which must get a POLLIN CQE.
 * Then the owner runs A's work once and checks every CQE (ledger).
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "notify.h"

#define MAX_MSGS	4
#define CH_MSG		0
#define CH_PIPE		1
#define POLL_UD		0x0bull		/* B's multishot poll on A */

static const char *const mode_names[N_COUNT] = {
	"eventfd", "eventfd-async", "poll", "epoll-wake", "multishot",
};

struct nw {
	struct tcase *tc;
	struct tring a, b;		/* A: the case's profile; B: polls A */
	struct ledger *led;
	int efd, epfd, pipe[2];
	unsigned modes;			/* the modes this scenario draws from */
	enum notify_mode mode;
	int efd_reg;			/* -1 none, else 1 async / 0 plain */
	bool poll_armed;		/* B's multishot is live */
	unsigned msgs;			/* this round */
	uint64_t rbuf;
	struct tw_counter go, delivered;
	int64_t delivered_ns;		/* when this round's delivery was complete */
	bool stop;
};

/* The sender: this round's messages into A, or the pipe write. */
static void *sender(struct tw_thread *t)
{
	struct nw *n = t->arg;
	struct tring src;

	if (tring_init(n->tc, &src, "sender", &profiles[P_DEFAULT], NULL) != V_PASS)
		return NULL;
	for (uint32_t round = 1;; round++) {
		struct deadline dl = tc_deadline(n->tc);
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		int ret;

		if (tw_counter_wait_ge(&n->go, round, &dl) ||
		    __atomic_load_n(&n->stop, __ATOMIC_ACQUIRE))
			break;
		if (n->mode == N_EPOLL_WAKE) {
			uint64_t v = round;

			if (write(n->pipe[1], &v, sizeof(v)) != sizeof(v))
				tc_fail(n->tc, "sender: pipe write: %s", strerror(errno));
			__atomic_store_n(&n->delivered_ns, now_ns(), __ATOMIC_RELEASE);
			tw_counter_add(&n->delivered, 1);
			continue;
		}
		for (unsigned i = 0; i < n->msgs; i++) {
			struct io_uring_sqe *sqe = tring_sqe(&src);

			io_uring_prep_msg_ring(sqe, tring_fd(&n->a), i, ledger_ud(n->led, 0, CH_MSG, i), 0);
			/* eventfd-async only fires for work done by io-wq workers. */
			if (n->mode == N_EVENTFD_ASYNC)
				sqe->flags |= IOSQE_ASYNC;
		}
		ret = io_uring_submit(&src.ring);
		if (ret != (int)n->msgs) {
			tc_fail(n->tc, "sender: submit of %u MSG_RING into A returned %d (%s)",
				n->msgs, ret, ret < 0 ? strerror(-ret) : "short");
			break;
		}
		if (tring_await_ledger(n->tc, n->led, &src, n->msgs, &dl,
				       "the sender's %u MSG_RING into A", n->msgs) != V_PASS)
			break;
		io_uring_for_each_cqe(&src.ring, head, cqe) {
			if (cqe->res < 0)
				tc_fail(n->tc, "sender: MSG_RING into A: %s", strerror(-cqe->res));
			else
				ledger_sent(n->led, 0, CH_MSG, 1);
			seen++;
		}
		io_uring_cq_advance(&src.ring, seen);
		__atomic_store_n(&n->delivered_ns, now_ns(), __ATOMIC_RELEASE);
		tw_counter_add(&n->delivered, 1);
	}
	tring_exit(&src);
	return NULL;
}

static int register_efd(struct nw *n, bool async)
{
	if (n->efd_reg == async)
		return 0;
	if (n->efd_reg >= 0)
		io_uring_unregister_eventfd(&n->a.ring);
	n->efd_reg = async;
	return async ? io_uring_register_eventfd_async(&n->a.ring, n->efd) :
		       io_uring_register_eventfd(&n->a.ring, n->efd);
}

/* Sleep on the mode's notification for up to timeout_ns. 0 when it came,
 * -ETIMEDOUT if not. */
static int await_notification(struct nw *n, int64_t timeout_ns)
{
	int ms = (int)(timeout_ns / NSEC_PER_MSEC), ret;
	struct pollfd pfd = { .events = POLLIN };
	struct epoll_event ev;
	struct deadline dl;

	switch (n->mode) {
	case N_EVENTFD:
	case N_EVENTFD_ASYNC:
	case N_POLL:
		pfd.fd = n->mode == N_POLL ? tring_fd(&n->a) : n->efd;
		do
			ret = poll(&pfd, 1, ms);
		while (ret < 0 && errno == EINTR);
		return ret > 0 ? 0 : -ETIMEDOUT;
	case N_EPOLL_WAKE:
		do
			ret = epoll_wait(n->epfd, &ev, 1, ms);
		while (ret < 0 && errno == EINTR);
		return ret > 0 ? 0 : -ETIMEDOUT;
	default:
		dl = deadline_in(timeout_ns);
		return tring_wait_ready(&n->b, 1, &dl) ? -ETIMEDOUT : 0;
	}
}

static void arm_multishot(struct nw *n)
{
	struct io_uring_sqe *sqe = tring_sqe(&n->b);

	io_uring_prep_poll_multishot(sqe, tring_fd(&n->a), POLLIN);
	io_uring_sqe_set_data64(sqe, POLL_UD);
	io_uring_submit(&n->b.ring);
	n->poll_armed = true;
}

/* B's CQEs: POLLIN from the multishot; without F_MORE it ended, re-arm. */
static void reap_b(struct nw *n)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;

	io_uring_for_each_cqe(&n->b.ring, head, cqe) {
		if (cqe->user_data != POLL_UD || cqe->res < 0 || !(cqe->res & POLLIN))
			tc_fail(n->tc, "ring B: multishot poll on A: user_data 0x%llx res %d",
				(unsigned long long)cqe->user_data, cqe->res);
		if (!(cqe->flags & IORING_CQE_F_MORE))
			n->poll_armed = false;
		seen++;
	}
	io_uring_cq_advance(&n->b.ring, seen);
}

/*
 * Wait for the notification and judge when it came, not only whether: a
 * sleeper must wake soon after the delivery was complete. Checking the
 * return value alone is not enough - poll() re-polls every fd once its
 * timeout expired, and io_uring_poll() then reports the pending work, so an
 * owner that slept through the delivery still "sees" it, a timeout late.
 * A delivery that completed late proves nothing: then wait again (a new
 * poll() may well see the readiness at once).
 */
static void notified(struct nw *n, uint32_t round)
{
	int64_t slice = n->tc->hang_ns / 10;

	for (;;) {
		int64_t start = now_ns(), end, done;
		int ret = await_notification(n, slice);
		struct deadline dl;

		end = now_ns();
		dl = tc_deadline(n->tc);
		if (tw_counter_wait_ge(&n->delivered, round, &dl))
			return;		/* the caller reports the hang */
		done = __atomic_load_n(&n->delivered_ns, __ATOMIC_ACQUIRE);
		if (done < start)
			done = start;
		if (done < end - slice / 2) {
			tc_fail(n->tc, "lost notification: %s: the owner of ring A slept %.2f s "
				"(%s) although work was delivered to A %.2f s before it woke "
				"(%u CQEs ready, sq_flags 0x%x)", mode_names[n->mode],
				ns_to_s(end - start), ret ? "timed out" : "woken by its timeout",
				ns_to_s(end - done), io_uring_cq_ready(&n->a.ring),
				tring_sq_flags(&n->a));
			return;
		}
		if (!ret)
			return;
	}
}

static void one_round(struct nw *n, struct rng *rng, uint32_t round)
{
	struct deadline dl;
	uint64_t count;
	unsigned want;

	do
		n->mode = (enum notify_mode)rng_below(rng, N_COUNT);
	while (!(n->modes & (1u << n->mode)));
	n->msgs = (unsigned)rng_range(rng, 1, MAX_MSGS);
	ledger_reset(n->led);
	if (n->mode == N_EVENTFD || n->mode == N_EVENTFD_ASYNC) {
		int ret = register_efd(n, n->mode == N_EVENTFD_ASYNC);

		if (ret < 0) {
			tc_fail(n->tc, "io_uring_register_eventfd%s: %s",
				n->mode == N_EVENTFD_ASYNC ? "_async" : "", strerror(-ret));
			return;
		}
	}
	if (n->mode == N_MULTISHOT) {
		/* B's poll also fired for earlier rounds' work: flush those
		 * CQEs, so that only this round's wake-up can end the wait. */
		tring_get_events(&n->b);
		reap_b(n);
		if (!n->poll_armed)
			arm_multishot(n);
	}
	if (n->mode == N_EPOLL_WAKE) {
		struct io_uring_sqe *sqe = tring_sqe(&n->a);

		io_uring_prep_read(sqe, n->pipe[0], &n->rbuf, sizeof(n->rbuf), 0);
		io_uring_sqe_set_data64(sqe, ledger_ud(n->led, 0, CH_PIPE, 0));
		ledger_sent(n->led, 0, CH_PIPE, 1);
		io_uring_submit(&n->a.ring);
	}
	tw_counter_add(&n->go, 1);
	notified(n, round);
	dl = tc_deadline(n->tc);
	if (tw_counter_wait_ge(&n->delivered, round, &dl)) {
		tc_hang(n->tc, n->led, &n->a, "round %u: the sender did not deliver", round);
		return;
	}
	/* Consume: the eventfd count, then A's work, then B's poll CQE(s). */
	if (n->mode == N_EVENTFD || n->mode == N_EVENTFD_ASYNC)
		while (read(n->efd, &count, sizeof(count)) == sizeof(count))
			;
	want = n->mode == N_EPOLL_WAKE ? 1 : n->msgs;
	tring_await_ledger(n->tc, n->led, &n->a, want, &dl,
			   "the %u CQEs delivered to A in round %u (%s)", want, round,
			   mode_names[n->mode]);
	ledger_reap(n->led, &n->a);
	ledger_verify(n->led);
	reap_b(n);
}

static const char *check_res(uint64_t ud, int32_t res, uint32_t flags, void *arg)
{
	unsigned p, c;
	uint32_t seq;

	(void)flags;
	(void)arg;
	ledger_decode(ud, &p, &c, &seq);
	if (c == CH_MSG)
		return res == (int32_t)seq ? NULL : "MSG_RING payload";
	return res == 8 ? NULL : "pipe READ did not read 8 bytes";
}

enum verdict notify_run(struct tcase *tc, unsigned modes)
{
	struct nw n = { .tc = tc, .efd_reg = -1, .modes = modes };
	struct deadline end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	struct epoll_event ev = { .events = EPOLLIN };
	uint32_t round = 0;
	struct tw_thread t;
	struct rng rng;
	enum verdict v;

	v = tring_init(tc, &n.a, "A", tc->prof, NULL);
	if (v == V_PASS)
		v = tring_init(tc, &n.b, "B", &profiles[P_DEFAULT], NULL);
	if (v != V_PASS)
		return v;
	n.led = ledger_new(tc, "ringA", 1, 2, MAX_MSGS, 0);
	n.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	n.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!n.led || n.efd < 0 || n.epfd < 0 || pipe2(n.pipe, O_CLOEXEC) ||
	    epoll_ctl(n.epfd, EPOLL_CTL_ADD, tring_fd(&n.a), &ev))
		return tc_fail(tc, "set-up: %s", strerror(errno));
	ledger_set_check(n.led, check_res, NULL);
	rng_seed(&rng, tc->seed, 0);
	if (tw_thread_start(tc, &t, "sender", 0, sender, &n))
		return tc_fail(tc, "pthread_create failed");
	do
		one_round(&n, &rng, ++round);
	while (!tc_failed(tc) && !deadline_passed(&end));
	if (tc_failed(tc))
		return tc_verdict(tc);
	__atomic_store_n(&n.stop, true, __ATOMIC_RELEASE);
	tw_counter_add(&n.go, 1);
	tw_threads_join(tc, &t, 1, n.led, &n.a);
	tc_log(tc, "%u rounds", round);
	tring_exit(&n.b);
	tring_exit(&n.a);
	close(n.efd);
	close(n.epfd);
	close(n.pipe[0]);
	close(n.pipe[1]);
	ledger_free(n.led);
	return tc_verdict(tc);
}

