// SPDX-License-Identifier: MIT
/*
 * Self-test of proc_task_wait_asleep() (src/proc.c): how a test knows that
 * a thread has gone to sleep in the kernel before it makes the event that
 * must wake it. State S alone is not enough: it shows from
 * set_current_state() on, while the task still makes its last checks (and
 * while it is preempted there). So the wait also wants a voluntary context
 * switch since the thread's own count before it entered the kernel.
 * Checks: a thread blocked in a futex is found asleep promptly; a spinning
 * thread is not (-ETIMEDOUT at the deadline); a thread asleep all along but
 * with no switch since the count given is not either - the check a state
 * alone would pass; proc_task_nvcsw() of the caller is its RUSAGE_THREAD
 * ru_nvcsw.
 */
#include <sys/resource.h>

#include "selftest.h"

#define TIMEOUT_NS	(100 * NSEC_PER_MSEC)
#define LATE_NS		(100 * NSEC_PER_MSEC)
#define PROMPT_NS	(2 * NSEC_PER_SEC)	/* the sleeper is found asleep within */
#define LONG_NS		(10 * NSEC_PER_SEC)

struct sleeper {
	pid_t tid;
	long nvcsw;			/* its count just before it blocks */
	uint32_t go;			/* the futex it blocks on */
	bool spin;			/* spin on go instead of blocking */
};

static void *sleeper_thread(void *arg)
{
	struct sleeper *s = arg;
	struct deadline dl = deadline_in(LONG_NS);

	s->nvcsw = proc_task_nvcsw(gettid());
	__atomic_store_n(&s->tid, gettid(), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&s->go, __ATOMIC_ACQUIRE) && !deadline_passed(&dl)) {
		if (!s->spin)
			futex_wait_until(&s->go, 0, &dl);
	}
	return NULL;
}

static void start(struct sleeper *s, pthread_t *th, bool spin)
{
	struct deadline dl = deadline_in(LONG_NS);

	*s = (struct sleeper){ .spin = spin };
	pthread_create(th, NULL, sleeper_thread, s);
	while (!__atomic_load_n(&s->tid, __ATOMIC_ACQUIRE) && !deadline_passed(&dl))
		sched_yield();
}

static void stop(struct sleeper *s, pthread_t th)
{
	__atomic_store_n(&s->go, 1, __ATOMIC_RELEASE);
	futex_wake_all(&s->go);
	pthread_join(th, NULL);
}

/* Waits with a TIMEOUT_NS deadline; says how it ended. */
static void check_timeout(const char *what, pid_t tid, long since)
{
	struct deadline dl = deadline_in(TIMEOUT_NS);
	int ret = proc_task_wait_asleep(tid, since, &dl);
	int64_t late = now_ns() - dl.end_ns;

	st_ok(ret == -ETIMEDOUT && late >= 0 && late < LATE_NS,
	      "%s -> %s %.1f ms after the deadline", what,
	      ret == -ETIMEDOUT ? "-ETIMEDOUT" : ret ? strerror(-ret) : "0",
	      (double)late / NSEC_PER_MSEC);
}

int main(void)
{
	struct deadline dl;
	struct sleeper s;
	struct rusage ru;
	int64_t t0;
	pthread_t th;
	long now;
	int ret;

	st_begin("proc_task_wait_asleep(): a thread asleep in the kernel, not just in state S");

	start(&s, &th, false);
	dl = deadline_in(PROMPT_NS);
	t0 = now_ns();
	ret = proc_task_wait_asleep(s.tid, s.nvcsw, &dl);
	st_ok(ret == 0, "a thread blocked in a futex is found asleep -> %d after %.1f ms", ret,
	      (double)(now_ns() - t0) / NSEC_PER_MSEC);
	/* Asleep all along, yet no switch since now: not (yet) what we wait for. */
	now = proc_task_nvcsw(s.tid);
	st_ok(now > s.nvcsw, "its voluntary switches went up while it slept (%ld -> %ld)",
	      s.nvcsw, now);
	check_timeout("state S without a switch since the count given", s.tid, now);
	stop(&s, th);

	start(&s, &th, true);
	check_timeout("a spinning thread", s.tid, s.nvcsw);
	stop(&s, th);

	getrusage(RUSAGE_THREAD, &ru);
	now = proc_task_nvcsw(gettid());
	st_ok(now >= ru.ru_nvcsw && now <= ru.ru_nvcsw + 1,
	      "proc_task_nvcsw() of the caller is its ru_nvcsw (%ld, %ld)", now, ru.ru_nvcsw);
	st_ok(proc_task_nvcsw(-1) == -1, "proc_task_nvcsw() of no task is -1");
	return st_end();
}
