/* SPDX-License-Identifier: MIT */
/*
 * The wait-contract matrix (test/wait_matrix.c): its tables and its parts.
 *
 * A cell is one producer of completions x N x one wait form x one timing,
 * run on the case's ring profile. The tables are data; a cell is their
 * product minus what a table says cannot be expressed:
 *   wm_cells.c     the axes (N, wait forms, timings), the kernel needs, the
 *                  cells they make, their names, filters and run order
 *   wm_cell.c      one cell on the waiter's side: ring, arm, the job
 *   wm_cqe.c       its requests and CQEs: every CQE accounted, the drain
 *   wm_wait.c      the wait forms and the judged wait
 *   wm_fire.c      the firer thread (events, the bound, kicks) and the
 *                  second waiter
 *   wm_prod_io.c   producers: pipes, sockets, polls, links, io-wq, cancels
 *   wm_prod_ms.c   producers: multishot recv, accept and read
 *   wm_prod_msg.c  producers: MSG_RING, timeouts, link timeouts, futex, waitid
 */
#ifndef TW_WM_H
#define TW_WM_H

#include <signal.h>

#include "harness.h"

#define WM_MAX_N	40	/* events per cell at most: past the local run batch
				 * (IO_LOCAL_TW_DEFAULT_MAX, 20) and the SQ thread's (32) */
#define WM_MAX_CQES	(2 * WM_MAX_N)
#define WM_NBUF		(WM_MAX_N + 4)	/* provided buffers: one per event and spares */
#define WM_KICK_SIG	SIGUSR2	/* ends a wait the bound says was not woken */

enum wm_timing { WT_BEFORE, WT_AFTER, WT_SPREAD, WT_B2B, WT_COUNT };
enum wm_form {
	WF_PLAIN, WF_TIMEOUT, WF_SHORT, WF_MINWAIT, WF_MINWAIT_REG,
	WF_SQ_ASLEEP, WF_SQ_AWAKE, WF_SECOND, WF_COUNT
};
/* What a cell needs from the kernel beyond its ring profile (wm_cells.c). */
enum wm_need {
	WN_NONE, WN_EXT_ARG, WN_MSG_RING, WN_MSG_FD, WN_POLL_MS, WN_SPLICE, WN_ACCEPT_MS,
	WN_RECV_MS, WN_READ_MS, WN_FUTEX, WN_WAITID, WN_MIN_WAIT, WN_WAIT_REG, WN_COUNT
};

/* Producer flags. */
#define WP_MULTISHOT	(1u << 0)	/* one request, a CQE per event (F_MORE), ended by a cancel */
#define WP_FOLDS	(1u << 1)	/* wake-ups may fold into one CQE (multishot POLL_ADD) */
#define WP_TIMED	(1u << 2)	/* events are timer expiries, planned when armed */
#define WP_SELF		(1u << 3)	/* the waiter fires the events itself (cancelations) */
#define WP_ORDERED	(1u << 4)	/* CQEs must arrive in the order of the events */
#define WP_ENDS_WAITS	(1u << 5)	/* its CQE ends any wait (IORING_OP_TIMEOUT: cq_timeouts) */

#define WM_TIMINGS_ALL	((1u << WT_COUNT) - 1)

struct wm_run;

struct wm_producer {
	const char *name;
	const char *what;		/* for -L and doc/wait-matrix.md */
	unsigned profiles;		/* PMASK() set it can run on */
	unsigned flags;
	unsigned timings;		/* the timings it can express: 1 << enum wm_timing */
	unsigned per_event;		/* CQEs per event: 1, or 2 (a link, a cancel) */
	unsigned max_n;			/* N at most (0: any), and why in what */
	enum wm_need need;
	/* Waiter: queue the cell's requests (submitted by the caller). 0, or
	 * -errno the kernel answered (a refusal: wm_refused() judges it). */
	int (*arm)(struct wm_run *r);
	/* Firer: event i happens (a write, a connect, a kill, a MSG_RING...).
	 * 0, or -1 with the failure recorded (wm_fail). */
	int (*fire)(struct wm_run *r, unsigned i);
	/* Waiter: an event's CQE: the slot it fills (0 .. events x per_event
	 * - 1), or -1 with *why. Multishot terminators are judged by the caller. */
	int (*cqe)(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why);
	/* Waiter: release what arm() made (the ring is gone by then). */
	void (*cleanup)(struct wm_run *r);
};

struct wm_cell {
	unsigned idx;			/* its place in the profile's enumeration */
	const struct wm_producer *p;
	unsigned n;
	enum wm_form form;
	enum wm_timing timing;
	bool core;			/* always run (the default run's fixed part) */
	char name[64];			/* producer/n/form/timing */
};

/* Why a cell failed: the known bug's shape is a lost wake-up of a multishot. */
enum wm_kind { WK_NONE, WK_LOST_WAKE, WK_OTHER };

struct wm_case;

/* One cell being run: the waiter's, the firer's and the second waiter's view. */
struct wm_run {
	struct wm_case *c;
	const struct wm_cell *cell;
	struct tring *ring;		/* the case's ring of the cell's kind (wm_cell.c) */
	struct rng rng;			/* the cell's: its index and the case's seed */
	unsigned events, total;		/* events fired; CQEs they make in all */
	unsigned want;			/* CQEs the judged wait asks for */
	unsigned nwaiters;		/* 1, or 2 with the second waiter */
	bool local;			/* the profile's task_work is local (DEFER) */
	int64_t due[WM_MAX_N];		/* planned time of event i (timed, spread) */
	/* The firer and the waiters, in step (atomics). */
	int64_t t_post;			/* when every event was postable */
	int64_t t_enter[2];		/* waiter w entered its judged wait */
	int64_t t_floor[2];		/* ... and may not end it before (min_wait, timeout) */
	uint32_t kicked[2], expired[2];
	unsigned fsent;			/* requests the firer sent on its own ring */
	int32_t fres;			/* ... and the res each must complete with */
	/* The failure, the first one recorded. */
	uint32_t failed;
	enum wm_kind kind;
	char why[400];
	/* CQE accounting. */
	uint8_t seen[WM_MAX_CQES];
	unsigned nseen, ndata, order_next;
	bool ms_ended, cancel_done, ms_cancelled, provided, removed;
	/* Per-event resources of the producers. */
	int fd[WM_MAX_N][2];		/* [0] the ring's end, [1] the firer's */
	int afd[WM_MAX_N][2];		/* a second pipe per event (splice) */
	int lfd;			/* accept: the listener */
	int cfd[WM_MAX_N];		/* accept: the firer's clients */
	struct { pid_t pid; } kid[WM_MAX_N];	/* waitid's children */
	uint32_t word[WM_MAX_N];	/* futex */
	siginfo_t si[WM_MAX_N];		/* waitid */
	struct __kernel_timespec ts[WM_MAX_N];
	uint64_t rbuf[WM_MAX_N];	/* one-shot read targets */
	uint64_t pbuf[WM_NBUF];		/* provided buffers (8 bytes each) */
	unsigned nfd;
};

/* What a case's threads share. */
struct wm_case {
	struct tcase *tc;
	pid_t tid[2];			/* the waiter, the second waiter */
	struct wm_run run;
	struct tring rings[4];		/* by kind: plain, SQ asleep, SQ awake, wait region */
	struct tw_thread firer, second;
	bool has_second;
	struct tring fring;		/* the firer's own ring: MSG_RING, FUTEX_WAKE */
	bool fring_ok;
	struct tw_counter go, fired, waited[2], idle, second_go;
	uint32_t seq;
	bool stop;
	int64_t bound_ns;		/* a wait ends this long after its CQEs are postable */
	int64_t long_ns;		/* the long timeout (WF_TIMEOUT, min_wait forms) */
};

/* The producers (wm_prod_*.c), listed in wm_cells.c. */
extern const struct wm_producer wm_msg_data, wm_msg_fd, wm_pipe_read, wm_pipe_write,
	wm_sock_recv, wm_sock_send, wm_poll, wm_poll_ms, wm_poll_excl, wm_recv_ms_dgram,
	wm_recv_ms_stream, wm_accept_ms, wm_read_ms, wm_link, wm_link_timeout, wm_timeout,
	wm_futex, wm_waitid, wm_async, wm_cancel;

/* ---- wm_cells.c ---------------------------------------------------------- */

extern const struct wm_producer *const wm_producers[];
extern const unsigned wm_nproducers;
extern const char *const wm_form_names[WF_COUNT];
extern const char *const wm_timing_names[WT_COUNT];

/* Parse a filter ("producer=a,n=2,wait=plain,timing=b2b,cell=NAME"; a key
 * given twice matches either value): 0, or -1 with a message on stderr. */
int wm_filter_parse(const char *spec);
bool wm_filtering(void);
/* The cells of a profile (filtered); *n set. calloc'd, in table order. */
struct wm_cell *wm_cells(enum profile_id prof, unsigned *n);
/* Print the cells of the profiles in mask, one a line (-L). */
void wm_list(unsigned mask);
/* Order to run them in: the core (or filtered) cells first, the others in
 * a seeded order. Returns how many must run whatever the time. */
unsigned wm_order(struct wm_cell *cells, unsigned n, uint64_t seed, unsigned *order);
/* NULL if the kernel can do what the need names, else the skip reason; a
 * refusal the kernel's version says it should not make is a failure. */
const char *wm_need_missing(enum wm_need need);
/* A kernel answer -err to a request of need: a skip (reason returned) or a
 * failure recorded in r (NULL returned). */
const char *wm_refused(struct wm_run *r, enum wm_need need, int err, const char *what);
enum wm_need wm_form_need(enum wm_form f);

/*
 * Seeded faults of the matrix's own, for its self-test
 * (test/meta/wait-matrix.sh), from $TW_WM_FAULT: the test misbehaves on
 * purpose and a check must say so. lostwake: the kernel is asked for one
 * CQE more than the check expects (a sleep past the bound); early: one
 * fewer; drop: the last event is not fired; extra: a NOP no event asked
 * for; reorder: events fired last first.
 */
enum wm_fault { WM_NO_FAULT, WM_LOSTWAKE, WM_EARLY, WM_DROP, WM_EXTRA, WM_REORDER };
extern enum wm_fault wm_fault;
/* 0, or -1 with a message on stderr for a name it does not know. */
int wm_fault_parse(const char *name);

/* ---- wm_cell.c ----------------------------------------------------------- */

/* Run one cell: NULL when it ran (r->failed says how), else why it skipped. */
const char *wm_cell_run(struct wm_case *c, const struct wm_cell *cell, uint64_t seed);
/* The case's first ring: V_PASS, or a skip if the kernel refuses the
 * profile. The case's rings are closed at its end. */
enum verdict wm_ring_first(struct wm_case *c);
void wm_rings_exit(struct wm_case *c);
/* Record the cell's failure (the first one counts). */
void wm_fail(struct wm_run *r, enum wm_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- wm_cqe.c ------------------------------------------------------------ */

/* Reap everything in the CQ into the cell's accounting. */
void wm_reap(struct wm_run *r);
/* After the judged wait: every CQE to come, the multishot request ended,
 * the buffers left removed, nothing more in the CQ. */
void wm_drain(struct wm_run *r);
/* Wake-ups may fold into fewer CQEs than events (WP_FOLDS, unless each
 * event waited for the previous one's CQE). */
bool wm_folds(const struct wm_run *r);
/* user_data of event i's request (k = 0), its second (k = 1), or others. */
#define WM_UD(k, i)	(0x5754000000000000ull | ((uint64_t)(k) << 32) | (uint32_t)(i))
#define WM_UD_MS	WM_UD(2, 0)	/* the multishot request */
#define WM_UD_CANCEL	WM_UD(3, 0)	/* the cancel that ends it */
#define WM_UD_SETUP	WM_UD(4, 0)	/* buffers provided at arm time */
#define WM_UD_REMOVE	WM_UD(4, 1)	/* ... and those left removed at the end */
/* The slot of a CQE whose user_data is WM_UD(k, i): i x per_event + k, or
 * -1 with *why. */
int wm_ud_slot(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why);
/* A fresh SQE on the cell's ring. */
struct io_uring_sqe *wm_sqe(struct wm_run *r);
/* Provide WM_NBUF buffers of 8 bytes in group 1 and wait for it: 0 or -errno. */
int wm_provide_buffers(struct wm_run *r);
/* The slot a provided buffer's data names (the event number written). */
int wm_buffer_slot(struct wm_run *r, const struct io_uring_cqe *cqe, const char **why);
/* Write / read an 8-byte event number. 0, or -1 with the failure recorded. */
int wm_write_event(struct wm_run *r, int fd, unsigned i);
void wm_close_fds(struct wm_run *r);

/* ---- wm_wait.c ----------------------------------------------------------- */

/* The judged wait of waiter w (0: the ring's owner, 1: the second waiter). */
void wm_judged_wait(struct wm_run *r, unsigned w, unsigned to_submit);
/* Register a wait region on the still disabled ring: 0 or -errno. */
int wm_region_setup(struct wm_run *r);
void wm_region_free(void);
/* Waiter w is asleep in io_uring_enter (state S, in that syscall). */
bool wm_asleep_in_enter(pid_t tid);

/* ---- wm_fire.c ----------------------------------------------------------- */

/* Start the firer (and the second waiter if the profile allows one). */
enum verdict wm_threads_start(struct wm_case *c);
void wm_threads_stop(struct wm_case *c);
/* The waiter's side of a job: hand the cell to the threads, and wait. */
void wm_job_start(struct wm_case *c);
int wm_job_wait(struct wm_case *c, struct tw_counter *ctr, const char *what);

#endif
