/* SPDX-License-Identifier: MIT */
/*
 * Jitter (-j, $TW_JITTER=1, runtests.sh --jitter), in the spirit of
 * rcutorture's jitter.sh: while a case runs, the harness disturbs its
 * timing from inside the case process -
 *   hogs      one thread per CPU alternating busy bursts and pauses, so the
 *             test's threads are preempted at arbitrary points (a producer
 *             mid-push, a waiter between its checks);
 *   yields    a thread in bursts of sched_yield(), churning the run queue;
 *   migrate   a thread that moves the case's threads (every task of the
 *             process) to random CPU subsets, so wake-ups and task_work
 *             cross CPUs and IPIs land on different ones; at the end every
 *             thread gets its old mask back.
 * Every interval and choice comes from the case's seed (its own stream),
 * so a run is replayed with -s (the choices, not the interleaving).
 * Forked children do not inherit the threads (fork copies the caller
 * only), but a child forked while its parent was migrated keeps that mask.
 */
#ifndef TW_JITTER_H
#define TW_JITTER_H

struct tcase;
struct jitter;

/* Start the jitter threads for this case; NULL if it could not (said why). */
struct jitter *jitter_start(struct tcase *tc);
/* Stop and join them (bounded), restore the threads' CPU masks. */
void jitter_stop(struct jitter *j);

#endif
