/* SPDX-License-Identifier: MIT */
/*
 * Fuzzy synchronisation: make a two-party race land everywhere in its
 * window, not only where the scheduler happens to put it (the idea of LTP's
 * tst_fuzzy_sync; our own code).
 *
 * Two racers, A and B, meet at a spinning rendezvous before each attempt,
 * run their racy step, and mark its end. The first `calibrate` attempts
 * start together and only measure how long each step takes (and how far
 * apart the two starts land). From then on B's start is moved relative to
 * A's by an offset drawn uniformly over the whole window in which the two
 * steps overlap at all:
 *
 *     offset = B's start - A's start  in  [-duration(B), +duration(A)]
 *
 * so B's step ends just as A's begins at one end, and begins just as A's
 * ends at the other. The racer that starts later spins for the difference
 * (no sleep: a sleep's slack is larger than the window).
 *
 * Replay: the position of each offset in its window (a fraction in [0, 1))
 * comes from the seed alone, so the same seed places the offsets at the
 * same points of the window; the window's size in ns is measured, so the
 * absolute offsets follow the machine's speed.
 *
 * The pair may live in MAP_SHARED memory: A and B may be threads or
 * processes. A racer that never reaches its end mark (a killed child) is
 * fine: the other side simply does not call fuzzy_end() for that attempt.
 * Every spin has a deadline; a missed rendezvous returns -ETIMEDOUT.
 *
 * Typical use (resize, close, kill, exit): see test/self/fuzzy.c
 *
 *     fuzzy_init(f, tc->seed, 0);                 // once, before the racers
 *     each racer: fuzzy_pin(side, &saved) ... fuzzy_unpin(&saved)
 *     racer A:  fuzzy_start(f, FUZZY_A, &dl); step_a(); fuzzy_end(f, FUZZY_A, &dl);
 *     racer B:  fuzzy_start(f, FUZZY_B, &dl); step_b(); fuzzy_end(f, FUZZY_B, &dl);
 */
#ifndef TW_FUZZY_H
#define TW_FUZZY_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "rng.h"
#include "timeutil.h"

enum fuzzy_side { FUZZY_A, FUZZY_B };

/* Which window the offsets are spread over. */
enum fuzzy_window_kind {
	/* Any overlap of the two steps: [-duration(B), +duration(A)]. */
	FUZZY_OVERLAP,
	/* B acts when its step ends (a kill(), a close() whose effect is its
	 * last instruction): B's end over A's step, [-duration(B),
	 * duration(A) - duration(B)]. */
	FUZZY_B_ENDS_IN_A,
};

#define FUZZY_CALIBRATE_DEFAULT	8
#define FUZZY_CALIBRATE_MAX	32

struct fuzzy {
	/* Rendezvous: each side counts the attempts it reached (start) and
	 * finished (end); a side waits for the other's count. Arriving is a
	 * futex word (a side far ahead sleeps, leaving the CPU to the other);
	 * then both spin on started, which is precise. */
	uint32_t arrived_no[2], started[2], ended[2];
	uint32_t sleeping[2];
	uint32_t stopped;		/* fuzzy_stop(): no more attempts */
	/* The attempt being raced: set by B before it arrives at the start. */
	int64_t delay_ns[2];		/* how long each side spins after meeting */
	double position;		/* where in the window, [0, 1); -1 calibrating */
	int64_t start_ns[2], end_ns[2];
	/* Statistics, kept by B after each attempt both sides ended: medians
	 * of the calibration (a preempted racer is an outlier, not a mean),
	 * then a running mean that ignores such outliers. */
	unsigned calibrate, samples;
	int64_t cal_ns[2][FUZZY_CALIBRATE_MAX], cal_skew_ns[FUZZY_CALIBRATE_MAX];
	double avg_ns[2];		/* each step's duration */
	double avg_skew_ns;		/* B start - A start with no delay */
	struct rng rng;			/* B's: the positions */
	bool racing;			/* calibration done */
	enum fuzzy_window_kind kind;
	bool arrived[2], leaving[2];	/* a side that timed out may try again */
};

/* Before either racer runs. calibrate 0: FUZZY_CALIBRATE_DEFAULT; at most
 * FUZZY_CALIBRATE_MAX are kept (more: calibrate longer, never race). */
void fuzzy_init(struct fuzzy *f, uint64_t seed, unsigned calibrate);
/* Before the first attempt: another window than FUZZY_OVERLAP. */
void fuzzy_set_window(struct fuzzy *f, enum fuzzy_window_kind kind);
/* Meet the other side, then wait out this side's delay. 0, -ECANCELED
 * (fuzzy_stop()) or -ETIMEDOUT; a
 * side that timed out is still there: calling again resumes its wait (so a
 * caller may wait in slices and look after the other racer in between). */
int fuzzy_start(struct fuzzy *f, enum fuzzy_side side, const struct deadline *dl);
/* For a racer that cannot mark its own end (it exited, exec'd): the other
 * side marks it, with when it saw the end. Then fuzzy_end() for itself. */
void fuzzy_end_for(struct fuzzy *f, enum fuzzy_side side, int64_t end_ns);
/* Either side: the race is over (the racer will not come again). Starts and
 * ends waiting or to come return -ECANCELED. */
void fuzzy_stop(struct fuzzy *f);
/* The racy step is over; meet the other side (B then updates the
 * statistics). 0 or -ETIMEDOUT (then resumable, as fuzzy_start()). */
int fuzzy_end(struct fuzzy *f, enum fuzzy_side side, const struct deadline *dl);
/*
 * Put the calling racer on a CPU of its own (A the last, B the first; no-op
 * on one CPU): two racers sharing a CPU only take turns, and a busy test
 * has more runnable threads than CPUs. saved (may be NULL) gets the old
 * mask for fuzzy_unpin().
 */
void fuzzy_pin(enum fuzzy_side side, cpu_set_t *saved);
void fuzzy_unpin(const cpu_set_t *saved);
/* The current attempt: is it raced (not calibrating), where in the window,
 * the window's ends in ns (offset of B's start from A's). */
bool fuzzy_racing(const struct fuzzy *f);
double fuzzy_position(const struct fuzzy *f);
void fuzzy_window(const struct fuzzy *f, int64_t *lo_ns, int64_t *hi_ns);
/* After both started: the offset that really happened (B start - A start). */
int64_t fuzzy_offset_seen(const struct fuzzy *f);

#endif
