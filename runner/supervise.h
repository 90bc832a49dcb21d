/* SPDX-License-Identifier: MIT */
/*
 * supervise: the process side of runtests.sh. It runs one test program in
 * its own process group, enforces the timeout (SIGINT, then SIGKILL, then
 * "unkillable" with the tasks' kernel stacks), marks the kernel log around
 * the run and around each case, samples the taint, waits for io_uring
 * teardown to settle after it, and writes a key=value result file the shell
 * reads. The files: supervise.c (options, running and stopping the
 * program), output.c (the log and the result file), tasks.c (the process
 * group seen from /proc), kmsg.c (kernel log and taint), settle.c (io_uring
 * teardown after the program).
 */
#ifndef TW_SUPERVISE_H
#define TW_SUPERVISE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "timeutil.h"

/* ---- the log (output.c) ---------------------------------------------------- */

/* Where supervise's own lines go: the test log (and the terminal with -e). */
struct out {
	int log_fd;			/* -1: none */
	bool echo;			/* also to our stdout */
	bool at_line_start;		/* last byte written was a newline */
};

void out_raw(struct out *o, const char *buf, size_t len);
/* One "# supervise: ..." line, started on a fresh line. */
void out_msg(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- tasks (tasks.c) ---------------------------------------------------- */

#define MAX_GROUP	256

/* Processes whose process group is pgid (zombies included). Returns the count. */
int group_members(pid_t pgid, pid_t *pids, int max);
/* Each task of each member: state, wchan and kernel stack (where readable). */
void group_dump(struct out *o, pid_t pgid);
/*
 * SIGKILL the group and wait for every member to exit, by pidfd, until the
 * deadline. Returns how many are left; their pids go to *stuck.
 */
int group_kill_wait(struct out *o, pid_t pgid, const struct deadline *dl, pid_t *stuck, int max);
int pidfd_open_pid(pid_t pid);
const char *signame(int sig);

/* ---- kernel log and taint (kmsg.c) --------------------------------------- */

#define CASE_NAME_MAX	96

struct case_mark {
	char name[CASE_NAME_MAX];
	unsigned long taint;		/* at the start of the case */
};

/* Where the previous reader of the log stopped (-K, -T), and the file for
 * what was logged since (-b): the log between programs. */
struct kmsg_chain {
	bool has_seq, has_taint;
	unsigned long long seq;		/* its last record */
	unsigned long taint;		/* the taint there */
	const char *gap_path;		/* NULL: none */
};

struct kmsg {
	int rfd, wfd;			/* the log (klog.c), -1 where not permitted */
	FILE *fake;			/* TW_KMSG_FILE: a canned log instead */
	unsigned long long fake_seq;	/* its last record's number */
	char off_reason[128];		/* why the log is not checked */
	char id[48];			/* tags our markers: "tw-runtests[<id>]: " */
	char label[128];		/* the program, for the begin/end markers */
	unsigned long taint_start, taint_end;
	struct case_mark *cases;
	unsigned ncases, cap;
	bool seq_known;			/* next_seq is the record we expect next */
	unsigned long long next_seq;
	unsigned records, save_max;	/* records saved, and the limit */
	unsigned dropped, section_dropped;	/* beyond the limit: not saved */
	unsigned long long lost;	/* overwritten before they were read */
	bool settled;			/* io_uring teardown settled (settle.c) */
	char settle[512];		/* what we waited for, and how long */
};

/*
 * Write a marker ("begin PROGRAM", or "mark LABEL" for the run's start and
 * end) and read the log up to it: what came after the previous reader's
 * last record (prev, may be NULL) into prev->gap_path.
 */
void kmsg_open(struct kmsg *k, const char *label, const char *what,
	       const struct kmsg_chain *prev);
/* The program printed "# case NAME:": mark the log, sample the taint. */
void kmsg_case(struct kmsg *k, const char *name);
/* After the run: end marker, then (path not NULL) the excerpt - records after
 * our begin marker, split per case with the taint each case added. */
int kmsg_finish(struct kmsg *k, const char *path);
/* The result file's kernel lines: taint, kmsg, kmsg_seq (the -K of the next
 * reader), settle. */
void kmsg_result(const struct kmsg *k, FILE *f);
/* Release what kmsg_case() collected, close the log. */
void kmsg_free(struct kmsg *k);
unsigned long taint_read(void);
/* Letters of the taint bits in mask, as in /proc/sys/kernel/tainted docs. */
const char *taint_letters(unsigned long mask, char *buf, size_t len);

/* The log itself (klog.c): /dev/kmsg, or $TW_KMSG_FILE (a canned log). */
#define KMSG_RECORD_MAX		8192	/* a record and its dictionary fit */

struct klog_record {
	unsigned long long seq, usec;
	const char *text;
};

/* Open it for reading (from its oldest record, or from its end) and for our
 * markers; on failure the log is off, with the reason. */
void klog_open(struct kmsg *k, bool from_start);
/* One record into rec, NUL-terminated: its length, 0 when none is left, -1
 * with errno (EPIPE: records were overwritten). */
ssize_t klog_read(struct kmsg *k, char *rec, size_t len);
/* Its number, time and text (rec is cut after the text). */
bool klog_parse(char *rec, struct klog_record *r);
/* Write "tw-runtests[ID]: WHAT NAME": 0, or -1 with errno. */
int klog_mark(struct kmsg *k, const char *what, const char *name);
/* Our marker? Its text after the tag, or NULL. */
const char *klog_ours(const struct kmsg *k, const char *msg);
/* The log is not checked: why; its files closed. */
void klog_off(struct kmsg *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- io_uring teardown (settle.c) ---------------------------------------- */

/*
 * Wait up to secs (0: not at all) until io_uring's deferred teardown has
 * settled: a sentinel ring's teardown finished and no kworker is in one.
 * A signal on sig_fd ends the wait. Says in report what it waited for and
 * how long; true when settled.
 */
bool settle_wait(double secs, int sig_fd, char *report, size_t len);

/* ---- the run (supervise.c; its output and result file: output.c) ----------- */

#define LINE_MAX_SEEN	512		/* enough of a line to spot "# case" */
#define STUCK_MAX	8		/* unkillable processes named in the result */

struct opts {
	const char *log_path, *result_path, *kmsg_path;
	const char *mark_label;			/* -M: no program, a marker */
	const char *progress;			/* -P LABEL: the progress line, or NULL */
	struct kmsg_chain prev;			/* -K, -T, -b */
	double timeout_s, grace_s, kill_wait_s, settle_s;
	bool echo;
	char **argv;
};

enum phase { RUNNING, SENT_INT, SENT_KILL, UNKILLABLE };

struct run {
	struct opts *o;
	struct out out;
	struct kmsg kmsg;
	pid_t pid;
	int pidfd, out_fd, sig_fd;
	enum phase phase;
	int64_t start_ns, end_ns, deadline_ns;	/* INT64_MAX: none */
	bool reaped, timed_out;
	int status;				/* waitpid() status once reaped */
	int interrupted;			/* the signal we got, or 0 */
	unsigned leftover, stuck;
	pid_t stuck_pids[STUCK_MAX];
	char line[LINE_MAX_SEEN];		/* the output line being read */
	size_t line_len;
	char case_name[CASE_NAME_MAX];		/* the case running, "" before the first */
	int64_t case_start_ns, progress_next_ns;
};

/* Read what the program wrote: to the log, and each "# case NAME:" line to
 * the kernel log (kmsg_case). false at the end of the output. */
bool read_output(struct run *r);
/* After the program exited: what its children still had buffered, for up
 * to ns. */
void drain_output(struct run *r, int64_t ns);
/* The key=value result file (status, exit/signal, seconds, taint, ...). */
void write_result(struct run *r, FILE *f);
/* -P: the progress line on stderr, "LABEL CASE Ns", drawn again in place at
 * each case and each second; cleared when the program is done. */
void progress_show(struct run *r);
void progress_clear(struct run *r);

#endif
