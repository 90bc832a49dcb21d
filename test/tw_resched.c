// SPDX-License-Identifier: MIT
/*
 * A long run of normal task_work that has to give the CPU away midway:
 * tctx_task_work_run() checks need_resched() after every entry and, when
 * it is set, flushes the completions gathered so far, drops the ring and
 * calls cond_resched() before it takes the next entry (io_uring/tw.c). The
 * suite's other tests never run task_work long enough for that (coverage:
 * that branch was never executed).
 *
 * A forked owner, pinned to one CPU together with a hog thread of its own,
 * arms hundreds to a few thousand one-shot POLL_ADDs on one eventfd per
 * round and stops itself (SIGSTOP: a stopped task runs no task_work, so
 * none of it runs piecemeal). The parent writes the eventfd once - every
 * poll queues its task_work - and sends SIGCONT: the owner runs the whole
 * batch on its way back to user space while its hog, runnable on the same
 * CPU, makes the scheduler set need_resched() in the middle. Every poll
 * must complete exactly once with POLLIN: none lost at the flush, none
 * posted twice after the ring was taken again. Only PREEMPT_NONE and
 * PREEMPT_VOLUNTARY kernels reach that flush: with lazy or full preemption
 * the tick preempts the owner first.
 */
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define MAX_POLLS	2048u
#define SUBMIT_BATCH	256u

/* Shared with the owner process (MAP_SHARED). */
struct shared {
	struct tw_counter go, armed, done;
	uint32_t polls;			/* this round's */
	bool stop;
	char err[256];			/* the owner's failure, if any */
};

struct rs {
	struct tcase *tc;
	struct shared *sh;
	struct ledger *led;		/* MAP_SHARED too */
	int efd;
	int cpu;			/* the owner's and its hog's, -1: any */
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

	pin(r->cpu);
	while (!__atomic_load_n(&r->sh->stop, __ATOMIC_ACQUIRE) && !deadline_passed(&dl))
		;
	return NULL;
}

/* The owner's rounds: arm, stop, and on resuming find every CQE posted. */
static int owner(void *arg)
{
	struct tring_opts o = { .sq_entries = SUBMIT_BATCH, .cq_entries = MAX_POLLS,
				.attach_wq_fd = -1 };
	struct rs *r = arg;
	struct shared *sh = r->sh;
	struct tring ring;
	struct tw_thread t;

	pin(r->cpu);
	if (tring_init(r->tc, &ring, "owner", r->tc->prof, &o) != V_PASS ||
	    tw_thread_start(r->tc, &t, "hog", 0, hog, r)) {
		snprintf(sh->err, sizeof(sh->err), "owner set-up failed");
		return 1;
	}
	for (uint32_t round = 1;; round++) {
		struct deadline dl = tc_deadline(r->tc);

		if (tw_counter_wait_ge(&sh->go, round, &dl) ||
		    __atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE))
			break;
		for (unsigned i = 0; i < sh->polls; i++) {
			struct io_uring_sqe *sqe = tring_sqe(&ring);

			io_uring_prep_poll_add(sqe, r->efd, POLLIN);
			io_uring_sqe_set_data64(sqe, ledger_ud(r->led, 0, 0, i));
			if ((i + 1) % SUBMIT_BATCH == 0 || i + 1 == sh->polls)
				io_uring_submit(&ring.ring);
		}
		tw_counter_add(&sh->armed, 1);
		raise(SIGSTOP);
		/* Back: the batch ran on the way here; wait in case it was
		 * not all queued when we resumed. */
		dl = tc_deadline(r->tc);
		if (tring_wait_ready(&ring, sh->polls, &dl)) {
			snprintf(sh->err, sizeof(sh->err), "round %u: %u of %u polls completed",
				 round, io_uring_cq_ready(&ring.ring), sh->polls);
			tw_counter_add(&sh->done, 1);
			break;
		}
		ledger_reap(r->led, &ring);
		tw_counter_add(&sh->done, 1);
	}
	__atomic_store_n(&sh->stop, true, __ATOMIC_RELEASE);
	tw_threads_join(r->tc, &t, 1, r->led, &ring);
	tring_exit(&ring);
	return harness_seeded("child-exit") ? 3 : 0;
}

static const char *check_res(uint64_t ud, int32_t res, uint32_t flags, void *arg)
{
	(void)ud;
	(void)flags;
	(void)arg;
	return res >= 0 && (res & POLLIN) ? NULL : "POLLIN";
}

/* One round from the parent's side: the eventfd write and the SIGCONT. */
static bool one_round(struct rs *r, struct child *c, struct rng *rng, uint32_t round)
{
	struct shared *sh = r->sh;
	struct deadline dl = tc_deadline(r->tc);
	uint64_t one = 1, count;

	sh->polls = (unsigned)rng_range(rng, MAX_POLLS / 4, MAX_POLLS);
	ledger_reset(r->led);
	ledger_sent(r->led, 0, 0, sh->polls);
	tw_counter_add(&sh->go, 1);
	if (tw_counter_wait_ge(&sh->armed, round, &dl)) {
		tc_hang(r->tc, r->led, NULL, "round %u: the owner never armed its polls", round);
		return false;
	}
	while (proc_task_state(c->pid) != 'T' && !deadline_passed(&dl))
		sched_yield();
	if (proc_task_state(c->pid) != 'T') {
		tc_hang(r->tc, NULL, NULL, "round %u: the owner %d never stopped", round, c->pid);
		return false;
	}
	if (write(r->efd, &one, sizeof(one)) != sizeof(one))
		tc_fail(r->tc, "eventfd write: %s", strerror(errno));
	kill(c->pid, SIGCONT);
	if (tw_counter_wait_ge(&sh->done, round, &dl)) {
		tc_hang(r->tc, r->led, NULL, "round %u: the owner did not reap %u polls", round,
			sh->polls);
		return false;
	}
	if (sh->err[0]) {
		tc_fail(r->tc, "lost CQE: %s", sh->err);
		return false;
	}
	ledger_verify(r->led);
	if (read(r->efd, &count, sizeof(count)) != sizeof(count))
		tc_fail(r->tc, "eventfd read: %s", strerror(errno));
	return !tc_failed(r->tc);
}

static enum verdict run(struct tcase *tc)
{
	struct rs r = { .tc = tc, .cpu = -1 };
	struct deadline end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC)), dl;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct tring probe;
	uint32_t round = 0;
	struct child c;
	struct rng rng;
	enum verdict v;
	char buf[64];
	int status;

	/* Set the profile up once here: a refusal is judged once (needs.c). */
	v = tring_init(tc, &probe, "probe", tc->prof, NULL);
	if (v != V_PASS)
		return v;
	tring_exit(&probe);
	r.sh = proc_shared_alloc(sizeof(*r.sh));
	r.led = ledger_new(tc, "polls", 1, 1, MAX_POLLS, 0);
	r.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!r.sh || !r.led || r.efd < 0)
		return tc_fail(tc, "set-up: %s", strerror(errno));
	ledger_set_check(r.led, check_res, NULL);
	rng_seed(&rng, tc->seed, 0);
	if (ncpu > 1)
		r.cpu = (int)rng_below(&rng, (uint64_t)ncpu);
	if (proc_spawn(&c, owner, &r))
		return tc_fail(tc, "fork: %s", strerror(errno));
	while (one_round(&r, &c, &rng, ++round) && !deadline_passed(&end))
		;
	__atomic_store_n(&r.sh->stop, true, __ATOMIC_RELEASE);
	tw_counter_add(&r.sh->go, 1);
	kill(c.pid, SIGCONT);
	dl = tc_deadline(tc);
	if (proc_reap(&c, &dl, &status)) {
		tc_hang(tc, NULL, NULL, "the owner %d did not exit", c.pid);
		proc_kill_reap(&c, &dl, &status);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		tc_fail(tc, "the owner %d ended with %s, want exit status 0%s%s", c.pid,
			proc_status_str(status, buf, sizeof(buf)), r.sh->err[0] ? ": " : "",
			r.sh->err);
	}
	tc_log(tc, "%u rounds", round);
	close(r.efd);
	ledger_free(r.led);
	munmap(r.sh, sizeof(*r.sh));
	return tc_verdict(tc);
}

static const struct scenario tw_resched = {
	.name = "tw_resched",
	.summary = "a long normal task_work run gives the CPU away midway (need_resched in "
		   "tctx_task_work_run): every completion posted once across the flush",
	.profiles = PROFILES_NORMAL_TW & ~PMASK(P_SQPOLL),
	.run = run,
	.seeded_faults = "  child-exit  the owner process exits 3 after its last round\n",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &tw_resched);
}
