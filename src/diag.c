// SPDX-License-Identifier: MIT
/*
 * What a hang looks like from userspace: each thread's state, wchan and
 * kernel stack (readable as root), and each ring's fdinfo (SqHead, CqTail,
 * pending overflow, ...). Used by in-process hang reports and by the
 * watchdog looking at a case from the outside.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "procfs.h"

#define FDINFO_MAX_LINES	40
#define STACK_MAX_LINES		24

static void print_file_lines(const char *path, const char *indent, int max)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int n = 0;

	if (!f) {
		printf("%s  (%s: %s)\n", indent, path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (n++ >= max) {
			printf("%s  ...\n", indent);
			break;
		}
		printf("%s  %s", indent, line);
		if (!strchr(line, '\n'))
			putchar('\n');
	}
	fclose(f);
}

static void dump_task(const char *dir, const char *tid, const char *indent, bool stacks)
{
	char path[300], comm[64], wchan[128];
	struct procfs_stat st;

	snprintf(path, sizeof(path), "%s/comm", dir);
	procfs_read(path, comm, sizeof(comm));
	snprintf(path, sizeof(path), "%s/wchan", dir);
	procfs_read(path, wchan, sizeof(wchan));
	procfs_stat(dir, &st);
	printf("%stask %s (%s) state %c wchan %s\n", indent, tid, comm, st.state,
	       wchan[0] && strcmp(wchan, "0") ? wchan : "-");
	if (!stacks)
		return;
	snprintf(path, sizeof(path), "%s/stack", dir);
	if (access(path, R_OK) == 0)
		print_file_lines(path, indent, STACK_MAX_LINES);
}

void diag_dump_tasks(pid_t pid, const char *indent)
{
	char dirpath[64], path[400];
	struct dirent *de;
	DIR *d;

	snprintf(dirpath, sizeof(dirpath), "/proc/%d/task", pid);
	d = opendir(dirpath);
	if (!d) {
		printf("%s(no %s: %s)\n", indent, dirpath, strerror(errno));
		return;
	}
	printf("%sthreads of %d (state, wchan, kernel stack where readable):\n", indent, pid);
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
		dump_task(path, de->d_name, indent, true);
	}
	closedir(d);
}

void diag_dump_fdinfo(pid_t pid, int fd, const char *indent)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	printf("%sring fd %d of %d (%s):\n", indent, fd, pid, path);
	print_file_lines(path, indent, FDINFO_MAX_LINES);
}

void diag_dump_rings(pid_t pid, const char *indent)
{
	char dirpath[64], path[400], target[128];
	struct dirent *de;
	DIR *d;
	ssize_t n;

	snprintf(dirpath, sizeof(dirpath), "/proc/%d/fd", pid);
	d = opendir(dirpath);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		if (strstr(target, "io_uring"))
			diag_dump_fdinfo(pid, atoi(de->d_name), indent);
	}
	closedir(d);
}

/* Kernel threads and io workers whose wchan points into io_uring. */
void diag_dump_uring_kthreads(const char *indent)
{
	char taskdir[300], path[700], comm[64], wchan[128];
	struct dirent *pe, *te;
	DIR *pd, *td;
	bool header = false;

	pd = opendir("/proc");
	if (!pd)
		return;
	while ((pe = readdir(pd))) {
		if (!isdigit((unsigned char)pe->d_name[0]))
			continue;
		snprintf(taskdir, sizeof(taskdir), "/proc/%s/task", pe->d_name);
		td = opendir(taskdir);
		if (!td)
			continue;
		while ((te = readdir(td))) {
			if (!isdigit((unsigned char)te->d_name[0]))
				continue;
			snprintf(path, sizeof(path), "%s/%s/wchan", taskdir, te->d_name);
			procfs_read(path, wchan, sizeof(wchan));
			snprintf(path, sizeof(path), "%s/%s/comm", taskdir, te->d_name);
			procfs_read(path, comm, sizeof(comm));
			/* io-wq and SQPOLL threads, and kworkers running a ring's
			 * exit work ("kworker/u8:2+iou_exit"; '-': idle). */
			if (!strstr(wchan, "io_") && strncmp(comm, "iou-", 4) && !strstr(comm, "+iou"))
				continue;
			if (!header) {
				printf("%stasks in io_uring code system-wide:\n", indent);
				header = true;
			}
			snprintf(path, sizeof(path), "%s/%s", taskdir, te->d_name);
			dump_task(path, te->d_name, indent, true);
		}
		closedir(td);
	}
	closedir(pd);
	if (!header)
		printf("%sno task is in io_uring code: no ring teardown is running (a ring that did "
		       "not finish was never released?)\n", indent);
}
