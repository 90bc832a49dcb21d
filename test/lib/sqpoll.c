// SPDX-License-Identifier: MIT
/* SQPOLL rings driven by hand (see sqpoll.h). */
#include <poll.h>
#include <sched.h>

#include "ringmem.h"
#include "sqpoll.h"
#include "wait_check.h"

const char *const sq_mode_names[M_COUNT] = { "busy", "idle", "asleep", "shared", "exit" };

/* Publish the queued SQEs to the SQ thread; if it sleeps, wake it: the
 * application's half of the NEED_WAKEUP protocol (liburing does the same). */
void sq_kick(struct sq *s, struct sring *r)
{
	ringmem_publish(&r->t.ring);
	/* Pairs with the SQ thread's barrier between setting the flag and
	 * reading the tail (io_sq_thread, before schedule()). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (tring_sq_flags(&r->t) & IORING_SQ_NEED_WAKEUP) {
		int ret = io_uring_enter(tring_fd(&r->t), 0, 0, IORING_ENTER_SQ_WAKEUP, NULL);

		if (ret < 0)
			tc_fail(s->tc, "%s: ring %s: io_uring_enter(SQ_WAKEUP): %s",
				sq_mode_names[s->mode], r->t.name, strerror(-ret));
		s->wakes++;
	}
}

static struct io_uring_sqe *sqe_get(struct sq *s, struct sring *r, unsigned ch)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->t.ring);

	while (!sqe && !tc_failed(s->tc)) {
		sq_kick(s, r);
		io_uring_sqring_wait(&r->t.ring);	/* IORING_ENTER_SQ_WAIT: space freed */
		sqe = io_uring_get_sqe(&r->t.ring);
	}
	if (sqe) {
		unsigned idx = (unsigned)(r - s->rings);

		io_uring_sqe_set_data64(sqe, ledger_ud(s->led, idx, ch, r->seq[ch]++));
		ledger_sent(s->led, idx, ch, 1);
		r->expect++;
	}
	return sqe;
}

void sq_queue_nops(struct sq *s, struct sring *r, unsigned n)
{
	for (struct io_uring_sqe *sqe; n-- && (sqe = sqe_get(s, r, SQ_CH_NOP));)
		io_uring_prep_nop(sqe);
	sq_kick(s, r);
}

unsigned sq_reap(struct sq *s, unsigned ri)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&s->rings[ri].t.ring, head, cqe) {
		s->complete(s, ri, cqe);
		n++;
	}
	io_uring_cq_advance(&s->rings[ri].t.ring, n);
	return n;
}

/* Hundreds of polls on the eventfds and a few reads per pipe, then a NOP:
 * its CQE says the SQ thread issued (armed) everything before it. */
void sq_arm(struct sq *s, struct sring *r, struct rng *rng, bool reads)
{
	for (unsigned e = 0; e < SQ_NEFD; e++)
		for (unsigned n = (unsigned)rng_range(rng, SQ_MAX_POLLS / 4, SQ_MAX_POLLS); n--;)
			io_uring_prep_poll_add(sqe_get(s, r, e), s->efd[e], POLLIN);
	for (unsigned p = 0; reads && p < SQ_NPIPE; p++) {
		r->reads[p] = (unsigned)rng_range(rng, 1, SQ_MAX_READS);
		r->rec_goal[p] = r->rec_written[p] + r->reads[p];
		for (unsigned i = 0; i < r->reads[p]; i++) {
			uint32_t seq = r->seq[SQ_NEFD + p];

			chan_prep(&r->pipe[p], sqe_get(s, r, SQ_NEFD + p),
				  &r->buf[p][seq % SQ_MAX_READS]);
		}
	}
	sq_queue_nops(s, r, 1);
}

/* Reap ring ri until `upto` CQEs (0: all owed) are in; the owed ones are
 * certain once the writers are done. */
int sq_collect(struct sq *s, unsigned ri, uint64_t upto, bool busy, struct rng *rng,
	       const char *what)
{
	struct sring *r = &s->rings[ri];
	struct wait_check wc;

	wait_check_init(&wc, s->tc, &r->t, s->led);
	while (!tc_failed(s->tc)) {
		bool writing = tw_counter_get(&s->writers_done) != s->writers;

		uint64_t goal = upto ? upto : r->expect;

		if (sq_reap(s, ri))
			wait_check_progress(&wc);
		if (r->got >= goal)
			return 0;
		if (busy && writing)
			sq_queue_nops(s, r, (unsigned)rng_range(rng, 1, 16));
		/* Once the writers are done, all that is owed is certain: a
		 * full wait must not sleep through it (lost wake-up / lost
		 * task_work). Before that, short unjudged waits. */
		if (wait_check_batch(&wc, writing ? 1 : (unsigned)(goal - r->got),
				     writing ? 0 : (int64_t)(goal - r->got),
				     writing ? 2 * NSEC_PER_MSEC : 0, 0) < 0) {
			tc_info(s->tc, "%s: ring %s: %s: %llu of %llu CQEs", sq_mode_names[s->mode],
				r->t.name, what, (unsigned long long)r->got,
				(unsigned long long)goal);
			return -1;
		}
	}
	return -1;
}

/* Wait until the SQ thread went to sleep: a bounded poll of the flag. */
int sq_await_sleep(struct sq *s, struct sring *r)
{
	struct deadline dl = tc_deadline(s->tc);

	while (!(tring_sq_flags(&r->t) & IORING_SQ_NEED_WAKEUP)) {
		if (deadline_passed(&dl)) {
			tc_hang(s->tc, s->led, &r->t, "asleep: SQ thread of ring %s never set "
				"NEED_WAKEUP (sq_thread_idle 10 ms)", r->t.name);
			return -1;
		}
		sched_yield();
	}
	s->slept++;
	return 0;
}

