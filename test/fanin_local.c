// SPDX-License-Identifier: MIT
/*
 * Local fan-in: many producer threads (-n, default 2 x CPUs), each with its
 * own ring, send sequenced IORING_OP_MSG_RING messages into one target ring
 * owned by the consumer. On a DEFER_TASKRUN target every message is a local task_work
 * item pushed onto ctx->work_list (io_msg_remote_post, lazy wake); on other
 * targets it is posted directly. Checks:
 *  - every message arrives exactly once with its payload (ledger);
 *  - per-sender FIFO (the MPSC queue's xchg order);
 *  - the consumer, waiting in batches (min_complete > 1), never sleeps
 *    through messages already delivered (lost wake-up), and never returns
 *    before its batch is there (nothing here may end a wait early).
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "wait_check.h"

#define TARGET_CQ	4096	/* also the credit pool: the CQ never overflows */
#define ROUND_NS	(250 * NSEC_PER_MSEC)
#define MAX_PER_ROUND	(1u << 20)	/* far more than one producer sends per round */
#define MAX_BATCH	16
#define CH_DATA		0	/* the sequenced messages */
#define CH_END		1	/* one end marker per producer; res = messages sent */

struct fanin {
	struct tcase *tc;
	struct tring target;
	struct ledger *led;
	struct tw_credit credit;
	struct tw_barrier start;
	struct deadline load_end;
	unsigned ended;			/* end markers seen by the consumer */
};

static const char *check_payload(uint64_t ud, int32_t res, uint32_t flags, void *arg)
{
	struct fanin *f = arg;
	unsigned p, c;
	uint32_t seq;

	ledger_decode(ud, &p, &c, &seq);
	if (flags)
		return "unexpected CQE flags";
	if (c == CH_DATA)
		/* MSG_RING delivers 'len' as res; we send the sequence number. */
		return res == (int32_t)(seq & 0x7fffffff) ? NULL : "payload is not the seq sent";
	f->ended++;
	/* One sender's messages are FIFO whatever their user_data: its end
	 * marker must come after all of its data. */
	if ((uint64_t)res != ledger_stream_seen(f->led, p, CH_DATA))
		return "end marker overtook the producer's data";
	return NULL;
}

/* Reap n MSG_RING completions on the sender; each one means "queued at the target". */
static int reap_sends(struct fanin *f, struct tring *src, unsigned p, unsigned c, unsigned n)
{
	struct deadline dl = tc_deadline(f->tc);
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;

	if (tring_await_ledger(f->tc, f->led, src, n, &dl, "producer %u's %u MSG_RING sends", p,
			       n) != V_PASS)
		return -1;
	io_uring_for_each_cqe(&src->ring, head, cqe) {
		if (cqe->res < 0)
			tc_fail(f->tc, "producer %u: MSG_RING (user_data 0x%llx) to the target failed: %s",
				p, (unsigned long long)cqe->user_data, strerror(-cqe->res));
		else
			ledger_sent(f->led, p, c, 1);
		seen++;
	}
	io_uring_cq_advance(&src->ring, seen);
	return seen == n ? 0 : -1;
}

static void prep_send(struct fanin *f, struct tring *src, unsigned p, unsigned c,
		      uint32_t seq, uint32_t payload)
{
	struct io_uring_sqe *sqe = tring_sqe(src);

	io_uring_prep_msg_ring(sqe, tring_fd(&f->target), payload, ledger_ud(f->led, p, c, seq), 0);
	io_uring_sqe_set_data64(sqe, ledger_ud(f->led, p, c, seq));
}

static void *producer(struct tw_thread *t)
{
	struct fanin *f = t->arg;
	struct tcase *tc = f->tc;
	struct tring src;
	struct deadline dl;
	uint32_t seq = 0;

	if (tring_init(tc, &src, "source", &profiles[P_DEFAULT], NULL) != V_PASS) {
		tc_fail(tc, "producer %u: cannot set up its source ring", t->idx);
		goto out;
	}
	dl = tc_deadline(tc);
	if (tw_barrier_wait(&f->start, &dl)) {
		tc_hang(tc, NULL, NULL, "producer %u: start barrier", t->idx);
		goto out_ring;
	}
	while (tc_keep_going(tc, &f->load_end) && seq < MAX_PER_ROUND) {
		int n;

		dl = tc_deadline(tc);
		n = tw_credit_take(&f->credit, (int32_t)rng_range(&t->rng, 1, MAX_BATCH), &dl);
		if (n < 0) {
			tc_hang(tc, f->led, &f->target, "producer %u: no CQ credit: consumer not reaping",
				t->idx);
			break;
		}
		if ((uint32_t)n > MAX_PER_ROUND - 1 - seq) {
			tw_credit_give(&f->credit, n - (int)(MAX_PER_ROUND - 1 - seq));
			n = (int)(MAX_PER_ROUND - 1 - seq);
		}
		for (int i = 0; i < n; i++, seq++)
			prep_send(f, &src, t->idx, CH_DATA, seq, seq & 0x7fffffff);
		if (io_uring_submit(&src.ring) != n) {
			tc_fail(tc, "producer %u: submit of %d MSG_RING failed", t->idx, n);
			goto out_ring;
		}
		if (reap_sends(f, &src, t->idx, CH_DATA, (unsigned)n))
			goto out_ring;
	}
	/* The end marker: tells the consumer this sender is done (and is
	 * itself checked for order against the data it follows). */
	dl = tc_deadline(tc);
	if (!tc_failed(tc) && tw_credit_take(&f->credit, 1, &dl) == 1) {
		prep_send(f, &src, t->idx, CH_END, 0, seq);
		if (io_uring_submit(&src.ring) == 1)
			reap_sends(f, &src, t->idx, CH_END, 1);
	}
out_ring:
	tring_exit(&src);
out:
	return NULL;
}

/* The consumer: reap in batches until every producer's end marker is in. */
static void consume(struct fanin *f, struct rng *rng, unsigned producers)
{
	struct wait_check wc;

	wait_check_init(&wc, f->tc, &f->target, f->led);
	for (;;) {
		unsigned reaped = ledger_reap(f->led, &f->target);
		int64_t avail;
		unsigned want;

		if (reaped) {
			tw_credit_give(&f->credit, (int32_t)reaped);
			wait_check_progress(&wc);
		}
		if (f->ended == producers || tc_failed(f->tc))
			return;
		/* Delivered to the target (sender saw its CQE) but not reaped yet. */
		avail = ledger_outstanding(f->led);
		/* Batches while the load lasts; then one at a time, as the end
		 * markers still to come are all that is certain to arrive. */
		want = deadline_passed(&f->load_end) ? 1 : (unsigned)rng_range(rng, 2, 32);
		if (wait_check_batch(&wc, want, avail, deadline_left(&f->load_end), 0) < 0)
			return;
	}
}

static enum verdict run(struct tcase *tc)
{
	const struct tring_opts topts = { .cq_entries = TARGET_CQ, .attach_wq_fd = -1 };
	unsigned producers = tc->threads;
	struct tw_thread *threads;
	struct fanin f = { .tc = tc };
	struct deadline run_end;
	enum verdict v;
	struct rng rng;
	int rounds = 0;

	v = tring_init(tc, &f.target, "target", tc->prof, &topts);
	if (v != V_PASS)
		return v;
	f.led = ledger_new(tc, "fanin", producers, 2, MAX_PER_ROUND, LEDGER_FIFO);
	threads = calloc(producers, sizeof(*threads));
	if (!f.led || !threads)
		return tc_fail(tc, "out of memory");
	ledger_set_check(f.led, check_payload, &f);
	rng_seed(&rng, tc->seed, 0);
	run_end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	/* Short rounds bound the ledger; a soak (-d) is many rounds, each
	 * drained and verified. */
	do {
		ledger_reset(f.led);
		tw_credit_init(&f.credit, TARGET_CQ);
		tw_barrier_init(&f.start, producers);
		f.ended = 0;
		f.load_end = deadline_in(ROUND_NS);
		if (f.load_end.end_ns > run_end.end_ns)
			f.load_end = run_end;
		for (unsigned i = 0; i < producers; i++) {
			char name[16];

			snprintf(name, sizeof(name), "prod%u", i);
			if (tw_thread_start(tc, &threads[i], name, i, producer, &f))
				return tc_fail(tc, "pthread_create failed");
		}
		consume(&f, &rng, producers);
		v = tw_threads_join(tc, threads, producers, f.led, &f.target);
		if (v >= V_FAIL)
			break;
		ledger_verify(f.led);
		rounds++;
		tc_log(tc, "round %d: %llu messages from %u producers", rounds,
		       (unsigned long long)ledger_total_seen(f.led), producers);
	} while (!tc_failed(tc) && !deadline_passed(&run_end));
	wait_check_overflow(tc, &f.target);
	tring_exit(&f.target);
	ledger_free(f.led);
	free(threads);
	return tc_verdict(tc);
}

static const struct scenario fanin_local = {
	.name = "fanin_local",
	.summary = "producer threads send MSG_RING to one ring: exactly once, per-sender FIFO, "
		   "batched waits never sleep through delivered work",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(MSG_RING),
	.min_threads = 4,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &fanin_local);
}
