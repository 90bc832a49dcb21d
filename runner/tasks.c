// SPDX-License-Identifier: MIT
/*
 * The test's process group from the outside: who is in it, what each task
 * is blocked on (state, wchan, kernel stack), and killing it with proof
 * that every member died. A member that outlives SIGKILL is stuck in the
 * kernel - what an io_uring teardown hang looks like - and its stack is
 * the report.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procfs.h"
#include "supervise.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define STACK_MAX_LINES	32

int pidfd_open_pid(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

const char *signame(int sig)
{
	static const struct { int sig; const char *name; } names[] = {
		{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" },
		{ SIGILL, "SIGILL" }, { SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
		{ SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" }, { SIGKILL, "SIGKILL" },
		{ SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
		{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
		{ SIGSYS, "SIGSYS" }, { SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" },
	};
	static char buf[16];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	snprintf(buf, sizeof(buf), "SIG%d", sig);
	return buf;
}

int group_members(pid_t pgid, pid_t *pids, int max)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		struct procfs_stat st;
		char dir[300];

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(dir, sizeof(dir), "/proc/%s", de->d_name);
		if (procfs_stat(dir, &st) == 0 && st.pgrp == pgid)
			pids[n++] = atoi(de->d_name);
	}
	closedir(d);
	return n;
}

static void dump_stack(struct out *o, const char *taskdir)
{
	char path[512], line[512];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/stack", taskdir);
	f = fopen(path, "r");
	if (!f) {
		out_msg(o, "      (no kernel stack: %s)", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (n++ == STACK_MAX_LINES) {
			out_msg(o, "      ...");
			break;
		}
		out_msg(o, "      %s", line);
	}
	fclose(f);
}

static void dump_process(struct out *o, pid_t pid)
{
	char dir[64], taskdir[400], path[700], comm[64], wchan[128];
	struct procfs_stat st;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	d = opendir(dir);
	if (!d) {
		out_msg(o, "  process %d: gone (%s)", pid, strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(taskdir, sizeof(taskdir), "%s/%s", dir, de->d_name);
		snprintf(path, sizeof(path), "%s/comm", taskdir);
		procfs_read(path, comm, sizeof(comm));
		snprintf(path, sizeof(path), "%s/wchan", taskdir);
		procfs_read(path, wchan, sizeof(wchan));
		procfs_stat(taskdir, &st);
		out_msg(o, "  process %d task %s (%s) state %c wchan %s", pid, de->d_name, comm,
			st.state, wchan[0] && strcmp(wchan, "0") ? wchan : "-");
		dump_stack(o, taskdir);
	}
	closedir(d);
}

void group_dump(struct out *o, pid_t pgid)
{
	pid_t pids[MAX_GROUP];
	int n = group_members(pgid, pids, MAX_GROUP);

	if (!n)
		out_msg(o, "  (process group %d is empty)", pgid);
	for (int i = 0; i < n; i++)
		dump_process(o, pids[i]);
}

int group_kill_wait(struct out *o, pid_t pgid, const struct deadline *dl, pid_t *stuck, int max)
{
	pid_t pids[MAX_GROUP];
	struct pollfd pfd[MAX_GROUP];
	int n, left = 0, nstuck = 0;

	kill(-pgid, SIGKILL);
	n = group_members(pgid, pids, MAX_GROUP);
	for (int i = 0; i < n; i++) {
		pfd[i].fd = pidfd_open_pid(pids[i]);
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
		if (pfd[i].fd >= 0)
			left++;
	}
	/* A pidfd polls readable once its process has exited (zombie or reaped). */
	while (left) {
		int64_t ns = deadline_left(dl);
		int ret = poll(pfd, (nfds_t)n, (int)((ns + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC));

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			break;
		for (int i = 0; i < n; i++) {
			if (pfd[i].fd >= 0 && pfd[i].revents) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				left--;
			}
		}
	}
	for (int i = 0; i < n; i++) {
		if (pfd[i].fd < 0)
			continue;
		close(pfd[i].fd);
		if (nstuck < max)
			stuck[nstuck++] = pids[i];
		out_msg(o, "process %d did not die after SIGKILL: stuck in the kernel; its tasks:",
			pids[i]);
		dump_process(o, pids[i]);
	}
	return nstuck;
}
