/* SPDX-License-Identifier: MIT */
/*
 * twbench: throughput and latency of io_uring task_work, per workload,
 * ring mode and producer count, next to a userspace floor of the same
 * shape. A workload sets up its rings and threads, hands the measuring to
 * bench_drive() and reports what its consumers counted; the driver owns the
 * clock, the phases and the CPU accounting.
 */
#ifndef TW_BENCH_H
#define TW_BENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "hist.h"
#include "sync.h"

#define BENCH_MAX_PRODUCERS	64
#define BENCH_MAX_PLIST		12

struct bench_opts {
	double duration_s;		/* the measured interval of each repeat */
	double warmup_s;		/* before it: workers run, nothing counted */
	int repeats;
	int plist[BENCH_MAX_PLIST];	/* producer counts */
	int nplist;
	int batch;			/* msgring, user_mpsc: messages per submit/push */
	int wait_nr;			/* msgring: CQEs the consumer waits for */
	int window;			/* msgring, user_mpsc: messages in flight */
	int hang_s;			/* any wait longer than this is a hang */
	bool pin;			/* consumer on one CPU, producers on the others */
	bool verbose;
};

/* What a measurement is doing; the workers read it, the driver writes it. */
enum bench_phase { PH_SETUP, PH_WARMUP, PH_MEASURE, PH_STOP };

/*
 * One measurement of one (workload, mode, producers): one of a row's -r
 * repeats. What the driver and the workers share while it lasts, and what
 * they measured: twbench turns it into one repeat of a struct result.
 */
struct measurement {
	const struct bench_opts *o;
	const char *workload;
	const char *mode;
	int producers;

	int phase;			/* enum bench_phase, atomic */
	struct tw_barrier ready;	/* workers + the driver */

	/* Filled by the workers when they exit (bench_add_tally()). */
	pthread_mutex_t lock;
	uint64_t ops;			/* completed while PH_MEASURE */
	long sleeps;			/* the consumer's, while PH_MEASURE */
	bool slept_measured;
	uint64_t errors;
	char error[240];		/* the first error, for the report */
	struct hist lat;

	/* Filled by bench_drive(). */
	double seconds;			/* length of PH_MEASURE */
	double cpu_s;			/* user + system time of the process then */
	bool drove;			/* false: setup failed before the measuring */
};

/* A workload's answer for a (mode, producers) pair. */
enum bench_status { BENCH_OK, BENCH_SKIP, BENCH_ERROR };

struct workload {
	const char *name;
	const char *modes[6];		/* NULL-terminated */
	bool fan_in;			/* runs per producer count; else once, producers 1 */
	/* What kernel path a mode drives, for the report. */
	const char *(*path)(const char *mode);
	/* Sets up, calls bench_drive(), tears down. why: a skip's reason. */
	enum bench_status (*measure)(struct measurement *meas, char *why, size_t whylen);
};

extern const struct workload wl_msgring, wl_pingpong, wl_pollwake, wl_epoll_wake,
	wl_user_mpsc, wl_user_pingpong;

/*
 * Seeded faults, for the self-test only (test/self/bench.c; TW_BENCH_FAULT
 * in twbench): each makes the benchmark itself lose one completion the way
 * a broken kernel would, so that its loss checks are seen to fire.
 */
enum bench_fault {
	FAULT_NONE,
	FAULT_LOST_MESSAGE,	/* msgring, user_mpsc: one message counted, never sent */
	FAULT_LOST_TOKEN,	/* pollwake, epoll_wake: one token's CQE/event ignored */
	FAULT_LOST_REPLY,	/* pingpong, user_pingpong: one answer never sent */
	FAULT_STALLED_CONSUMER,	/* msgring, user_mpsc: credits never given back */
};
void bench_fault_set(enum bench_fault f);
/* True once after bench_fault_set(f): where the fault strikes. */
bool bench_fault_now(enum bench_fault f);

/* The driver: wait until the workers are ready (the barrier is sized
 * workers + 1), warm up, measure, set PH_STOP. -ETIMEDOUT if the workers
 * never got ready. */
int bench_drive(struct measurement *meas);

static inline int bench_phase(const struct measurement *meas)
{
	return __atomic_load_n(&meas->phase, __ATOMIC_ACQUIRE);
}

static inline bool bench_measuring(const struct measurement *meas)
{
	return bench_phase(meas) == PH_MEASURE;
}

static inline bool bench_stopping(const struct measurement *meas)
{
	return bench_phase(meas) == PH_STOP;
}

/* A worker's place: the consumer (or owner, or the side that measures a
 * round trip) is BENCH_CONSUMER; producers count from 0. */
#define BENCH_CONSUMER	(-1)

/* A worker arrives at the start line, pinned first (-a): the consumer to
 * the first allowed CPU, producer i to one of the others. Pinned, a
 * wake-up always crosses CPUs; unpinned, the scheduler decides each time
 * whether it does, and the numbers of one row jump between two modes. A
 * driver that never comes (setup failed elsewhere) is an error after
 * --hang seconds, not a hang. */
void bench_worker_ready(struct measurement *meas, int role);

/*
 * How often the consumer went to sleep while measuring: its voluntary
 * context switches (getrusage RUSAGE_THREAD), read when it first sees the
 * measuring start and end. Per operation, this is how many wake-ups an
 * operation cost the consumer - what batching and lazy wake-ups save -
 * and unlike ops/s it does not depend on how fast the machine is (under
 * emulation the clock lies; the count does not).
 */
struct sleep_meter {
	int state;			/* 0 before, 1 measuring, 2 done */
	long start;
	long sleeps;
};

void sleep_meter_tick(struct sleep_meter *m, bool measuring);

/* A worker's tally, merged when it exits; the consumer passes its meter. */
void bench_add_tally(struct measurement *meas, uint64_t ops, const struct hist *lat,
		     struct sleep_meter *sm);
/* Records an error (the first message is kept) from any thread. */
void bench_error(struct measurement *meas, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A producer's next batch: up to -b credits, waiting while the consumer
 * holds them all. 0 when the measurement stops, or when no credit came back for
 * --hang seconds (recorded as the error: the consumer stopped reaping). */
int bench_take_credits(struct measurement *meas, struct tw_credit *c, int producer);

/* A worker's deadline for one wait: a wait longer than this is a hang. */
struct deadline bench_wait_deadline(const struct measurement *meas);

/* Threads: start n workers running fn(arg + i * size), join them all. */
int bench_threads_start(pthread_t *t, int n, void *(*fn)(void *), void *arg, size_t size);
void bench_threads_join(pthread_t *t, int n);

#endif
