// SPDX-License-Identifier: MIT
/*
 * Normal fan-in: one owner thread with two rings arms reads, polls and
 * recvs on pipes, eventfds and socketpairs; writer threads on other CPUs
 * make them ready. Every wake-up queues task_work for the owner from the
 * writer's context: normal work onto the owner's single tctx->task_list
 * (interleaving both rings; SQPOLL rings share one SQ thread), or local
 * work for DEFER_TASKRUN. Checks:
 *  - every armed request completes exactly once (ledger; at the end the
 *    leftovers are cancelled and must report -ECANCELED);
 *  - per channel, data arrives once and in write order, in CQE order
 *    (pipe READs: from 6.4, where they wait on poll; before, each blocks in
 *    an io-wq worker and io_uring promises no order among them);
 *  - the owner never sleeps through completions already made certain
 *    (lost wake-up), never stalls (hang), and both rings' teardown
 *    finishes afterwards (teardown probes).
 */
#include <poll.h>
#include <unistd.h>

#include "harness.h"
#include "lib/chan.h"
#include "wait_check.h"

#define NRINGS		2
#define MAX_DEPTH	3	/* requests armed per channel */
#define WRITER_CREDIT	32	/* records a writer may have unread */
#define CANCEL_UD	0x0cull	/* the final ASYNC_CANCELs: not in the ledger */
#define PROBE_UD	0x0dull

struct channel {
	struct chan fds;
	unsigned ring;			/* which of the owner's rings serves it */
	unsigned writer;		/* which writer thread feeds it */
	unsigned depth;			/* slots, one request in flight per slot */
	bool armed[MAX_DEPTH];
	uint32_t slot_seq[MAX_DEPTH];	/* ledger sequence per slot */
	uint64_t buf[MAX_DEPTH];	/* READ/RECV land here */
	uint64_t consumed;		/* records the owner has seen */
	uint64_t written;		/* writer: records written (atomic) */
};

struct normal {
	struct tcase *tc;
	struct tring rings[NRINGS];
	struct ledger *led;
	struct channel *ch;
	unsigned nch, writers;
	struct tw_credit *credit;	/* per writer: keeps writers at the owner's pace */
	struct tw_barrier start;
	struct tw_counter writers_done;
	struct deadline load_end;
	bool cancelling;
	bool pipe_read_order;		/* the kernel has pipes that wait on poll */
};

static uint64_t written(struct channel *c)
{
	return __atomic_load_n(&c->written, __ATOMIC_ACQUIRE);
}

static void arm(struct normal *n, unsigned ci, unsigned slot)
{
	struct channel *c = &n->ch[ci];
	struct io_uring_sqe *sqe = tring_sqe(&n->rings[c->ring]);

	chan_prep(&c->fds, sqe, &c->buf[slot]);
	io_uring_sqe_set_data64(sqe, ledger_ud(n->led, ci, slot, c->slot_seq[slot]++));
	ledger_sent(n->led, ci, slot, 1);
	c->armed[slot] = true;
}

static void consumed_one(struct normal *n, struct channel *c)
{
	c->consumed++;
	tw_credit_give(&n->credit[c->writer], 1);
}

static void record(struct normal *n, unsigned ci, uint64_t rec)
{
	struct channel *c = &n->ch[ci];

	if (rec != c->consumed && (c->fds.kind != CHAN_PIPE_READ || n->pipe_read_order))
		tc_fail(n->tc, "order: channel %u (%s, ring %u): got record %llu, expected %llu",
			ci, chan_kind_names[c->fds.kind], c->ring, (unsigned long long)rec,
			(unsigned long long)c->consumed);
	consumed_one(n, c);
}

/* A poll said readable: read what is there ourselves, then poll again. */
static void drain_pipe(struct normal *n, unsigned ci)
{
	uint64_t recs[64];
	ssize_t got;

	while ((got = read(n->ch[ci].fds.rfd, recs, sizeof(recs))) > 0)
		for (ssize_t i = 0; i < got / 8; i++)
			record(n, ci, recs[i]);
}

static void complete(struct normal *n, struct io_uring_cqe *cqe)
{
	unsigned ci, slot;
	struct channel *c;
	uint32_t seq;

	if (cqe->user_data == CANCEL_UD || cqe->user_data == PROBE_UD) {
		if (cqe->user_data == CANCEL_UD && cqe->res < 0 && cqe->res != -ENOENT &&
		    cqe->res != -EALREADY)
			tc_fail(n->tc, "ASYNC_CANCEL failed: %s", strerror(-cqe->res));
		return;
	}
	if (!ledger_cqe(n->led, cqe->user_data, cqe->res, cqe->flags))
		return;
	ledger_decode(cqe->user_data, &ci, &slot, &seq);
	c = &n->ch[ci];
	c->armed[slot] = false;
	/*
	 * A cancel takes a request still waiting (-ECANCELED); one already
	 * running is interrupted (-EINTR). Only a pipe read runs long
	 * enough for that: on 6.1 (no FMODE_NOWAIT on pipes) it blocks in
	 * io-wq. -ERESTARTSYS there is the bug of
	 * doc/bugs/pipe-read-erestartsys.md, and stays a failure.
	 */
	if (n->cancelling && (cqe->res == -ECANCELED ||
			      (cqe->res == -EINTR && c->fds.kind == CHAN_PIPE_READ)))
		return;
	if (c->fds.kind == CHAN_PIPE_POLL && cqe->res > 0 && (cqe->res & POLLIN))
		drain_pipe(n, ci);
	else if (c->fds.kind == CHAN_EVENTFD_READ && cqe->res == 8 && c->buf[slot] == 1)
		consumed_one(n, c);	/* EFD_SEMAPHORE: one write, one read of 1 */
	else if ((c->fds.kind == CHAN_PIPE_READ || c->fds.kind == CHAN_SOCK_RECV) && cqe->res == 8)
		record(n, ci, c->buf[slot]);
	else
		tc_fail(n->tc, "channel %u (%s, ring %u): unexpected completion res %d", ci,
			chan_kind_names[c->fds.kind], c->ring, cqe->res);
	if (!n->cancelling)
		arm(n, ci, slot);
}

static unsigned reap(struct normal *n, unsigned r)
{
	struct io_uring_cqe *cqe;
	unsigned head, got = 0;

	io_uring_for_each_cqe(&n->rings[r].ring, head, cqe) {
		complete(n, cqe);
		got++;
	}
	io_uring_cq_advance(&n->rings[r].ring, got);
	return got;
}

/* Completions of ring r that nothing can stop now: armed requests whose
 * data was already written (the writer's write() returned, so the wake-up
 * and its task_work were queued). */
static int64_t certain(struct normal *n, unsigned r)
{
	int64_t sum = 0;

	for (unsigned ci = 0; ci < n->nch; ci++) {
		struct channel *c = &n->ch[ci];
		int64_t pending = (int64_t)(written(c) - c->consumed), armed = 0;

		if (c->ring != r || pending <= 0)
			continue;
		for (unsigned s = 0; s < c->depth; s++)
			armed += c->armed[s];
		/* A readable pipe completes every armed poll; a read takes one record. */
		sum += c->fds.kind == CHAN_PIPE_POLL ? armed : (armed < pending ? armed : pending);
	}
	return sum;
}

static bool all_consumed(struct normal *n)
{
	if (tw_counter_get(&n->writers_done) != n->writers)
		return false;
	for (unsigned ci = 0; ci < n->nch; ci++)
		if (n->ch[ci].consumed != written(&n->ch[ci]))
			return false;
	return true;
}

static void *writer(struct tw_thread *t)
{
	struct normal *n = t->arg;
	struct deadline dl = tc_deadline(n->tc);
	unsigned mine = 0;

	/* Channel ci belongs to writer ci % writers. */
	for (unsigned ci = t->idx; ci < n->nch; ci += n->writers)
		mine++;
	if (tw_barrier_wait(&n->start, &dl))
		tc_hang(n->tc, NULL, NULL, "writer %u: start barrier", t->idx);
	while (mine && tc_keep_going(n->tc, &n->load_end)) {
		unsigned ci = t->idx + (unsigned)rng_below(&t->rng, mine) * n->writers;
		struct channel *c = &n->ch[ci];
		int err;

		dl = tc_deadline(n->tc);
		if (tw_credit_take(&n->credit[t->idx], 1, &dl) < 0) {
			tc_hang(n->tc, n->led, NULL, "writer %u: the owner consumes nothing", t->idx);
			break;
		}
		err = chan_write(&c->fds, c->written);
		if (err) {
			tc_fail(n->tc, "writer %u: write to channel %u (%s): %s", t->idx, ci,
				chan_kind_names[c->fds.kind], strerror(-err));
			break;
		}
		__atomic_store_n(&c->written, c->written + 1, __ATOMIC_RELEASE);
	}
	tw_counter_add(&n->writers_done, 1);
	return NULL;
}

static unsigned armed_on(struct normal *n, unsigned r)
{
	unsigned sum = 0;

	for (unsigned ci = 0; ci < n->nch; ci++)
		for (unsigned s = 0; s < n->ch[ci].depth && n->ch[ci].ring == r; s++)
			sum += n->ch[ci].armed[s];
	return sum;
}

/*
 * Which ring to wait on, for how many, and how long. A batch that is
 * certain gets a full, judged wait: it must return at once. With nothing
 * certain, or now and then on purpose, the owner waits for more than is
 * certain and so sleeps until a writer's wake-up arrives; those waits are
 * short, as the writers may be feeding the other ring.
 */
static unsigned pick_wait(struct normal *n, struct rng *rng, unsigned *want, int64_t *avail,
			  int64_t *timeout)
{
	int64_t a[NRINGS];
	unsigned r = (unsigned)rng_below(rng, NRINGS);

	for (unsigned i = 0; i < NRINGS; i++)
		a[i] = certain(n, i);
	if (!a[r])
		r = (r + 1) % NRINGS;
	*avail = a[r];
	if (a[r] && !rng_chance(rng, 12)) {
		*want = (unsigned)rng_range(rng, 1, (uint64_t)a[r]);
		*timeout = 0;
	} else {
		*want = (unsigned)a[r] + (unsigned)rng_range(rng, 1, 3);
		*timeout = 5 * NSEC_PER_MSEC;
	}
	return r;
}

/* The owner's loop: reap, re-arm, submit, wait. */
static void own(struct normal *n, struct rng *rng)
{
	struct wait_check wc[NRINGS];

	for (unsigned i = 0; i < NRINGS; i++)
		wait_check_init(&wc[i], n->tc, &n->rings[i], n->led);
	while (!tc_failed(n->tc)) {
		bool progress = false;
		int64_t avail, timeout;
		unsigned want, r;

		for (unsigned i = 0; i < NRINGS; i++) {
			if (reap(n, i))
				progress = true;
			io_uring_submit(&n->rings[i].ring);
		}
		for (unsigned i = 0; progress && i < NRINGS; i++)
			wait_check_progress(&wc[i]);
		if (all_consumed(n))
			return;
		r = pick_wait(n, rng, &want, &avail, &timeout);
		if (wait_check_batch(&wc[r], want, avail, timeout, 0) < 0)
			return;
	}
}

static void cancel_leftovers(struct normal *n)
{
	struct deadline dl = tc_deadline(n->tc);

	n->cancelling = true;
	for (unsigned ci = 0; ci < n->nch; ci++)
		for (unsigned s = 0; s < n->ch[ci].depth; s++) {
			struct io_uring_sqe *sqe;

			if (!n->ch[ci].armed[s])
				continue;
			sqe = tring_sqe(&n->rings[n->ch[ci].ring]);
			io_uring_prep_cancel64(sqe, ledger_ud(n->led, ci, s, n->ch[ci].slot_seq[s] - 1),
					       0);
			io_uring_sqe_set_data64(sqe, CANCEL_UD);
		}
	for (unsigned i = 0; i < NRINGS; i++) {
		io_uring_submit(&n->rings[i].ring);
		while (armed_on(n, i) && !tc_failed(n->tc)) {
			tring_wait(&n->rings[i], 1, 5 * NSEC_PER_MSEC, 0, NULL);
			reap(n, i);
			if (deadline_passed(&dl)) {
				tc_hang(n->tc, n->led, &n->rings[i], "%u cancelled requests did not complete",
					armed_on(n, i));
				return;
			}
		}
		reap(n, i);
	}
}

static enum verdict run(struct tcase *tc)
{
	struct normal n = { .tc = tc, .writers = tc->threads, .nch = 2 * tc->threads };
	struct tw_thread *threads = calloc(n.writers, sizeof(*threads));
	struct rng rng;
	enum verdict v;

	n.ch = calloc(n.nch, sizeof(*n.ch));
	n.credit = calloc(n.writers, sizeof(*n.credit));
	n.led = ledger_new(tc, "requests", n.nch, MAX_DEPTH, 1u << 22, LEDGER_FIFO);
	if (!threads || !n.ch || !n.credit || !n.led)
		return tc_fail(tc, "out of memory");
	rng_seed(&rng, tc->seed, 0);
	n.pipe_read_order = !tc_part_predated(tc, NEED_PIPE_NOWAIT, "per-channel order of pipe "
					      "READs (each blocks in io-wq)");
	for (unsigned i = 0; i < NRINGS; i++) {
		struct tring_opts o = { .cq_entries = 4 * n.nch * MAX_DEPTH, .attach_wq_fd = -1 };

		/* SQPOLL: both rings share one SQ thread, so its task_work
		 * list interleaves them as the owner's does for other modes. */
		if (i && (tc->prof->props & PROF_SQPOLL))
			o.attach_wq_fd = tring_fd(&n.rings[0]);
		v = tring_init(tc, &n.rings[i], i ? "ring1" : "ring0", tc->prof, &o);
		if (v != V_PASS)
			return v;
	}
	for (unsigned ci = 0; ci < n.nch; ci++) {
		int err = chan_open(&n.ch[ci].fds, (enum chan_kind)(ci % CHAN_KINDS));

		if (err)
			return tc_fail(tc, "channel %u: %s", ci, strerror(-err));
		n.ch[ci].ring = (ci / CHAN_KINDS) % NRINGS;
		n.ch[ci].writer = ci % n.writers;
		n.ch[ci].depth = (unsigned)rng_range(&rng, 1, MAX_DEPTH);
		for (unsigned s = 0; s < n.ch[ci].depth; s++)
			arm(&n, ci, s);
	}
	tw_barrier_init(&n.start, n.writers);
	for (unsigned i = 0; i < n.writers; i++)
		tw_credit_init(&n.credit[i], WRITER_CREDIT);
	n.load_end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	for (unsigned i = 0; i < n.writers; i++) {
		char name[16];

		snprintf(name, sizeof(name), "writer%u", i % 1000);
		if (tw_thread_start(tc, &threads[i], name, i, writer, &n))
			return tc_fail(tc, "pthread_create failed");
	}
	own(&n, &rng);
	/* After a failure, writers may be blocked on full pipes: leave them to
	 * the end of the case process rather than report them as hung. */
	if (!tc_failed(tc) && tw_threads_join(tc, threads, n.writers, n.led, &n.rings[0]) < V_FAIL) {
		cancel_leftovers(&n);
		ledger_verify(n.led);
		for (unsigned i = 0; i < NRINGS; i++)
			wait_check_overflow(tc, &n.rings[i]);
		tring_exit_proven(tc, n.rings, NRINGS, PROBE_UD);
	}
	tc_log(tc, "%llu requests completed on %u channels",
	       (unsigned long long)ledger_total_seen(n.led), n.nch);
	if (tc_failed(tc))
		return tc_verdict(tc);	/* writers may still run: leave it to exit() */
	for (unsigned ci = 0; ci < n.nch; ci++)
		chan_close(&n.ch[ci].fds);
	free(threads);
	free(n.ch);
	free(n.credit);
	ledger_free(n.led);
	return tc_verdict(tc);
}

static const struct scenario fanin_normal = {
	.name = "fanin_normal",
	.summary = "writer threads complete one task's reads/polls/recvs on two rings: exactly "
		   "once, per-channel order, no lost wake-up, teardown finishes",
	.profiles = PROFILES_ALL,
	.run = run,
	.part_needs = NEED(PIPE_NOWAIT),
	.min_threads = 4,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &fanin_normal);
}
