// SPDX-License-Identifier: MIT
/*
 * SQPOLL: completions of requests the SQ thread issued come back as normal
 * task_work on the SQ thread's own tctx->task_list, which only the SQ thread
 * runs (io_sq_thread -> io_sq_tw, at most IORING_TW_CAP_ENTRIES_VALUE = 32
 * entries per loop in 7.3; the rest stays queued). Each round arms hundreds
 * of polls on a few eventfds and sequenced reads on pipes, then writer
 * threads fire them: one eventfd write queues every poll armed on it at
 * once, far more than one capped batch. What the SQ thread does meanwhile
 * is the mode:
 *   busy     the owner keeps submitting NOPs (the SQ thread submits and
 *            runs task_work in the same loop);
 *   idle     sq_thread_idle is 10 s: the thread spins with nothing to submit;
 *   asleep   idle 10 ms: the owner waits for IORING_SQ_NEED_WAKEUP before the
 *            writers fire (task_work must wake the thread) and wakes it
 *            itself (IORING_ENTER_SQ_WAKEUP) to submit the next round;
 *   shared   three rings on one SQ thread (IORING_SETUP_ATTACH_WQ): one list
 *            interleaving three rings, ring switches inside a batch;
 *   exit     a child owns the ring and exits as the writers fire; the parent
 *            holds the ring (pidfd_getfd) and a teardown probe.
 * The owner drives the rings by hand (test/lib/sqpoll.c): it publishes SQEs
 * and wakes the SQ thread only when it sleeps, counting the wake-ups.
 * Checks: every CQE exactly once and on its own ring (ledger; the ring is the
 * ledger producer), reads in data order (from 6.4, where pipe READs wait on
 * poll; before, each blocks in io-wq: no order), NOPs in submission order, no lost
 * wake-up, every ring's teardown finishes, the exiting child is reaped.
 */
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "lib/handover.h"
#include "lib/sqpoll.h"
#include "wait_check.h"

#define RING_CQ		4096	/* holds a whole round: the CQ never overflows */
#define PROBE_UD	0x0dull

static void complete(struct sq *s, unsigned ri, struct io_uring_cqe *cqe)
{
	struct sring *r = &s->rings[ri];
	const char *m = sq_mode_names[s->mode];
	unsigned p, c;
	uint32_t seq;

	if (cqe->user_data == PROBE_UD)
		return;
	ledger_decode(cqe->user_data, &p, &c, &seq);
	if (ledger_owns(s->led, cqe->user_data) && p != ri)
		tc_fail(s->tc, "%s: CQE of ring %u (channel %u seq %u) posted on ring %u", m, p, c,
			seq, ri);
	if (!ledger_cqe(s->led, cqe->user_data, cqe->res, cqe->flags) || p != ri)
		return;
	r->got++;
	if (cqe->res == -ECANCELED && s->mode == M_EXIT && ++s->cancelled)
		return;		/* the SQ thread died first: its exit cancels the rest */
	if (c < SQ_NEFD && !(cqe->res > 0 && (cqe->res & POLLIN)))
		tc_fail(s->tc, "%s: ring %u: poll on eventfd %u: res %d, expected POLLIN", m, ri,
			c, cqe->res);
	if (c >= SQ_NEFD && c < SQ_CH_NOP) {
		uint64_t rec = r->buf[c - SQ_NEFD][seq % SQ_MAX_READS];

		if (cqe->res != 8 || (rec != r->rec_next[c - SQ_NEFD] && s->pipe_read_order))
			tc_fail(s->tc, "%s: order: ring %u pipe %u: read res %d record %llu, "
				"expected 8 and record %llu", m, ri, c - SQ_NEFD, cqe->res,
				(unsigned long long)rec,
				(unsigned long long)r->rec_next[c - SQ_NEFD]);
		r->rec_next[c - SQ_NEFD]++;
	}
	if (c == SQ_CH_NOP && (cqe->res != 0 || seq != r->nop_next++))
		tc_fail(s->tc, "%s: order: ring %u: NOP seq %u res %d, expected seq %u res 0", m,
			ri, seq, cqe->res, r->nop_next - 1);
}

/* Fire every armed request: one write per eventfd, records in order into
 * each pipe, in a seeded random interleaving across the writer's share. */
static void *writer(struct tw_thread *t)
{
	struct sq *s = t->arg;
	struct deadline dl = tc_deadline(s->tc);
	unsigned todo[SQ_NEFD + SQ_RINGS * SQ_NPIPE], n = 0;

	for (unsigned i = t->idx; i < SQ_NEFD + s->nrings * SQ_NPIPE; i += s->writers)
		todo[n++] = i;
	if (tw_barrier_wait(&s->start, &dl))
		tc_hang(s->tc, NULL, NULL, "%s: writer %u: start barrier", sq_mode_names[s->mode],
			t->idx);
	while (n && !tc_failed(s->tc)) {
		unsigned k = (unsigned)rng_below(&t->rng, n), i = todo[k];
		uint64_t one = 1;

		if (i < SQ_NEFD) {
			if (write(s->efd[i], &one, 8) != 8)
				tc_fail(s->tc, "writer: eventfd write: %s", strerror(errno));
			todo[k] = todo[--n];
			continue;
		}
		struct sring *r = &s->rings[(i - SQ_NEFD) / SQ_NPIPE];
		unsigned p = (i - SQ_NEFD) % SQ_NPIPE;

		int err = chan_write(&r->pipe[p], r->rec_written[p]);

		if (err)
			tc_fail(s->tc, "writer: pipe write: %s", strerror(-err));
		if (++r->rec_written[p] == r->rec_goal[p])
			todo[k] = todo[--n];
	}
	tw_counter_add(&s->writers_done, 1);
	return NULL;
}

static void round_run(struct sq *s, struct rng *rng)
{
	struct tw_thread th[4];
	uint64_t drain;

	for (unsigned e = 0; e < SQ_NEFD; e++)
		(void)!read(s->efd[e], &drain, 8);	/* non-blocking: back to 0 */
	for (unsigned i = 0; i < s->nrings; i++) {
		s->rings[i].expect = s->rings[i].got = 0;
		if (s->mode == M_ASLEEP && sq_await_sleep(s, &s->rings[i]))
			return;
		sq_arm(s, &s->rings[i], rng, true);
	}
	for (unsigned i = 0; i < s->nrings; i++)
		if (sq_collect(s, i, 1, false, rng, "arming: the NOP after the polls and reads"))
			return;
	for (unsigned i = 0; s->mode == M_ASLEEP && i < s->nrings; i++)
		if (sq_await_sleep(s, &s->rings[i]))	/* the writers hit a sleeping thread */
			return;
	tw_barrier_init(&s->start, s->writers);
	s->writers_done.value = 0;
	for (unsigned i = 0; i < s->writers; i++)
		if (tw_thread_start(s->tc, &th[i], "writer", i, writer, s)) {
			tc_fail(s->tc, "pthread_create failed");
			return;
		}
	for (unsigned i = 0; i < s->nrings; i++)
		if (sq_collect(s, i, 0, s->mode == M_BUSY, rng, "completions of the fired requests"))
			return;	/* writers may be stuck on full pipes: leave them to exit() */
	tw_threads_join(s->tc, th, s->writers, s->led, &s->rings[0].t);
	ledger_verify(s->led);
}

static enum verdict mode_run(struct sq *s, struct rng *rng, const struct deadline *end)
{
	struct tring rings[SQ_RINGS];
	enum verdict v = V_PASS;
	unsigned rounds = 0;

	s->nrings = s->mode == M_SHARED ? SQ_RINGS : 1;
	s->wakes = s->slept = 0;
	memset(s->rings, 0, sizeof(s->rings));
	for (unsigned i = 0; i < s->nrings && v == V_PASS; i++) {
		struct tring_opts o = { .sq_entries = 256, .cq_entries = RING_CQ,
					.attach_wq_fd = i ? tring_fd(&s->rings[0].t) : -1,
					.sq_idle_ms = s->mode == M_IDLE ? 10000 : 10 };
		char name[16];

		snprintf(name, sizeof(name), "%s%u", sq_mode_names[s->mode], i);
		v = tring_init(s->tc, &s->rings[i].t, name, s->tc->prof, &o);
		for (unsigned p = 0; p < SQ_NPIPE && v == V_PASS; p++) {
			int err = chan_open(&s->rings[i].pipe[p], CHAN_PIPE_READ);

			if (err)
				return tc_fail(s->tc, "pipe2: %s", strerror(-err));
		}
	}
	if (v != V_PASS)
		return v;
	ledger_reset(s->led);
	do
		round_run(s, rng);
	while (++rounds && !tc_failed(s->tc) && !deadline_passed(end));
	tc_log(s->tc, "%s: %u rounds, %llu CQEs, %u SQ_WAKEUP enters, %u sleeps seen",
	       sq_mode_names[s->mode], rounds, (unsigned long long)ledger_total_seen(s->led),
	       s->wakes, s->slept);
	if (tc_failed(s->tc))
		return tc_verdict(s->tc);
	for (unsigned i = 0; i < s->nrings; i++) {
		wait_check_overflow(s->tc, &s->rings[i].t);
		rings[i] = s->rings[i].t;
		for (unsigned p = 0; p < SQ_NPIPE; p++)
			chan_close(&s->rings[i].pipe[p]);
	}
	tring_exit_proven(s->tc, rings, s->nrings, PROBE_UD);
	return tc_verdict(s->tc);
}

/*
 * exit: a child creates the SQPOLL ring, arms polls (and a teardown probe)
 * and exits while the parent fires them: the SQ thread dies with its task,
 * running what is queued (io_sq_tw(UINT_MAX)) and cancelling the rest.
 * The parent took the ring (pidfd_getfd) and must get every poll back
 * once, POLLIN or -ECANCELED; the ring's teardown must finish after.
 */
struct exit_shared {
	struct handover h;		/* by pidfd_getfd() */
	unsigned idle_ms;
	struct tw_event armed, go;
};

static int exit_owner(void *arg)
{
	struct sq *s = arg;
	struct exit_shared *x = s->xs;
	struct sring *r = &s->rings[0];
	struct deadline dl = tc_deadline(s->tc);
	struct rng rng;
	int ret;

	rng_seed(&rng, s->tc->seed, 1 + x->idle_ms);
	x->h.params.flags = IORING_SETUP_SQPOLL | IORING_SETUP_CQSIZE;
	x->h.params.cq_entries = RING_CQ;
	x->h.params.sq_thread_idle = x->idle_ms;
	ret = io_uring_queue_init_params(256, &r->t.ring, &x->h.params);
	if (ret < 0) {
		tc_fail(s->tc, "exit: owner: SQPOLL ring set-up: %s", strerror(-ret));
		return 1;
	}
	r->t.prof = s->tc->prof;
	r->t.live = true;
	snprintf(r->t.name, sizeof(r->t.name), "exit-owner");
	if ((ret = probe_arm(&s->probe, &r->t, PROBE_UD))) {
		tc_fail(s->tc, "exit: owner: teardown probe: %s", strerror(-ret));
		return 1;
	}
	sq_arm(s, r, &rng, false);
	if (sq_collect(s, 0, 1, false, &rng, "arming: the NOP after the polls"))
		return 1;
	x->h.owner_fd = tring_fd(&r->t);
	x->h.via_getfd = true;
	tw_event_set(&x->armed);
	if (tw_event_wait(&x->go, &dl))
		tc_hang(s->tc, NULL, NULL, "exit: owner: go signal");
	return 0;	/* exit with the ring open and its polls firing */
}

static void exit_round(struct sq *s, struct rng *rng)
{
	struct exit_shared *x = s->xs;
	struct sring *r = &s->rings[0];
	struct deadline dl = tc_deadline(s->tc);
	unsigned k = (unsigned)rng_below(rng, SQ_NEFD + 1);
	uint64_t one = 1;
	struct child owner;
	bool taken = false;
	int status, err;

	memset(x, 0, sizeof(*x));
	memset(r, 0, sizeof(*r));	/* the owner starts from scratch (the CQ too) */
	x->idle_ms = rng_chance(rng, 2) ? 10 : 10000;
	ledger_reset(s->led);
	for (unsigned e = 0; e < SQ_NEFD; e++)
		(void)!read(s->efd[e], &one, 8);
	if (probe_create(&s->probe, "exiting owner's SQPOLL ring") ||
	    proc_spawn(&owner, exit_owner, s)) {
		tc_fail(s->tc, "exit: probe or fork: %s", strerror(errno));
		return;
	}
	if (tw_event_wait(&x->armed, &dl) == 0) {
		probe_drop_reader(&s->probe);
		err = handover_take(&x->h, owner.pidfd, &dl, &r->t, s->tc->prof, "exit-owner");
		taken = !err;
		/* Without the ring only its teardown is checked: a skipped part,
		 * where the system refuses pidfd_getfd(); else a failure. */
		if (!taken)
			tc_refused_part(s->tc, NEED_PIDFD_GETFD, err,
					"exit: the exited owner's polls (ring taken by pidfd_getfd)");
	}
	/* Fire some polls before the owner exits, the rest while it does. */
	for (unsigned e = 0; e < SQ_NEFD; e++) {
		if (e == k)
			tw_event_set(&x->go);
		(void)!write(s->efd[e], &one, 8);
	}
	tw_event_set(&x->go);
	if (proc_reap(&owner, &dl, &status)) {
		tc_hang(s->tc, s->led, NULL, "exit: the SQPOLL ring's owner did not exit");
		return;
	}
	while (taken && ledger_outstanding(s->led) > 0 && !tc_failed(s->tc)) {
		struct pollfd pfd = { .fd = tring_fd(&r->t), .events = POLLIN };

		if (!sq_reap(s, 0) && deadline_passed(&dl))
			tc_hang(s->tc, s->led, NULL, "exit: polls of the exited owner's ring did "
				"not complete (fired or cancelled)");
		else if (!io_uring_cq_ready(&r->t.ring))
			poll(&pfd, 1, 100);	/* the ring fd is readable once a CQE is posted */
	}
	if (taken && !tc_failed(s->tc)) {
		ledger_verify(s->led);
		io_uring_queue_exit(&r->t.ring);
	}
	if (!tc_failed(s->tc) && probe_wait(&s->probe, &dl))
		tc_hang(s->tc, NULL, NULL, "exit: teardown of the exited owner's SQPOLL ring did "
			"not finish");
	probe_close(&s->probe);
	close(owner.pidfd);
}

static enum verdict exit_run(struct sq *s, struct rng *rng, const struct deadline *end)
{
	unsigned rounds = 0;

	s->nrings = 1;
	s->writers = 0;
	s->writers_done.value = 0;
	s->xs = proc_shared_alloc(sizeof(*s->xs));
	if (!s->xs)
		return tc_fail(s->tc, "mmap: %s", strerror(errno));
	do
		exit_round(s, rng);
	while (++rounds && !tc_failed(s->tc) && !deadline_passed(end));
	tc_log(s->tc, "exit: %u rounds, %llu polls cancelled by the owner's exit", rounds,
	       (unsigned long long)s->cancelled);
	munmap(s->xs, sizeof(*s->xs));
	return tc_verdict(s->tc);
}

static enum verdict run(struct tcase *tc)
{
	struct sq s = { .tc = tc, .writers = tc->threads < 4 ? tc->threads : 4,
			.complete = complete };
	struct deadline end;
	struct rng rng;
	enum verdict v = V_PASS;

	for (unsigned e = 0; e < SQ_NEFD; e++)
		if ((s.efd[e] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
			return tc_fail(tc, "eventfd: %s", strerror(errno));
	s.led = ledger_new(tc, "sqpoll", SQ_RINGS, SQ_NCH, LEDGER_MAX_PER_STREAM, 0);
	if (!s.led)
		return tc_fail(tc, "out of memory");
	rng_seed(&rng, tc->seed, 0);
	s.pipe_read_order = !tc_part_predated(tc, NEED_PIPE_NOWAIT, "order of a pipe's READs "
					      "(each blocks in io-wq)");
	for (s.mode = 0; s.mode < M_COUNT && v == V_PASS; s.mode++) {
		end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC) / M_COUNT);
		v = s.mode == M_EXIT ? exit_run(&s, &rng, &end) : mode_run(&s, &rng, &end);
	}
	ledger_free(s.led);
	return v == V_PASS ? tc_verdict(tc) : v;
}

static const struct scenario sqpoll = {
	.name = "sqpoll",
	.summary = "task_work of an SQ thread busy, idle, asleep, shared by three rings and whose "
		   "owner exits; batches beyond the SQ thread's cap: exactly once, in order",
	.profiles = PMASK(P_SQPOLL),
	.run = run,
	.part_needs = NEED(PIDFD_GETFD) | NEED(PIPE_NOWAIT),
	.min_threads = 4,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &sqpoll);
}
