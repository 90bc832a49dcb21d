/* SPDX-License-Identifier: MIT */
/*
 * Reading /proc: a small file whole, and the fields of a task's stat line.
 * One copy for the harness (proc.c, diag.c) and for runner/supervise
 * (runner/tasks.c), which does not link the harness but builds this file.
 */
#ifndef TW_PROCFS_H
#define TW_PROCFS_H

#include <stddef.h>
#include <sys/types.h>

/* Read a small file (comm, wchan, stat) into buf, NUL-terminated, with
 * trailing newlines and spaces cut: 0, or -errno with buf empty. */
int procfs_read(const char *path, char *buf, size_t len);

/* What the suite reads of /proc/.../stat. */
struct procfs_stat {
	char state;			/* R, S, D, T, Z, ... */
	pid_t ppid, pgrp;
	unsigned long long utime, stime;	/* CPU time, in clock ticks */
};

/* Parse DIR/stat, DIR being /proc/<pid> or /proc/<pid>/task/<tid>: 0, or
 * -1 (gone, unreadable) with st->state '?'. */
int procfs_stat(const char *dir, struct procfs_stat *st);

#endif
