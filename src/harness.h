/* SPDX-License-Identifier: MIT */
/*
 * The harness every test uses. A test declares a `struct scenario` and calls
 * harness_main(); the harness parses the common options, runs the scenario
 * once per ring profile (each case in its own forked process, watched by the
 * parent), and prints kselftest-style TAP.
 *
 * This header is the map: a section per prefix, each naming its file.
 *
 *   profile_*     ring profiles: the ways of setting a ring up       profile.c
 *   harness_main  options, the profile loop, TAP                     harness.c
 *                 one case: a forked process under a watchdog        case.c
 *   tc_*          verdicts, messages, hang reports                   tc.c
 *   tring_*       rings from a profile, raw waits with deadlines,    tring.h, tring.c
 *                 a submit and its wait judged (hang or failure)
 *   ledger_*      exactly-once / FIFO accounting of every CQE        ledger*.c
 *   diag_*        threads, rings and kernel threads of a hang        diag.c
 *   proc_*        fork, reaping with deadlines, kills; tasks seen    proc.c
 *                 through /proc (state, CPU time, by name)
 *   probe_*       teardown probes: a ring's teardown finished        probe.c
 *   need_*, tc_refused*: what a scenario needs of the kernel, and    needs.h, needs.c
 *                 what a refusal means (skip or failure)
 *   tw_thread_*   named threads with seeded RNGs                     thread.c
 *
 * Beside it, each with its own header:
 *   tw_barrier_*, tw_event_*, tw_counter_*, tw_credit_* (futex
 *                 based, with deadlines; sleep_until_ns())           sync.h, sync.c
 *   rng_*         seeded randomness                                  rng.h, rng.c
 *   kver_*        the running kernel's version (TW_KVER)             kver.h, kver.c
 *   deadline_*    deadlines, now_ns(), ns_to_s()                     timeutil.h
 *   wait_check_*  batched waits that tell a lost wake-up             wait_check.h, .c
 *   fuzzy_*, jitter_*, faults_*: race widening                       race/
 *   compat.h      kernel ABI values Debian 12's liburing lacks
 * The harness's own: case.h (what harness.c, case.c and tc.c share),
 * ledger.h (what ledger.c and ledger_verify.c share),
 * procfs.h (reading /proc; runner/supervise builds procfs.c too).
 *
 * For a test writer: doc/harness.md.
 */
#ifndef TW_HARNESS_H
#define TW_HARNESS_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <liburing.h>

#include "compat.h"
#include "rng.h"
#include "timeutil.h"
#include "sync.h"

/* ---- ring profiles (profile.c) ----------------------------------------- */

enum profile_id {
	P_DEFAULT,
	P_COOP,
	P_COOP_FLAG,
	P_SINGLE,
	P_DEFER,
	P_DEFER_FLAG,
	P_SQPOLL,
	P_COUNT
};

#define PMASK(id)	(1u << (id))
#define PROFILES_ALL	((1u << P_COUNT) - 1)
/* Profiles whose completions arrive as normal (tctx) task_work. */
#define PROFILES_NORMAL_TW \
	(PMASK(P_DEFAULT) | PMASK(P_COOP) | PMASK(P_COOP_FLAG) | PMASK(P_SINGLE) | PMASK(P_SQPOLL))
/* Profiles whose completions arrive as local (ctx->work_list) task_work. */
#define PROFILES_LOCAL_TW	(PMASK(P_DEFER) | PMASK(P_DEFER_FLAG))

/* Properties a scenario needs to know about a profile. */
#define PROF_SINGLE_ISSUER	(1u << 0)	/* only the creator may submit */
#define PROF_LOCAL_TW		(1u << 1)	/* DEFER_TASKRUN: only the creator may wait */
#define PROF_TASKRUN_FLAG	(1u << 2)	/* kernel raises IORING_SQ_TASKRUN */
#define PROF_SQPOLL		(1u << 3)	/* an SQ thread submits and runs normal tw */

struct profile {
	enum profile_id id;
	const char *name;
	unsigned setup_flags;
	unsigned props;
	const char *what;
};

extern const struct profile profiles[P_COUNT];
const struct profile *profile_by_name(const char *name);

/* ---- scenarios and cases (harness.c, case.c) ---------------------------- */

enum verdict { V_PASS, V_SKIP, V_FAIL, V_HANG, V_CRASH };

struct tcase;

#include "needs.h"

struct scenario {
	const char *name;
	const char *summary;		/* one line: what is checked */
	unsigned profiles;		/* PMASK() set the scenario runs over */
	/* Returns the case verdict; tc_fail()/tc_hang() may also set it. */
	enum verdict (*run)(struct tcase *tc);
	unsigned min_threads;		/* producer threads at least (default 4) */
	bool needs_root;		/* whole scenario skips for non-root */
	/* NEED() sets (needs.h): a kernel older than a need skips the case
	 * (.needs) or the sub-check (.part_needs, tc_part_predated()). */
	uint64_t needs, part_needs;
	/*
	 * Regression tests: the kernel fix whose bug this scenario reproduces.
	 * A failing case then says "may be missing fix <commit> (\"<subject>\")"
	 * on its verdict line and in the TAP reason. commit may be "-" (a fix
	 * known by its subject only); both NULL for ordinary scenarios.
	 */
	const char *fix_commit;
	const char *fix_subject;
	/* Seeded faults that show a check firing (test/meta/seeded-faults.sh):
	 * "NAME  what it breaks" lines for -h; see harness_seeded(). */
	const char *seeded_faults;
};

struct tcase {
	const struct scenario *sc;
	const struct profile *prof;
	char name[64];			/* "<scenario>.<profile>" */
	uint64_t seed;			/* this case's seed, derived from the run seed */
	uint64_t run_seed;		/* what -s takes */
	double duration;		/* seconds of load, -d */
	int64_t hang_ns;		/* no-progress deadline for any single wait */
	int64_t start_ns;		/* now_ns() when the case began (hang reports) */
	unsigned threads;		/* producer threads, -n (default 2 x CPUs) */
	int verbose;
	bool jitter;			/* -j: jitter threads run during the case (jitter.h) */
	bool fault_inject;		/* -F: tests that inject faults may (fault_inject) */
	struct case_shared *shared;	/* verdict and reason, visible to the parent */
};

int harness_main(int argc, char **argv, const struct scenario *sc);
/* Is the seeded fault name asked for ($TW_SEED_FAULT: a comma-separated list
 * of names)? Off by default, only for self-tests of a test's own checks. */
bool harness_seeded(const char *name);
/*
 * For the harness's own self-tests only: a case context outside
 * harness_main() (profile "default", hang deadline 10 s, verbose off; the
 * fields may be changed). Its verdict area is MAP_SHARED, so checks run in
 * forked children report into it too. Lives until the process exits.
 */
struct tcase *tc_selftest_new(const char *name);

/* ---- verdicts and messages (tc.c) ------------------------------------------ */

/* Verdicts and messages. All printf-like; messages are prefixed with the case
 * name and go to stdout as TAP diagnostics ("# ..."). */
enum verdict tc_fail(struct tcase *tc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum verdict tc_skip(struct tcase *tc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* One sub-check (part) of the case did not run: "# SKIP-PART <case>:
 * <part>: <reason>", once per part; the case goes on and may still pass.
 * Only for a kernel that predates the part's feature (tc_refused_part()). */
void tc_skip_part(struct tcase *tc, const char *part, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void tc_log(struct tcase *tc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tc_info(struct tcase *tc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum verdict tc_verdict(const struct tcase *tc);
const char *tc_reason(const struct tcase *tc);	/* with the verdict; "" if passing */
bool tc_failed(const struct tcase *tc);
/* Deadline for one wait: now + hang_ns. The case's own: the watchdog's. */
struct deadline tc_deadline(const struct tcase *tc);
double tc_watchdog_secs(const struct tcase *tc);
/* True while the load phase (duration) lasts. */
bool tc_keep_going(const struct tcase *tc, const struct deadline *load_end);
struct ledger;
struct tring;
/*
 * Report a hang of this case: what was awaited, then the ledger (if any),
 * the ring's fdinfo (if any) and every thread's state, wchan and kernel
 * stack. Sets the verdict to HANG and returns it.
 */
enum verdict tc_hang(struct tcase *tc, const struct ledger *l, const struct tring *r,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- rings (tring.c): src/tring.h ---------------------------------------- */

#include "tring.h"

/* ---- CQE ledger (ledger.c, ledger_verify.c) ------------------------------- */

/* user_data: [63..56] ledger tag, [55..44] producer, [43..32] channel, [31..24]
 * generation (the round), [23..0] sequence. The tag rejects CQEs the ledger
 * never issued, the generation a late CQE of an earlier round. */
#define LEDGER_MAX_PRODUCERS	4096u
#define LEDGER_MAX_CHANNELS	4096u
#define LEDGER_MAX_PER_STREAM	((1u << 24) - 1)	/* sequences per stream */
#define LEDGER_FIFO		(1u << 0)	/* per-(producer, channel) order */

struct ledger;
/* What a CQE's res/flags must be; returns NULL if fine, else a reason. */
typedef const char *(*ledger_check_fn)(uint64_t ud, int32_t res, uint32_t flags, void *arg);

/* The ledger lives in MAP_SHARED memory so that forked processes can produce
 * into (or consume from) the same one. per_stream bounds the sequence space
 * (at most LEDGER_MAX_PER_STREAM; NULL with EINVAL beyond the limits). */
struct ledger *ledger_new(struct tcase *tc, const char *name, unsigned producers,
			  unsigned channels, uint32_t per_stream, unsigned flags);
void ledger_free(struct ledger *l);
void ledger_set_check(struct ledger *l, ledger_check_fn fn, void *arg);
/* The next round: a new generation in user_data; a CQE of an earlier one is a
 * violation ("stale"). Requests of the last round must be done or gone. */
void ledger_reset(struct ledger *l);
uint64_t ledger_ud(const struct ledger *l, unsigned p, unsigned c, uint32_t seq);
void ledger_decode(uint64_t ud, unsigned *p, unsigned *c, uint32_t *seq);
bool ledger_owns(const struct ledger *l, uint64_t ud);
/* Producer side: n more requests of stream (p, c) were issued, sequences
 * counting up from 0; each must complete exactly once or be withdrawn. */
void ledger_sent(struct ledger *l, unsigned p, unsigned c, uint32_t n);
/* Producer side: request seq (counted by ledger_sent()) will not complete -
 * refused, or left to a ring's teardown: a CQE for it is a violation, as is
 * withdrawing one that completed or was withdrawn (false). */
bool ledger_withdraw(struct ledger *l, unsigned p, unsigned c, uint32_t seq);
/* Consumer side: account one CQE. Returns false on a violation (recorded). */
bool ledger_cqe(struct ledger *l, uint64_t ud, int32_t res, uint32_t flags);
uint64_t ledger_total_sent(const struct ledger *l);
uint64_t ledger_total_seen(const struct ledger *l);
/* Issued - completed - withdrawn; < 0 while CQEs outrun the producers. */
int64_t ledger_outstanding(const struct ledger *l);
uint64_t ledger_stream_seen(const struct ledger *l, unsigned p, unsigned c);
unsigned ledger_errors(const struct ledger *l);
/* End of a round, every stream exactly: each seq of [0, sent) completed once
 * or withdrawn (else "lost", listed), none completed and withdrawn, none at or
 * beyond sent ("more CQEs than requests issued"). False on any violation. */
bool ledger_verify(struct ledger *l);
/* One-paragraph state for hang reports. */
void ledger_dump(const struct ledger *l);

/* Reap everything in the CQ into the ledger. Returns the number reaped. */
unsigned ledger_reap(struct ledger *l, struct tring *r);

/* ---- diagnostics (diag.c) ------------------------------------------------- */

/* Dump /proc/<pid>/task/<*>: comm, state, wchan, stack. */
void diag_dump_tasks(pid_t pid, const char *indent);
/* Dump the io_uring fds of a process: fdinfo of each. */
void diag_dump_rings(pid_t pid, const char *indent);
void diag_dump_fdinfo(pid_t pid, int fd, const char *indent);
/* Kernel tasks that look busy in io_uring teardown (kworkers, iou-*). */
void diag_dump_uring_kthreads(const char *indent);

/* ---- processes (proc.c) --------------------------------------------------- */

struct child {
	pid_t pid;
	int pidfd;
};

/* Zeroed memory that forked children share with us (MAP_SHARED anonymous):
 * ledgers, counters, events across fork(). NULL (errno set) on failure;
 * release with munmap(p, len). */
void *proc_shared_alloc(size_t len);
/* fork(); in the child, run fn(arg) and _exit with its return value. */
int proc_spawn(struct child *c, int (*fn)(void *), void *arg);
/*
 * Wait for the child to exit by the deadline. Returns 0 with *status set
 * (waitpid status), or -ETIMEDOUT.
 */
int proc_reap(struct child *c, const struct deadline *dl, int *status);
/* SIGKILL and reap by the deadline, but never less than PROC_KILL_NS after
 * the kill (a deadline spent on an earlier wait leaves the reap its own);
 * -ETIMEDOUT means unkillable. */
#define PROC_KILL_NS	(5 * NSEC_PER_SEC)
int proc_kill_reap(struct child *c, const struct deadline *dl, int *status);
/*
 * A case's child at the end of the case: reap it by the case's hang
 * deadline; one still running then is a hang ("<what> (pid N) could not be
 * reaped"), and is SIGKILLed; one that ended other than with exit status 0
 * is a failure. 0, or -ETIMEDOUT / -ECHILD after the report.
 */
int proc_reap_or_kill(struct tcase *tc, struct child *c, const char *what);
const char *proc_status_str(int status, char *buf, size_t len);

/*
 * Tasks (threads or processes, of this process or another) by their id,
 * through /proc/<tid>/task/<tid>. A task's state letter: R, S, D, T, Z, ...
 * ('?' if unreadable).
 */
char proc_task_state(pid_t tid);
/* Poll (bounded, yielding) until the task is in state ('S', 'T'), or (_asleep)
 * in S and switched out since proc_task_nvcsw() was `since`: 0 or -ETIMEDOUT. */
int proc_task_wait_state(pid_t tid, char state, const struct deadline *dl);
int proc_task_wait_asleep(pid_t tid, long since, const struct deadline *dl);
long proc_task_nvcsw(pid_t tid);	/* voluntary context switches so far; -1 */
/* CPU time the task (that thread alone) has used, in ns; -1 if unreadable. */
int64_t proc_task_cpu_ns(pid_t tid);
/* The first thread of process pid whose name starts with prefix
 * ("iou-sqp-"), or -1. */
pid_t proc_find_thread(pid_t pid, const char *prefix);
unsigned ncpus(void);
bool is_root(void);

/* ---- teardown probes (probe.c) -------------------------------------------- */

/*
 * A teardown probe proves that a ring's context was freed: the read end of
 * a pipe is registered as the ring's only fixed file (and a read on it is
 * left pending), and every other reference to it is closed. The observer
 * keeps the write end; it reports POLLERR only once no reader is left, i.e.
 * once the ring dropped its file table at the end of teardown.
 */
struct teardown_probe {
	int rfd;			/* read end, until handed to the ring */
	int wfd;			/* write end, kept by the observer */
	char what[64];
};

int probe_create(struct teardown_probe *p, const char *what);
/* In the ring's owner: register the read end and leave a read pending. */
int probe_arm(struct teardown_probe *p, struct tring *r, uint64_t ud);
/* In the observer, once nothing but the ring holds the read end. */
void probe_drop_reader(struct teardown_probe *p);
void probe_drop_writer(struct teardown_probe *p);
/* 0 once the ring's teardown finished, -ETIMEDOUT at the deadline. */
int probe_wait(struct teardown_probe *p, const struct deadline *dl);
void probe_close(struct teardown_probe *p);
/* Close n rings of this process and prove each one's teardown finished
 * (a probe per ring; a ring must have no fixed files registered). A
 * teardown that does not finish in time is reported as a hang. */
void tring_exit_proven(struct tcase *tc, struct tring *rings, unsigned n, uint64_t probe_ud);

/* ---- threads (thread.c) --------------------------------------------------- */

struct tw_thread {
	pthread_t th;
	pid_t tid;
	char name[16];
	void *(*fn)(struct tw_thread *);
	void *arg;
	unsigned idx;
	struct rng rng;
	bool started, joined;
};

/* Start a thread named name with its own seeded RNG (case seed, idx). */
int tw_thread_start(struct tcase *tc, struct tw_thread *t, const char *name, unsigned idx,
		    void *(*fn)(struct tw_thread *), void *arg);
/* Join by the deadline; -ETIMEDOUT if it did not finish. */
int tw_thread_join(struct tw_thread *t, const struct deadline *dl);
/* Join all; on a timeout report a hang naming the stuck thread. */
enum verdict tw_threads_join(struct tcase *tc, struct tw_thread *t, unsigned n,
			     const struct ledger *l, const struct tring *r);

#endif
