// SPDX-License-Identifier: MIT
/* Named threads with their own seeded RNG, joined with deadlines. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "harness.h"

static void *trampoline(void *arg)
{
	struct tw_thread *t = arg;

	__atomic_store_n(&t->tid, gettid(), __ATOMIC_RELEASE);
	/* The name shows up in hang reports (/proc/.../comm). */
	prctl(PR_SET_NAME, t->name);
	return t->fn(t);
}

int tw_thread_start(struct tcase *tc, struct tw_thread *t, const char *name, unsigned idx,
		    void *(*fn)(struct tw_thread *), void *arg)
{
	int ret;

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->fn = fn;
	t->arg = arg;
	t->idx = idx;
	rng_seed(&t->rng, tc->seed, idx + 1);
	ret = pthread_create(&t->th, NULL, trampoline, t);
	if (ret)
		return -ret;
	t->started = true;
	return 0;
}

int tw_thread_join(struct tw_thread *t, const struct deadline *dl)
{
	struct timespec now_rt, abs;
	int64_t left = deadline_left(dl);
	int ret;

	if (!t->started || t->joined)
		return 0;
	/* pthread_timedjoin_np() takes a CLOCK_REALTIME deadline. */
	clock_gettime(CLOCK_REALTIME, &now_rt);
	abs = ns_to_timespec(now_rt.tv_sec * NSEC_PER_SEC + now_rt.tv_nsec + left);
	ret = pthread_timedjoin_np(t->th, NULL, &abs);
	if (ret == ETIMEDOUT)
		return -ETIMEDOUT;
	t->joined = true;
	return -ret;
}

enum verdict tw_threads_join(struct tcase *tc, struct tw_thread *t, unsigned n,
			     const struct ledger *l, const struct tring *r)
{
	struct deadline dl = tc_deadline(tc);

	for (unsigned i = 0; i < n; i++) {
		if (tw_thread_join(&t[i], &dl) == -ETIMEDOUT)
			return tc_hang(tc, l, r, "thread %s (tid %d) did not finish", t[i].name,
				       t[i].tid);
	}
	return tc_verdict(tc);
}
