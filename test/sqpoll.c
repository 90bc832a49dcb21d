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
 * Checks: every CQE exactly once and on its own ring (ledger; the ring is the
 * ledger producer), reads in data order, NOPs in submission order, no lost
 * wake-up, every ring's teardown finishes, the exiting child is reaped.
 */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "lib/handover.h"
#include "wait_check.h"

enum mode { M_BUSY, M_IDLE, M_ASLEEP, M_SHARED, M_EXIT, M_COUNT };
static const char *const mode_names[M_COUNT] = { "busy", "idle", "asleep", "shared", "exit" };

#define MAX_RINGS	3
#define NEFD		4	/* each write completes every poll armed on it */
#define NPIPE		4	/* per ring: sequenced records, one READ each */
#define MAX_POLLS	160	/* per eventfd and ring: up to 640 at once = 20 capped batches */
#define MAX_READS	8	/* per pipe and ring and round */
#define CH_NOP		(NEFD + NPIPE)
#define NCH		(CH_NOP + 1)
#define RING_CQ		4096	/* holds a whole round: the CQ never overflows */
#define PROBE_UD	0x0dull

struct sring {
	struct tring t;
	uint32_t seq[NCH];		/* next ledger seq per channel */
	uint32_t nop_next;		/* the NOP seq the next NOP CQE must carry */
	uint64_t expect, got;		/* CQEs owed / reaped this round */
	uint64_t rec_next[NPIPE];	/* the record the next read must return */
	uint64_t rec_written[NPIPE];	/* writers: records written so far */
	uint64_t rec_goal[NPIPE];	/* ... and to write this round */
	unsigned reads[NPIPE];		/* reads armed this round */
	int pipe_r[NPIPE], pipe_w[NPIPE];
	uint64_t buf[NPIPE][MAX_READS];
};

struct exit_shared;

struct sq {
	struct tcase *tc;
	enum mode mode;
	struct sring rings[MAX_RINGS];
	unsigned nrings, writers, wakes, slept;
	uint64_t cancelled;		/* exit: polls the owner's exit cancelled */
	int efd[NEFD];
	struct ledger *led;
	struct tw_barrier start;
	struct tw_counter writers_done;
	struct exit_shared *xs;		/* exit mode: shared with the owner child */
	struct teardown_probe probe;
};

/* Publish the queued SQEs to the SQ thread; if it sleeps, wake it: the
 * application's half of the NEED_WAKEUP protocol (liburing does the same). */
static void kick(struct sq *s, struct sring *r)
{
	struct io_uring_sq *q = &r->t.ring.sq;

	if (q->sqe_head != q->sqe_tail) {
		q->sqe_head = q->sqe_tail;
		__atomic_store_n(q->ktail, q->sqe_tail, __ATOMIC_RELEASE);
	}
	/* Pairs with the SQ thread's barrier between setting the flag and
	 * reading the tail (io_sq_thread, before schedule()). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (tring_sq_flags(&r->t) & IORING_SQ_NEED_WAKEUP) {
		int ret = io_uring_enter(tring_fd(&r->t), 0, 0, IORING_ENTER_SQ_WAKEUP, NULL);

		if (ret < 0)
			tc_fail(s->tc, "%s: ring %s: io_uring_enter(SQ_WAKEUP): %s",
				mode_names[s->mode], r->t.name, strerror(-ret));
		s->wakes++;
	}
}

static struct io_uring_sqe *sqe_get(struct sq *s, struct sring *r, unsigned ch)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->t.ring);

	while (!sqe && !tc_failed(s->tc)) {
		kick(s, r);
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

static void queue_nops(struct sq *s, struct sring *r, unsigned n)
{
	for (struct io_uring_sqe *sqe; n-- && (sqe = sqe_get(s, r, CH_NOP));)
		io_uring_prep_nop(sqe);
	kick(s, r);
}

static void complete(struct sq *s, unsigned ri, struct io_uring_cqe *cqe)
{
	struct sring *r = &s->rings[ri];
	const char *m = mode_names[s->mode];
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
	if (c < NEFD && !(cqe->res > 0 && (cqe->res & POLLIN)))
		tc_fail(s->tc, "%s: ring %u: poll on eventfd %u: res %d, expected POLLIN", m, ri,
			c, cqe->res);
	if (c >= NEFD && c < CH_NOP) {
		uint64_t rec = r->buf[c - NEFD][seq % MAX_READS];

		if (cqe->res != 8 || rec != r->rec_next[c - NEFD])
			tc_fail(s->tc, "%s: order: ring %u pipe %u: read res %d record %llu, "
				"expected 8 and record %llu", m, ri, c - NEFD, cqe->res,
				(unsigned long long)rec, (unsigned long long)r->rec_next[c - NEFD]);
		r->rec_next[c - NEFD]++;
	}
	if (c == CH_NOP && (cqe->res != 0 || seq != r->nop_next++))
		tc_fail(s->tc, "%s: order: ring %u: NOP seq %u res %d, expected seq %u res 0", m,
			ri, seq, cqe->res, r->nop_next - 1);
}

static unsigned reap(struct sq *s, unsigned ri)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&s->rings[ri].t.ring, head, cqe) {
		complete(s, ri, cqe);
		n++;
	}
	io_uring_cq_advance(&s->rings[ri].t.ring, n);
	return n;
}

/* Hundreds of polls on the eventfds and a few reads per pipe, then a NOP:
 * its CQE says the SQ thread issued (armed) everything before it. */
static void arm(struct sq *s, struct sring *r, struct rng *rng, bool reads)
{
	for (unsigned e = 0; e < NEFD; e++)
		for (unsigned n = (unsigned)rng_range(rng, MAX_POLLS / 4, MAX_POLLS); n--;)
			io_uring_prep_poll_add(sqe_get(s, r, e), s->efd[e], POLLIN);
	for (unsigned p = 0; reads && p < NPIPE; p++) {
		r->reads[p] = (unsigned)rng_range(rng, 1, MAX_READS);
		r->rec_goal[p] = r->rec_written[p] + r->reads[p];
		for (unsigned i = 0; i < r->reads[p]; i++) {
			uint32_t seq = r->seq[NEFD + p];

			io_uring_prep_read(sqe_get(s, r, NEFD + p), r->pipe_r[p],
					   &r->buf[p][seq % MAX_READS], 8, 0);
		}
	}
	queue_nops(s, r, 1);
}

/* Reap ring ri until `upto` CQEs (0: all owed) are in; the owed ones are
 * certain once the writers are done. */
static int collect(struct sq *s, unsigned ri, uint64_t upto, bool busy, struct rng *rng,
		   const char *what)
{
	struct sring *r = &s->rings[ri];
	struct wait_check wc;

	wait_check_init(&wc, s->tc, &r->t, s->led);
	while (!tc_failed(s->tc)) {
		bool writing = tw_counter_get(&s->writers_done) != s->writers;

		uint64_t goal = upto ? upto : r->expect;

		if (reap(s, ri))
			wait_check_progress(&wc);
		if (r->got >= goal)
			return 0;
		if (busy && writing)
			queue_nops(s, r, (unsigned)rng_range(rng, 1, 16));
		/* Once the writers are done, all that is owed is certain: a
		 * full wait must not sleep through it (lost wake-up / lost
		 * task_work). Before that, short unjudged waits. */
		if (wait_check_batch(&wc, writing ? 1 : (unsigned)(goal - r->got),
				     writing ? 0 : (int64_t)(goal - r->got),
				     writing ? 2 * NSEC_PER_MSEC : 0, 0) < 0) {
			tc_info(s->tc, "%s: ring %s: %s: %llu of %llu CQEs", mode_names[s->mode],
				r->t.name, what, (unsigned long long)r->got,
				(unsigned long long)goal);
			return -1;
		}
	}
	return -1;
}

/* Fire every armed request: one write per eventfd, records in order into
 * each pipe, in a seeded random interleaving across the writer's share. */
static void *writer(struct tw_thread *t)
{
	struct sq *s = t->arg;
	struct deadline dl = tc_deadline(s->tc);
	unsigned todo[NEFD + MAX_RINGS * NPIPE], n = 0;

	for (unsigned i = t->idx; i < NEFD + s->nrings * NPIPE; i += s->writers)
		todo[n++] = i;
	if (tw_barrier_wait(&s->start, &dl))
		tc_hang(s->tc, NULL, NULL, "%s: writer %u: start barrier", mode_names[s->mode],
			t->idx);
	while (n && !tc_failed(s->tc)) {
		unsigned k = (unsigned)rng_below(&t->rng, n), i = todo[k];
		uint64_t one = 1;

		if (i < NEFD) {
			if (write(s->efd[i], &one, 8) != 8)
				tc_fail(s->tc, "writer: eventfd write: %s", strerror(errno));
			todo[k] = todo[--n];
			continue;
		}
		struct sring *r = &s->rings[(i - NEFD) / NPIPE];
		unsigned p = (i - NEFD) % NPIPE;

		if (write(r->pipe_w[p], &r->rec_written[p], 8) != 8)
			tc_fail(s->tc, "writer: pipe write: %s", strerror(errno));
		if (++r->rec_written[p] == r->rec_goal[p])
			todo[k] = todo[--n];
	}
	tw_counter_add(&s->writers_done, 1);
	return NULL;
}

/* Wait until the SQ thread went to sleep: a bounded poll of the flag. */
static int await_sleep(struct sq *s, struct sring *r)
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

static void round_run(struct sq *s, struct rng *rng)
{
	struct tw_thread th[4];
	uint64_t drain;

	for (unsigned e = 0; e < NEFD; e++)
		(void)!read(s->efd[e], &drain, 8);	/* non-blocking: back to 0 */
	for (unsigned i = 0; i < s->nrings; i++) {
		s->rings[i].expect = s->rings[i].got = 0;
		if (s->mode == M_ASLEEP && await_sleep(s, &s->rings[i]))
			return;
		arm(s, &s->rings[i], rng, true);
	}
	for (unsigned i = 0; i < s->nrings; i++)
		if (collect(s, i, 1, false, rng, "arming: the NOP after the polls and reads"))
			return;
	for (unsigned i = 0; s->mode == M_ASLEEP && i < s->nrings; i++)
		if (await_sleep(s, &s->rings[i]))	/* the writers hit a sleeping thread */
			return;
	tw_barrier_init(&s->start, s->writers);
	s->writers_done.value = 0;
	for (unsigned i = 0; i < s->writers; i++)
		if (tw_thread_start(s->tc, &th[i], "writer", i, writer, s)) {
			tc_fail(s->tc, "pthread_create failed");
			return;
		}
	for (unsigned i = 0; i < s->nrings; i++)
		if (collect(s, i, 0, s->mode == M_BUSY, rng, "completions of the fired requests"))
			return;	/* writers may be stuck on full pipes: leave them to exit() */
	tw_threads_join(s->tc, th, s->writers, s->led, &s->rings[0].t);
	ledger_verify(s->led);
}

static enum verdict mode_run(struct sq *s, struct rng *rng, const struct deadline *end)
{
	struct tring rings[MAX_RINGS];
	enum verdict v = V_PASS;
	unsigned rounds = 0;

	s->nrings = s->mode == M_SHARED ? MAX_RINGS : 1;
	s->wakes = s->slept = 0;
	memset(s->rings, 0, sizeof(s->rings));
	for (unsigned i = 0; i < s->nrings && v == V_PASS; i++) {
		struct tring_opts o = { .sq_entries = 256, .cq_entries = RING_CQ,
					.attach_wq_fd = i ? tring_fd(&s->rings[0].t) : -1,
					.sq_idle_ms = s->mode == M_IDLE ? 10000 : 10 };
		char name[16];

		snprintf(name, sizeof(name), "%s%u", mode_names[s->mode], i);
		v = tring_init(s->tc, &s->rings[i].t, name, s->tc->prof, &o);
		for (unsigned p = 0; p < NPIPE && v == V_PASS; p++) {
			int fds[2];

			if (pipe2(fds, O_CLOEXEC))
				return tc_fail(s->tc, "pipe2: %s", strerror(errno));
			s->rings[i].pipe_r[p] = fds[0];
			s->rings[i].pipe_w[p] = fds[1];
		}
	}
	if (v != V_PASS)
		return v;
	ledger_reset(s->led);
	do
		round_run(s, rng);
	while (++rounds && !tc_failed(s->tc) && !deadline_passed(end));
	tc_log(s->tc, "%s: %u rounds, %llu CQEs, %u SQ_WAKEUP enters, %u sleeps seen",
	       mode_names[s->mode], rounds, (unsigned long long)ledger_total_seen(s->led),
	       s->wakes, s->slept);
	if (tc_failed(s->tc))
		return tc_verdict(s->tc);
	for (unsigned i = 0; i < s->nrings; i++) {
		wait_check_overflow(s->tc, &s->rings[i].t);
		rings[i] = s->rings[i].t;
		for (unsigned p = 0; p < NPIPE; p++) {
			close(s->rings[i].pipe_r[p]);
			close(s->rings[i].pipe_w[p]);
		}
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
	arm(s, r, &rng, false);
	if (collect(s, 0, 1, false, &rng, "arming: the NOP after the polls"))
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
	unsigned k = (unsigned)rng_below(rng, NEFD + 1);
	uint64_t one = 1;
	struct child owner;
	bool taken = false;
	int status;

	memset(x, 0, sizeof(*x));
	memset(r, 0, sizeof(*r));	/* the owner starts from scratch (the CQ too) */
	x->idle_ms = rng_chance(rng, 2) ? 10 : 10000;
	ledger_reset(s->led);
	for (unsigned e = 0; e < NEFD; e++)
		(void)!read(s->efd[e], &one, 8);
	if (probe_create(&s->probe, "exiting owner's SQPOLL ring") ||
	    proc_spawn(&owner, exit_owner, s)) {
		tc_fail(s->tc, "exit: probe or fork: %s", strerror(errno));
		return;
	}
	if (tw_event_wait(&x->armed, &dl) == 0) {
		probe_drop_reader(&s->probe);
		taken = !handover_take(&x->h, owner.pidfd, &dl, &r->t, s->tc->prof, "exit-owner");
		if (!taken)
			tc_log(s->tc, "exit: cannot take the ring (pidfd_getfd): teardown only");
	}
	/* Fire some polls before the owner exits, the rest while it does. */
	for (unsigned e = 0; e < NEFD; e++) {
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

		if (!reap(s, 0) && deadline_passed(&dl))
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
	struct sq s = { .tc = tc, .writers = tc->threads < 4 ? tc->threads : 4 };
	struct deadline end;
	struct rng rng;
	enum verdict v = V_PASS;

	for (unsigned e = 0; e < NEFD; e++)
		if ((s.efd[e] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
			return tc_fail(tc, "eventfd: %s", strerror(errno));
	s.led = ledger_new(tc, "sqpoll", MAX_RINGS, NCH, 1u << 24, 0);
	if (!s.led)
		return tc_fail(tc, "out of memory");
	rng_seed(&rng, tc->seed, 0);
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
	.min_threads = 4,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &sqpoll);
}
