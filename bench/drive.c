// SPDX-License-Identifier: MIT
/*
 * The driver side of a measurement: phases, the measured interval and the
 * CPU it cost, and the workers' tallies.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include "bench.h"

static enum bench_fault fault;
static int fault_struck;

void bench_fault_set(enum bench_fault f)
{
	fault = f;
	__atomic_store_n(&fault_struck, 0, __ATOMIC_SEQ_CST);
}

bool bench_fault_now(enum bench_fault f)
{
	/* The first chance is enough: one loss must fail the row. */
	return fault == f && !__atomic_exchange_n(&fault_struck, 1, __ATOMIC_SEQ_CST);
}

static double rusage_cpu_s(void)
{
	struct rusage ru;

	/* RUSAGE_SELF counts every thread of the process, the SQPOLL thread
	 * and io-wq workers included: they are io threads of this task. */
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The phases are timed, not synchronised: a sleep until an absolute
 * time is the measuring interval itself. */
static void sleep_until(int64_t t_ns)
{
	struct timespec ts = ns_to_timespec(t_ns);

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void set_phase(struct measurement *meas, enum bench_phase ph)
{
	__atomic_store_n(&meas->phase, ph, __ATOMIC_RELEASE);
}

int bench_drive(struct measurement *meas)
{
	struct deadline dl = bench_wait_deadline(meas);
	int64_t t0, t1;
	double cpu0;

	if (tw_barrier_wait(&meas->ready, &dl)) {
		bench_error(meas, "workers not ready in %d s", meas->o->hang_s);
		set_phase(meas, PH_STOP);
		return -ETIMEDOUT;
	}
	meas->drove = true;
	set_phase(meas, PH_WARMUP);
	sleep_until(now_ns() + (int64_t)(meas->o->warmup_s * 1e9));
	cpu0 = rusage_cpu_s();
	t0 = now_ns();
	set_phase(meas, PH_MEASURE);
	sleep_until(t0 + (int64_t)(meas->o->duration_s * 1e9));
	set_phase(meas, PH_STOP);
	t1 = now_ns();
	meas->cpu_s = rusage_cpu_s() - cpu0;
	meas->seconds = (double)(t1 - t0) / 1e9;
	return 0;
}

/* The CPUs this process may use, in order (taskset, cgroups respected). */
static int allowed_cpus(int *cpu, int max)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpu[n++] = c;
	return n;
}

static int cpu[CPU_SETSIZE], ncpu;
static pthread_once_t cpus_once = PTHREAD_ONCE_INIT;

/* Before any worker pins itself: the process's own affinity, once. */
static void read_cpus(void)
{
	ncpu = allowed_cpus(cpu, CPU_SETSIZE);
}

static void pin(int role)
{
	cpu_set_t set;

	pthread_once(&cpus_once, read_cpus);
	if (ncpu < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(role == BENCH_CONSUMER ? cpu[0] : cpu[1 + role % (ncpu - 1)], &set);
	sched_setaffinity(0, sizeof(set), &set);
}

void bench_worker_ready(struct measurement *meas, int role)
{
	struct deadline dl = bench_wait_deadline(meas);

	if (meas->o->pin)
		pin(role);

	if (tw_barrier_wait(&meas->ready, &dl)) {
		bench_error(meas, "a worker waited %d s for the others to be ready",
			    meas->o->hang_s);
		__atomic_store_n(&meas->phase, PH_STOP, __ATOMIC_RELEASE);
	}
}

static long thread_nvcsw(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_THREAD, &ru) ? 0 : ru.ru_nvcsw;
}

void sleep_meter_tick(struct sleep_meter *m, bool measuring)
{
	if (m->state == 0 && measuring) {
		m->start = thread_nvcsw();
		m->state = 1;
	} else if (m->state == 1 && !measuring) {
		m->sleeps = thread_nvcsw() - m->start;
		m->state = 2;
	}
}

void bench_add_tally(struct measurement *meas, uint64_t ops, const struct hist *lat,
		     struct sleep_meter *sm)
{
	if (sm)
		sleep_meter_tick(sm, false);
	pthread_mutex_lock(&meas->lock);
	if (sm && sm->state == 2) {
		meas->sleeps += sm->sleeps;
		meas->slept_measured = true;
	}
	meas->ops += ops;
	if (lat)
		hist_merge(&meas->lat, lat);
	pthread_mutex_unlock(&meas->lock);
}

void bench_error(struct measurement *meas, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&meas->lock);
	if (!meas->errors++) {
		va_start(ap, fmt);
		vsnprintf(meas->error, sizeof(meas->error), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&meas->lock);
}

int bench_take_credits(struct measurement *meas, struct tw_credit *c, int producer)
{
	struct deadline dl = bench_wait_deadline(meas);
	int n = tw_credit_take(c, meas->o->batch, &dl);

	if (n < 0) {
		bench_error(meas, "producer %d: no credit for %d s: the consumer stopped reaping",
			    producer, meas->o->hang_s);
		return 0;
	}
	/* The driver hands out credits to release producers at the stop. */
	return bench_stopping(meas) ? 0 : n;
}

struct deadline bench_wait_deadline(const struct measurement *meas)
{
	return deadline_in((int64_t)meas->o->hang_s * NSEC_PER_SEC);
}

int bench_threads_start(pthread_t *t, int n, void *(*fn)(void *), void *arg, size_t size)
{
	for (int i = 0; i < n; i++) {
		int ret = pthread_create(&t[i], NULL, fn, (char *)arg + (size_t)i * size);

		if (ret) {
			bench_threads_join(t, i);
			return -ret;
		}
	}
	return 0;
}

void bench_threads_join(pthread_t *t, int n)
{
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}
