// SPDX-License-Identifier: MIT
/* MSG_RING senders to an fd number that gets closed (see msgsend.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "msgsend.h"

#define MAX_BATCH	16

enum fd_state fd_watch_state(struct fd_watch *w)
{
	return (enum fd_state)__atomic_load_n(&w->state, __ATOMIC_ACQUIRE);
}

void fd_watch_close(struct fd_watch *w, int fd)
{
	__atomic_store_n(&w->state, FD_CLOSING, __ATOMIC_RELEASE);
	close(fd);
	__atomic_store_n(&w->state, FD_CLOSED, __ATOMIC_RELEASE);
	futex_wake_all(&w->state);
}

bool fd_watch_close_fuzzy(struct fd_watch *w, int fd, struct fuzzy *f,
			  const struct deadline *dl)
{
	cpu_set_t saved;
	bool closed = false;

	fuzzy_pin(FUZZY_B, &saved);
	for (;;) {
		int copy = dup(fd);

		if (copy < 0 || fuzzy_start(f, FUZZY_B, dl)) {
			if (copy >= 0)
				close(copy);
			break;
		}
		if (fuzzy_racing(f)) {
			fd_watch_close(w, fd);
			closed = true;
		}
		close(copy);
		if (fuzzy_end(f, FUZZY_B, dl) || closed)
			break;
	}
	fuzzy_stop(f);
	fuzzy_unpin(&saved);
	return closed;
}

static const char *check_send(uint64_t ud, int32_t res, uint32_t flags, void *arg)
{
	struct msg_sender *s = arg;

	(void)ud;
	if (flags)
		return "unexpected CQE flags";
	if (res == 0)
		return s->closed_before ? "MSG_RING sent after close() returned reached a ring" : NULL;
	if (res == -EBADF)
		return s->open_after ? "-EBADF although the fd was open until the CQE came" : NULL;
	snprintf(s->why, sizeof(s->why), "MSG_RING failed with %s, expected 0 or EBADF",
		 strerrorname_np(-res) ? strerrorname_np(-res) : "an unknown errno");
	return s->why;
}

/* One batch, every CQE reaped and judged; -1 after a failure or hang. */
static int send_batch(struct msg_sender *s, struct tring *src, struct rng *rng, uint32_t *seq)
{
	struct deadline dl = tc_deadline(s->tc);
	int n = (int)rng_range(rng, 1, MAX_BATCH), ok = 0, ret;
	enum fd_state before;
	struct io_uring_cqe *cqe;
	unsigned head;

	s->closed_before = fd_watch_state(s->watch) == FD_CLOSED;
	for (int i = 0; i < n; i++, (*seq)++) {
		struct io_uring_sqe *sqe = tring_sqe(src);

		io_uring_prep_msg_ring(sqe, s->fd, s->msg_len, s->msg_ud | *seq, 0);
		io_uring_sqe_set_data64(sqe, ledger_ud(s->led, 0, 0, *seq));
		/* From io-wq the number is looked up later, by the worker. */
		if (rng_chance(rng, 12))
			sqe->flags |= IOSQE_ASYNC;
	}
	/* Fuzzy: the close is placed over this submit (io_msg_ring's fd lookup). */
	if (s->race && fuzzy_start(s->race, FUZZY_A, &dl))
		s->race = NULL;
	before = fd_watch_state(s->watch);
	ret = io_uring_submit(&src->ring);
	s->close_in_submit += before == FD_OPEN && fd_watch_state(s->watch) != FD_OPEN;
	if (s->race && fuzzy_end(s->race, FUZZY_A, &dl))
		s->race = NULL;
	if (ret != n)
		return tc_fail(s->tc, "sender: submit of %d MSG_RING failed", n), -1;
	ledger_sent(s->led, 0, 0, (uint32_t)n);
	if (tring_await_ledger(s->tc, s->led, src, (unsigned)n, &dl,
			       "the sender's %d MSG_RING to fd %d", n, s->fd) != V_PASS)
		return -1;
	s->open_after = fd_watch_state(s->watch) == FD_OPEN;
	io_uring_for_each_cqe(&src->ring, head, cqe)
		ok += cqe->res == 0;
	ledger_reap(s->led, src);
	s->ok += (uint64_t)ok;
	s->ebadf += (uint64_t)(n - ok);
	if (s->delivered)
		__atomic_add_fetch(s->delivered, (uint64_t)ok, __ATOMIC_RELEASE);
	return 0;
}

static int wait_closed(struct msg_sender *s)
{
	struct deadline dl = tc_deadline(s->tc);
	enum fd_state st;

	while ((st = fd_watch_state(s->watch)) != FD_CLOSED) {
		if (futex_wait_until(&s->watch->state, st, &dl) == -ETIMEDOUT &&
		    fd_watch_state(s->watch) != FD_CLOSED)
			return tc_hang(s->tc, s->led, NULL, "sender: quota used up, fd %d never "
				       "closed", s->fd), -1;
	}
	return 0;
}

void *msg_sender_main(struct tw_thread *t)
{
	struct msg_sender *s = t->arg;
	struct deadline dl = tc_deadline(s->tc);
	struct tring src;
	uint32_t seq = 0;
	bool up;

	up = tring_init(s->tc, &src, "sender", &profiles[P_DEFAULT], NULL) == V_PASS;
	if (s->race)
		fuzzy_pin(FUZZY_A, NULL);
	ledger_set_check(s->led, check_send, s);
	if (s->start && tw_barrier_wait(s->start, &dl)) {
		tc_hang(s->tc, NULL, NULL, "sender: start barrier");
		up = false;
	}
	while (up && !tc_failed(s->tc) && !s->closed_before) {
		/* Quota used up: keep the rest for the batch after the close. */
		if (seq + 2 * MAX_BATCH > s->quota) {
			if (s->race)	/* no more submits to race the close with */
				fuzzy_stop(s->race);
			if (wait_closed(s))
				break;
		}
		if (send_batch(s, &src, &t->rng, &seq))
			break;
	}
	if (up) {
		ledger_verify(s->led);
		tring_exit(&src);
	}
	if (s->done)
		tw_counter_add(s->done, 1);
	return NULL;
}
