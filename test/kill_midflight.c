// SPDX-License-Identifier: MIT
/*
 * Kill mid-flight: child processes (test/lib/kill_kid.c), each with one ring
 * per thread in the case's profile plus one ring of another taskrun mode,
 * keep a request mix in flight (test/lib/load.h: MSG_RING between their
 * rings, polls and reads fed by a writer thread, timeouts, io-wq requests,
 * links, and a pending set only teardown ends). The parent SIGKILLs them at seeded random points,
 * some still in set-up. A kill drives do_exit -> io_uring_files_cancel
 * (io_uring_cancel_generic: each thread cancels its requests, io-wq exits)
 * -> exit_files -> io_uring_release -> io_ring_ctx_wait_and_kill ->
 * io_ring_exit_work (io_uring_try_cancel_requests, local work cancelled in
 * place on DEFER rings, CQ overflow killed, SQPOLL parked) -> ctx freed.
 * Checks:
 *  - each child is reaped within the hang deadline (else: its threads' stacks);
 *  - the teardown of every one of its rings finishes within the deadline
 *    (teardown probes; else: io_uring kthreads and workers system-wide);
 *  - while the child lives, every CQE has a result its request may have.
 * Race widening (src/race/fuzzy.h): ring thread 0 of each child keeps doing a
 * racy step - a submit of the mix (io_uring_enter -> io_submit_sqes), or
 * the close of a scratch ring with requests pending (io_uring_release ->
 * io_ring_ctx_wait_and_kill) - and for half the children the SIGKILL is
 * fuzzy-synchronised with that step: placed at a seeded point of the window
 * from just before the step to its end, instead of wherever the delay falls.
 * -v counts how many kills landed inside the step, fuzzed and not.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "harness.h"
#include "lib/kill_kid.h"

#define KIDS_MAX		3
#define KILL_DELAY_MAX_US	20000	/* after the child is loaded */
#define SETUP_KILL_MAX_US	4000	/* after fork, for kills during set-up */
#define SETUP_KILL_PCT		25
#define FUZZY_KILL_PCT		50	/* of the kills after set-up */

static const char *const step_names[STEPS] = { "submit", "scratch-ring close" };

/* Calibrate with SIGCONT - ignored, but like SIGKILL it visits every thread
 * (prepare_signal()) - then SIGKILL, its end (the signal is set) at the
 * seeded point of ring thread 0's step. */
static void kid_kill_fuzzy(struct tcase *tc, struct kid *k)
{
	struct fuzzy *f = &k->sh->race;
	struct deadline dl = tc_deadline(tc), slice;
	cpu_set_t saved;
	int ret;

	fuzzy_pin(FUZZY_B, &saved);
	for (unsigned i = 0;; i++) {
		/* In slices: a child that failed is not waited for. */
		do {
			slice = deadline_in(10 * NSEC_PER_MSEC);
			if (tc_failed(tc))
				goto plain;
			if (deadline_passed(&dl)) {
				tc_hang(tc, NULL, NULL, "child %d: ring thread 0 stopped coming to the "
					"race with the kill (attempt %u)", k->proc.pid, i);
				goto plain;
			}
		} while ((ret = fuzzy_start(f, FUZZY_B, &slice)) == -ETIMEDOUT);
		/* -ECANCELED: ring thread 0 left its loop (the child's life ended). */
		if (ret || fuzzy_racing(f))
			break;
		kill(k->proc.pid, SIGCONT);
		while ((ret = fuzzy_end(f, FUZZY_B, &slice)) == -ETIMEDOUT && !deadline_passed(&dl))
			slice = deadline_in(10 * NSEC_PER_MSEC);
		if (ret)
			break;
	}
plain:
	kill(k->proc.pid, SIGKILL);
	fuzzy_unpin(&saved);
}

/* Wait for "loaded" (or the kill time in set-up), then SIGKILL. */
static int kid_kill(struct tcase *tc, struct kid *k, int64_t spawned)
{
	struct deadline dl = tc_deadline(tc);
	struct pollfd pfd = { .fd = k->proc.pidfd, .events = POLLIN };
	int64_t base = spawned;

	if (!k->setup_kill) {
		while (!tw_event_is_set(&k->sh->loaded)) {
			struct deadline slice = deadline_in(10 * NSEC_PER_MSEC);

			/* A child that died on its own is not waited for. */
			if (tw_event_wait(&k->sh->loaded, &slice) && poll(&pfd, 1, 0) > 0)
				break;
			if (deadline_passed(&dl)) {
				tc_hang(tc, NULL, NULL, "child %d: rings not set up and busy",
					k->proc.pid);
				diag_dump_tasks(k->proc.pid, "#   ");
				kill(k->proc.pid, SIGKILL);
				return -1;
			}
		}
		base = now_ns();
	}
	if (k->fuzzy) {
		int64_t lo, hi;

		kid_kill_fuzzy(tc, k);
		fuzzy_window(&k->sh->race, &lo, &hi);
		tc_log(tc, "child %d: SIGKILL fuzzy-synchronised with a %s, at %.2f of the window "
		       "[%.1f, %.1f] us", k->proc.pid, step_names[k->step],
		       fuzzy_position(&k->sh->race), (double)lo / 1000, (double)hi / 1000);
		return 0;
	}
	sleep_until_ns(base + k->kill_delay_ns);
	k->in_setup = !tw_event_is_set(&k->sh->loaded);
	kill(k->proc.pid, SIGKILL);
	tc_log(tc, "child %d: SIGKILL %.3f ms after %s%s", k->proc.pid,
	       (double)(now_ns() - base) / NSEC_PER_MSEC, k->setup_kill ? "fork" : "it was loaded",
	       k->in_setup ? ", still in set-up" : "");
	return 0;
}

/* Reaped within the deadline, killed by our signal, every ring torn down. */
static int kid_verify(struct tcase *tc, struct kid *k)
{
	struct deadline dl = tc_deadline(tc);
	int64_t t0 = now_ns();
	char buf[80];
	int status;

	if (proc_reap(&k->proc, &dl, &status) == -ETIMEDOUT) {
		tc_hang(tc, NULL, NULL, "child %d not reaped after SIGKILL", k->proc.pid);
		diag_dump_tasks(k->proc.pid, "#   ");
		diag_dump_uring_kthreads("#   ");
		return -1;
	}
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		if (!tc_failed(tc))
			tc_fail(tc, "child %d: expected death by SIGKILL, got %s", k->proc.pid,
				proc_status_str(status, buf, sizeof(buf)));
		return -1;
	}
	/* The markers around ring thread 0's step: did the kill land inside? */
	k->landed = k->sh->steps_begun != k->sh->steps_done ? LANDED_INSIDE :
		    k->fuzzy && k->sh->steps_begun <= k->sh->race.calibrate ? LANDED_BEFORE :
		    LANDED_AFTER;
	if (k->fuzzy)
		tc_log(tc, "child %d: the kill landed %s the %s, %.1f us after its start", k->proc.pid,
		       k->landed == LANDED_INSIDE ? "inside" :
		       k->landed == LANDED_BEFORE ? "before" : "after", step_names[k->step],
		       (double)fuzzy_offset_seen(&k->sh->race) / 1000);
	for (unsigned i = 0; i < k->nrings; i++) {
		if (probe_wait(&k->probe[i], &dl) == -ETIMEDOUT) {
			tc_hang(tc, NULL, NULL, "teardown of ring %s of killed child %d did not finish",
				k->probe[i].what, k->proc.pid);
			diag_dump_uring_kthreads("#   ");
			return -1;
		}
	}
	tc_log(tc, "child %d: %llu CQEs before the kill; reaped, %u rings torn down in %.1f ms",
	       k->proc.pid, (unsigned long long)__atomic_load_n(&k->sh->cqes, __ATOMIC_RELAXED),
	       k->nrings, (double)(now_ns() - t0) / NSEC_PER_MSEC);
	return 0;
}

static enum verdict run(struct tcase *tc)
{
	unsigned nthreads = tc->threads < 2 ? 2 : tc->threads > KID_RING_THREADS_MAX ?
			    KID_RING_THREADS_MAX : tc->threads;
	const struct profile *mix;
	struct kid_shared *sh;
	struct kid kids[KIDS_MAX];
	struct deadline run_end;
	unsigned rounds = 0, kills = 0, setup_kills = 0;
	unsigned raced[2] = { 0 }, inside[2] = { 0 };	/* [fuzzy] */
	struct tring r;
	struct rng rng;
	enum verdict v;
	bool msg_ring;

	/* A refused profile is judged here (needs.c), not in every child. */
	v = tring_init(tc, &r, "precheck", tc->prof, NULL);
	if (v != V_PASS)
		return v;
	tring_exit(&r);
	mix = kid_pick_mix(tc->prof);
	/* MSG_RING between a kid's rings: a part a kernel before 5.18 lacks. */
	msg_ring = !tc_part_predated(tc, NEED_MSG_RING, "MSG_RING between a kid's rings");
	sh = proc_shared_alloc(sizeof(*sh) * KIDS_MAX);
	if (!sh)
		return tc_fail(tc, "mmap: %s", strerror(errno));
	rng_seed(&rng, tc->seed, 0);
	run_end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	do {
		unsigned nkids = (unsigned)rng_range(&rng, 2, KIDS_MAX), spawned = 0;
		int64_t spawn_ns[KIDS_MAX];

		memset(sh, 0, sizeof(*sh) * KIDS_MAX);
		for (unsigned i = 0; i < nkids && !tc_failed(tc); i++, spawned++) {
			struct kid *k = &kids[i];

			memset(k, 0, sizeof(*k));
			k->tc = tc;
			k->sh = &sh[i];
			k->nrings = nthreads + 1;
			for (unsigned j = 0; j < k->nrings; j++)
				k->prof[j] = j < nthreads ? tc->prof : mix;
			k->seed = rng_next(&rng);
			k->use_msg_ring = msg_ring;
			k->setup_kill = rng_chance(&rng, SETUP_KILL_PCT);
			k->kill_delay_ns = (int64_t)rng_below(&rng, k->setup_kill ? SETUP_KILL_MAX_US :
							       KILL_DELAY_MAX_US) * NSEC_PER_USEC;
			k->fuzzy = !k->setup_kill && rng_chance(&rng, FUZZY_KILL_PCT);
			k->step = (enum race_step)rng_below(&rng, STEPS);
			fuzzy_init(&k->sh->race, rng_next(&rng), 0);
			fuzzy_set_window(&k->sh->race, FUZZY_B_ENDS_IN_A);
			spawn_ns[i] = now_ns();
			if (kid_spawn(tc, k))
				break;
		}
		/* Children set up concurrently; each is killed at its own
		 * point, those timed from their fork first. */
		for (int pass = 1; pass >= 0; pass--) {
			for (unsigned i = 0; i < spawned; i++) {
				if (kids[i].setup_kill != pass || kid_kill(tc, &kids[i], spawn_ns[i]))
					continue;
				kills++;
				setup_kills += kids[i].in_setup;
			}
		}
		for (unsigned i = 0; i < spawned; i++) {
			if (tc_verdict(tc) < V_HANG && !kid_verify(tc, &kids[i]) &&
			    !kids[i].setup_kill) {
				raced[kids[i].fuzzy]++;
				inside[kids[i].fuzzy] += kids[i].landed == LANDED_INSIDE;
			}
			for (unsigned j = 0; j < kids[i].nrings; j++)
				probe_close(&kids[i].probe[j]);
		}
		rounds++;
	} while (!tc_failed(tc) && !deadline_passed(&run_end));
	tc_log(tc, "%u rounds, %u children killed (%u in set-up), %u rings each (%u %s + 1 %s)",
	       rounds, kills, setup_kills, nthreads + 1, nthreads, tc->prof->name, mix->name);
	tc_log(tc, "kills inside ring thread 0's racy step: fuzzy-synchronised %u of %u, "
	       "at a random delay %u of %u", inside[1], raced[1], inside[0], raced[0]);
	munmap(sh, sizeof(*sh) * KIDS_MAX);
	return tc_verdict(tc);
}

static const struct scenario kill_midflight = {
	.name = "kill_midflight",
	.summary = "children with busy rings in every taskrun mode are SIGKILLed at random points: "
		   "reaped in time, every ring's teardown finishes",
	.profiles = PROFILES_ALL,
	.run = run,
	.part_needs = NEED(MSG_RING),
	.min_threads = 2,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &kill_midflight);
}
