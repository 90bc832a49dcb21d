// SPDX-License-Identifier: MIT
/*
 * CQ overflow: a ring with a tiny CQ (IORING_SETUP_CQSIZE, 4 or 8 entries)
 * is flooded by completions that arrive as task_work while its owner reaps
 * slowly: MSG_RING from sender threads (local work on DEFER rings, a direct
 * post on others) and one-shot POLL_ADDs on eventfds that writer threads
 * signal (the poll wake queues task_work from the writer's context).
 * Each round, a first burst is delivered before the owner reaps anything,
 * so the CQ must overflow; then the producers keep going while the owner
 * reaps 1-3 CQEs at a time. With IORING_FEAT_NODROP:
 *  - nothing is lost or duplicated (ledger), nothing dropped (cq.koverflow);
 *  - overflowed CQEs come back in order (per-sender FIFO of the messages:
 *    io_cqe_cache_refill() refuses the CQ while the overflow list is not
 *    empty, and the list is flushed from its head). The polls are judged
 *    exactly once only: independent requests, whose completions follow the
 *    order task_work runs in (6.1 runs a batch newest first);
 *  - IORING_SQ_CQ_OVERFLOW is raised by the overflow and clear once drained.
 * A sender's MSG_RING may get -EOVERFLOW only where the kernel's contract
 * allows it (see refused()): it is then a dropped CQE, and bounded.
 */
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "harness.h"
#include "kver.h"
#include "lib/msgseq.h"

#define ROUND_NS	(250 * NSEC_PER_MSEC)
#define PER_STREAM	4096
#define BURST		16	/* per sender, before the owner reaps */
#define POLLS		16	/* per writer and round */
#define CH_MSG		0
#define CH_POLL		1

struct flood {
	struct tcase *tc;
	struct tring target;
	struct ledger *led;		/* MSG_RING: per-sender FIFO */
	struct ledger *polls;		/* POLL_ADD: exactly once (see check_res) */
	unsigned senders, writers, cq_entries;
	int (*efd)[POLLS];		/* per writer */
	struct tw_barrier start;
	struct tw_counter burst_done;	/* producers done with their first burst */
	struct tw_event reaping;	/* the owner saw the overflow; go on */
	struct tw_counter finished;	/* producers done with the round */
	struct deadline load_end;
	bool direct_post;		/* senders post into the CQ (refused()) */
	uint32_t eoverflow;		/* sends refused with -EOVERFLOW (atomic) */
	uint32_t round_eoverflow;	/* ...before this round */
	uint32_t seeded;		/* the seeded refusal was made (atomic) */
};

static const char *check_res(uint64_t ud, int32_t res, uint32_t flags, void *arg)
{
	unsigned p, c;
	uint32_t seq;

	(void)arg;
	ledger_decode(ud, &p, &c, &seq);
	if (flags)
		return "unexpected CQE flags";
	if (c == CH_MSG)
		return res == (int32_t)seq ? NULL : "MSG_RING payload is not the seq sent";
	return res & POLLIN ? NULL : "POLL_ADD completed without POLLIN";
}

static int64_t outstanding(struct flood *f)
{
	return ledger_outstanding(f->led) + ledger_outstanding(f->polls);
}

/*
 * -EOVERFLOW: the target had no room for the message's CQE (CQ full, or its
 * overflow list in use: io_fill_cqe_aux() refuses both) and the overflow
 * entry could not be allocated (io_post_aux_cqe() -> io_cqe_overflow_locked(),
 * GFP_NOWAIT): the CQE is dropped (cq.koverflow). Only where the sender's
 * MSG_RING posts into the target's CQ (io_post_aux_cqe()): rings without
 * DEFER_TASKRUN, and DEFER_TASKRUN ones before 6.11, whose messages their
 * task posts the same way (io_msg_tw_complete()). Since 6.11 a DEFER_TASKRUN
 * target gets its messages as local task_work (io_msg_remote_post()): the
 * sender has its 0 before any CQE is posted, and a failed overflow entry
 * there (io_add_aux_cqe(), GFP_KERNEL) is dropped silently - never refused.
 * Bounds, per round (drained()): each refusal is one dropped CQE; none
 * while the CQ still had room, so at most messages + polls - CQ entries;
 * the refused message never arrives (msgseq_reap() withdraws it).
 */
static void refused(void *arg, unsigned p, uint32_t seq, int32_t res)
{
	struct flood *f = arg;

	if (res == -EOVERFLOW && f->direct_post)
		__atomic_add_fetch(&f->eoverflow, 1, __ATOMIC_RELAXED);
	else if (res == -EOVERFLOW)
		tc_fail(f->tc, "sender %u: MSG_RING seq %u into the full CQ of a DEFER_TASKRUN "
			"ring: -EOVERFLOW, expected 0 (Linux 6.11+ queues the message as local "
			"task_work: it cannot be refused for an overflow)", p, seq);
	else
		tc_fail(f->tc, "sender %u: MSG_RING seq %u into the full CQ: %s (expected 0%s)", p,
			seq, strerror(-res), f->direct_post ? " or -EOVERFLOW" : "");
}

static void send_batch(struct flood *f, struct tring *src, unsigned p, uint32_t seq, uint32_t n)
{
	struct deadline dl = tc_deadline(f->tc);
	int ret;

	msgseq_prep(src, tring_fd(&f->target), f->led, p, CH_MSG, seq, n);
	ret = io_uring_submit(&src->ring);
	if (ret != (int)n) {
		tc_fail(f->tc, "sender %u: submit of %u MSG_RING returned %d (%s)", p, n, ret,
			ret < 0 ? strerror(-ret) : "short");
		return;
	}
	if (msgseq_reap(f->tc, src, f->led, n, &dl, refused, f, "sender %u's %u MSG_RING sends",
			p, n) != V_PASS)
		return;
	/* Seeded: a message the kernel delivered, taken for one it refused. */
	if (harness_seeded("eoverflow") && !__atomic_exchange_n(&f->seeded, 1, __ATOMIC_RELAXED)) {
		ledger_withdraw(f->led, p, CH_MSG, seq);
		refused(f, p, seq, -EOVERFLOW);
	}
}

static bool burst_over(struct flood *f, unsigned p)
{
	struct deadline dl = tc_deadline(f->tc);

	tw_counter_add(&f->burst_done, 1);
	if (tw_event_wait(&f->reaping, &dl) == 0)
		return true;
	tc_hang(f->tc, f->led, &f->target, "producer %u: the owner never started reaping", p);
	return false;
}

static void *sender(struct tw_thread *t)
{
	struct flood *f = t->arg;
	struct deadline dl = tc_deadline(f->tc);
	struct tring src;
	uint32_t seq = 0;

	if (tring_init(f->tc, &src, "sender", &profiles[P_DEFAULT], NULL) != V_PASS) {
		tc_fail(f->tc, "sender %u: cannot set up its ring", t->idx);
		return NULL;
	}
	if (tw_barrier_wait(&f->start, &dl) == 0) {
		send_batch(f, &src, t->idx, seq, BURST);
		seq += BURST;
		if (burst_over(f, t->idx))
			while (!tc_failed(f->tc) && tc_keep_going(f->tc, &f->load_end) &&
			       seq + 16 <= PER_STREAM) {
				uint32_t n = (uint32_t)rng_range(&t->rng, 1, 16);

				send_batch(f, &src, t->idx, seq, n);
				seq += n;
			}
	} else {
		tc_hang(f->tc, NULL, NULL, "sender %u: start barrier", t->idx);
	}
	tring_exit(&src);
	tw_counter_add(&f->finished, 1);
	return NULL;
}

/* Signals its eventfds in order: half before the owner reaps, half after. */
static void *writer(struct tw_thread *t)
{
	struct flood *f = t->arg;
	struct deadline dl = tc_deadline(f->tc);
	uint64_t one = 1;

	if (tw_barrier_wait(&f->start, &dl)) {
		tc_hang(f->tc, NULL, NULL, "writer %u: start barrier", t->idx);
		return NULL;
	}
	for (unsigned i = 0; i < POLLS && !tc_failed(f->tc); i++) {
		if (i == POLLS / 2 && !burst_over(f, t->idx))
			break;
		if (write(f->efd[t->idx - f->senders][i], &one, sizeof(one)) != sizeof(one))
			tc_fail(f->tc, "writer %u: eventfd write: %s", t->idx, strerror(errno));
	}
	tw_counter_add(&f->finished, 1);
	return NULL;
}

static void arm_polls(struct flood *f)
{
	struct deadline dl = tc_deadline(f->tc);

	for (unsigned w = 0; w < f->writers; w++)
		for (unsigned i = 0; i < POLLS; i++) {
			struct io_uring_sqe *sqe = tring_sqe(&f->target);
			uint64_t v;

			/* Left readable by the last round: drain first. */
			while (read(f->efd[w][i], &v, sizeof(v)) == sizeof(v))
				;
			io_uring_prep_poll_add(sqe, f->efd[w][i], POLLIN);
			io_uring_sqe_set_data64(sqe, ledger_ud(f->polls, w, CH_POLL, i));
			ledger_sent(f->polls, w, CH_POLL, 1);
		}
	io_uring_submit(&f->target.ring);
	/* Armed before any write, or a later poll could complete first. For
	 * SQPOLL the SQ thread advances the head once it issued them. */
	while (io_uring_sq_ready(&f->target.ring) && !deadline_passed(&dl))
		sched_yield();
}

/* The first burst is all in: the CQ must have overflowed by now. */
static void expect_overflow(struct flood *f)
{
	struct deadline dl = tc_deadline(f->tc);
	unsigned producers = f->senders + f->writers;

	if (tw_counter_wait_ge(&f->burst_done, producers, &dl)) {
		tc_hang(f->tc, f->led, &f->target, "producers did not deliver their first burst");
		return;
	}
	/* Runs local work (DEFER) and normal work (this task's), which post. */
	while (!(tring_sq_flags(&f->target) & IORING_SQ_CQ_OVERFLOW) && !deadline_passed(&dl))
		tring_get_events(&f->target);
	if (!(tring_sq_flags(&f->target) & IORING_SQ_CQ_OVERFLOW))
		tc_fail(f->tc, "overflow flag: %lld completions delivered to a CQ of %u, none reaped, "
			"yet IORING_SQ_CQ_OVERFLOW is not set (sq_flags 0x%x, %u CQEs ready)",
			(long long)outstanding(f), f->cq_entries,
			tring_sq_flags(&f->target), io_uring_cq_ready(&f->target.ring));
	tw_event_set(&f->reaping);
}

/* Reap 1-3 CQEs at a time; every wait flushes what overflowed into the space. */
static void reap_slowly(struct flood *f, struct rng *rng)
{
	struct tring *r = &f->target;
	int64_t progress = now_ns();

	while (!tc_failed(f->tc)) {
		struct io_uring_cqe *cqe;
		unsigned n = 0, max = (unsigned)rng_range(rng, 1, 3);
		int ret;

		while (n < max && io_uring_peek_cqe(&r->ring, &cqe) == 0) {
			ledger_cqe(ledger_owns(f->led, cqe->user_data) ? f->led : f->polls,
				   cqe->user_data, cqe->res, cqe->flags);
			io_uring_cqe_seen(&r->ring, cqe);
			n++;
		}
		if (n)
			progress = now_ns();
		if (tw_counter_get(&f->finished) == f->senders + f->writers &&
		    outstanding(f) <= 0)
			return;
		if (now_ns() - progress > f->tc->hang_ns) {
			tc_hang(f->tc, f->led, r, "reaping the flooded CQ: no CQE for %.1f s",
				ns_to_s(f->tc->hang_ns));
			return;
		}
		ret = tring_wait(r, 1, 20 * NSEC_PER_MSEC, 0, NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR && !(ret == -EBADR && f->eoverflow))
			tc_fail(f->tc, "owner: wait on the flooded CQ: %s", strerror(-ret));
	}
}

static void drained(struct flood *f)
{
	unsigned dropped = *f->target.ring.cq.koverflow;
	uint32_t refusals = f->eoverflow - f->round_eoverflow;
	uint64_t cqes = ledger_total_sent(f->led) + ledger_total_sent(f->polls);

	tring_get_events(&f->target);
	if (tring_sq_flags(&f->target) & IORING_SQ_CQ_OVERFLOW)
		tc_fail(f->tc, "overflow flag: IORING_SQ_CQ_OVERFLOW still set with the CQ and "
			"its overflow list drained (sq_flags 0x%x, %u CQEs ready)",
			tring_sq_flags(&f->target), io_uring_cq_ready(&f->target.ring));
	if (dropped != f->eoverflow)
		tc_fail(f->tc, "dropped: cq.koverflow says %u CQEs dropped with IORING_FEAT_NODROP; "
			"senders were refused %u with -EOVERFLOW", dropped, f->eoverflow);
	if (refusals && refusals + f->cq_entries > cqes)
		tc_fail(f->tc, "%u MSG_RING refused with -EOVERFLOW in a round of %llu completions "
			"into a CQ of %u: more than could not fit", refusals,
			(unsigned long long)cqes, f->cq_entries);
	if (refusals)
		tc_info(f->tc, "%u MSG_RING refused with -EOVERFLOW (no memory for overflow entries)",
			refusals);
	f->round_eoverflow = f->eoverflow;
}

static enum verdict run(struct tcase *tc)
{
	struct flood f = { .tc = tc, .senders = tc->threads / 2, .writers = tc->threads / 2 };
	struct deadline run_end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	unsigned n = f.senders + f.writers;
	struct tw_thread *threads = calloc(n, sizeof(*threads));
	struct rng rng;
	enum verdict v;
	int rounds = 0;

	rng_seed(&rng, tc->seed, 0);
	f.cq_entries = rng_chance(&rng, 50) ? 4 : 8;
	v = tring_init(tc, &f.target, "flooded", tc->prof, &(struct tring_opts){ .sq_entries = 4,
		       .cq_entries = f.cq_entries, .attach_wq_fd = -1 });
	if (v != V_PASS)
		return v;
	if (!(kernel_features() & IORING_FEAT_NODROP))	/* overflow may drop CQEs */
		return tc_refused(tc, NEED_FEAT_NODROP, -EOPNOTSUPP, "ring flooded: features");
	f.direct_post = !(tc->prof->props & PROF_LOCAL_TW) || !kver_at_least(6, 11);
	f.efd = calloc(f.writers, sizeof(*f.efd));
	f.led = ledger_new(tc, "overflow", f.senders, 1, PER_STREAM, LEDGER_FIFO);
	f.polls = ledger_new(tc, "overflow-polls", f.writers, 2, POLLS, 0);
	if (!threads || !f.efd || !f.led || !f.polls)
		return tc_fail(tc, "out of memory");
	ledger_set_check(f.led, check_res, NULL);
	ledger_set_check(f.polls, check_res, NULL);
	for (unsigned w = 0; w < f.writers; w++)
		for (unsigned i = 0; i < POLLS; i++)
			if ((f.efd[w][i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
				return tc_fail(tc, "eventfd: %s", strerror(errno));
	do {
		ledger_reset(f.led);
		ledger_reset(f.polls);
		tw_barrier_init(&f.start, n);
		f.burst_done = (struct tw_counter){ 0 };
		f.reaping = (struct tw_event){ 0 };
		f.finished = (struct tw_counter){ 0 };
		f.load_end = deadline_in(ROUND_NS);
		if (f.load_end.end_ns > run_end.end_ns)
			f.load_end = run_end;
		arm_polls(&f);
		for (unsigned i = 0; i < n; i++)
			if (tw_thread_start(tc, &threads[i], i < f.senders ? "sender" : "writer", i,
					    i < f.senders ? sender : writer, &f))
				return tc_fail(tc, "pthread_create failed");
		expect_overflow(&f);
		reap_slowly(&f, &rng);
		v = tw_threads_join(tc, threads, n, f.led, &f.target);
		if (v >= V_FAIL)
			break;
		ledger_reap(f.led, &f.target);	/* nothing is left: reap_slowly() took all */
		ledger_verify(f.led);
		ledger_verify(f.polls);
		drained(&f);
		rounds++;
		tc_log(tc, "round %d: %llu CQEs through a CQ of %u", rounds,
		       (unsigned long long)(ledger_total_seen(f.led) + ledger_total_seen(f.polls)),
		       f.cq_entries);
	} while (!tc_failed(tc) && !deadline_passed(&run_end));
	tring_exit(&f.target);
	ledger_free(f.led);
	ledger_free(f.polls);
	for (unsigned w = 0; w < f.writers; w++)
		for (unsigned i = 0; i < POLLS; i++)
			close(f.efd[w][i]);
	free(f.efd);
	free(threads);
	return tc_verdict(tc);
}

static const struct scenario cq_overflow = {
	.name = "cq_overflow",
	.summary = "a 4-8 entry CQ flooded by MSG_RING and poll task_work, reaped slowly: nothing "
		   "lost or dropped, overflowed CQEs in order, IORING_SQ_CQ_OVERFLOW clears",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(MSG_RING) | NEED(FEAT_NODROP),
	.min_threads = 4,
	.seeded_faults = "  eoverflow  one delivered message is taken for one refused with -EOVERFLOW\n",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &cq_overflow);
}
