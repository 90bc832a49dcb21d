// SPDX-License-Identifier: MIT
/*
 * What supervise writes: the test log (the program's output, with a kernel
 * log marker at each "# case" line, and our own "# supervise:" lines) and,
 * at the end, the key=value result file the shell reads.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervise.h"

/* ---- the log ---------------------------------------------------------------- */

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void out_raw(struct out *o, const char *buf, size_t len)
{
	if (!len)
		return;
	if (o->log_fd >= 0)
		write_all(o->log_fd, buf, len);
	if (o->echo)
		write_all(STDOUT_FILENO, buf, len);
	o->at_line_start = buf[len - 1] == '\n';
}

void out_msg(struct out *o, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n = 0;

	if (!o->at_line_start)
		buf[n++] = '\n';
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "# supervise: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	out_raw(o, buf, (size_t)n);
}

/* "# case NAME: what" starts a case: mark the kernel log there. */
static void on_line(struct run *r)
{
	static const char prefix[] = "# case ";
	char name[CASE_NAME_MAX];
	size_t n;

	r->line[r->line_len < sizeof(r->line) ? r->line_len : sizeof(r->line) - 1] = 0;
	if (strncmp(r->line, prefix, sizeof(prefix) - 1))
		return;
	n = strcspn(r->line + sizeof(prefix) - 1, ": \n");
	if (!n || n >= sizeof(name))
		return;
	memcpy(name, r->line + sizeof(prefix) - 1, n);
	name[n] = 0;
	kmsg_case(&r->kmsg, name);
	memcpy(r->case_name, name, n + 1);
	r->case_start_ns = now_ns();
	progress_show(r);
}

bool read_output(struct run *r)
{
	char buf[8192];
	ssize_t n = read(r->out_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	out_raw(&r->out, buf, (size_t)n);
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			on_line(r);
			r->line_len = 0;
		} else if (r->line_len < sizeof(r->line) - 1) {
			r->line[r->line_len++] = buf[i];
		}
	}
	return true;
}

/* After the program exited: what its children still had buffered. */
void drain_output(struct run *r, int64_t ns)
{
	struct deadline dl = deadline_in(ns);
	struct pollfd pfd = { .fd = r->out_fd, .events = POLLIN };

	while (r->out_fd >= 0) {
		int ret = poll(&pfd, 1, (int)(deadline_left(&dl) / NSEC_PER_MSEC));

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0 || !read_output(r))
			break;
	}
}

/* ---- the progress line (-P) ------------------------------------------------- */

void progress_show(struct run *r)
{
	const char *name = r->case_name, *slash;
	struct winsize ws;
	char buf[256];
	size_t cols = 80, len, n;
	int ret;

	if (!r->o->progress)
		return;
	len = strlen(name);
	if (!len) {		/* before the first case: the program, without .t */
		slash = strrchr(r->o->argv[0], '/');
		name = slash ? slash + 1 : r->o->argv[0];
		len = strcspn(name, ".");
	}
	ret = snprintf(buf, sizeof(buf), "\r%s %.*s %llds", r->o->progress, (int)len, name,
		       (long long)((now_ns() - r->case_start_ns) / NSEC_PER_SEC));
	if (ret < 0)
		return;
	n = (size_t)ret < sizeof(buf) ? (size_t)ret : sizeof(buf) - 1;
	/* Never wider than the terminal: a wrapped line cannot be redrawn. */
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		cols = ws.ws_col;
	if (n > cols)
		n = cols;	/* cols - 1 characters after the \r */
	write_all(STDERR_FILENO, buf, n);
	write_all(STDERR_FILENO, "\033[K", 3);
	r->progress_next_ns = now_ns() + NSEC_PER_SEC;
}

void progress_clear(struct run *r)
{
	if (r->o->progress)
		write_all(STDERR_FILENO, "\r\033[K", 4);
}

/* ---- the result file -------------------------------------------------------- */

void write_result(struct run *r, FILE *f)
{
	const char *status;

	if (!r->reaped || r->stuck)
		status = "unkillable";
	else if (r->interrupted)
		status = "interrupted";
	else if (r->timed_out)
		status = "timeout";
	else if (WIFSIGNALED(r->status))
		status = "signaled";
	else
		status = "exited";
	fprintf(f, "program=%s\npid=%d\nstatus=%s\n", r->o->argv[0], r->pid, status);
	if (r->reaped && WIFEXITED(r->status))
		fprintf(f, "exit=%d\n", WEXITSTATUS(r->status));
	if (r->reaped && WIFSIGNALED(r->status))
		fprintf(f, "signal=%s\n", signame(WTERMSIG(r->status)));
	if (r->interrupted)
		fprintf(f, "interrupted=%s\n", signame(r->interrupted));
	fprintf(f, "seconds=%.2f\n", ns_to_s(r->end_ns - r->start_ns));
	fprintf(f, "timeout=%g\n", r->o->timeout_s);
	fprintf(f, "timed_out=%d\n", r->timed_out);
	fprintf(f, "leftover=%u\n", r->leftover);
	if (!r->reaped)
		fprintf(f, "unkillable_pid=%d\n", r->pid);
	for (unsigned i = 0; i < r->stuck && i < STUCK_MAX; i++)
		fprintf(f, "unkillable_pid=%d\n", r->stuck_pids[i]);
	kmsg_result(&r->kmsg, f);
	fprintf(f, "cases=%u\n", r->kmsg.ncases);
	if (r->kmsg.ncases)
		fprintf(f, "last_case=%s\n", r->kmsg.cases[r->kmsg.ncases - 1].name);
}
