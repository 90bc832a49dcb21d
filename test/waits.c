// SPDX-License-Identifier: MIT
/*
 * Waits: what io_uring_enter(GETEVENTS) promises, while completions arrive
 * as task_work (MSG_RING from an adder thread: local work on DEFER rings).
 * wakeup.c judges when a wait wakes; this test judges what it returns.
 * One step per round, each on the owner's ring, drained and ledger-checked:
 *  - timeout:   k < want messages arrive while the owner sleeps: the wait
 *               lasts its timeout, then returns 0 with all k posted (wait.c
 *               runs pending local work before returning) or -ETIME if none;
 *  - late:      min_wait (IORING_FEAT_MIN_TIMEOUT), one message after it
 *               expired: it ends the wait at once (cq_wait_nr reset to 1);
 *  - early:     one message before min_wait expires: the wait lasts until
 *               min_wait, then ends (not at the timeout);
 *  - signal:    a timer signals the owner while messages stream in: a wait
 *               returns -EINTR only with an empty CQ, never with its signal
 *               blocked by the wait's sigmask; nothing lost or duplicated;
 *  - foreign:   GETEVENTS from a thread that is not the submitter of a
 *               DEFER ring: -EEXIST at once (io_allowed_run_tw()).
 * Every min_wait step alternates between the plain EXT_ARG and a registered
 * wait region (IORING_REGISTER_MEM_REGION + IORING_ENTER_EXT_ARG_REG, 6.13+; compat.h).
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "lib/msgseq.h"
#include "lib/sigtimer.h"

#define REG_SLOT		1	/* a non-zero offset into the region */
#define MAX_K			8
#define STREAM			256	/* messages per signal step */

enum step { S_TIMEOUT, S_LATE, S_EARLY, S_SIGNAL, S_FOREIGN, S_COUNT };
static const char *const step_names[] = { "timeout", "late", "early", "signal", "foreign" };

struct waits {
	struct tcase *tc;
	struct tring ring;
	struct ledger *led;
	struct tw_reg_wait *region;	/* NULL: no registered wait region */
	bool minwait;			/* the min_wait steps run (6.12+) */
	int fd;
	/* The adder's job for this round, published with 'go'. */
	enum step step;
	uint32_t k;
	int64_t deliver_at;		/* 0: as soon as the owner sleeps */
	int64_t done_ns;		/* when the adder saw its sends complete */
	int foreign_err[3];		/* foreign: results of the three entries */
	struct tw_counter go, done;
	uint32_t batches_started, batches_done;	/* MSG_RING batches of the adder */
	pid_t owner_tid;
	bool stop;
};

static int enter(int fd, unsigned want, unsigned flags, const void *arg, size_t sz)
{
	return io_uring_enter2(fd, 0, want, IORING_ENTER_GETEVENTS | flags, (sigset_t *)arg, sz);
}

/* A wait with min_wait, through the registered region every other time. */
static int wait_min(struct waits *w, unsigned want, int64_t timeout, unsigned min_us, bool reg)
{
	struct tw_reg_wait *rw = w->region ? &w->region[REG_SLOT] : NULL;

	if (!reg || !rw)
		return tring_wait(&w->ring, want, timeout, min_us, NULL);
	rw->ts.tv_sec = timeout / NSEC_PER_SEC;
	rw->ts.tv_nsec = timeout % NSEC_PER_SEC;
	rw->min_wait_usec = min_us;
	rw->flags = TW_REG_WAIT_TS;
	return enter(w->fd, want, TW_ENTER_EXT_ARG_REG | IORING_ENTER_EXT_ARG,
		     (void *)(uintptr_t)(REG_SLOT * sizeof(*rw)), sizeof(*rw));
}

/* The non-submitter's three ways in: plain, EXT_ARG with a timeout, region. */
static void foreign_enter(struct waits *w)
{
	struct tw_getevents_arg arg = { .ts = (uintptr_t)&(struct __kernel_timespec){ 0, 1000000 } };
	/* Any other ring lets anyone wait: ask for nothing, so it returns. */
	unsigned want = w->ring.prof->props & PROF_LOCAL_TW ? 1 : 0;

	w->foreign_err[0] = enter(w->fd, want, 0, NULL, _NSIG / 8);
	w->foreign_err[1] = enter(w->fd, want, IORING_ENTER_EXT_ARG, &arg, sizeof(arg));
	w->foreign_err[2] = w->region ? enter(w->fd, want,
					      TW_ENTER_EXT_ARG_REG | IORING_ENTER_EXT_ARG,
					      (void *)(uintptr_t)(REG_SLOT * sizeof(*w->region)),
					      sizeof(*w->region)) : want ? -EEXIST : 0;
}

static void refused(void *arg, unsigned p, uint32_t seq, int32_t res)
{
	struct waits *w = arg;

	(void)p, (void)seq;
	tc_fail(w->tc, "adder: MSG_RING to the owner failed: %s", strerror(-res));
}

static void deliver(struct waits *w, struct tring *src, uint32_t seq0, uint32_t n)
{
	struct deadline dl = tc_deadline(w->tc);
	int ret;

	msgseq_prep(src, w->fd, w->led, 0, 0, seq0, n);
	ret = io_uring_submit(&src->ring);
	if (ret != (int)n)
		tc_fail(w->tc, "adder: submit of %u MSG_RING returned %d (%s)", n, ret,
			ret < 0 ? strerror(-ret) : "short");
	else
		msgseq_reap(w->tc, src, w->led, n, &dl, refused, w, "the adder's %u MSG_RING sends",
			    n);
}

static void do_job(struct waits *w, struct tring *src, struct rng *rng)
{
	struct deadline dl = tc_deadline(w->tc);

	if (w->step == S_FOREIGN) {
		foreign_enter(w);
		return;
	}
	if (w->deliver_at)
		sleep_until_ns(w->deliver_at);	/* timing under test, not synchronisation */
	for (uint32_t sent = 0; sent < w->k && !tc_failed(w->tc);) {
		uint32_t n = w->step == S_SIGNAL ? (uint32_t)rng_range(rng, 1, 16) : w->k;

		/* Bounded: our messages should have to wake a sleeper (and
		 * the signal step's sleeper be there for the timer to hit). */
		while (!w->deliver_at && proc_task_state(w->owner_tid) != 'S' &&
		       !deadline_passed(&dl))
			sched_yield();
		/* Jitter, not synchronisation: leave the timer time to hit it. */
		if (w->step == S_SIGNAL)
			sleep_until_ns(now_ns() + (int64_t)rng_below(rng, 400) * NSEC_PER_USEC);
		n = n > w->k - sent ? w->k - sent : n;
		__atomic_add_fetch(&w->batches_started, 1, __ATOMIC_SEQ_CST);
		deliver(w, src, sent, n);
		__atomic_add_fetch(&w->batches_done, 1, __ATOMIC_SEQ_CST);
		sent += n;
	}
	__atomic_store_n(&w->done_ns, now_ns(), __ATOMIC_RELEASE);
}

static void *adder(struct tw_thread *t)
{
	struct waits *w = t->arg;
	struct tring src;

	if (tring_init(w->tc, &src, "adder", &profiles[P_DEFAULT],
		       &(struct tring_opts){ .sq_entries = 32, .attach_wq_fd = -1 }) != V_PASS) {
		tc_fail(w->tc, "adder: cannot set up its ring");
		return NULL;
	}
	for (uint32_t round = 1;; round++) {
		struct deadline dl = tc_deadline(w->tc);

		if (tw_counter_wait_ge(&w->go, round, &dl)) {
			tc_hang(w->tc, w->led, NULL, "adder: owner never started round %u", round);
			break;
		}
		if (__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE))
			break;
		do_job(w, &src, &t->rng);
		tw_counter_add(&w->done, 1);
	}
	tring_exit(&src);
	return NULL;
}

/* Signal step: reap a stream of messages with waits the timer interrupts. */
static void signal_step(struct waits *w, struct rng *rng, timer_t timer)
{
	struct itimerspec its = { .it_value = { 0, 100000 } };
	sigset_t block;
	unsigned eintr = 0, masked = 0;

	its.it_interval.tv_nsec = (long)rng_range(rng, 50, 300) * 1000;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	timer_settime(timer, 0, &its, NULL);
	while (ledger_total_seen(w->led) < w->k && !tc_failed(w->tc)) {
		uint64_t left = w->k - ledger_total_seen(w->led);
		bool mask = rng_chance(rng, 30);
		uint32_t done = __atomic_load_n(&w->batches_done, __ATOMIC_SEQ_CST);
		uint32_t started = __atomic_load_n(&w->batches_started, __ATOMIC_SEQ_CST);
		int ret = tring_wait(&w->ring, (unsigned)rng_range(rng, 1, left < 24 ? left : 24),
				     w->tc->hang_ns / 10, 0, mask ? &block : NULL);
		unsigned ready = io_uring_cq_ready(&w->ring.ring);
		/* No batch in flight during the wait: the CQEs ready now were
		 * there before it. (A batch in flight may post after the kernel
		 * found the CQ empty: directly, or - 6.1's MSG_RING into a DEFER
		 * ring - from task_work run on the way back to userspace.) */
		bool still = done == started &&
			     __atomic_load_n(&w->batches_started, __ATOMIC_SEQ_CST) == started;

		if (ret == -EINTR && mask)
			tc_fail(w->tc, "signal: a wait whose sigmask blocks SIGUSR1 returned -EINTR");
		else if (ret == -EINTR && ready && still)
			tc_fail(w->tc, "signal: wait returned -EINTR with %u CQEs in the CQ, posted "
				"before it", ready);
		else if (ret < 0 && ret != -EINTR && ret != -ETIME)
			tc_fail(w->tc, "signal: io_uring_enter: %s", strerror(-ret));
		eintr += ret == -EINTR;
		masked += mask;
		ledger_reap(w->led, &w->ring);
	}
	its = (struct itimerspec){ 0 };
	timer_settime(timer, 0, &its, NULL);
	tc_log(w->tc, "signal: %u waits interrupted, %u masked", eintr, masked);
}

/* One wait, judged by its step. */
static void judge(struct waits *w, struct rng *rng, timer_t timer)
{
	struct tcase *tc = w->tc;
	const char *sn = step_names[w->step];
	int64_t slice = tc->hang_ns / 10, timeout = slice, t0 = now_ns(), el, done;
	unsigned want = w->k + (unsigned)rng_range(rng, 1, 4), min_us = 0, ready;
	bool reg = rng_chance(rng, 50);
	int ret;

	if (w->step == S_TIMEOUT)
		timeout = (int64_t)rng_range(rng, 20, 60) * NSEC_PER_MSEC;
	else if (w->step == S_LATE || w->step == S_EARLY)
		min_us = (unsigned)rng_range(rng, 10, 30) * 1000;
	w->deliver_at = w->step == S_LATE ? t0 + 2 * min_us * NSEC_PER_USEC : 0;
	tw_counter_add(&w->go, 1);
	if (w->step == S_SIGNAL)
		signal_step(w, rng, timer);
	if (w->step == S_SIGNAL || w->step == S_FOREIGN)
		return;
	ret = wait_min(w, want, timeout, min_us, reg);
	el = now_ns() - t0;
	ready = io_uring_cq_ready(&w->ring.ring);
	done = __atomic_load_n(&w->done_ns, __ATOMIC_ACQUIRE);
	if (ret < 0 && ret != -ETIME)
		tc_fail(tc, "%s wait%s for %u CQEs: io_uring_enter: %s", sn, reg ? " (region)" : "",
			want, strerror(-ret));
	else if (w->step == S_TIMEOUT && el < timeout)
		tc_fail(tc, "timeout: wait for %u CQEs (%u coming) returned %d after %.3f s, before "
			"its %.3f s timeout", want, w->k, ret, ns_to_s(el), ns_to_s(timeout));
	/* Delivered before the timeout fired: posted (or queued) before the
	 * kernel's last look at the CQ. */
	else if (w->step == S_TIMEOUT && done && done < t0 + timeout &&
		 (ready != w->k || ret != (w->k ? 0 : -ETIME)))
		tc_fail(tc, "timeout: wait for %u CQEs returned %d with %u CQEs posted; all %u were "
			"delivered %.3f s before it returned: expected %d with %u", want, ret, ready,
			w->k, ns_to_s(t0 + el - done), w->k ? 0 : -ETIME, w->k);
	else if (min_us && el < min_us * NSEC_PER_USEC)
		tc_fail(tc, "min_wait: %s wait%s for %u CQEs returned %d after %.3f s, before its "
			"min_wait of %u us", sn, reg ? " (region)" : "", want, ret, ns_to_s(el), min_us);
	/* Judged only if the message was in early enough (a starved adder is not a bug). */
	else if (min_us && el >= slice / 2 && done && done - t0 < slice / 4)
		tc_fail(tc, "min_wait: %s wait%s for %u CQEs with min_wait %u us: the completion %s "
			"min_wait (delivered at +%.3f s) did not end it; slept %.3f s (timeout %.3f s)",
			sn, reg ? " (region)" : "", want, min_us, w->step == S_LATE ? "after" : "before",
			ns_to_s(done - t0), ns_to_s(el), ns_to_s(slice));
}

static void round_trip(struct waits *w, struct rng *rng, uint32_t round, timer_t timer)
{
	struct deadline dl;
	bool local = w->ring.prof->props & PROF_LOCAL_TW;

	ledger_reset(w->led);
	/* Every step at least once per case, then at random. */
	w->step = round <= S_COUNT ? (enum step)(round - 1) : (enum step)rng_below(rng, S_COUNT);
	if (!w->minwait && (w->step == S_LATE || w->step == S_EARLY))
		w->step = S_TIMEOUT;
	w->k = w->step == S_SIGNAL ? STREAM : w->step == S_TIMEOUT ? (uint32_t)rng_below(rng,
		MAX_K) : w->step == S_FOREIGN ? 0 : 1;
	w->done_ns = 0;
	judge(w, rng, timer);
	dl = tc_deadline(w->tc);
	if (tw_counter_wait_ge(&w->done, round, &dl)) {
		tc_hang(w->tc, w->led, &w->ring, "round %u (%s): adder did not finish", round,
			step_names[w->step]);
		return;
	}
	for (int i = 0, want = local ? -EEXIST : 0; w->step == S_FOREIGN && i < 3; i++)
		if (w->foreign_err[i] != want)
			tc_fail(w->tc, "foreign: GETEVENTS (%s) from a thread that is not the submitter: "
				"%d (%s), expected %d", (const char *[]){ "plain", "EXT_ARG", "region" }[i],
				w->foreign_err[i], strerror(-w->foreign_err[i]), want);
	if (!tc_failed(w->tc))
		tring_await_ledger(w->tc, w->led, &w->ring,
				   w->k - (uint32_t)ledger_total_seen(w->led), &dl,
				   "the %u delivered messages of round %u (%s)", w->k, round,
				   step_names[w->step]);
	ledger_reap(w->led, &w->ring);
	ledger_verify(w->led);
}

/* Register a wait region on the still disabled ring: 0 or -errno. */
static int setup_region(struct waits *w)
{
	struct tw_region_desc rd = { .size = 4096, .flags = TW_MEM_REGION_TYPE_USER };
	struct tw_mem_region_reg mr = { .region_uptr = (uintptr_t)&rd,
					.flags = TW_MEM_REGION_REG_WAIT_ARG };
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -ENOMEM;
	rd.user_addr = (uintptr_t)p;
	if (syscall(__NR_io_uring_register, w->fd, TW_REGISTER_MEM_REGION, &mr, 1) < 0) {
		int err = -errno;

		munmap(p, 4096);
		return err;
	}
	w->region = p;
	return 0;
}

static enum verdict run(struct tcase *tc)
{
	struct waits w = { .tc = tc };
	struct deadline end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	struct tw_thread thread;
	uint32_t round = 0;
	struct rng rng;
	timer_t timer;
	enum verdict v;
	int ret;

	v = tring_init(tc, &w.ring, "owner", tc->prof, &(struct tring_opts){ .sq_entries = 64,
		       .cq_entries = 2 * STREAM, .extra_flags = IORING_SETUP_R_DISABLED,
		       .attach_wq_fd = -1 });
	if (v != V_PASS)
		return v;
	w.fd = tring_fd(&w.ring);
	/* Sub-checks a kernel may predate: skipped parts there; on a newer
	 * kernel a refusal fails the case (the harness probed MIN_TIMEOUT). */
	if (!tc_part_predated(tc, NEED_REG_WAIT, "registered wait region") &&
	    (ret = setup_region(&w)) &&
	    tc_refused_part(tc, NEED_REG_WAIT, ret, "registered wait region") == V_FAIL)
		return tc_verdict(tc);
	ret = tring_enable(&w.ring);
	if (ret)
		return tc_fail(tc, "IORING_REGISTER_ENABLE_RINGS: %s", strerror(-ret));
	w.minwait = !tc_part_predated(tc, NEED_MIN_TIMEOUT, "min_wait steps (late, early)");
	w.led = ledger_new(tc, "waits", 1, 1, STREAM, LEDGER_FIFO);
	if (!w.led)
		return tc_fail(tc, "out of memory");
	w.owner_tid = gettid();
	if (sigtimer_create(&timer, SIGUSR1))
		return tc_fail(tc, "timer_create: %s", strerror(errno));
	rng_seed(&rng, tc->seed, 0);
	if (tw_thread_start(tc, &thread, "adder", 1, adder, &w))
		return tc_fail(tc, "pthread_create failed");
	do
		round_trip(&w, &rng, ++round, timer);
	while (!tc_failed(tc) && !deadline_passed(&end));
	if (tc_failed(tc))
		return tc_verdict(tc);
	__atomic_store_n(&w.stop, true, __ATOMIC_RELEASE);
	tw_counter_add(&w.go, 1);
	tw_threads_join(tc, &thread, 1, w.led, &w.ring);
	tc_log(tc, "%u rounds", round);
	timer_delete(timer);
	tring_exit(&w.ring);
	ledger_free(w.led);
	return tc_verdict(tc);
}

static const struct scenario waits = {
	.name = "waits",
	.summary = "GETEVENTS with timeouts, min_wait (plain and registered region), signals and "
		   "from a non-submitter: right result, right time, no CQE lost or duplicated",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(MSG_RING),
	.part_needs = NEED(MIN_TIMEOUT) | NEED(REG_WAIT),
	.min_threads = 1,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &waits);
}
