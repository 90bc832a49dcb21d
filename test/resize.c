// SPDX-License-Identifier: MIT
/*
 * Ring resize: the owner of a DEFER_TASKRUN ring resizes its CQ over and
 * over (IORING_REGISTER_RESIZE_RINGS, 6.13+; DEFER_TASKRUN only) while
 * sender threads MSG_RING it - local task_work that only the owner runs, so
 * every resize happens with work queued, CQEs unreaped, CQEs overflowed,
 * and sometimes NOPs published in the SQ but not yet submitted. The owner
 * remaps the rings itself after every resize (liburing 2.3 cannot). Checks:
 *  - a resize succeeds iff the unreaped CQEs fit the new CQ, else -EOVERFLOW
 *    with the old rings left as they were;
 *  - the unreaped CQEs are in the new CQ, same order, same contents; the
 *    published SQEs are carried over and run once;
 *  - nothing lost or duplicated, per-sender FIFO (ledger) across resizes;
 *  - defer_flag: while delivered work is neither reaped nor in the CQ, the
 *    new ring says so (IORING_SQ_TASKRUN, or IORING_SQ_CQ_OVERFLOW for an
 *    overflowed CQE); once all is run and reaped, TASKRUN is clear.
 * In half the cases (seeded) every resize is fuzzy-synchronised
 * (src/race/fuzzy.h) with a submit of sender 0: its MSG_RINGs land at a seeded
 * point of the resize, from just before the new rings are swapped in to
 * just after.
 */
#include "race/fuzzy.h"
#include "harness.h"
#include "lib/msgseq.h"
#include "lib/ringmem.h"

#define SQ_ENTRIES		8
#define PER_STREAM		(1u << 16)
#define MAX_SNAP		256	/* the largest CQ size used */
#define CH_MSG			0
#define CH_NOP			1

struct resize {
	struct tcase *tc;
	struct tring ring;
	struct ledger *led;
	unsigned senders, owner;	/* owner: the ledger producer of the NOPs */
	struct tw_barrier start;
	struct tw_counter finished;
	struct deadline load_end;
	uint32_t nops;			/* NOPs issued so far (the owner's seq) */
	unsigned resizes, refused;
	bool sq_array_guessed;
	/* Sender 0's submit (A) against the owner's resize (B). */
	struct fuzzy race;
	bool fuzzy, racing;		/* this case races; not stopped yet */
	unsigned raced;			/* resizes that were raced (not calibrating) */
};

/* Either side gives up racing: the other one must not wait for it. */
static void race_over(struct resize *z)
{
	if (__atomic_exchange_n(&z->racing, false, __ATOMIC_ACQ_REL))
		fuzzy_stop(&z->race);
}

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
	return res == 0 ? NULL : "NOP failed";
}

static void refused(void *arg, unsigned p, uint32_t seq, int32_t res)
{
	struct resize *z = arg;

	(void)seq;
	tc_fail(z->tc, "sender %u: MSG_RING to the resized ring: %s", p, strerror(-res));
}

static void *sender(struct tw_thread *t)
{
	struct resize *z = t->arg;
	struct deadline dl = tc_deadline(z->tc);
	bool race = z->fuzzy && t->idx == 0;
	struct tring src;
	uint32_t seq = 0;
	cpu_set_t saved;
	int ret;

	if (race)
		fuzzy_pin(FUZZY_A, &saved);
	if (tring_init(z->tc, &src, "sender", &profiles[P_DEFAULT], NULL) != V_PASS) {
		tc_fail(z->tc, "sender %u: cannot set up its ring", t->idx);
		goto out;
	}
	if (tw_barrier_wait(&z->start, &dl)) {
		tc_hang(z->tc, NULL, NULL, "sender %u: start barrier", t->idx);
		goto out_ring;
	}
	while (!tc_failed(z->tc) && tc_keep_going(z->tc, &z->load_end) && seq + 8 <= PER_STREAM) {
		uint32_t n = (uint32_t)rng_range(&t->rng, 1, 8);

		msgseq_prep(&src, tring_fd(&z->ring), z->led, t->idx, CH_MSG, seq, n);
		dl = tc_deadline(z->tc);
		race = race && __atomic_load_n(&z->racing, __ATOMIC_ACQUIRE);
		if (race && fuzzy_start(&z->race, FUZZY_A, &dl)) {
			race_over(z);
			race = false;
		}
		ret = io_uring_submit(&src.ring);
		if (race && fuzzy_end(&z->race, FUZZY_A, &dl)) {
			race_over(z);
			race = false;
		}
		if (ret != (int)n) {
			tc_fail(z->tc, "sender %u: submit of %u MSG_RING returned %d (%s)", t->idx, n,
				ret, ret < 0 ? strerror(-ret) : "short");
			break;
		}
		if (msgseq_reap(z->tc, &src, z->led, n, &dl, refused, z,
				"sender %u's %u MSG_RING sends", t->idx, n) != V_PASS)
			break;
		seq += n;
	}
out_ring:
	tring_exit(&src);
out:
	if (z->fuzzy && t->idx == 0) {
		race_over(z);
		fuzzy_unpin(&saved);
	}
	tw_counter_add(&z->finished, 1);
	return NULL;
}

/* Publish k NOPs to the kernel without entering: the resize must carry them. */
static unsigned publish_nops(struct resize *z, unsigned k)
{
	struct io_uring *ring = &z->ring.ring;

	for (unsigned i = 0; i < k; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, ledger_ud(z->led, z->owner, CH_NOP, z->nops));
		ledger_sent(z->led, z->owner, CH_NOP, 1);
		z->nops++;
	}
	ringmem_publish(ring);
	return k;
}

/* One resize to cq entries; false if the kernel refused the first one (the
 * verdict says what that means). */
static bool resize_once(struct resize *z, unsigned cq, struct rng *rng)
{
	struct io_uring *ring = &z->ring.ring;
	struct io_uring_params p = { .sq_entries = SQ_ENTRIES, .cq_entries = cq,
				     .flags = IORING_SETUP_CQSIZE };
	uint64_t snap[MAX_SNAP];
	unsigned ready = io_uring_cq_ready(ring), head = *ring->cq.khead, sq_left;
	unsigned nops = rng_chance(rng, 40) ? publish_nops(z, (unsigned)rng_range(rng, 1, 4)) : 0;
	struct deadline dl = tc_deadline(z->tc);
	bool race;
	int ret;

	for (unsigned i = 0; i < ready && i < MAX_SNAP; i++)
		snap[i] = ring->cq.cqes[(head + i) & ring->cq.ring_mask].user_data;
	race = __atomic_load_n(&z->racing, __ATOMIC_ACQUIRE);
	if (race && fuzzy_start(&z->race, FUZZY_B, &dl)) {
		race_over(z);
		race = false;
	}
	z->raced += race && fuzzy_racing(&z->race);
	ret = ringmem_resize(ring, &p);
	if (race && fuzzy_end(&z->race, FUZZY_B, &dl))
		race_over(z);
	if (ret == -EINVAL && !z->resizes && !z->refused) {
		/* The first resize is the probe: a skip only before 6.13. */
		tc_refused(z->tc, NEED_RESIZE_RINGS, ret, "the first resize of the CQ");
		return false;
	}
	if (ret == -EOVERFLOW && ready > cq) {
		z->refused++;
	} else if (ret) {
		tc_fail(z->tc, "resize CQ %u -> %u with %u CQEs unreaped: %s (expected %s)",
			ring->cq.ring_entries, cq, ready, strerror(-ret), ready > cq ? "EOVERFLOW" : "0");
	} else if (ready > cq) {
		tc_fail(z->tc, "resize CQ %u -> %u succeeded with %u CQEs unreaped (expected -EOVERFLOW)",
			ring->cq.ring_entries, cq, ready);
	} else if ((ret = ringmem_remap(ring, &p, &z->sq_array_guessed))) {
		tc_fail(z->tc, "mmap of the resized rings: %s", strerror(-ret));
	} else {
		z->resizes++;
		if (ring->cq.ring_entries != cq || io_uring_cq_ready(ring) != ready)
			tc_fail(z->tc, "resize to CQ %u: the new ring has %u entries and %u CQEs ready "
				"(%u before)", cq, ring->cq.ring_entries, io_uring_cq_ready(ring), ready);
		head = *ring->cq.khead;
		for (unsigned i = 0; i < ready && !tc_failed(z->tc); i++)
			if (ring->cq.cqes[(head + i) & ring->cq.ring_mask].user_data != snap[i])
				tc_fail(z->tc, "resize to CQ %u moved unreaped CQEs: CQE %u of %u is "
					"user_data 0x%llx, was 0x%llx", cq, i, ready,
					(unsigned long long)ring->cq.cqes[(head + i) &
									  ring->cq.ring_mask].user_data,
					(unsigned long long)snap[i]);
	}
	sq_left = io_uring_sq_ready(ring);
	if (nops && sq_left != nops)
		tc_fail(z->tc, "resize: %u published SQEs, %u left in the SQ after it", nops, sq_left);
	if (nops && (ret = io_uring_submit(ring)) != (int)sq_left)
		tc_fail(z->tc, "submit of %u carried-over NOPs: %d", sq_left, ret);
	return true;
}

/* defer_flag: delivered work neither reaped nor in the CQ must be flagged. */
static void check_flag(struct resize *z, const char *when)
{
	unsigned ready = io_uring_cq_ready(&z->ring.ring);
	int64_t owed = ledger_outstanding(z->led);
	unsigned flags = tring_sq_flags(&z->ring);

	if (!(z->ring.prof->props & PROF_TASKRUN_FLAG) || owed <= (int64_t)ready)
		return;
	if (!(flags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)))
		tc_fail(z->tc, "TASKRUN flag %s: %lld delivered completions not reaped, only %u in the "
			"CQ, yet neither IORING_SQ_TASKRUN nor CQ_OVERFLOW is set (sq_flags 0x%x)",
			when, (long long)owed, ready, flags);
}

/*
 * A resize raises IORING_SQ_TASKRUN unconditionally ("worst case an extra
 * syscall"); only running local work clears it. So end with one more local
 * work item (a MSG_RING to ourselves) and judge the flag once it ran.
 */
static void last_work(struct resize *z)
{
	struct deadline dl = tc_deadline(z->tc);
	struct io_uring_sqe *sqe = tring_sqe(&z->ring);
	int ret;

	io_uring_prep_msg_ring(sqe, tring_fd(&z->ring), 0,
			       ledger_ud(z->led, z->owner, CH_NOP, z->nops), 0);
	io_uring_sqe_set_flags(sqe, IOSQE_CQE_SKIP_SUCCESS);
	ledger_sent(z->led, z->owner, CH_NOP, 1);
	ret = io_uring_submit(&z->ring.ring);
	if (ret != 1) {
		tc_fail(z->tc, "submit of a MSG_RING to the resized ring itself returned %d (%s)",
			ret, ret < 0 ? strerror(-ret) : "SQEs taken, expected 1");
		return;
	}
	if (tring_await_ledger(z->tc, z->led, &z->ring, 1, &dl,
			       "a MSG_RING to the resized ring itself") != V_PASS)
		return;
	ledger_reap(z->led, &z->ring);
	ledger_verify(z->led);
	if ((z->ring.prof->props & PROF_TASKRUN_FLAG) &&
	    (tring_sq_flags(&z->ring) & IORING_SQ_TASKRUN))
		tc_fail(z->tc, "TASKRUN flag: still set with all work run and reaped (sq_flags 0x%x, "
			"after %u resizes)", tring_sq_flags(&z->ring), z->resizes);
}

static unsigned reap_some(struct resize *z, struct rng *rng)
{
	unsigned ready = io_uring_cq_ready(&z->ring.ring);
	unsigned n = rng_chance(rng, 50) ? ready : (unsigned)rng_below(rng, ready + 1);
	struct io_uring_cqe *cqe;

	for (unsigned i = 0; i < n && io_uring_peek_cqe(&z->ring.ring, &cqe) == 0; i++) {
		ledger_cqe(z->led, cqe->user_data, cqe->res, cqe->flags);
		io_uring_cqe_seen(&z->ring.ring, cqe);
	}
	return n;
}

static void owner_loop(struct resize *z, struct rng *rng)
{
	static const unsigned sizes[] = { 8, 16, 32, 64, 128, 256 };
	int64_t progress = now_ns();

	for (;;) {
		unsigned action = (unsigned)rng_below(rng, 10);
		int ret;

		if (tc_failed(z->tc))
			return;
		/* Often leave CQEs unreaped: the resize must carry them (or refuse). */
		if (reap_some(z, rng))
			progress = now_ns();
		if (deadline_passed(&z->load_end))
			race_over(z);	/* no more resizes: sender 0 must not wait */
		if (action < 4 && !deadline_passed(&z->load_end)) {
			if (!resize_once(z, sizes[rng_below(rng, 6)], rng))
				return;
			check_flag(z, "after a resize");
			continue;
		}
		if (tw_counter_get(&z->finished) == z->senders && ledger_outstanding(z->led) <= 0)
			return;
		if (now_ns() - progress > z->tc->hang_ns) {
			tc_hang(z->tc, z->led, &z->ring, "owner: no CQE for %.1f s",
				ns_to_s(z->tc->hang_ns));
			return;
		}
		check_flag(z, "before a wait");
		ret = tring_wait(&z->ring, (unsigned)rng_range(rng, 1, 4), 10 * NSEC_PER_MSEC, 0, NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR)
			tc_fail(z->tc, "owner: wait: %s", strerror(-ret));
	}
}

static enum verdict run(struct tcase *tc)
{
	struct resize z = { .tc = tc, .senders = tc->threads, .owner = tc->threads };
	struct tw_thread *threads = calloc(z.senders, sizeof(*threads));
	cpu_set_t saved;
	struct rng rng;
	enum verdict v;

	v = tring_init(tc, &z.ring, "resized", tc->prof, &(struct tring_opts){
		       .sq_entries = SQ_ENTRIES, .cq_entries = 16, .attach_wq_fd = -1 });
	if (v != V_PASS)
		return v;
	z.led = ledger_new(tc, "resize", z.senders + 1, 2, PER_STREAM, LEDGER_FIFO);
	if (!threads || !z.led)
		return tc_fail(tc, "out of memory");
	ledger_set_check(z.led, check_res, NULL);
	rng_seed(&rng, tc->seed, 0);
	if (!resize_once(&z, 16, &rng))
		return tc_verdict(tc);
	z.fuzzy = rng_chance(&rng, 50);
	if (z.fuzzy) {
		fuzzy_init(&z.race, rng_next(&rng), 0);
		z.racing = true;
		fuzzy_pin(FUZZY_B, &saved);
	}
	tw_barrier_init(&z.start, z.senders);
	z.load_end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	for (unsigned i = 0; i < z.senders; i++)
		if (tw_thread_start(tc, &threads[i], "sender", i, sender, &z))
			return tc_fail(tc, "pthread_create failed");
	owner_loop(&z, &rng);
	race_over(&z);
	if (z.fuzzy)
		fuzzy_unpin(&saved);
	v = tw_threads_join(tc, threads, z.senders, z.led, &z.ring);
	if (v < V_FAIL) {
		ledger_reap(z.led, &z.ring);
		ledger_verify(z.led);
		last_work(&z);
	}
	tc_log(tc, "%u resizes, %u refused with -EOVERFLOW (%u of these attempts raced with a "
	       "submit), %llu CQEs", z.resizes, z.refused, z.raced,
	       (unsigned long long)ledger_total_seen(z.led));
	if (z.sq_array_guessed)
		tc_log(tc, "this kernel's resize leaves sq_off.array 0: the SQ array offset was computed");
	tring_exit(&z.ring);
	ledger_free(z.led);
	free(threads);
	return tc_verdict(tc);
}

static const struct scenario resize = {
	.name = "resize",
	.summary = "a DEFER_TASKRUN ring resized over and over while threads MSG_RING it: "
		   "unreaped CQEs and SQEs carried in order, nothing lost, TASKRUN flag right",
	.profiles = PROFILES_LOCAL_TW,
	.run = run,
	.needs = NEED(MSG_RING) | NEED(RESIZE_RINGS),
	.min_threads = 2,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &resize);
}
