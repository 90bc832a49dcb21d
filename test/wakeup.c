// SPDX-License-Identifier: MIT
/*
 * Wake-ups: one waiter owns the ring and waits for N CQEs; adder threads
 * deliver a planned number of completions per round through the lazy path
 * (MSG_RING: on DEFER_TASKRUN rings each one counts ctx->cq_wait_nr down)
 * and the non-lazy path (linked READ->NOP pairs armed by the waiter and
 * completed by the adders' pipe writes: linked requests always wake).
 * Every round drains, and the ledger checks every CQE. Per round, one of:
 *  - enough:  N <= delivered; the wait (with a timeout, or none at all)
 *             must return with N CQEs and never sleep past them;
 *  - short:   N > delivered, with a short timeout: the wait must not
 *             return before the timeout;
 *  - minwait: N > delivered with min_wait (IORING_FEAT_MIN_TIMEOUT) and a
 *             long timeout, one completion arriving after min_wait
 *             expired: it must end the wait at once (wait.c resets the
 *             wake-up count when min_wait expires).
 * Adders deliver while the waiter is asleep in the kernel, or racing it.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "lib/msgseq.h"
#include "lib/sigtimer.h"
#include "wait_check.h"

#define MAX_MSGS	8	/* lazy completions per adder and round */
#define MAX_WRITES	2	/* linked pairs per adder and round */
#define CH_MSG		0
#define CH_READ(j)	(1 + (j))
#define CH_NOP(j)	(1 + MAX_WRITES + (j))
#define NCHANNELS	(1 + 2 * MAX_WRITES)

enum mode { M_ENOUGH, M_ENOUGH_NO_TIMEOUT, M_SHORT, M_MINWAIT, M_COUNT };

static const char *const mode_names[M_COUNT] = {
	"enough", "enough-no-timeout", "short", "minwait",
};

struct plan {
	uint32_t msgs, writes;
};

struct wake {
	struct tcase *tc;
	struct tring ring;
	struct ledger *led;
	unsigned adders;
	struct plan *plan;		/* per adder, this round */
	int (*pipes)[2];		/* per adder: the waiter reads, the adder writes */
	uint64_t (*rbuf)[MAX_WRITES];
	struct tw_counter go;		/* round number published by the waiter */
	struct tw_counter delivered;	/* adders done with their round's plan */
	bool stop, wait_asleep;
	int64_t deliver_at;		/* minwait: when adders deliver */
	pid_t waiter_tid;
};

static void refused(void *arg, unsigned p, uint32_t seq, int32_t res)
{
	struct wake *w = arg;

	(void)seq;
	tc_fail(w->tc, "adder %u: MSG_RING to the waiter failed: %s", p, strerror(-res));
}

static void deliver(struct wake *w, struct tw_thread *t, struct tring *src)
{
	struct plan *pl = &w->plan[t->idx];
	struct deadline dl = tc_deadline(w->tc);
	int ret;

	if (w->deliver_at)
		sleep_until_ns(w->deliver_at);
	/* Give the waiter the chance to be asleep in io_cqring_wait(), so
	 * that our completions have to wake it. Bounded: then we race it. */
	while (w->wait_asleep && proc_task_state(w->waiter_tid) != 'S' && !deadline_passed(&dl))
		sched_yield();
	msgseq_prep(src, tring_fd(&w->ring), w->led, t->idx, CH_MSG, 0, pl->msgs);
	ret = pl->msgs ? io_uring_submit(&src->ring) : 0;
	if (ret != (int)pl->msgs)
		tc_fail(w->tc, "adder %u: submit of %u MSG_RING returned %d (%s)", t->idx, pl->msgs,
			ret, ret < 0 ? strerror(-ret) : "short");
	for (uint32_t j = 0; j < pl->writes; j++) {
		uint64_t v = j;

		if (write(w->pipes[t->idx][1], &v, sizeof(v)) != sizeof(v))
			tc_fail(w->tc, "adder %u: pipe write: %s", t->idx, strerror(errno));
	}
	/* A failed submit is judged: nothing to wait for then. */
	if (pl->msgs && ret == (int)pl->msgs)
		msgseq_reap(w->tc, src, w->led, pl->msgs, &dl, refused, w,
			    "adder %u's %u MSG_RING sends", t->idx, pl->msgs);
}

static void *adder(struct tw_thread *t)
{
	struct wake *w = t->arg;
	struct tring src;

	if (tring_init(w->tc, &src, "adder", &profiles[P_DEFAULT], NULL) != V_PASS) {
		tc_fail(w->tc, "adder %u: cannot set up its ring", t->idx);
		return NULL;
	}
	for (uint32_t round = 1;; round++) {
		struct deadline dl = tc_deadline(w->tc);

		if (tw_counter_wait_ge(&w->go, round, &dl)) {
			tc_hang(w->tc, w->led, NULL, "adder %u: waiter never started round %u", t->idx,
				round);
			break;
		}
		if (__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE))
			break;
		deliver(w, t, &src);
		tw_counter_add(&w->delivered, 1);
	}
	tring_exit(&src);
	return NULL;
}

/* Linked READ->NOP pairs: the READ is woken by a pipe write, and being
 * linked, its task_work is queued without the lazy-wake count. */
static void arm_pairs(struct wake *w)
{
	for (unsigned a = 0; a < w->adders; a++)
		for (uint32_t j = 0; j < w->plan[a].writes; j++) {
			struct io_uring_sqe *sqe = tring_sqe(&w->ring);

			io_uring_prep_read(sqe, w->pipes[a][0], &w->rbuf[a][j], 8, 0);
			io_uring_sqe_set_data64(sqe, ledger_ud(w->led, a, CH_READ(j), 0));
			sqe->flags |= IOSQE_IO_LINK;
			sqe = tring_sqe(&w->ring);
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data64(sqe, ledger_ud(w->led, a, CH_NOP(j), 0));
			ledger_sent(w->led, a, CH_READ(j), 1);
			ledger_sent(w->led, a, CH_NOP(j), 1);
		}
	io_uring_submit(&w->ring.ring);
}

static const char *check_res(uint64_t ud, int32_t res, uint32_t flags, void *arg)
{
	unsigned a, c;
	uint32_t seq;

	(void)flags;
	(void)arg;
	ledger_decode(ud, &a, &c, &seq);
	if (c == CH_MSG)
		return res == (int32_t)seq ? NULL : "MSG_RING payload";
	if (c <= MAX_WRITES)
		return res == 8 ? NULL : "linked READ did not read 8 bytes";
	return res == 0 ? NULL : "linked NOP failed";
}

/* A wait without any timeout, bounded by a signal at the hang deadline. */
static int wait_no_timeout(struct wake *w, unsigned want, timer_t timer)
{
	struct itimerspec its = { .it_value = ns_to_timespec(w->tc->hang_ns) };
	int ret;

	timer_settime(timer, 0, &its, NULL);
	ret = tring_wait(&w->ring, want, -1, 0, NULL);
	its.it_value = (struct timespec){ 0 };
	timer_settime(timer, 0, &its, NULL);
	return ret;
}

/* One round's wait, judged by its mode. E CQEs are being delivered. */
static void judge_wait(struct wake *w, enum mode m, unsigned e, struct rng *rng, timer_t timer)
{
	struct tcase *tc = w->tc;
	int64_t slice = tc->hang_ns / 10, t0 = now_ns(), elapsed;
	unsigned want, minwait_us = 0;
	int64_t timeout = slice;
	int ret;

	if (m == M_ENOUGH || m == M_ENOUGH_NO_TIMEOUT) {
		want = (unsigned)rng_range(rng, 1, e);
	} else {
		want = e + (unsigned)rng_range(rng, 1, 4);
		if (m == M_SHORT)
			timeout = (int64_t)rng_range(rng, 2, 20) * NSEC_PER_MSEC;
		else
			minwait_us = (unsigned)rng_range(rng, 5, 15) * 1000;
	}
	if (m == M_MINWAIT)
		w->deliver_at = t0 + 2 * minwait_us * NSEC_PER_USEC;
	tw_counter_add(&w->go, 1);
	if (m == M_ENOUGH_NO_TIMEOUT)
		ret = wait_no_timeout(w, want, timer);
	else
		ret = tring_wait(&w->ring, want, timeout, minwait_us, NULL);
	elapsed = now_ns() - t0;
	if (ret < 0 && ret != -ETIME && !(ret == -EINTR && m == M_ENOUGH_NO_TIMEOUT)) {
		tc_fail(tc, "%s wait for %u CQEs: io_uring_enter: %s", mode_names[m], want,
			strerror(-ret));
		return;
	}
	switch (m) {
	case M_ENOUGH_NO_TIMEOUT:
		if (ret == -EINTR)
			tc_hang(tc, w->led, &w->ring, "wait without timeout for %u of %u delivered CQEs "
				"never returned", want, e);
		/* fall through */
	case M_ENOUGH:
		if (!tc_failed(tc) && elapsed >= timeout)
			tc_fail(tc, "lost wake-up: wait for %u CQEs slept %.3f s to its timeout while %u "
				"were being delivered (%u ready after)", want, ns_to_s(elapsed), e,
				io_uring_cq_ready(&w->ring.ring));
		else if (!tc_failed(tc) && io_uring_cq_ready(&w->ring.ring) < want)
			tc_fail(tc, "early wake-up: wait for %u CQEs returned %d after %.3f s with %u "
				"ready", want, ret, ns_to_s(elapsed), io_uring_cq_ready(&w->ring.ring));
		break;
	case M_SHORT:
		if (elapsed < timeout)
			tc_fail(tc, "early wake-up: wait for %u CQEs (only %u coming) returned %d after "
				"%.3f s, before its %.3f s timeout", want, e, ret, ns_to_s(elapsed),
				ns_to_s(timeout));
		break;
	case M_MINWAIT:
		if (elapsed >= slice / 2)
			tc_fail(tc, "min_wait: wait for %u CQEs with min_wait %u us: a completion after "
				"min_wait expired did not end it; slept %.3f s (timeout %.3f s)", want,
				minwait_us, ns_to_s(elapsed), ns_to_s(slice));
		else if (elapsed < minwait_us * NSEC_PER_USEC)
			tc_fail(tc, "min_wait: wait for %u CQEs returned after %.3f s, before its "
				"min_wait of %u us", want, ns_to_s(elapsed), minwait_us);
		break;
	default:
		break;
	}
}

static unsigned plan_round(struct wake *w, struct rng *rng, enum mode m)
{
	unsigned e = 0;

	for (unsigned a = 0; a < w->adders; a++) {
		w->plan[a].msgs = (uint32_t)rng_below(rng, MAX_MSGS + 1);
		w->plan[a].writes = (uint32_t)rng_below(rng, MAX_WRITES + 1);
		if (m == M_MINWAIT) {
			/* One completion, after min_wait: the case being judged. */
			w->plan[a].msgs = a == 0 && rng_chance(rng, 75);
			w->plan[a].writes = a == 0 && !w->plan[a].msgs;
		}
		e += w->plan[a].msgs + 2 * w->plan[a].writes;
	}
	if (!e) {
		w->plan[0].msgs = 1;
		e = 1;
	}
	return e;
}

static void round_trip(struct wake *w, struct rng *rng, uint32_t round, timer_t timer)
{
	enum mode m = (enum mode)rng_below(rng, M_COUNT);
	struct deadline dl;
	unsigned e;

	if (m == M_MINWAIT && !(kernel_features() & IORING_FEAT_MIN_TIMEOUT))
		m = M_ENOUGH;
	ledger_reset(w->led);
	e = plan_round(w, rng, m);
	w->wait_asleep = m != M_MINWAIT && rng_chance(rng, 50);
	w->deliver_at = 0;
	arm_pairs(w);
	judge_wait(w, m, e, rng, timer);
	dl = tc_deadline(w->tc);
	if (tw_counter_wait_ge(&w->delivered, round * w->adders, &dl)) {
		tc_hang(w->tc, w->led, &w->ring, "round %u: adders did not deliver", round);
		return;
	}
	if (!tc_failed(w->tc))
		tring_await_ledger(w->tc, w->led, &w->ring, e, &dl,
				   "the %u delivered CQEs of round %u (%s)", e, round, mode_names[m]);
	ledger_reap(w->led, &w->ring);
	ledger_verify(w->led);
}

static enum verdict run(struct tcase *tc)
{
	struct wake w = { .tc = tc, .adders = tc->threads };
	struct tw_thread *threads = calloc(w.adders, sizeof(*threads));
	struct deadline end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	uint32_t round = 0;
	struct rng rng;
	timer_t timer;
	enum verdict v;

	v = tring_init(tc, &w.ring, "waiter", tc->prof, &(struct tring_opts){ .sq_entries = 256,
		       .attach_wq_fd = -1 });
	if (v != V_PASS)
		return v;
	w.plan = calloc(w.adders, sizeof(*w.plan));
	w.pipes = calloc(w.adders, sizeof(*w.pipes));
	w.rbuf = calloc(w.adders, sizeof(*w.rbuf));
	w.led = ledger_new(tc, "wakeup", w.adders, NCHANNELS, MAX_MSGS + 1, LEDGER_FIFO);
	if (!threads || !w.plan || !w.pipes || !w.rbuf || !w.led)
		return tc_fail(tc, "out of memory");
	ledger_set_check(w.led, check_res, NULL);
	w.waiter_tid = gettid();
	if (sigtimer_create(&timer, SIGUSR1))
		return tc_fail(tc, "timer_create: %s", strerror(errno));
	rng_seed(&rng, tc->seed, 0);
	for (unsigned a = 0; a < w.adders; a++) {
		char name[16];

		if (pipe(w.pipes[a]))
			return tc_fail(tc, "pipe: %s", strerror(errno));
		snprintf(name, sizeof(name), "adder%u", a % 1000);
		if (tw_thread_start(tc, &threads[a], name, a, adder, &w))
			return tc_fail(tc, "pthread_create failed");
	}
	do
		round_trip(&w, &rng, ++round, timer);
	while (!tc_failed(tc) && !deadline_passed(&end));
	if (tc_failed(tc))
		return tc_verdict(tc);
	__atomic_store_n(&w.stop, true, __ATOMIC_RELEASE);
	tw_counter_add(&w.go, 1);
	tw_threads_join(tc, threads, w.adders, w.led, &w.ring);
	wait_check_overflow(tc, &w.ring);
	tc_log(tc, "%u rounds", round);
	timer_delete(timer);
	tring_exit(&w.ring);
	for (unsigned a = 0; a < w.adders; a++) {
		close(w.pipes[a][0]);
		close(w.pipes[a][1]);
	}
	free(threads);
	free(w.plan);
	free(w.pipes);
	free(w.rbuf);
	ledger_free(w.led);
	return tc_verdict(tc);
}

static const struct scenario wakeup = {
	.name = "wakeup",
	.summary = "waiters for N CQEs, fed through lazy and linked paths: return once N are "
		   "there, never early, never past available work; min_wait ends on one CQE",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(MSG_RING),
	.min_threads = 4,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &wakeup);
}
