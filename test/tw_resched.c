// SPDX-License-Identifier: MIT
/*
 * A long run of normal task_work that has to give the CPU away midway:
 * tctx_task_work_run() checks need_resched() after every entry and, when
 * it is set, flushes the completions gathered so far, drops the ring and
 * calls cond_resched() before it takes the next entry (io_uring/tw.c). The
 * suite's other tests never run task_work long enough for that (coverage:
 * tw.c's need_resched() branch was never executed).
 *
 * Per round: the owner, pinned to one CPU that a hog thread also spins on,
 * arms hundreds to a few thousand one-shot POLL_ADDs on one eventfd; a
 * writer on another CPU writes the eventfd once, so every poll queues its
 * task_work at once, to the owner; the owner runs them all in one go on its
 * way back to user space (or in its wait), and the hog's pending turn sets
 * need_resched() in the middle. Every poll must complete exactly once with
 * POLLIN, none lost at the flush, none twice after the ring was re-taken.
 */
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "harness.h"

#define MAX_POLLS	2048u
#define SUBMIT_BATCH	256u

struct rs {
	struct tcase *tc;
	struct tring ring;
	struct ledger *led;
	int efd;
	int owner_cpu, other_cpu;
	struct tw_counter armed, written;
	bool stop;
};

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);	/* best effort: cpusets may refuse */
}

/* Spins on the owner's CPU, so that the scheduler wants that CPU back
 * while the owner runs its task_work. */
static void *hog(struct tw_thread *t)
{
	struct rs *r = t->arg;
	struct deadline dl = tc_deadline(r->tc);

	pin(r->owner_cpu);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE) && !deadline_passed(&dl))
		;
	return NULL;
}

/* One eventfd write per round: the wake-up queues every armed poll's
 * task_work from this CPU. */
static void *writer(struct tw_thread *t)
{
	struct rs *r = t->arg;
	uint64_t one = 1;

	pin(r->other_cpu);
	for (uint32_t round = 1;; round++) {
		struct deadline dl = tc_deadline(r->tc);

		if (tw_counter_wait_ge(&r->armed, round, &dl) ||
		    __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
			break;
		if (write(r->efd, &one, sizeof(one)) != sizeof(one))
			tc_fail(r->tc, "writer: eventfd write: %s", strerror(errno));
		tw_counter_add(&r->written, 1);
	}
	return NULL;
}

static const char *check_res(uint64_t ud, int32_t res, uint32_t flags, void *arg)
{
	(void)ud;
	(void)flags;
	(void)arg;
	return res >= 0 && (res & POLLIN) ? NULL : "POLLIN";
}

static void one_round(struct rs *r, struct rng *rng, uint32_t round)
{
	unsigned n = (unsigned)rng_range(rng, MAX_POLLS / 4, MAX_POLLS);
	struct deadline dl;
	uint64_t count;

	ledger_reset(r->led);
	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = tring_sqe(&r->ring);

		io_uring_prep_poll_add(sqe, r->efd, POLLIN);
		io_uring_sqe_set_data64(sqe, ledger_ud(r->led, 0, 0, i));
		ledger_sent(r->led, 0, 0, 1);
		if ((i + 1) % SUBMIT_BATCH == 0 || i + 1 == n)
			io_uring_submit(&r->ring.ring);
	}
	tw_counter_add(&r->armed, 1);
	dl = tc_deadline(r->tc);
	if (tw_counter_wait_ge(&r->written, round, &dl)) {
		tc_hang(r->tc, r->led, &r->ring, "round %u: the writer did not write", round);
		return;
	}
	if (tring_wait_ready(&r->ring, n, &dl)) {
		tc_hang(r->tc, r->led, &r->ring, "round %u: %u polls fired by one eventfd write",
			round, n);
		return;
	}
	ledger_reap(r->led, &r->ring);
	ledger_verify(r->led);
	if (read(r->efd, &count, sizeof(count)) != sizeof(count))
		tc_fail(r->tc, "eventfd read: %s", strerror(errno));
	tc_log(r->tc, "round %u: %u polls", round, n);
}

static enum verdict run(struct tcase *tc)
{
	struct tring_opts o = { .sq_entries = SUBMIT_BATCH, .cq_entries = MAX_POLLS,
				.attach_wq_fd = -1 };
	struct rs r = { .tc = tc, .owner_cpu = -1, .other_cpu = -1 };
	struct deadline end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct tw_thread t[2];
	uint32_t round = 0;
	struct rng rng;
	enum verdict v;

	v = tring_init(tc, &r.ring, "owner", tc->prof, &o);
	if (v != V_PASS)
		return v;
	r.led = ledger_new(tc, "polls", 1, 1, MAX_POLLS, 0);
	r.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!r.led || r.efd < 0)
		return tc_fail(tc, "set-up: %s", strerror(errno));
	ledger_set_check(r.led, check_res, NULL);
	rng_seed(&rng, tc->seed, 0);
	if (ncpu > 1) {
		r.owner_cpu = (int)rng_below(&rng, (uint64_t)ncpu);
		r.other_cpu = (r.owner_cpu + 1) % (int)ncpu;
	}
	pin(r.owner_cpu);
	if (tw_thread_start(tc, &t[0], "hog", 0, hog, &r) ||
	    tw_thread_start(tc, &t[1], "writer", 1, writer, &r))
		return tc_fail(tc, "pthread_create failed");
	do
		one_round(&r, &rng, ++round);
	while (!tc_failed(tc) && !deadline_passed(&end));
	__atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
	tw_counter_add(&r.armed, 1);
	tw_threads_join(tc, t, 2, r.led, &r.ring);
	tc_log(tc, "%u rounds", round);
	tring_exit(&r.ring);
	close(r.efd);
	ledger_free(r.led);
	return tc_verdict(tc);
}

static const struct scenario tw_resched = {
	.name = "tw_resched",
	.summary = "a long normal task_work run gives the CPU away midway (need_resched in "
		   "tctx_task_work_run): every completion posted once across the flush",
	.profiles = PROFILES_NORMAL_TW & ~PMASK(P_SQPOLL),
	.run = run,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &tw_resched);
}
