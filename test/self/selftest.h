/* SPDX-License-Identifier: MIT */
/*
 * What the harness self-tests share: TAP output of their own checks, and
 * running a piece of harness code in a forked child with its stdout
 * captured, so that a check can look at the verdict AND at the message the
 * harness printed (a checker that fails silently, or with the wrong words,
 * is as broken as one that never fires).
 *
 * Each self-test prints "ok N what" / "not ok N what" per check and the plan
 * at the end, and exits 0 if every check behaved as expected, else 1.
 */
#ifndef TW_SELFTEST_H
#define TW_SELFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define ST_CHILD_DEADLINE_NS	(20 * NSEC_PER_SEC)
#define ST_TIMEOUT_S		60

static int st_checks, st_failures;

static inline void st_begin(const char *what)
{
	/* The deadline of the self-test itself: a wait under test that never
	 * returns kills it (SIGALRM), rather than hanging the run. */
	alarm(ST_TIMEOUT_S);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n# %s\n", what);
}

static inline __attribute__((format(printf, 2, 3)))
bool st_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d ", cond ? "" : "not ", ++st_checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		st_failures++;
	return cond;
}

/* A check this kernel cannot run: "ok N what # SKIP why" (why ends at a newline). */
static inline void st_skip(const char *what, const char *why)
{
	printf("ok %d %s # SKIP %.*s\n", ++st_checks, what, (int)(strchrnul(why, '\n') - why), why);
}

static inline int st_end(void)
{
	printf("1..%d\n", st_checks);
	return st_failures ? 1 : 0;
}

/* What a child run left behind. */
struct st_run {
	int status;			/* waitpid() status */
	char out[64 * 1024];		/* its stdout, NUL-terminated, truncated */
	size_t len;
	double secs;			/* wall time of the run */
};

static inline bool st_has(const struct st_run *r, const char *s)
{
	return strstr(r->out, s) != NULL;
}

/* Is every string of out[] (up to n, NULL ends) in the output? A string
 * starting with '!' must NOT be there. */
static inline bool st_matches(const struct st_run *r, const char *const out[], int n)
{
	for (int i = 0; i < n && out[i]; i++) {
		bool want = out[i][0] != '!';

		if (st_has(r, out[i] + !want) != want)
			return false;
	}
	return true;
}

/* The child's exit code, or -signal if a signal killed it. */
static inline int st_exit(const struct st_run *r)
{
	if (WIFEXITED(r->status))
		return WEXITSTATUS(r->status);
	return WIFSIGNALED(r->status) ? -WTERMSIG(r->status) : -1000;
}

/* $ST_VERBOSE: show every child's output, not only a failed check's. */
static inline bool st_verbose(void)
{
	return getenv("ST_VERBOSE") != NULL;
}

/* After a failed check: show what the child printed, as TAP diagnostics. */
static inline void st_show(const struct st_run *r)
{
	const char *line = r->out;

	printf("#   child exit %d after %.2f s, its output:\n", st_exit(r), r->secs);
	while (*line) {
		const char *nl = strchrnul(line, '\n');

		printf("#   | %.*s\n", (int)(nl - line), line);
		line = *nl ? nl + 1 : nl;
	}
}

struct st_child_arg {
	int out_fd;
	int (*fn)(void *);
	void *arg;
};

static inline int st_child_main(void *p)
{
	struct st_child_arg *a = p;
	int ret;

	dup2(a->out_fd, STDOUT_FILENO);
	close(a->out_fd);
	ret = a->fn(a->arg);
	fflush(stdout);
	/* exit(), not _exit(): sanitizer builds check the child for leaks. */
	exit(ret);
}

/* Read the child's stdout to EOF, then reap it; kill it at the deadline. */
static inline int st_collect(struct st_run *r, struct child *c, int rfd, int64_t t0)
{
	struct deadline dl = deadline_in(ST_CHILD_DEADLINE_NS);
	struct pollfd pfd = { .fd = rfd, .events = POLLIN };
	char sink[4096];
	int ret;

	r->len = 0;
	for (;;) {
		int64_t left = deadline_left(&dl);
		ssize_t n;

		if (!left)
			break;
		ret = poll(&pfd, 1, (int)(left / NSEC_PER_MSEC) + 1);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			break;
		if (r->len < sizeof(r->out) - 1)
			n = read(rfd, r->out + r->len, sizeof(r->out) - 1 - r->len);
		else
			n = read(rfd, sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (r->len < sizeof(r->out) - 1)
			r->len += (size_t)n;
	}
	r->out[r->len] = 0;
	close(rfd);
	ret = proc_reap(c, &dl, &r->status);
	if (ret == -ETIMEDOUT) {
		dl = deadline_in(ST_CHILD_DEADLINE_NS);
		proc_kill_reap(c, &dl, &r->status);
	}
	r->secs = ns_to_s(now_ns() - t0);
	return ret;
}

/* Run fn(arg) in a forked child with its stdout captured into r. */
static inline int st_capture(struct st_run *r, int (*fn)(void *), void *arg)
{
	struct st_child_arg a = { .fn = fn, .arg = arg };
	int64_t t0 = now_ns();
	struct child c;
	int fds[2], ret;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	a.out_fd = fds[1];
	ret = proc_spawn(&c, st_child_main, &a);
	close(fds[1]);
	if (ret < 0) {
		close(fds[0]);
		return ret;
	}
	return st_collect(r, &c, fds[0], t0);
}

static inline int st_exec_main(void *p)
{
	char *const *argv = p;

	execv("/proc/self/exe", argv);
	perror("execv /proc/self/exe");
	return 127;
}

/* Run this very program again with argv (argv[0] included), stdout captured. */
static inline int st_exec_self(struct st_run *r, char *const argv[])
{
	return st_capture(r, st_exec_main, (void *)argv);
}

#endif
