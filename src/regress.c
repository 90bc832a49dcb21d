// SPDX-License-Identifier: MIT
/* Helpers of the regression tests: thread states and CPU time from /proc. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "regress.h"

/* /proc/<pid>/task/<tid>/stat into buf; a pointer just past "(comm) ", or NULL. */
static const char *read_stat(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];
	const char *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	/* comm may hold spaces and parentheses: the last ')' ends it */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p + 2 : NULL;
}

char task_state(pid_t pid, pid_t tid)
{
	char buf[1024];
	const char *p = read_stat(pid, tid, buf, sizeof(buf));

	return p ? *p : '?';
}

int task_wait_state(pid_t pid, pid_t tid, char state, const struct deadline *dl)
{
	while (task_state(pid, tid) != state) {
		if (deadline_passed(dl))
			return -ETIMEDOUT;
		sched_yield();
	}
	return 0;
}

int64_t task_cpu_ns(pid_t pid, pid_t tid)
{
	unsigned long long utime, stime;
	char buf[1024];
	const char *p = read_stat(pid, tid, buf, sizeof(buf));
	long hz = sysconf(_SC_CLK_TCK);

	/* after comm: state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime */
	if (!p || hz <= 0 ||
	    sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
		return -1;
	return (int64_t)((utime + stime) * (NSEC_PER_SEC / hz));
}

pid_t task_find(pid_t pid, const char *prefix)
{
	char path[300], comm[64];
	struct dirent *de;
	pid_t found = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while (found < 0 && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)pid, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, prefix, strlen(prefix)))
			found = (pid_t)atoi(de->d_name);
		fclose(f);
	}
	closedir(d);
	return found;
}
