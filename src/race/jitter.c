// SPDX-License-Identifier: MIT
/*
 * Jitter threads (jitter.h). Their pauses are pacing, not synchronisation:
 * nothing waits for them but jitter_stop(), which has a deadline.
 */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "jitter.h"

#define HOGS_MAX		8
#define BURST_MAX_US		3000	/* a hog's busy burst */
#define PAUSE_MAX_US		5000	/* its pause, the yielder's, the migrator's */
#define YIELDS_MAX		2000
#define STOP_DEADLINE_NS	(5 * NSEC_PER_SEC)
#define RNG_STREAM		0x717e0

struct jitter {
	struct tcase *tc;
	uint32_t stop;
	unsigned nhogs;
	struct tw_thread hog[HOGS_MAX], yielder, migrator;
	cpu_set_t mask;			/* the process's mask at the start */
	unsigned moves;
};

static bool stopping(struct jitter *j)
{
	return __atomic_load_n(&j->stop, __ATOMIC_ACQUIRE);
}

static void pause_us(struct rng *r, unsigned max_us)
{
	sleep_until_ns(now_ns() + (int64_t)rng_range(r, 50, max_us) * NSEC_PER_USEC);
}

static void *hog_main(struct tw_thread *t)
{
	struct jitter *j = t->arg;

	while (!stopping(j)) {
		int64_t end = now_ns() + (int64_t)rng_range(&t->rng, 100, BURST_MAX_US) * NSEC_PER_USEC;

		while (now_ns() < end && !stopping(j))
			;
		pause_us(&t->rng, PAUSE_MAX_US);
	}
	return NULL;
}

static void *yielder_main(struct tw_thread *t)
{
	struct jitter *j = t->arg;

	while (!stopping(j)) {
		for (unsigned n = (unsigned)rng_range(&t->rng, 10, YIELDS_MAX); n; n--)
			sched_yield();
		pause_us(&t->rng, PAUSE_MAX_US);
	}
	return NULL;
}

/* A random non-empty subset of the CPUs in mask. */
static void random_subset(struct rng *r, const cpu_set_t *mask, cpu_set_t *out)
{
	unsigned n = 0, cpus[CPU_SETSIZE];

	for (unsigned c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, mask))
			cpus[n++] = c;
	CPU_ZERO(out);
	for (unsigned i = 0; i < n; i++)
		if (rng_chance(r, 50))
			CPU_SET(cpus[i], out);
	if (n && !CPU_COUNT(out))
		CPU_SET(cpus[rng_below(r, n)], out);
}

/* Apply fn to every task of this process (the migrator's own too). */
static void for_each_task(void (*fn)(pid_t tid, void *arg), void *arg)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			fn((pid_t)atoi(e->d_name), arg);
	closedir(d);
}

struct move {
	struct jitter *j;
	struct rng *r;
};

static void move_task(pid_t tid, void *arg)
{
	struct move *m = arg;
	cpu_set_t to;

	/* About one task in three per pass. */
	if (!rng_chance(m->r, 33))
		return;
	random_subset(m->r, &m->j->mask, &to);
	if (!sched_setaffinity(tid, sizeof(to), &to))
		m->j->moves++;
}

static void restore_task(pid_t tid, void *arg)
{
	struct jitter *j = arg;

	sched_setaffinity(tid, sizeof(j->mask), &j->mask);
}

static void *migrator_main(struct tw_thread *t)
{
	struct jitter *j = t->arg;
	struct move m = { .j = j, .r = &t->rng };

	while (!stopping(j)) {
		for_each_task(move_task, &m);
		pause_us(&t->rng, PAUSE_MAX_US);
	}
	return NULL;
}

struct jitter *jitter_start(struct tcase *tc)
{
	struct jitter *j = calloc(1, sizeof(*j));
	struct tcase jtc;
	unsigned n = 0;

	if (!j)
		return NULL;
	/* The threads' RNGs come from a stream of their own: the test's
	 * choices stay what they are without -j. */
	jtc = *tc;
	jtc.seed = tc->seed ^ RNG_STREAM;
	j->tc = tc;
	sched_getaffinity(0, sizeof(j->mask), &j->mask);
	j->nhogs = ncpus() < HOGS_MAX ? ncpus() : HOGS_MAX;
	for (; n < j->nhogs; n++)
		if (tw_thread_start(&jtc, &j->hog[n], "jit-hog", n, hog_main, j))
			break;
	j->nhogs = n;
	if (tw_thread_start(&jtc, &j->yielder, "jit-yield", HOGS_MAX, yielder_main, j) == 0 &&
	    tw_thread_start(&jtc, &j->migrator, "jit-migrate", HOGS_MAX + 1, migrator_main, j) == 0)
		return j;
	tc_info(tc, "jitter: could not start its threads");
	jitter_stop(j);
	return NULL;
}

void jitter_stop(struct jitter *j)
{
	struct deadline dl = deadline_in(STOP_DEADLINE_NS);
	bool stuck = false;

	if (!j)
		return;
	__atomic_store_n(&j->stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < j->nhogs; i++)
		stuck |= tw_thread_join(&j->hog[i], &dl) != 0;
	stuck |= tw_thread_join(&j->yielder, &dl) != 0;
	stuck |= tw_thread_join(&j->migrator, &dl) != 0;
	for_each_task(restore_task, j);
	tc_log(j->tc, "jitter: %u hogs, a yielder, %u task moves", j->nhogs, j->moves);
	/* A thread that did not stop still uses it: leave it (the case ends). */
	if (stuck)
		tc_info(j->tc, "jitter: a jitter thread did not stop in time");
	else
		free(j);
}
