// SPDX-License-Identifier: MIT
/*
 * Self-test of the deadlines in src/sync.c. Every wait the suite does must
 * end: when nobody comes, each primitive returns -ETIMEDOUT at its deadline
 * (never before it, and not much after); when the other side does come, it
 * returns at once. The "other side" runs in a thread that is first seen
 * asleep in the kernel (state S in /proc), so the wake-up path is what is
 * tested, not the fast path - observed, not slept for.
 */
#include <sys/mman.h>

#include "selftest.h"

#define TIMEOUT_NS	(100 * NSEC_PER_MSEC)
#define LATE_NS		(100 * NSEC_PER_MSEC)	/* "not much after" */
#define PROMPT_NS	(500 * NSEC_PER_MSEC)	/* woken waiter returns within */
#define LONG_NS		(10 * NSEC_PER_SEC)	/* a woken waiter never gets near it */

/* ---- nobody comes: -ETIMEDOUT at the deadline ------------------------------ */

/* Runs one wait whose deadline is TIMEOUT_NS away; says how it ended. */
static void check_timeout(const char *what, int (*wait)(void *, const struct deadline *),
			  void *obj)
{
	struct deadline dl = deadline_in(TIMEOUT_NS);
	int ret = wait(obj, &dl);
	int64_t late = now_ns() - dl.end_ns;

	st_ok(ret == -ETIMEDOUT && late >= 0 && late < LATE_NS,
	      "%s: nobody comes -> %s %.1f ms after the deadline", what,
	      ret == -ETIMEDOUT ? "-ETIMEDOUT" : ret ? strerror(-ret) : "0",
	      (double)late / NSEC_PER_MSEC);
}

static int wait_futex(void *w, const struct deadline *dl)
{
	return futex_wait_until(w, 0, dl);
}

static int wait_barrier(void *b, const struct deadline *dl)
{
	return tw_barrier_wait(b, dl);
}

static int wait_event(void *e, const struct deadline *dl)
{
	return tw_event_wait(e, dl);
}

static int wait_counter(void *c, const struct deadline *dl)
{
	return tw_counter_wait_ge(c, 5, dl);
}

static int wait_credit(void *c, const struct deadline *dl)
{
	return tw_credit_take(c, 4, dl);
}

/* ---- the other side comes: 0 promptly -------------------------------------- */

struct waiter {
	int (*wait)(void *, const struct deadline *);
	void *obj;
	pid_t tid;
	int ret;
	int64_t returned_ns;
};

static void *waiter_thread(void *arg)
{
	struct waiter *w = arg;
	struct deadline dl = deadline_in(LONG_NS);

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	w->ret = w->wait(w->obj, &dl);
	w->returned_ns = now_ns();
	return NULL;
}

/* True once thread tid sleeps in the kernel (it entered its futex wait). */
static bool sleeping(pid_t tid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

/* A thread waits on obj; once it sleeps, wake(obj); it must return 0 promptly. */
static void check_wake(const char *what, int (*wait)(void *, const struct deadline *),
		       void (*wake)(void *), void *obj, int expect)
{
	struct deadline dl = deadline_in(LONG_NS);
	struct waiter w = { .wait = wait, .obj = obj };
	pthread_t th;
	int64_t woke;
	bool slept;

	pthread_create(&th, NULL, waiter_thread, &w);
	while (!__atomic_load_n(&w.tid, __ATOMIC_ACQUIRE) && !deadline_passed(&dl))
		sched_yield();
	while (!(slept = sleeping(w.tid)) && !deadline_passed(&dl))
		sched_yield();
	woke = now_ns();
	wake(obj);
	pthread_join(th, NULL);
	st_ok(slept && w.ret == expect && w.returned_ns - woke < PROMPT_NS,
	      "%s: a sleeping waiter is woken -> %d after %.1f ms", what, w.ret,
	      (double)(w.returned_ns - woke) / NSEC_PER_MSEC);
}

static void wake_futex(void *w)
{
	__atomic_store_n((uint32_t *)w, 1, __ATOMIC_RELEASE);
	futex_wake_all(w);
}

static void wake_barrier(void *b)
{
	struct deadline dl = deadline_in(LONG_NS);

	tw_barrier_wait(b, &dl);
}

static void wake_event(void *e)
{
	tw_event_set(e);
}

static void wake_counter(void *c)
{
	tw_counter_add(c, 2);		/* 3 already there: now 5 */
}

static void wake_credit(void *c)
{
	tw_credit_give(c, 3);
}

/* ---- between processes: the words live in shared memory ------------------- */

static int set_event_child(void *e)
{
	tw_event_set(e);
	return 0;
}

static void check_cross_process(void)
{
	struct tw_event *e = mmap(NULL, sizeof(*e), PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct deadline dl = deadline_in(LONG_NS);
	struct child c;
	int status = -1, ret;

	e->set = 0;
	proc_spawn(&c, set_event_child, e);
	ret = tw_event_wait(e, &dl);
	proc_reap(&c, &dl, &status);
	st_ok(ret == 0 && !deadline_passed(&dl) && status == 0,
	      "tw_event: set by a forked process -> %d", ret);
	munmap(e, sizeof(*e));
}

/* A child whose exit takes a while: 64 MiB of its own pages to free. */
static int heavy_child(void *arg)
{
	size_t len = 64u << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)arg;
	if (p != MAP_FAILED)
		memset(p, 1, len);
	for (;;)
		pause();
	return 0;
}

/* A kill after a wait that used up its deadline: the reap still gets time
 * (a spent deadline would call a killable child "unkillable"). */
static void check_kill_after_deadline(void)
{
	struct deadline spent = deadline_in(0), dl = deadline_in(LONG_NS);
	struct child c;
	int status = 0, ret;

	proc_spawn(&c, heavy_child, NULL);
	proc_task_wait_state(c.pid, 'S', &dl);	/* its pages are all there */
	ret = proc_kill_reap(&c, &spent, &status);
	st_ok(ret == 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "proc_kill_reap with its deadline spent: reaps the killed child -> %d", ret);
	if (ret)
		proc_reap(&c, &dl, &status);
}

int main(void)
{
	uint32_t word = 0;
	struct tw_barrier barrier;
	struct tw_event event = { 0 };
	struct tw_counter counter = { 0 };
	struct tw_credit credit;
	struct deadline past = deadline_in(0);

	st_begin("sync self-test: every wait ends at its deadline, or at once when woken");

	check_timeout("futex_wait_until", wait_futex, &word);
	tw_barrier_init(&barrier, 2);
	check_timeout("tw_barrier_wait (1 of 2 parties)", wait_barrier, &barrier);
	check_timeout("tw_event_wait", wait_event, &event);
	tw_counter_add(&counter, 3);
	check_timeout("tw_counter_wait_ge (3, want 5)", wait_counter, &counter);
	tw_credit_init(&credit, 0);
	check_timeout("tw_credit_take (none left)", wait_credit, &credit);

	/* The values a waiter must not sleep on at all. */
	st_ok(futex_wait_until(&word, 1, &past) == -EAGAIN,
	      "futex_wait_until: word != val -> -EAGAIN at once");
	counter.value = 0x10;
	st_ok(tw_counter_wait_ge(&counter, 0xfffffff0, &past) == 0,
	      "tw_counter_wait_ge: target just behind a wrapped value is reached");
	counter.value = 0xfffffff0;
	st_ok(tw_counter_wait_ge(&counter, 0x10, &past) == -ETIMEDOUT,
	      "tw_counter_wait_ge: target just past the wrap is not reached yet");
	tw_credit_init(&credit, 3);
	st_ok(tw_credit_take(&credit, 2, &past) == 2 && tw_credit_take(&credit, 2, &past) == 1,
	      "tw_credit_take: takes at most max, then what is left");

	/* A timed-out barrier party left its arrival: start over for the wake test. */
	word = 0;
	check_wake("futex_wait_until", wait_futex, wake_futex, &word, 0);
	tw_barrier_init(&barrier, 2);
	check_wake("tw_barrier_wait", wait_barrier, wake_barrier, &barrier, 0);
	check_wake("tw_barrier_wait (reused)", wait_barrier, wake_barrier, &barrier, 0);
	check_wake("tw_event_wait", wait_event, wake_event, &event, 0);
	counter.value = 3;
	check_wake("tw_counter_wait_ge", wait_counter, wake_counter, &counter, 0);
	tw_credit_init(&credit, 0);
	check_wake("tw_credit_take", wait_credit, wake_credit, &credit, 3);
	check_cross_process();
	check_kill_after_deadline();
	return st_end();
}
