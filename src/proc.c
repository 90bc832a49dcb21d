// SPDX-License-Identifier: MIT
/*
 * Processes: fork with a leash, pidfd reaping with deadlines, kills; and
 * tasks seen through /proc (state, CPU time, a thread by its name).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "procfs.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

void *proc_shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int proc_spawn(struct child *c, int (*fn)(void *), void *arg)
{
	pid_t parent = getpid();

	fflush(stdout);
	fflush(stderr);
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		/* Die with the parent: a killed test leaves no stray children. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		_exit(fn(arg));
	}
	c->pidfd = syscall(SYS_pidfd_open, c->pid, 0);
	if (c->pidfd < 0) {
		int err = errno;

		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		fprintf(stderr, "pidfd_open: %s (the suite needs Linux 5.3+)\n", strerror(err));
		return -err;
	}
	return 0;
}

int proc_reap(struct child *c, const struct deadline *dl, int *status)
{
	struct pollfd pfd = { .fd = c->pidfd, .events = POLLIN };

	for (;;) {
		int64_t left = deadline_left(dl);
		int ms = (int)((left + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
		int ret = poll(&pfd, 1, ms);

		if (ret > 0)
			break;
		if (ret == 0 || deadline_passed(dl))
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
	while (waitpid(c->pid, status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	close(c->pidfd);
	c->pidfd = -1;
	return 0;
}

/*
 * The kill is a new wait: a caller's deadline is often the one a reap
 * before it used up, which would leave a killed child no time to exit and
 * call it unkillable. So the reap gets PROC_KILL_NS from the kill at least.
 */
int proc_kill_reap(struct child *c, const struct deadline *dl, int *status)
{
	struct deadline floor = deadline_in(PROC_KILL_NS);

	kill(c->pid, SIGKILL);
	return proc_reap(c, dl->end_ns > floor.end_ns ? dl : &floor, status);
}

int proc_reap_or_kill(struct tcase *tc, struct child *c, const char *what)
{
	struct deadline dl = tc_deadline(tc);
	char buf[64];
	int status;

	if (!proc_reap(c, &dl, &status)) {
		if (WIFEXITED(status) && !WEXITSTATUS(status))
			return 0;
		tc_fail(tc, "%s (pid %d) ended with %s, want exit status 0", what, c->pid,
			proc_status_str(status, buf, sizeof(buf)));
		return -ECHILD;
	}
	tc_hang(tc, NULL, NULL, "%s (pid %d) could not be reaped", what, c->pid);
	dl = tc_deadline(tc);	/* a deadline of its own for the kill's reap */
	proc_kill_reap(c, &dl, &status);
	return -ETIMEDOUT;
}

const char *proc_status_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "status 0x%x", status);
	return buf;
}

/* /proc/<tid>/task/<tid>: any task by its id alone, with per-thread values
 * (/proc/<tid>/stat sums the CPU time of the whole thread group). */
static int task_stat(pid_t tid, struct procfs_stat *st)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "/proc/%d/task/%d", (int)tid, (int)tid);
	return procfs_stat(dir, st);
}

char proc_task_state(pid_t tid)
{
	struct procfs_stat st;

	task_stat(tid, &st);
	return st.state;
}

int proc_task_wait_state(pid_t tid, char state, const struct deadline *dl)
{
	while (proc_task_state(tid) != state) {
		if (deadline_passed(dl))
			return -ETIMEDOUT;
		sched_yield();
	}
	return 0;
}

/* State and voluntary context switches, read together from one status file. */
static int task_status(pid_t tid, char *state, long *nvcsw)
{
	char path[64], buf[4096], *st, *sw;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)tid, (int)tid);
	if (procfs_read(path, buf, sizeof(buf)))
		return -1;
	st = strstr(buf, "\nState:");
	sw = strstr(buf, "\nvoluntary_ctxt_switches:");
	if (!st || !sw || sscanf(st, "\nState: %c", state) != 1 ||
	    sscanf(sw, "\nvoluntary_ctxt_switches: %ld", nvcsw) != 1)
		return -1;
	return 0;
}

long proc_task_nvcsw(pid_t tid)
{
	long nvcsw;
	char state;

	return task_status(tid, &state, &nvcsw) ? -1 : nvcsw;
}

/*
 * Asleep for sure: state S, and more than `since` voluntary context switches,
 * `since` being its proc_task_nvcsw() taken before it entered the kernel (by
 * itself, or by a thread it then signals). State S alone shows from
 * set_current_state() on, before a wait's last checks and schedule() (and
 * while preempted there): an event then is found by those checks rather than
 * delivered by a wake-up.
 */
int proc_task_wait_asleep(pid_t tid, long since, const struct deadline *dl)
{
	long nvcsw;
	char state;

	while (task_status(tid, &state, &nvcsw) || state != 'S' || nvcsw <= since) {
		if (deadline_passed(dl))
			return -ETIMEDOUT;
		sched_yield();
	}
	return 0;
}

int64_t proc_task_cpu_ns(pid_t tid)
{
	long hz = sysconf(_SC_CLK_TCK);
	struct procfs_stat st;

	if (task_stat(tid, &st) || hz <= 0)
		return -1;
	return (int64_t)((st.utime + st.stime) * (NSEC_PER_SEC / hz));
}

pid_t proc_find_thread(pid_t pid, const char *prefix)
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
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)pid, de->d_name);
		if (!procfs_read(path, comm, sizeof(comm)) && !strncmp(comm, prefix, strlen(prefix)))
			found = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	return found;
}

unsigned ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

bool is_root(void)
{
	return geteuid() == 0;
}
