// SPDX-License-Identifier: MIT
/* A child of kill_midflight with busy rings, until it is killed (see kill_kid.h). */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kill_kid.h"
#include "kver.h"

#define QD			32	/* requests in flight per ring */
#define WAIT_SLICE_NS		NSEC_PER_MSEC
#define RACE_SUBMIT_BUDGET	4

/* The step a kill races: markers around it tell the parent where the kill
 * landed; with fuzzing, a rendezvous with the parent's kill before it. */
static void race_step(struct kid *k, struct load *l, struct rng *rng, const struct load_idle *idle)
{
	struct kid_shared *sh = k->sh;
	struct deadline slice = deadline_in(WAIT_SLICE_NS);
	struct tring scratch = { .prof = k->prof[0] };
	int ret;

	if (k->step == STEP_TEARDOWN) {
		/* The profile set up in the case already: a refusal now (ENOMEM,
		 * ...) is judged, not dropped; a kill in set-up never returns. */
		ret = io_uring_queue_init(8, &scratch.ring, scratch.prof->setup_flags);
		if (ret < 0) {
			tc_setup_refused(k->tc, scratch.prof->setup_flags, ret,
					 "kid: the scratch ring of the teardown step");
			return;
		}
		if (load_prep_pending(&scratch, idle) < 0 || io_uring_submit(&scratch.ring) < 0) {
			io_uring_queue_exit(&scratch.ring);
			return;
		}
	}
	/* Waited for in slices: this ring is reaped while the parent comes. */
	if (k->fuzzy && fuzzy_start(&sh->race, FUZZY_A, &slice)) {
		if (k->step == STEP_TEARDOWN)
			io_uring_queue_exit(&scratch.ring);
		return;
	}
	__atomic_store_n(&sh->steps_begun, sh->steps_begun + 1, __ATOMIC_RELEASE);
	if (k->step == STEP_SUBMIT)
		load_submit(l, rng, RACE_SUBMIT_BUDGET);
	else
		io_uring_queue_exit(&scratch.ring);
	__atomic_store_n(&sh->steps_done, sh->steps_done + 1, __ATOMIC_RELEASE);
	while (k->fuzzy && fuzzy_end(&sh->race, FUZZY_A, &k->life) && !deadline_passed(&k->life))
		;
}

/* With fuzzing, the child's other threads step back (nice 10, which any
 * user may set): on a machine with few CPUs they would preempt ring thread
 * 0 between the rendezvous and its step, wherever the offset put it. */
static void step_back(const struct kid *k)
{
	if (k->fuzzy)
		setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
}

/* One ring, owned by the thread that submits to it and reaps it. */
static void *ring_main(struct tw_thread *t)
{
	const struct tring_opts opts = { .cq_entries = 256, .attach_wq_fd = -1 };
	struct kid *k = t->arg;
	struct tcase *tc = k->tc;
	bool ok = false, loaded = false;
	struct tring r;
	struct load l;
	char name[16], why[300];
	struct load_idle idle;
	int ret;

	snprintf(name, sizeof(name), "ring%u", t->idx);
	k->ring_fds[t->idx] = -1;
	if (t->idx)
		step_back(k);
	else if (k->fuzzy)
		fuzzy_pin(FUZZY_A, NULL);
	/* Pipes nobody writes: the pending set waits on them until teardown. */
	if ((ret = load_idle_open(&idle)) < 0) {
		tc_fail(tc, "child %d: pipe: %s", getpid(), strerror(-ret));
	} else if (tring_init(tc, &r, name, k->prof[t->idx], &opts) == V_PASS) {
		ret = probe_arm(&k->probe[t->idx], &r, load_ud(LOAD_PENDING, LOAD_PENDING_NR));
		if (ret >= 0)
			ret = load_prep_pending(&r, &idle);
		if (ret >= 0)
			ret = io_uring_submit(&r.ring);
		if (ret < 0)
			tc_fail(tc, "child %d %s (%s): probe and pending set: %s", getpid(), name,
				k->prof[t->idx]->name, strerror(-ret));
		k->ring_fds[t->idx] = tring_fd(&r);
		ok = ret >= 0;
	}
	if (tw_barrier_wait(&k->targets_known, &k->life) || !ok) {
		tw_counter_add(&k->sh->rings_up, 1);
		return NULL;
	}
	load_init(&l, &r, &k->src, k->ring_fds, k->use_msg_ring ? k->nrings : 0);
	/*
	 * Left out: a kernel leak (6.18, 7.2; fixed in 7.3, which looks the
	 * file up before the punt). An IOSQE_ASYNC MSG_RING of a DEFER ring
	 * still queued in io-wq when its submitter exits is not waited for by
	 * the exit cancel (no file yet, not REQ_F_INFLIGHT); io-wq's exit then
	 * runs it, and it completes into the ring's local work list holding
	 * the target's file. A cycle of such pins (a ring to itself, two DEFER
	 * rings to each other) is never released: here, rings whose probes
	 * never report. test/regress_msg_exit_leak.c reports it;
	 * doc/bugs/msg-ring-exit-leak.md.
	 */
	for (unsigned i = 0; i < k->nrings; i++)
		if (r.prof->props & k->prof[i]->props & PROF_LOCAL_TW)
			l.msg_inline_only |= 1u << i;
	/*
	 * Left out before 6.3: IOSQE_ASYNC reads of the pipe. 6.1.y retries
	 * them in the owner's task_work, where a pipe (no FMODE_NOWAIT) cannot
	 * be read; one woken more often than its poll re-arm budget is
	 * re-armed for ever there, and a byte left in the pipe then makes the
	 * retry loop for good: on a DEFER ring a soft lockup, unkillable.
	 * 6.3 sends such retries back to io-wq (6bb30855560e).
	 * test/regress_apoll_rearm.c reports it; doc/bugs/apoll-rearm-spin.md.
	 */
	l.async_read_no_pipe = !kver_at_least(6, 3);
	/* Until the kill: keep QD requests in flight, reap, check. */
	while (!deadline_passed(&k->life)) {
		if (l.inflight < QD) {
			ret = load_submit(&l, &t->rng, (unsigned)rng_range(&t->rng, 1, QD - l.inflight));
			if (ret < 0 && ret != -EBUSY && ret != -EAGAIN && ret != -EINTR)
				tc_fail(tc, "child %d %s (%s): submit: %s", getpid(), name,
					r.prof->name, strerror(-ret));
		}
		if (t->idx == 0 && loaded)
			race_step(k, &l, &t->rng, &idle);
		tring_wait(&r, 1, WAIT_SLICE_NS, 0, NULL);
		__atomic_add_fetch(&k->sh->cqes, load_reap(&l, why, sizeof(why)), __ATOMIC_RELAXED);
		if (why[0])
			tc_fail(tc, "child %d %s (%s): %s", getpid(), name, r.prof->name, why);
		if (!loaded && l.reaped) {
			loaded = true;
			tw_counter_add(&k->sh->rings_up, 1);
		}
	}
	if (t->idx == 0 && k->fuzzy)	/* no more steps: the parent must not wait */
		fuzzy_stop(&k->sh->race);
	return NULL;
}

/* Feeds the sources the mix reads and polls: wake-ups from another CPU. */
static void *writer_main(struct tw_thread *t)
{
	struct kid *k = t->arg;
	int ret;

	step_back(k);
	while (!deadline_passed(&k->life)) {
		ret = load_feed(&k->src, &t->rng);
		if (ret < 0) {
			tc_fail(k->tc, "child %d: writer: %s", getpid(), strerror(-ret));
			break;
		}
		/* Pacing only: the readers are not waited for. */
		sleep_until_ns(now_ns() + (int64_t)rng_range(&t->rng, 20, 100) * NSEC_PER_USEC);
	}
	return NULL;
}

static int kid_main(void *arg)
{
	struct kid *k = arg;
	struct tw_thread th[KID_RINGS_MAX + 1];
	struct tw_event never = { 0 };
	struct tcase tc = *k->tc;	/* same verdict, own seed */
	int ret;

	tc.seed = k->seed;
	k->tc = &tc;
	/* Lives until the parent kills it; the bound only guards a lost parent. */
	k->life = tc_deadline(k->tc);
	for (unsigned i = 0; i < k->nrings; i++)
		probe_drop_writer(&k->probe[i]);
	ret = load_sources_open(&k->src);
	if (ret < 0) {
		tc_fail(k->tc, "child %d: sources: %s", getpid(), strerror(-ret));
		tw_event_set(&k->sh->loaded);
		return 1;
	}
	tw_barrier_init(&k->targets_known, k->nrings);
	if (tw_thread_start(k->tc, &th[k->nrings], "writer", k->nrings, writer_main, k))
		return 1;
	for (unsigned i = 0; i < k->nrings; i++) {
		char name[16];

		snprintf(name, sizeof(name), "ring%u", i);
		if (tw_thread_start(k->tc, &th[i], name, i, ring_main, k))
			return 1;
	}
	tw_counter_wait_ge(&k->sh->rings_up, k->nrings, &k->life);
	tw_event_set(&k->sh->loaded);
	tw_event_wait(&never, &k->life);
	return 2;	/* outlived its kill: the parent reports it */
}

const struct profile *kid_pick_mix(const struct profile *p)
{
	static const enum profile_id order[] = { P_DEFER, P_COOP, P_DEFAULT };
	struct io_uring ring;

	for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct profile *m = &profiles[order[i]];

		if (m == p || (m->props & PROF_LOCAL_TW && p->props & PROF_LOCAL_TW))
			continue;
		if (io_uring_queue_init(4, &ring, m->setup_flags) < 0)
			continue;
		io_uring_queue_exit(&ring);
		return m;
	}
	return &profiles[P_DEFAULT];
}

int kid_spawn(struct tcase *tc, struct kid *k)
{
	char what[64];
	int ret;

	for (unsigned i = 0; i < k->nrings; i++) {
		snprintf(what, sizeof(what), "ring%u (%s)", i, k->prof[i]->name);
		ret = probe_create(&k->probe[i], what);
		if (ret < 0)
			return tc_fail(tc, "probe pipe: %s", strerror(-ret)), ret;
	}
	ret = proc_spawn(&k->proc, kid_main, k);
	if (ret < 0)
		return tc_fail(tc, "fork: %s", strerror(-ret)), ret;
	/* Now only the child's rings hold the probes' read ends. */
	for (unsigned i = 0; i < k->nrings; i++)
		probe_drop_reader(&k->probe[i]);
	return 0;
}
