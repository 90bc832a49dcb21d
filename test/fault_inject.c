// SPDX-License-Identifier: MIT
/*
 * Fault injection: io_uring's fan-in and ring set-up/teardown under
 * injected allocation failures, aimed at this test's own tasks only. Runs
 * only when asked (-F, TW_FAULT_INJECT=1, runtests.sh --fault-inject; on by
 * default in guest/vm-run guests), as root, on a kernel with fault
 * injection (CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC,
 * FAULT_INJECTION_DEBUG_FS, debugfs at /sys/kernel/debug); else a skip
 * that says which is missing. Every debugfs setting it changes is restored.
 *
 * fan-in     producer threads MSG_RING a target ring of the case's profile
 *            (io_msg_ring: a request from io_msg_get_kiocb() for DEFER
 *            targets, posted as local task_work; else io_post_aux_cqe(),
 *            overflow entries), while failslab and fail_page_alloc fail a
 *            seeded share of the slab and page allocations of the tasks
 *            that set /proc/self/task/TID/make-it-fail (task-filter): the
 *            producers and the consumer. A send may fail with -ENOMEM
 *            (allocation in io_msg_ring) and is then sent again with the
 *            same sequence number; io_uring_enter() may submit nothing
 *            (-EAGAIN: io_alloc_req() failed) or fail with -ENOMEM (the
 *            task context). A send that completed with 0 arrives exactly
 *            once, in order; one that failed never arrives (the resend
 *            would be a duplicate). The phase lasts until at least one
 *            allocation was failed (debugfs "times" counts them down):
 *            none within the hang deadline after its time is a failure.
 * set-up/teardown  /proc/self/task/TID/fail-nth fails exactly the n-th
 *            allocation of: ring set-up (io_uring_setup: ctx, rings, SQ
 *            thread), the teardown probe's file registration, a NOP and a
 *            MSG_RING to itself, then the close; n walks forward from 1 with
 *            a seeded stride until the sequence has fewer than n allocations.
 *            Set-up may only fail with -ENOMEM/-EAGAIN; each request ends with
 *            its result or one of those; every ring's teardown finishes.
 * A kernel splat is the runner's to see (runner/kmsg-patterns).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "race/faultinj.h"
#include "harness.h"

#define PRODUCERS_MAX	8
#define PER_STREAM	(1u << 20)
#define TARGET_CQ	1024
#define NTH_RINGS_MAX	64		/* set-ups per case, probes waited together */
#define NTH_STRIDE_MAX	4
enum { UD_PROBE = 1, UD_NOP, UD_MSG_RING, UD_MESSAGE };
#define MSG_LEN		7

/* ---- fan-in ------------------------------------------------------------- */

struct fanin {
	struct tcase *tc;
	struct tring target;
	struct ledger *led;
	struct tw_credit credit;	/* messages in flight never exceed the CQ */
	struct tw_counter done;		/* producers finished */
	uint32_t stop;
	uint64_t enomem, eagain;	/* failures seen: proof the faults hit */
};

static bool retryable(int err)
{
	return err == -ENOMEM || err == -EAGAIN;
}

/* tring_wait_ready(), where waiting itself may be refused for memory. */
static int wait_ready(struct tring *r, unsigned n, const struct deadline *dl)
{
	int ret;

	while ((ret = tring_wait_ready(r, n, dl)) == -ENOMEM)
		;
	return ret;
}

/* One MSG_RING with this seq, sent again until it is not refused for memory. */
static int send_one(struct fanin *f, struct tring *src, unsigned p, uint32_t seq)
{
	struct deadline dl = tc_deadline(f->tc);
	struct io_uring_sqe *sqe = io_uring_get_sqe(&src->ring);
	struct io_uring_cqe *cqe;
	int ret, res;

	io_uring_prep_msg_ring(sqe, tring_fd(&f->target), seq, ledger_ud(f->led, p, 0, seq), 0);
	do {
		/* Nothing submitted (-EAGAIN, the SQE stays queued) or -ENOMEM. */
		ret = io_uring_submit(&src->ring);
		if (ret < 0 && !retryable(ret))
			return tc_fail(f->tc, "producer %u: submit of MSG_RING: %s", p,
				       strerror(-ret)), -1;
		__atomic_add_fetch(ret == -EAGAIN ? &f->eagain : &f->enomem, ret < 0,
				   __ATOMIC_RELAXED);
	} while (ret != 1 && !deadline_passed(&dl));
	if (ret != 1 || wait_ready(src, 1, &dl))
		return tc_hang(f->tc, f->led, src, "producer %u: MSG_RING seq %u not submitted or "
			       "not completed", p, seq), -1;
	io_uring_peek_cqe(&src->ring, &cqe);
	res = cqe->res;
	io_uring_cqe_seen(&src->ring, cqe);
	if (res == 0) {
		ledger_sent(f->led, p, 0, 1);
		return 1;
	}
	if (!retryable(res))
		return tc_fail(f->tc, "producer %u: MSG_RING seq %u into the %s ring: %s, expected 0, "
			       "-ENOMEM or -EAGAIN", p, seq, f->tc->prof->name, strerror(-res)), -1;
	__atomic_add_fetch(res == -EAGAIN ? &f->eagain : &f->enomem, 1, __ATOMIC_RELAXED);
	return 0;	/* refused: must not arrive; sent again */
}

static void *producer_main(struct tw_thread *t)
{
	struct fanin *f = t->arg;
	struct tring src;
	uint32_t seq = 0;
	int ret;

	if (tring_init(f->tc, &src, "producer", &profiles[P_DEFAULT], NULL) != V_PASS) {
		tw_counter_add(&f->done, 1);
		return NULL;
	}
	fault_task_knob("make-it-fail", "1");		/* from here on, its allocations may fail */
	while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE) && seq < PER_STREAM - 1) {
		struct deadline dl = tc_deadline(f->tc);

		if (tw_credit_take(&f->credit, 1, &dl) < 0) {
			tc_hang(f->tc, f->led, NULL, "producer %u: no CQ credit", t->idx);
			break;
		}
		if ((ret = send_one(f, &src, t->idx, seq)) < 0)
			break;
		seq += ret;
		if (!ret)	/* refused: nothing reached the CQ */
			tw_credit_give(&f->credit, 1);
	}
	fault_task_disarm();
	tw_counter_add(&f->done, 1);
	tring_exit(&src);
	return NULL;
}

static void fanin(struct tcase *tc, double secs, struct rng *rng)
{
	const struct tring_opts o = { .cq_entries = TARGET_CQ, .attach_wq_fd = -1 };
	unsigned n = tc->threads < PRODUCERS_MAX ? tc->threads : PRODUCERS_MAX;
	struct deadline end = deadline_in((int64_t)(secs * NSEC_PER_SEC)), dl = { 0 }, proof;
	struct fanin f = { .tc = tc };
	bool stopped = false;
	struct tw_thread th[PRODUCERS_MAX];
	unsigned pct = (unsigned)rng_range(rng, 1, 20);
	int64_t t0 = now_ns();
	long injected = 0;
	int ret;

	/* Seeded: armed, but failing nothing. */
	if (harness_seeded("no-faults"))
		pct = 0;
	proof = deadline_in((int64_t)(secs * NSEC_PER_SEC) + tc->hang_ns);

	if (tring_init(tc, &f.target, "target", tc->prof, &o) != V_PASS)
		return;
	if (!(f.led = ledger_new(tc, "fan-in", n, 1, PER_STREAM, LEDGER_FIFO))) {
		tc_fail(tc, "out of memory");
		goto out;
	}
	/* Never more in flight than the CQ holds: a CQ overflow (whose entry
	 * allocation may fail, dropping a CQE: -EBADR) has a test of its own. */
	tw_credit_init(&f.credit, TARGET_CQ);
	if ((ret = faults_arm(pct)) < 0) {
		tc_fail(tc, "arming failslab/fail_page_alloc: %s", strerror(-ret));
		goto out;
	}
	for (unsigned i = 0; i < n; i++)
		if (tw_thread_start(tc, &th[i], "producer", i, producer_main, &f))
			n = i;
	/* The consumer runs the local work of DEFER targets: its allocations fail too. */
	fault_task_knob("make-it-fail", "1");
	/* Until the producers are done: they may wait for credits. */
	for (;;) {
		/* Past its time, the phase goes on until a fault was injected. */
		if (!stopped && !injected && deadline_passed(&end) && faults_injected() > 0)
			injected = 1;
		if (!stopped && (tc_failed(tc) || (deadline_passed(&end) && injected) ||
				 deadline_passed(&proof))) {
			__atomic_store_n(&f.stop, 1, __ATOMIC_RELEASE);
			fault_task_disarm();
			stopped = true;
			dl = tc_deadline(tc);
		}
		if (tw_counter_get(&f.done) == n || (stopped && deadline_passed(&dl)))
			break;
		ret = tring_wait(&f.target, 1, NSEC_PER_MSEC, 0, NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR && !retryable(ret))
			tc_fail(tc, "consumer: wait on the target: %s", strerror(-ret));
		tw_credit_give(&f.credit, (int32_t)ledger_reap(f.led, &f.target));
	}
	__atomic_store_n(&f.stop, 1, __ATOMIC_RELEASE);
	fault_task_disarm();
	injected = faults_injected();
	if (tw_threads_join(tc, th, n, f.led, &f.target) >= V_HANG)
		return;		/* a producer may still use the ring */
	if (!tc_failed(tc) && injected <= 0)
		tc_fail(tc, "fault injection had no effect: %s in %.1f s of fan-in with %u%% of "
			"allocations failing", injected ? "debugfs times unreadable" :
			"no allocation of the producers or the consumer failed",
			ns_to_s(now_ns() - t0), pct);
	/* What was sent with 0 must be there; nothing else may come. */
	dl = tc_deadline(tc);
	while (ledger_outstanding(f.led) > 0 && !deadline_passed(&dl)) {
		tring_wait(&f.target, 1, NSEC_PER_MSEC, 0, NULL);
		ledger_reap(f.led, &f.target);
	}
	ledger_verify(f.led);
	/* In the log always: the proof that faults were injected at all. */
	tc_info(tc, "fan-in, %u%% of allocations failing: %llu messages, %ld allocations failed, "
		"%llu -ENOMEM, %llu -EAGAIN", pct, (unsigned long long)ledger_total_seen(f.led),
		injected, (unsigned long long)f.enomem, (unsigned long long)f.eagain);
out:
	faults_restore(tc);
	ledger_free(f.led);
	tring_exit(&f.target);
}

/* ---- set-up and teardown, failing the n-th allocation ------------------- */

/* One ring's life with the n-th allocation failing. 1: a probe is armed on
 * it; 0: it did not get that far; -1: a failure (reported). */
static int nth_ring(struct tcase *tc, struct teardown_probe *p, int nth_fd, unsigned nth)
{
	struct io_uring_params prm = { .flags = tc->prof->setup_flags, .sq_thread_idle = 10 };
	struct tring r = { .prof = tc->prof, .name = "nth" };
	struct deadline dl = tc_deadline(tc);
	struct io_uring_sqe *sqe;
	unsigned seen = 0;
	bool msg_ok = false;
	char buf[16];
	int ret, armed;

	snprintf(buf, sizeof(buf), "%u", nth);
	if (pwrite(nth_fd, buf, strlen(buf), 0) < 0)
		return tc_fail(tc, "fail-nth: %s", strerror(errno)), -1;
	ret = io_uring_queue_init_params(8, &r.ring, &prm);
	if (ret < 0) {
		pwrite(nth_fd, "0", 1, 0);
		return retryable(ret) ? 0 : (tc_fail(tc, "io_uring_setup (%s) with allocation %u "
					  "failing: %s, expected -ENOMEM or -EAGAIN", tc->prof->name,
					  nth, strerror(-ret)), -1);
	}
	r.live = true;
	armed = probe_arm(p, &r, UD_PROBE) == 0;
	sqe = io_uring_get_sqe(&r.ring);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, UD_NOP);
	sqe = io_uring_get_sqe(&r.ring);
	io_uring_prep_msg_ring(sqe, tring_fd(&r), MSG_LEN, UD_MESSAGE, 0);
	io_uring_sqe_set_data64(sqe, UD_MSG_RING);
	/* A refusal for memory leaves the rest queued: submit until all went. */
	while (io_uring_sq_ready(&r.ring) && !deadline_passed(&dl))
		if ((ret = io_uring_submit(&r.ring)) < 0 && !retryable(ret))
			return tc_fail(tc, "ring (%s) with allocation %u failing: submit: %s",
				       tc->prof->name, nth, strerror(-ret)), -1;
	/* NOP 0, MSG_RING 0 (then its message, once) or refused for memory. */
	while (!tc_failed(tc) && seen != (msg_ok ? 7u : 3u)) {
		struct io_uring_cqe *cqe;
		unsigned bit;

		if (wait_ready(&r, 1, &dl))
			return tc_hang(tc, NULL, &r, "with allocation %u failing: CQEs seen %#x, "
				       "want %#x", nth, seen, msg_ok ? 7u : 3u), -1;
		io_uring_peek_cqe(&r.ring, &cqe);
		/* The probe's read stays pending, unless refused for memory. */
		bit = cqe->user_data == UD_NOP ? 1 : cqe->user_data == UD_MSG_RING ? 2 :
		      cqe->user_data == UD_MESSAGE ? 4 :
		      cqe->user_data == UD_PROBE && retryable(cqe->res) ? 0 : 8;
		if (bit == 8 || seen & bit || (bit == 4 ? cqe->res != MSG_LEN :
					       cqe->res && !retryable(cqe->res)))
			tc_fail(tc, "ring (%s) with allocation %u failing: %s CQE ud %llu res %d",
				tc->prof->name, nth, seen & bit ? "second" : "unexpected",
				(unsigned long long)cqe->user_data, cqe->res);
		msg_ok |= bit == 2 && cqe->res == 0;
		seen |= bit;
		io_uring_cqe_seen(&r.ring, cqe);
	}
	io_uring_queue_exit(&r.ring);
	/* Still counting down: fewer than nth allocations in the whole life. */
	memset(buf, 0, sizeof(buf));
	if (pread(nth_fd, buf, sizeof(buf) - 1, 0) > 0 && atoi(buf) > 0) {
		pwrite(nth_fd, "0", 1, 0);
		return armed ? 2 : -2;
	}
	return armed;
}

static void setup_teardown(struct tcase *tc, double secs, struct rng *rng)
{
	struct teardown_probe probes[NTH_RINGS_MAX];
	struct deadline end = deadline_in((int64_t)(secs * NSEC_PER_SEC)), dl;
	unsigned nth = 1, rings = 0, armed = 0, refused = 0;
	char path[64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", gettid());
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0 || (ret = faults_arm(0)) < 0) {
		tc_fail(tc, "%s or arming the fault attributes: %s", path, strerror(fd < 0 ? errno : -ret));
		goto out;
	}
	for (; rings < NTH_RINGS_MAX && !tc_failed(tc) && (rings < 8 || !deadline_passed(&end));
	     rings++, nth += (unsigned)rng_range(rng, 1, NTH_STRIDE_MAX)) {
		if (probe_create(&probes[armed], "nth ring") < 0) {
			tc_fail(tc, "pipe: %s", strerror(errno));
			break;
		}
		ret = nth_ring(tc, &probes[armed], fd, nth);
		refused += ret == 0;
		probe_drop_reader(&probes[armed]);
		if (ret == 1 || ret == 2)
			armed++;
		else
			probe_close(&probes[armed]);
		if (ret == -1 || ret == 2 || ret == -2)
			break;	/* a failure, or every allocation of a ring's life was failed once */
	}
	/* Each armed ring is closed: every teardown must finish. */
	dl = tc_deadline(tc);
	for (unsigned i = 0; i < armed; i++) {
		if (!tc_failed(tc) && probe_wait(&probes[i], &dl)) {
			tc_hang(tc, NULL, NULL, "teardown of a ring set up with an allocation failing did "
				"not finish");
			diag_dump_uring_kthreads("#   ");
		}
		probe_close(&probes[i]);
	}
	/* The first allocation of io_uring_setup() is its context: failing it
	 * must fail the set-up, else fail-nth did nothing and nothing was tested. */
	if (!tc_failed(tc) && !refused)
		tc_fail(tc, "fail-nth had no effect: no io_uring_setup (%s) failed, not even with its "
			"first allocation failing", tc->prof->name);
	tc_info(tc, "set-up/teardown: %u rings, %u refused set-up, allocations 1..%u failed one at "
		"a time%s", rings, refused, nth, ret == 2 || ret == -2 ? " (all of a ring's life)" : "");
out:
	if (fd >= 0)
		close(fd);
	faults_restore(tc);
}

static enum verdict run(struct tcase *tc)
{
	const char *why = faults_missing(tc);
	struct rng rng;

	if (why)
		return tc_skip(tc, "%s", why);
	rng_seed(&rng, tc->seed, 0);
	fanin(tc, tc->duration / 2, &rng);
	if (!tc_failed(tc))
		setup_teardown(tc, tc->duration / 2, &rng);
	return tc_verdict(tc);
}

static const struct scenario fault_inject = {
	.name = "fault_inject",
	.summary = "MSG_RING fan-in and ring set-up/teardown with allocations failing (failslab, "
		   "fail_page_alloc, fail-nth): errors only, no lost CQE, no hang",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(MSG_RING),
	.seeded_faults = "  no-faults  the fan-in's fault attributes are armed with 0%: nothing fails\n",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &fault_inject);
}
