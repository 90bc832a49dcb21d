/* SPDX-License-Identifier: MIT */
/*
 * supervise: the process side of runtests.sh. It runs one test program in
 * its own process group, enforces the timeout (SIGINT, then SIGKILL, then
 * "unkillable" with the tasks' kernel stacks), marks the kernel log around
 * the run and around each case, samples the taint, and writes a key=value
 * result file the shell reads.
 */
#ifndef TW_SUPERVISE_H
#define TW_SUPERVISE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "timeutil.h"

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

struct kmsg {
	int rfd, wfd;			/* /dev/kmsg, -1 where not permitted */
	char off_reason[128];		/* why the log is not checked */
	char id[48];			/* tags our markers: "tw-runtests[<id>]: " */
	char label[128];		/* the program, for the begin/end markers */
	unsigned long taint_start, taint_end;
	struct case_mark *cases;
	unsigned ncases, cap;
	unsigned records, lost;		/* records saved, records lost (overrun) */
};

void kmsg_open(struct kmsg *k, const char *label);
/* The program printed "# case NAME:": mark the log, sample the taint. */
void kmsg_case(struct kmsg *k, const char *name);
/* After the run: end marker, then (path not NULL) the excerpt - records after
 * our begin marker, split per case with the taint each case added. */
int kmsg_finish(struct kmsg *k, const char *path);
/* Release what kmsg_case() collected. */
void kmsg_free(struct kmsg *k);
unsigned long taint_read(void);
/* Letters of the taint bits in mask, as in /proc/sys/kernel/tainted docs. */
const char *taint_letters(unsigned long mask, char *buf, size_t len);

#endif
