// SPDX-License-Identifier: MIT
/*
 * One cell on the side of the ring's owner (see wm.h): the case's ring of
 * the cell's kind, the producer's requests armed, the events handed to the
 * firer and the second waiter, the judged wait (wm_wait.c), then the drain
 * that accounts for every CQE (wm_cqe.c).
 */
#include <stdarg.h>
#include <unistd.h>

#include "wm.h"

void wm_fail(struct wm_run *r, enum wm_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (__atomic_exchange_n(&r->failed, 1, __ATOMIC_ACQ_REL))
		return;
	r->kind = kind;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

static void plan(struct wm_run *r, bool timed)
{
	enum wm_timing t = r->cell->timing;
	int64_t at = now_ns() + 2 * NSEC_PER_MSEC;

	/* Timers planned at arm time need the waiter asleep by then. */
	if (timed && (t == WT_AFTER || t == WT_B2B))
		at += 20 * NSEC_PER_MSEC;
	for (unsigned i = 0; i < r->events; i++) {
		if (t == WT_SPREAD || (t == WT_AFTER && timed))
			at += (int64_t)rng_below(&r->rng, t == WT_SPREAD ? 800 : 300) * NSEC_PER_USEC;
		r->due[i] = at;
	}
}

/* Refusals answered in CQEs at submission: a skip or a failure. Other
 * CQEs stay for the wait (a timer may have expired already). */
static const char *refusals(struct wm_run *r)
{
	struct io_uring_cqe *cqe;
	unsigned head;

	tring_get_events(r->ring);
	io_uring_for_each_cqe(&r->ring->ring, head, cqe) {
		if (cqe->res == -EINVAL || cqe->res == -EOPNOTSUPP)
			return wm_refused(r, r->cell->p->need, cqe->res, r->cell->p->name);
	}
	return NULL;
}

/* The case's rings are reused from cell to cell: closing one queues
 * task_work to its owner (io_ring_exit_work -> io_tctx_exit_cb, TWA_SIGNAL)
 * that would wake the next cell's wait at a random time, and a teardown
 * costs an RCU grace period. Kinds: plain, SQ thread quick to sleep, SQ
 * thread long awake, a registered wait region. */
static unsigned ring_kind(const struct wm_cell *cell)
{
	return cell->form == WF_SQ_ASLEEP ? 1 : cell->form == WF_SQ_AWAKE ? 2 :
	       cell->form == WF_MINWAIT_REG ? 3 : 0;
}

static enum verdict ring_init(struct wm_case *c, unsigned kind)
{
	static const char *const names[] = { "plain", "sq_asleep", "sq_awake", "region" };
	struct tring_opts o = { .sq_entries = 128, .cq_entries = 256, .attach_wq_fd = -1 };

	o.sq_idle_ms = kind == 1 ? 1 : kind == 2 ? 200 : 0;
	o.extra_flags = kind == 3 ? IORING_SETUP_R_DISABLED : 0;
	return tring_init(c->tc, &c->rings[kind], names[kind], c->tc->prof, &o);
}

enum verdict wm_ring_first(struct wm_case *c)
{
	return ring_init(c, 0);
}

static const char *ring_get(struct wm_run *r)
{
	unsigned kind = ring_kind(r->cell);
	int ret;

	r->ring = &r->c->rings[kind];
	if (r->ring->live)
		return NULL;
	if (ring_init(r->c, kind) != V_PASS) {
		wm_fail(r, WK_OTHER, "ring setup failed: %s", tc_reason(r->c->tc));
		return NULL;
	}
	if (kind == 3) {
		ret = wm_region_setup(r);
		if (!ret)
			ret = tring_enable(r->ring);
		if (ret) {
			tring_exit(r->ring);	/* never enabled: no task_work follows */
			return wm_refused(r, WN_WAIT_REG, ret, "a registered wait region");
		}
	}
	return NULL;
}

/* A cell that did not end cleanly leaves its ring in no known state. */
static void ring_retire(struct wm_run *r)
{
	if (!r->ring || !r->ring->live)
		return;
	io_uring_unregister_files(&r->ring->ring);
	tring_exit_proven(r->c->tc, r->ring, 1, WM_UD(6, 0));
}

void wm_rings_exit(struct wm_case *c)
{
	for (unsigned k = 0; k < sizeof(c->rings) / sizeof(c->rings[0]); k++) {
		c->run.ring = &c->rings[k];
		ring_retire(&c->run);
	}
}

static const char *setup(struct wm_run *r)
{
	const struct wm_cell *cell = r->cell;
	struct deadline dl = tc_deadline(r->c->tc);
	const char *skip = ring_get(r);
	unsigned sqflags;
	int ret;

	if (skip || r->failed)
		return skip;
	if (cell->p->flags & WP_TIMED)
		plan(r, true);
	ret = cell->p->arm(r);
	if (ret < 0 || r->failed)
		return r->failed ? NULL : wm_refused(r, cell->p->need, ret, cell->p->name);
	if (wm_fault == WM_EXTRA)
		io_uring_prep_nop(wm_sqe(r));	/* user_data 0: no request of the cell */
	ret = io_uring_submit(&r->ring->ring);
	if (ret < 0)
		wm_fail(r, WK_OTHER, "io_uring_submit of the cell's requests: %s", strerror(-ret));
	/* SQPOLL: issued once the SQ thread took them; asleep when it says so. */
	while (io_uring_sq_ready(&r->ring->ring) && !deadline_passed(&dl))
		sched_yield();
	sqflags = cell->form == WF_SQ_ASLEEP ? IORING_SQ_NEED_WAKEUP : 0;
	while ((tring_sq_flags(r->ring) & sqflags) != sqflags && !deadline_passed(&dl))
		sched_yield();
	if (deadline_passed(&dl))
		wm_fail(r, WK_OTHER, "the SQ thread did not take the SQEs%s in %.0f s",
			sqflags ? " and go to sleep" : "", ns_to_s(r->c->tc->hang_ns));
	return r->failed ? NULL : refusals(r);
}

static void run_job(struct wm_case *c, struct wm_run *r)
{
	const struct wm_producer *p = r->cell->p;
	unsigned to_submit = 0;

	if (r->cell->timing == WT_SPREAD && !(p->flags & WP_TIMED))
		plan(r, false);
	wm_job_start(c);
	if (p->flags & WP_SELF) {
		/* The owner fires: before its wait, or in the same io_uring_enter. */
		for (unsigned i = 0; i < r->events; i++)
			p->fire(r, i);
		if (r->cell->timing == WT_BEFORE)
			io_uring_submit(&r->ring->ring);
		else
			to_submit = r->events;
		__atomic_store_n(&r->t_post, now_ns(), __ATOMIC_RELEASE);
		tw_counter_add(&c->fired, 1);
	} else if (r->cell->timing == WT_BEFORE &&
		   wm_job_wait(c, &c->fired, "the events before the wait")) {
		return;
	}
	wm_judged_wait(r, 0, to_submit);
	tw_counter_add(&c->waited[0], 1);
	if (c->has_second && wm_job_wait(c, &c->waited[1], "the second waiter's wait"))
		return;
	if (wm_job_wait(c, &c->idle, "the firer's events"))
		return;
	if (!r->failed)
		wm_drain(r);
}

const char *wm_cell_run(struct wm_case *c, const struct wm_cell *cell, uint64_t seed)
{
	struct wm_run *r = &c->run;
	const char *skip;

	memset(r, 0, sizeof(*r));
	r->c = c;
	r->cell = cell;
	r->lfd = -1;
	for (unsigned i = 0; i < WM_MAX_N; i++)
		r->fd[i][0] = r->fd[i][1] = r->afd[i][0] = r->afd[i][1] = r->cfd[i] = -1;
	rng_seed(&r->rng, seed, 1000 + cell->idx);
	r->local = c->tc->prof->props & PROF_LOCAL_TW;
	r->events = (cell->n + cell->p->per_event - 1) / cell->p->per_event;
	r->total = r->events * cell->p->per_event;
	r->want = wm_folds(r) ? 1 : cell->n;
	if (cell->form == WF_SHORT || cell->form == WF_MINWAIT || cell->form == WF_MINWAIT_REG)
		r->want = r->total + 1;	/* more than will come */
	r->nwaiters = cell->form == WF_SECOND ? 2 : 1;
	skip = wm_need_missing(cell->p->need);
	if (!skip)
		skip = wm_need_missing(wm_form_need(cell->form));
	if (skip)
		return skip;
	skip = setup(r);
	if (!skip && !r->failed)
		run_job(c, r);
	if (r->ring && r->ring->live && !skip && !r->failed && cell->p == &wm_msg_fd &&
	    io_uring_unregister_files(&r->ring->ring))
		wm_fail(r, WK_OTHER, "unregistering the fixed file table failed");
	if (skip || r->failed)
		ring_retire(r);
	if (cell->p->cleanup)
		cell->p->cleanup(r);
	wm_close_fds(r);
	return skip;
}
