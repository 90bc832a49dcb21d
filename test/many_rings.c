// SPDX-License-Identifier: MIT
/*
 * Many rings, one task: the owner holds one ring of each taskrun mode the
 * kernel has (default, coop, coop_flag, single, defer, defer_flag). Its
 * reads on pipes complete through poll wake-ups that producer threads
 * trigger: normal task_work of every non-DEFER ring interleaves in the
 * owner's single tctx->task_list (ring switches inside one run), local work
 * goes to each DEFER ring's own work_list. The producers also MSG_RING all
 * rings (local task_work on DEFER targets, posted directly elsewhere). One
 * ring, picked by the seed, is closed mid-flight with reads pending and
 * messages on their way. Checks:
 *  - every CQE lands on its own ring (the ring is in the ledger channel),
 *    exactly once; messages in per-sender order, reads in data order (from
 *    6.4, where pipe READs wait on poll; before, each blocks in io-wq);
 *  - senders to the closed ring get 0 before the close, -EBADF after;
 *  - the other rings are undisturbed, and every ring's teardown finishes.
 */
#include <errno.h>
#include <unistd.h>

#include "harness.h"
#include "lib/chan.h"

#define MAX_RINGS	6
#define NPIPE		2		/* per ring */
#define DEPTH		4		/* reads in flight per pipe */
#define BACKLOG		64		/* records a pipe may hold unread */
#define RING_CQ		4096
#define MSG_CREDIT	(RING_CQ / 2)	/* messages in flight per ring */
#define MAX_MSGS	(1u << 22)
#define VICTIM_UD	0x0bull		/* messages to the ring being closed */
#define PROBE_UD	0x0dull
#define CANCEL_UD	0x0cull		/* the seeded cancel-read's own CQE */

enum close_state { OPEN, CLOSING, CLOSED };

struct mring {
	struct tring t;
	int fd;				/* what the senders aim at */
	struct tw_credit credit;
	struct chan pipe[NPIPE];	/* records: 8 bytes each, in order */
	uint64_t written[NPIPE];	/* producers (atomic) */
	uint64_t consumed[NPIPE];	/* owner */
	uint64_t buf[NPIPE][DEPTH];
	uint32_t rseq[NPIPE][DEPTH];	/* next read's ledger seq, per slot */
};

struct many {
	struct tcase *tc;
	struct mring r[MAX_RINGS];
	unsigned n, victim, senders;
	uint32_t vstate;		/* enum close_state of the victim */
	struct ledger *msgs;		/* producer = sender, channel = ring; FIFO */
	struct ledger *reads;		/* producer = ring, channel = pipe */
	struct tw_barrier start;
	struct tw_counter done;
	struct deadline load_end;
	bool seeded_cancel, seeded_drop;	/* seeded faults, until done */
	bool pipe_read_order;		/* reads of a pipe wait on poll (6.4): ordered */
};

static uint64_t load64(uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* A read into slot d of pipe p; ledger channel p * DEPTH + d. */
static void arm_read(struct many *m, unsigned ri, unsigned p, unsigned d)
{
	struct mring *r = &m->r[ri];
	struct io_uring_sqe *sqe = tring_sqe(&r->t);

	chan_prep(&r->pipe[p], sqe, &r->buf[p][d]);
	io_uring_sqe_set_data64(sqe, ledger_ud(m->reads, ri, p * DEPTH + d, r->rseq[p][d]++));
	ledger_sent(m->reads, ri, p * DEPTH + d, 1);
}

/* One sender: batches of MSG_RING to random rings, results judged. */
static void *sender(struct tw_thread *t)
{
	struct many *m = t->arg;
	struct tring src;
	struct deadline dl = tc_deadline(m->tc);
	uint32_t seq[MAX_RINGS] = { 0 };
	int ret;

	if (tring_init(m->tc, &src, "source", &profiles[P_DEFAULT], NULL) != V_PASS)
		goto out;
	if (tw_barrier_wait(&m->start, &dl))
		tc_hang(m->tc, NULL, NULL, "sender %u: start barrier", t->idx);
	while (tc_keep_going(m->tc, &m->load_end)) {
		unsigned n = (unsigned)rng_range(&t->rng, 1, 8), ri[8];
		uint32_t before = __atomic_load_n(&m->vstate, __ATOMIC_ACQUIRE);
		struct io_uring_cqe *cqe;

		for (unsigned i = 0; i < n; i++) {
			struct io_uring_sqe *sqe = tring_sqe(&src);
			uint64_t ud = VICTIM_UD;

			ri[i] = (unsigned)rng_below(&t->rng, m->n);
			dl = tc_deadline(m->tc);
			if (ri[i] != m->victim) {
				if (tw_credit_take(&m->r[ri[i]].credit, 1, &dl) != 1) {
					tc_hang(m->tc, m->msgs, NULL, "sender %u: ring %s reaps nothing",
						t->idx, m->r[ri[i]].t.name);
					goto out_ring;
				}
				ud = ledger_ud(m->msgs, t->idx, ri[i], seq[ri[i]]);
			}
			io_uring_prep_msg_ring(sqe, m->r[ri[i]].fd, seq[ri[i]]++ & 0x7fffffff, ud, 0);
			io_uring_sqe_set_data64(sqe, ri[i]);
		}
		dl = tc_deadline(m->tc);
		ret = io_uring_submit(&src.ring);
		if (ret != (int)n) {
			tc_fail(m->tc, "sender %u: submit of %u MSG_RING returned %d", t->idx, n, ret);
			break;
		}
		if (tring_await_ledger(m->tc, m->msgs, &src, n, &dl, "sender %u: the CQEs of %u "
				       "MSG_RING", t->idx, n) != V_PASS)
			break;
		/* CQEs of one submit come in SQE order: MSG_RING completes inline. */
		for (unsigned i = 0; i < n && !io_uring_peek_cqe(&src.ring, &cqe); i++) {
			unsigned to = (unsigned)cqe->user_data;
			uint32_t after = __atomic_load_n(&m->vstate, __ATOMIC_ACQUIRE);

			if (to != m->victim && cqe->res == 0)
				ledger_sent(m->msgs, t->idx, to, 1);
			else if (to != m->victim || (cqe->res == 0 && before == CLOSED) ||
				 (cqe->res == -EBADF && after == OPEN) ||
				 (cqe->res != 0 && cqe->res != -EBADF))
				tc_fail(m->tc, "sender %u: MSG_RING to ring %s (%s): res %d", t->idx,
					m->r[to].t.name, to == m->victim ? "being closed" : "open",
					cqe->res);
			io_uring_cqe_seen(&src.ring, cqe);
		}
	}
out_ring:
	tring_exit(&src);
out:
	tw_counter_add(&m->done, 1);
	return NULL;
}

/* Writers: records into every ring's pipes, never far ahead of the owner. */
static void *writer(struct tw_thread *t)
{
	struct many *m = t->arg;
	struct deadline dl = tc_deadline(m->tc);

	if (tw_barrier_wait(&m->start, &dl))
		tc_hang(m->tc, NULL, NULL, "writer %u: start barrier", t->idx);
	while (tc_keep_going(m->tc, &m->load_end)) {
		unsigned ri = (unsigned)rng_below(&t->rng, m->n), p = t->idx;
		struct mring *r = &m->r[ri];
		uint64_t w = load64(&r->written[p]);
		int err;

		/* Writer p feeds pipe p of every ring: records stay in order. The
		 * victim's pipes are never fed: its reads stay pending. */
		if (ri == m->victim || w - __atomic_load_n(&r->consumed[p], __ATOMIC_ACQUIRE) >= BACKLOG) {
			sched_yield();
			continue;
		}
		if ((err = chan_write(&r->pipe[p], w))) {
			tc_fail(m->tc, "writer: pipe write: %s", strerror(-err));
			break;
		}
		__atomic_store_n(&r->written[p], w + 1, __ATOMIC_RELEASE);
	}
	tw_counter_add(&m->done, 1);
	return NULL;
}

static void complete(struct many *m, unsigned ri, struct io_uring_cqe *cqe)
{
	struct mring *r = &m->r[ri];
	unsigned p, c, d;
	uint32_t seq;
	bool drop;

	if (cqe->user_data == PROBE_UD || cqe->user_data == VICTIM_UD || cqe->user_data == CANCEL_UD)
		return;	/* the victim's messages die with it: only senders judge them */
	ledger_decode(cqe->user_data, &p, &c, &seq);
	if (ledger_owns(m->msgs, cqe->user_data)) {
		if (c != ri)
			tc_fail(m->tc, "message from sender %u for ring %s landed on ring %s", p,
				m->r[c].t.name, r->t.name);
		else if (cqe->res != (int32_t)(seq & 0x7fffffff))
			tc_fail(m->tc, "ring %s: message %u from sender %u: res %d", r->t.name, seq,
				p, cqe->res);
		ledger_cqe(m->msgs, cqe->user_data, cqe->res, cqe->flags);
		tw_credit_give(&r->credit, 1);
		return;
	}
	if (p != ri)
		tc_fail(m->tc, "read of ring %s (pipe %u) completed on ring %s", m->r[p].t.name, c / DEPTH,
			r->t.name);
	/* Seeded: one read's CQE goes unaccounted (the end's verify must miss it). */
	drop = m->seeded_drop && cqe->res == 8;
	m->seeded_drop &= !drop;
	if ((!drop && !ledger_cqe(m->reads, cqe->user_data, cqe->res, cqe->flags)) || p != ri)
		return;
	/*
	 * -ECANCELED is a read's result only once its ring's teardown began
	 * (io_ring_exit_work() -> io_uring_try_cancel_requests()) or something
	 * cancelled it: this test cancels no read, and reaps no ring whose
	 * teardown began (the victim leaves reap_all() before its close, the
	 * others are closed after the last reap). So never, on any kernel.
	 */
	d = c % DEPTH;
	c /= DEPTH;
	if (cqe->res != 8 || (r->buf[c][d] != r->consumed[c] && m->pipe_read_order)) {
		tc_fail(m->tc, "%s: ring %s pipe %u: read res %d record %llu, expected 8 and "
			"%llu", cqe->res == -ECANCELED ? "read cancelled" : "order", r->t.name, c,
			cqe->res, (unsigned long long)r->buf[c][d],
			(unsigned long long)r->consumed[c]);
		return;
	}
	__atomic_store_n(&r->consumed[c], r->consumed[c] + 1, __ATOMIC_RELEASE);
	arm_read(m, ri, c, d);
}

static unsigned reap_all(struct many *m)
{
	unsigned total = 0;

	for (unsigned i = 0; i < m->n; i++) {
		struct io_uring_cqe *cqe;
		unsigned head, got = 0;

		if (!m->r[i].t.live)
			continue;
		io_uring_for_each_cqe(&m->r[i].t.ring, head, cqe) {
			complete(m, i, cqe);
			got++;
		}
		io_uring_cq_advance(&m->r[i].t.ring, got);
		io_uring_submit(&m->r[i].t.ring);
		total += got;
	}
	return total;
}

/* Every record written was read and every message sent arrived? */
static bool settled(struct many *m)
{
	if (tw_counter_get(&m->done) != m->senders + NPIPE || ledger_outstanding(m->msgs))
		return false;
	for (unsigned i = 0; i < m->n; i++)
		for (unsigned p = 0; p < NPIPE && i != m->victim; p++)
			if (m->r[i].consumed[p] != load64(&m->r[i].written[p]))
				return false;
	return true;
}

/* The owner: reap, re-arm, enter each live ring in turn (DEFER rings run
 * their local work only then); close the victim at its seeded moment. */
static void own(struct many *m, int64_t close_at)
{
	int64_t last = now_ns();
	unsigned turn = 0;

	while (!tc_failed(m->tc) && !settled(m)) {
		struct mring *r = &m->r[turn++ % m->n];

		if (__atomic_load_n(&m->vstate, __ATOMIC_ACQUIRE) == OPEN && now_ns() >= close_at) {
			struct mring *v = &m->r[m->victim];

			__atomic_store_n(&m->vstate, CLOSING, __ATOMIC_RELEASE);
			tring_exit_proven(m->tc, &v->t, 1, PROBE_UD);
			__atomic_store_n(&m->vstate, CLOSED, __ATOMIC_RELEASE);
		}
		if (reap_all(m))
			last = now_ns();
		else if (now_ns() - last > m->tc->hang_ns) {
			tc_hang(m->tc, m->msgs, &m->r[0].t, "owner: no CQE on any ring (messages: "
				"%lld outstanding)", (long long)ledger_outstanding(m->msgs));
			return;
		}
		if (r->t.live)
			tring_wait(&r->t, 1, NSEC_PER_MSEC, 0, NULL);
	}
}

/* Seeded: cancel one of the victim's reads (its pipes are never fed, so the
 * read is surely pending), as a kernel that cancels on its own would. */
static void seed_cancel(struct many *m)
{
	struct tring *v = &m->r[m->victim].t;
	struct io_uring_sqe *sqe = tring_sqe(v);
	struct deadline dl = tc_deadline(m->tc);

	io_uring_prep_cancel64(sqe, ledger_ud(m->reads, m->victim, 0, 0), 0);
	io_uring_sqe_set_data64(sqe, CANCEL_UD);
	tring_submit_await(m->tc, v, 1, 2, &dl, "seeded cancel-read: the cancel's and the read's "
			   "CQEs");
	reap_all(m);
}

/* The reads ledger, exactly: the last read of each slot of every ring is
 * still pending (teardown cancels it, unseen), every other one completed. */
static void verify_reads(struct many *m)
{
	for (unsigned i = 0; i < m->n; i++)
		for (unsigned p = 0; p < NPIPE; p++)
			for (unsigned d = 0; d < DEPTH; d++)
				ledger_withdraw(m->reads, i, p * DEPTH + d, m->r[i].rseq[p][d] - 1);
	ledger_verify(m->reads);
}

static enum verdict run(struct tcase *tc)
{
	static const enum profile_id modes[MAX_RINGS] = { P_DEFAULT, P_COOP, P_COOP_FLAG,
							   P_SINGLE, P_DEFER, P_DEFER_FLAG };
	struct many m = { .tc = tc, .senders = tc->threads < 8 ? tc->threads : 8 };
	struct tw_thread th[8 + NPIPE];
	struct rng rng;

	rng_seed(&rng, tc->seed, 0);
	m.pipe_read_order = !tc_part_predated(tc, NEED_PIPE_NOWAIT, "data order of a pipe's "
					      "READs (each blocks in io-wq)");
	for (unsigned i = 0; i < MAX_RINGS; i++) {
		const struct profile *prof = &profiles[modes[i]];
		struct tring_opts o = { .cq_entries = RING_CQ, .attach_wq_fd = -1 };
		struct mring *r = &m.r[m.n];
		char part[32];

		/* A mode the kernel predates leaves its ring out (a skipped
		 * part); one it has must set up, or the case fails. */
		snprintf(part, sizeof(part), "the %s ring", prof->name);
		if (tc_part_predated(tc, need_newest(need_setup_flags(prof->setup_flags)), part))
			continue;
		if (tring_init(tc, &r->t, prof->name, prof, &o) != V_PASS)
			return tc_verdict(tc);
		r->fd = tring_fd(&r->t);
		tw_credit_init(&r->credit, MSG_CREDIT);
		for (unsigned q = 0; q < NPIPE; q++) {
			int err = chan_open(&r->pipe[q], CHAN_PIPE_READ);

			if (err)
				return tc_fail(tc, "pipe2: %s", strerror(-err));
		}
		m.n++;
	}
	if (m.n < 2)	/* .needs has COOP_TASKRUN: default, coop and coop_flag at least */
		return tc_fail(tc, "only %u ring modes set up", m.n);
	m.msgs = ledger_new(tc, "messages", m.senders, MAX_RINGS, MAX_MSGS, LEDGER_FIFO);
	m.reads = ledger_new(tc, "reads", MAX_RINGS, NPIPE * DEPTH, MAX_MSGS, LEDGER_FIFO);
	if (!m.msgs || !m.reads)
		return tc_fail(tc, "out of memory");
	for (unsigned i = 0; i < m.n; i++) {
		for (unsigned p = 0; p < NPIPE; p++)
			for (unsigned d = 0; d < DEPTH; d++)
				arm_read(&m, i, p, d);
		io_uring_submit(&m.r[i].t.ring);
	}
	m.victim = (unsigned)rng_below(&rng, m.n);
	m.seeded_drop = harness_seeded("drop-read");
	if (harness_seeded("cancel-read"))
		seed_cancel(&m);
	tw_barrier_init(&m.start, m.senders + NPIPE);
	m.load_end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	for (unsigned i = 0; i < m.senders + NPIPE; i++)
		if (tw_thread_start(tc, &th[i], i < m.senders ? "sender" : "writer",
				    i < m.senders ? i : i - m.senders, i < m.senders ? sender : writer, &m))
			return tc_fail(tc, "pthread_create failed");
	own(&m, now_ns() + (int64_t)rng_below(&rng, (uint64_t)(tc->duration * NSEC_PER_SEC / 2)));
	if (tc_failed(tc))
		return tc_verdict(tc);	/* threads may be stuck: leave them to exit() */
	tw_threads_join(tc, th, m.senders + NPIPE, m.msgs, NULL);
	ledger_verify(m.msgs);
	verify_reads(&m);
	tc_log(tc, "%u rings, %s closed mid-flight; %llu messages, %llu reads", m.n,
	       m.r[m.victim].t.name, (unsigned long long)ledger_total_seen(m.msgs),
	       (unsigned long long)ledger_total_seen(m.reads));
	/* The survivors' pending reads: cancelled by teardown, proven. */
	for (unsigned i = 0; i < m.n; i++)
		if (m.r[i].t.live)
			tring_exit_proven(tc, &m.r[i].t, 1, PROBE_UD);
	return tc_verdict(tc);
}

static const struct scenario many_rings = {
	.name = "many_rings",
	.summary = "one task, one ring per taskrun mode, completions interleaved, one closed "
		   "mid-flight: every CQE once, on its own ring, in order",
	.profiles = PMASK(P_DEFAULT),
	.run = run,
	.needs = NEED(MSG_RING) | NEED(COOP_TASKRUN),
	.part_needs = NEED(SINGLE_ISSUER) | NEED(DEFER_TASKRUN) | NEED(PIPE_NOWAIT),
	.min_threads = 4,
	.seeded_faults = "  cancel-read  one of the victim ring's pending reads is cancelled\n"
			 "  drop-read    one read's CQE is not accounted in the reads ledger\n",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &many_rings);
}
