// SPDX-License-Identifier: MIT
/*
 * The firer and the second waiter (see wm.h). For each cell the ring's
 * owner hands over a job (wm_job_start); the firer makes the cell's events
 * happen in its timing, notes when the last one became postable, then
 * watches every waiter: one still asleep in io_uring_enter a bound later is
 * kicked with a signal (wm_wait.c judges what the kick found), and one
 * whose CQEs never come is told so half a hang deadline after the events.
 */
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wm.h"

static void on_kick(int sig)
{
	(void)sig;
}

static void kick(pid_t tid)
{
	syscall(SYS_tgkill, getpid(), tid, WM_KICK_SIG);
}

static bool waiter_done(struct wm_case *c, unsigned w)
{
	return tw_counter_get(&c->waited[w]) >= c->seq;
}

/*
 * Before event i: every waiter in its judged wait and asleep in the kernel;
 * past min_wait, where the form has one; and on rings whose task_work wakes
 * the waiter each time, the previous events' CQEs posted (it woke, ran the
 * work and went back to sleep). Bounded: past the deadline the event races
 * the waiter (the checks still hold, the timing was not the planned one).
 */
static void await_asleep(struct wm_case *c, struct wm_run *r, unsigned i, int64_t until)
{
	const struct wm_producer *p = r->cell->p;
	bool tail = !r->local && i && !(p->flags & WP_TIMED);
	struct deadline dl = { until };

	for (;;) {
		bool ready = true;

		for (unsigned w = 0; w < r->nwaiters && ready; w++) {
			int64_t floor = __atomic_load_n(&r->t_floor[w], __ATOMIC_ACQUIRE);

			if (waiter_done(c, w))
				return;	/* it asked for fewer (a folding producer) */
			ready = floor && now_ns() >= floor && wm_asleep_in_enter(c->tid[w]);
		}
		if (ready && tail)
			ready = io_uring_cq_ready(&r->ring->ring) >= i * p->per_event;
		if (ready)
			return;
		if (deadline_passed(&dl)) {
			tc_log(c->tc, "cell %s: event %u fired without the waiter seen asleep",
			       r->cell->name, i);
			return;
		}
		sched_yield();
	}
}

static void fire_events(struct wm_case *c, struct wm_run *r)
{
	const struct wm_producer *p = r->cell->p;
	enum wm_timing t = r->cell->timing;

	for (unsigned k = 0; k < r->events - (wm_fault == WM_DROP) && !r->failed; k++) {
		unsigned i = wm_fault == WM_REORDER ? r->events - 1 - k : k;

		if (t == WT_AFTER || (t == WT_B2B && !k))
			await_asleep(c, r, k, p->flags & WP_TIMED ? r->due[i] :
					      now_ns() + c->bound_ns);
		/* Placing an event at its planned time, not synchronisation. */
		if (t == WT_SPREAD || (p->flags & WP_TIMED))
			sleep_until_ns(r->due[i]);
		if (p->fire && p->fire(r, i))
			break;
	}
	__atomic_store_n(&r->t_post, now_ns(), __ATOMIC_RELEASE);
}

/* Watch waiter w until its judged wait is over. */
static void watch(struct wm_case *c, struct wm_run *r, unsigned w)
{
	int64_t next = 0, from = 0, hang = c->tc->hang_ns;
	bool expired = false;

	for (;;) {
		int64_t floor = __atomic_load_n(&r->t_floor[w], __ATOMIC_ACQUIRE), now;
		struct deadline dl;

		if (floor && !next) {
			from = floor > r->t_post ? floor : r->t_post;
			next = from + c->bound_ns;
		}
		dl.end_ns = floor ? next : now_ns() + c->bound_ns;
		if (!tw_counter_wait_ge(&c->waited[w], c->seq, &dl))
			return;
		now = now_ns();
		if (!floor) {
			if (now - r->t_post > hang) {
				tc_hang(c->tc, NULL, r->ring, "cell %s: waiter %u never began its wait",
					r->cell->name, w);
				return;
			}
			continue;
		}
		if (expired && now - from > 2 * hang) {
			tc_hang(c->tc, NULL, r->ring, "cell %s: waiter %u still in io_uring_enter "
				"%.1f s after its events, kicked again and again", r->cell->name, w,
				ns_to_s(now - from));
			return;
		}
		if (!expired && now - from >= hang / 2) {
			/* Its CQEs never came: end the wait, and say so. */
			__atomic_store_n(&r->expired[w], 1, __ATOMIC_RELEASE);
			expired = true;
		}
		if (expired || wm_asleep_in_enter(c->tid[w])) {
			__atomic_store_n(&r->kicked[w], 1, __ATOMIC_RELEASE);
			kick(c->tid[w]);
			next = now + c->bound_ns;
		} else {
			next = now + 2 * NSEC_PER_MSEC;	/* running: it was woken, or is busy */
		}
	}
}

/* The sender CQEs of what the firer's own ring sent for this cell. */
static void reap_fring(struct wm_case *c, struct wm_run *r)
{
	struct deadline dl = tc_deadline(c->tc);
	struct io_uring_cqe *cqe;

	if (r->fsent && tring_wait_ready(&c->fring, r->fsent, &dl))
		wm_fail(r, WK_OTHER, "firer: %u requests on its own ring did not complete",
			r->fsent);
	while (!io_uring_peek_cqe(&c->fring.ring, &cqe)) {
		if (cqe->res != r->fres)
			wm_fail(r, WK_OTHER, "firer: event %u's request on the firer's ring: res %d "
				"(%s), expected %d", (unsigned)cqe->user_data, cqe->res,
				cqe->res < 0 ? strerror(-cqe->res) : "", r->fres);
		io_uring_cqe_seen(&c->fring.ring, cqe);
	}
}

static bool next_job(struct wm_case *c, uint32_t seq)
{
	for (;;) {
		struct deadline dl = tc_deadline(c->tc);

		if (!tw_counter_wait_ge(&c->go, seq, &dl))
			return !__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE);
	}
}

static void *firer_main(struct tw_thread *t)
{
	struct wm_case *c = t->arg;

	for (uint32_t seq = 1; next_job(c, seq); seq++) {
		struct wm_run *r = &c->run;

		if (r->cell->p->flags & WP_SELF)
			wm_job_wait(c, &c->fired, "the waiter's own events");
		else
			fire_events(c, r);
		if (!(r->cell->p->flags & WP_SELF))
			tw_counter_add(&c->fired, 1);
		for (unsigned w = 0; w < r->nwaiters; w++)
			watch(c, r, w);
		reap_fring(c, r);
		tw_counter_add(&c->idle, 1);
	}
	return NULL;
}

static void *second_main(struct tw_thread *t)
{
	struct wm_case *c = t->arg;

	for (uint32_t seq = 1; next_job(c, seq); seq++) {
		struct wm_run *r = &c->run;

		if (r->nwaiters == 2) {
			if (r->cell->timing == WT_BEFORE)
				wm_job_wait(c, &c->fired, "events before the second waiter's wait");
			wm_judged_wait(r, 1, 0);
		}
		tw_counter_add(&c->waited[1], 1);
	}
	return NULL;
}

enum verdict wm_threads_start(struct wm_case *c)
{
	struct sigaction sa = { .sa_handler = on_kick };	/* no SA_RESTART: -EINTR */
	const struct tring_opts o = { .sq_entries = 64, .cq_entries = 256, .attach_wq_fd = -1 };
	struct deadline dl = tc_deadline(c->tc);
	enum verdict v;
	int fd;

	sigaction(WM_KICK_SIG, &sa, NULL);
	c->tid[0] = gettid();
	v = tring_init(c->tc, &c->fring, "firer", &profiles[P_DEFAULT], &o);
	if (v != V_PASS)
		return v;
	c->fring_ok = true;
	/* msg_fd's file: the firer's fixed file 0. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || io_uring_register_files(&c->fring.ring, &fd, 1))
		tc_info(c->tc, "the firer's fixed file could not be registered: msg_fd cells fail");
	if (fd >= 0)
		close(fd);
	if (tw_thread_start(c->tc, &c->firer, "firer", 1, firer_main, c))
		return tc_fail(c->tc, "pthread_create failed");
	c->has_second = !(c->tc->prof->props & PROF_LOCAL_TW);
	if (c->has_second && tw_thread_start(c->tc, &c->second, "waiter2", 2, second_main, c))
		return tc_fail(c->tc, "pthread_create failed");
	/* The second waiter's tid, for the firer's checks. */
	while (c->has_second && !(c->tid[1] = __atomic_load_n(&c->second.tid, __ATOMIC_ACQUIRE))) {
		if (deadline_passed(&dl))
			return tc_hang(c->tc, NULL, NULL, "thread waiter2 never started");
		sched_yield();
	}
	return V_PASS;
}

void wm_threads_stop(struct wm_case *c)
{
	__atomic_store_n(&c->stop, true, __ATOMIC_RELEASE);
	tw_counter_add(&c->go, 1);
	tw_threads_join(c->tc, &c->firer, 1, NULL, NULL);
	if (c->has_second)
		tw_threads_join(c->tc, &c->second, 1, NULL, NULL);
	if (c->fring_ok)
		tring_exit(&c->fring);
}

void wm_job_start(struct wm_case *c)
{
	c->seq++;
	tw_counter_add(&c->go, 1);
}

int wm_job_wait(struct wm_case *c, struct tw_counter *ctr, const char *what)
{
	struct deadline dl = tc_deadline(c->tc);

	if (!tw_counter_wait_ge(ctr, c->seq, &dl))
		return 0;
	tc_hang(c->tc, NULL, c->run.ring, "cell %s: %s", c->run.cell->name, what);
	return -1;
}
