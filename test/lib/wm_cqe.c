// SPDX-License-Identifier: MIT
/*
 * A cell's requests and CQEs (see wm.h): every CQE accounted - each
 * event's CQEs exactly once with the result its producer expects, in order
 * where the producer promises one, a multishot request ended only by its
 * cancel, its provided buffers used one per CQE, nothing else in the CQ -
 * and the drain that waits for all of them after the judged wait.
 */
#include <unistd.h>

#include "wm.h"

#define SLICE_NS	(100 * NSEC_PER_MSEC)

struct io_uring_sqe *wm_sqe(struct wm_run *r)
{
	return tring_sqe(r->ring);
}

int wm_write_event(struct wm_run *r, int fd, unsigned i)
{
	uint64_t v = i;

	if (write(fd, &v, sizeof(v)) == sizeof(v))
		return 0;
	wm_fail(r, WK_OTHER, "firer: event %u: write: %s", i, strerror(errno));
	return -1;
}

int wm_ud_slot(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why)
{
	unsigned k = (cqe->user_data >> 32) & 0xffff, i = (uint32_t)cqe->user_data;

	if ((cqe->user_data & ~0xffffffffffffull) != WM_UD(0, 0) || k >= r->cell->p->per_event ||
	    i >= r->events) {
		*why = "user_data of no request of this cell";
		return -1;
	}
	if (cqe->flags & IORING_CQE_F_MORE) {
		*why = "IORING_CQE_F_MORE on a one-shot request";
		return -1;
	}
	return (int)(i * r->cell->p->per_event + k);
}

static void close_pair(int fd[2])
{
	for (int e = 0; e < 2; e++)
		if (fd[e] >= 0)
			close(fd[e]);
	fd[0] = fd[1] = -1;
}

void wm_close_fds(struct wm_run *r)
{
	for (unsigned i = 0; i < WM_MAX_N; i++) {
		close_pair(r->fd[i]);
		close_pair(r->afd[i]);
		if (r->cfd[i] >= 0)
			close(r->cfd[i]);
		r->cfd[i] = -1;
	}
	if (r->lfd >= 0)
		close(r->lfd);
	r->lfd = -1;
}

/* Wait (by the case's deadline) until done(r): 0, or -1 at the deadline. */
static int reap_until(struct wm_run *r, bool (*done)(const struct wm_run *))
{
	struct deadline dl = tc_deadline(r->c->tc);

	for (wm_reap(r); !done(r) && !r->failed; wm_reap(r)) {
		int64_t left = deadline_left(&dl);

		if (!left)
			return -1;
		tring_wait(r->ring, 1, left < SLICE_NS ? left : SLICE_NS, 0, NULL);
	}
	return 0;
}

int wm_provide_buffers(struct wm_run *r)
{
	struct io_uring_sqe *sqe = wm_sqe(r);
	struct deadline dl = tc_deadline(r->c->tc);
	struct io_uring_cqe *cqe;
	int res;

	io_uring_prep_provide_buffers(sqe, r->pbuf, sizeof(r->pbuf[0]), WM_NBUF, 1, 0);
	io_uring_sqe_set_data64(sqe, WM_UD_SETUP);
	io_uring_submit(&r->ring->ring);
	if (tring_wait_ready(r->ring, 1, &dl) || io_uring_peek_cqe(&r->ring->ring, &cqe)) {
		wm_fail(r, WK_OTHER, "IORING_OP_PROVIDE_BUFFERS did not complete");
		return 0;
	}
	r->provided = true;
	res = cqe->user_data == WM_UD_SETUP ? cqe->res : -EPROTO;
	io_uring_cqe_seen(&r->ring->ring, cqe);
	if (res == -EPROTO)
		wm_fail(r, WK_OTHER, "a CQE before the provided buffers' one");
	return res > 0 ? 0 : res;
}

int wm_buffer_slot(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why)
{
	unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

	if (!(cqe->flags & IORING_CQE_F_BUFFER) || bid >= WM_NBUF)
		*why = "no provided buffer, or one never provided";
	else if (cqe->res != sizeof(r->pbuf[0]))
		*why = "res is not the 8 bytes of one event";
	else if (r->pbuf[bid] >= r->events)
		*why = "the buffer holds no event number of this cell";
	else
		return (int)r->pbuf[bid];
	return -1;
}

static void account(struct wm_run *r, const struct io_uring_cqe *cqe)
{
	const struct wm_producer *p = r->cell->p;
	const char *why = "not a CQE of this cell";
	int slot;

	if (cqe->user_data == WM_UD_CANCEL) {
		if (cqe->res)
			wm_fail(r, WK_OTHER, "the cancel ending the multishot request: res %d (%s), "
				"expected 0", cqe->res, strerror(-cqe->res));
		r->cancel_done = true;
		return;
	}
	if (cqe->user_data == WM_UD_REMOVE) {
		/* A buffer per data CQE was used: no more, no less. */
		if (cqe->res != (int)(WM_NBUF - r->nseen))
			wm_fail(r, WK_OTHER, "REMOVE_BUFFERS found %d provided buffers left after %u "
				"CQEs, expected %u", cqe->res, r->nseen, WM_NBUF - r->nseen);
		r->removed = true;
		return;
	}
	if (cqe->user_data == WM_UD_MS && !(cqe->flags & IORING_CQE_F_MORE)) {
		if (!r->ms_cancelled || cqe->res != -ECANCELED)
			wm_fail(r, WK_OTHER, "the multishot request ended %s: res %d (%s)",
				r->ms_cancelled ? "with a bad result" : "before it was cancelled",
				cqe->res, strerror(-cqe->res));
		r->ms_ended = true;
		return;
	}
	slot = p->cqe(r, cqe, &why);
	if (slot < 0 || slot >= (int)r->total)
		wm_fail(r, WK_OTHER, "unexpected CQE: user_data 0x%llx res %d flags 0x%x: %s",
			(unsigned long long)cqe->user_data, cqe->res, cqe->flags, why);
	else if (r->seen[slot]++)
		wm_fail(r, WK_OTHER, "duplicate CQE: user_data 0x%llx res %d (event %u)",
			(unsigned long long)cqe->user_data, cqe->res, slot / p->per_event);
	else if ((p->flags & WP_ORDERED) && (unsigned)slot != r->order_next)
		wm_fail(r, WK_OTHER, "out of order: the CQE of event %d came before event %u's",
			slot, r->order_next);
	else
		r->order_next = slot + 1;
	r->nseen++;
}

void wm_reap(struct wm_run *r)
{
	struct io_uring_cqe *cqe;

	while (!io_uring_peek_cqe(&r->ring->ring, &cqe)) {
		account(r, cqe);
		io_uring_cqe_seen(&r->ring->ring, cqe);
	}
}

/* Wake-ups of a multishot POLL_ADD may fold: its CQE count is 1..N, except
 * where each event came once the previous one's CQE was posted. */
bool wm_folds(const struct wm_run *r)
{
	enum wm_form f = r->cell->form;
	bool stays = f != WF_SHORT && f != WF_MINWAIT && f != WF_MINWAIT_REG;

	return (r->cell->p->flags & WP_FOLDS) && (r->local || r->cell->timing != WT_AFTER || !stays);
}

static bool all_seen(const struct wm_run *r)
{
	return r->nseen >= r->total;
}

static bool some_seen(const struct wm_run *r)
{
	return r->nseen > 0;
}

static bool ms_over(const struct wm_run *r)
{
	return r->ms_ended && r->cancel_done;
}

static bool buffers_removed(const struct wm_run *r)
{
	return r->removed;
}

void wm_drain(struct wm_run *r)
{
	const struct wm_producer *p = r->cell->p;

	/* Folding: at least one CQE will come (on SQPOLL, once the SQ thread
	 * ran the task_work); a cancel before it would take its place. */
	if (reap_until(r, wm_folds(r) ? some_seen : all_seen)) {
		wm_fail(r, WK_OTHER, "lost CQE: %u of %u CQEs after %u events, %.1f s later",
			r->nseen, wm_folds(r) ? 1 : r->total, r->events,
			ns_to_s(now_ns() - r->t_post));
		return;
	}
	tring_get_events(r->ring);	/* folded: run what is queued */
	wm_reap(r);
	if (p->flags & WP_MULTISHOT) {
		struct io_uring_sqe *sqe = wm_sqe(r);

		io_uring_prep_cancel64(sqe, WM_UD_MS, 0);
		io_uring_sqe_set_data64(sqe, WM_UD_CANCEL);
		r->ms_cancelled = true;
		io_uring_submit(&r->ring->ring);
		if (reap_until(r, ms_over))
			wm_fail(r, WK_OTHER, "the multishot request's cancel did not complete");
	}
	if (r->provided && !r->failed) {
		struct io_uring_sqe *sqe = wm_sqe(r);

		io_uring_prep_remove_buffers(sqe, WM_NBUF, 1);
		io_uring_sqe_set_data64(sqe, WM_UD_REMOVE);
		io_uring_submit(&r->ring->ring);
		if (reap_until(r, buffers_removed))
			wm_fail(r, WK_OTHER, "REMOVE_BUFFERS did not complete");
	}
	tring_get_events(r->ring);	/* nothing else may come */
	wm_reap(r);
}
