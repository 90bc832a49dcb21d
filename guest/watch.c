// SPDX-License-Identifier: MIT
/*
 * vm-watch [options] -- COMMAND [ARGS...]
 *
 * Runs COMMAND (qemu, for guest/vm-run) with its stdout - the guest's
 * console - on a pipe, and watches it:
 *  - every byte goes to the console log (-l), carriage returns dropped;
 *  - every line is echoed to our stdout with a prefix (-p), unless it holds
 *    a text given with -x (heartbeats, case markers) or -q;
 *  - a line starting with "TW-" (the guest init's markers) is written to the
 *    marks file (-m) with the host's seconds since the start: boot, suite
 *    and transfer times come from there;
 *  - a line holding a text given with -E (the guest's exit marker, the end
 *    of a kernel panic) means the guest is going away: it gets -g seconds
 *    to do so (a kernel without ACPI power-off only halts);
 *  - no output for -S seconds (the guest init prints a heartbeat) or more
 *    than -D seconds in all: the guest is stuck; with -H, once a heartbeat
 *    line was seen, -S counts from the last heartbeat instead (a kernel
 *    stuck in a soft lockup keeps printing its complaints, but /init's
 *    heartbeat stops); before the first output
 *    -B seconds (a kernel booted with "quiet" says nothing until init runs,
 *    and under TCG on a loaded host that can take more than -S);
 *  - SIGINT, SIGTERM, SIGHUP to us.
 * Whenever the guest has to be stopped, COMMAND's process group gets
 * SIGTERM, then SIGKILL; COMMAND also dies with us (PR_SET_PDEATHSIG), so
 * nothing is left running. How it ended goes to the result file (-r):
 *
 *   status=exited|killed   exit=N   signal=NAME
 *   reason=deadline|silence|end|eof|interrupted   (why we stopped it)
 *   seconds=S   silent=S (since the last output, or heartbeat with -H)
 *   output=0|1   heartbeat=0|1 (a -H line was seen)
 *
 * Exit status 0, or 2 for a usage error, 1 if COMMAND could not be started.
 *
 * The console's lines are handled in watch-console.c; watch.h has the state.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "watch.h"

#define PARTIAL_NS	(NSEC_PER_SEC / 2)	/* echo a line without its newline after this */
#define TERM_WAIT_NS	(3 * NSEC_PER_SEC)	/* SIGTERM to SIGKILL */
#define EOF_WAIT_NS	(5 * NSEC_PER_SEC)	/* console closed, COMMAND not gone yet */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vm-watch [options] -- COMMAND [ARGS...]\n"
		"  -l FILE   console log        -r FILE   result (key=value)\n"
		"  -m FILE   marks: \"SECONDS LINE\" for each line starting with TW-\n"
		"  -p TEXT   prefix of echoed lines (default \"[guest] \")\n"
		"  -x TEXT   do not echo lines holding TEXT    -q  echo nothing\n"
		"  -E TEXT   a line holding TEXT: the guest ends; stop it after -g SECS (10)\n"
		"  -S SECS   stop after this long without output (0: never)\n"
		"  -B SECS   the same before the first output (default: -S)\n"
		"  -H TEXT   once a line holding TEXT came, -S counts from the last one\n"
		"  -D SECS   stop after this long in all (0: never)\n");
}

static int parse_secs(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end || *v < 0 ? -1 : 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .prefix = "[guest] ", .grace_s = 10, .boot_silence_s = -1 };
	while ((c = getopt(argc, argv, "+l:r:m:p:x:qE:g:S:B:H:D:h")) != -1) {
		switch (c) {
		case 'l': o->log_path = optarg; break;
		case 'r': o->result_path = optarg; break;
		case 'm': o->marks_path = optarg; break;
		case 'p': o->prefix = optarg; break;
		case 'q': o->quiet = true; break;
		case 'x':
			if (o->nhide == TEXTS_MAX)
				return -1;
			o->hide[o->nhide++] = optarg;
			break;
		case 'E':
			if (o->nend == TEXTS_MAX)
				return -1;
			o->end[o->nend++] = optarg;
			break;
		case 'g': if (parse_secs(optarg, &o->grace_s)) return -1; break;
		case 'S': if (parse_secs(optarg, &o->silence_s)) return -1; break;
		case 'B': if (parse_secs(optarg, &o->boot_silence_s)) return -1; break;
		case 'H': o->heartbeat = optarg; break;
		case 'D': if (parse_secs(optarg, &o->deadline_s)) return -1; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind >= argc || !o->result_path)
		return -1;
	if (o->boot_silence_s < 0)
		o->boot_silence_s = o->silence_s;
	o->argv = argv + optind;
	return 0;
}

/* ---- the command ------------------------------------------------------------ */

/* Plan to stop COMMAND at 'at' (ns), for 'reason' (the result's reason=). */
void watch_stop(struct watch *w, const char *reason, int64_t at)
{
	/* Only an interruption overrides a stop already planned (and only
	 * before it is carried out): Ctrl-C must not wait for a grace time. */
	if (w->reason && (w->term_sent || strcmp(reason, "interrupted")))
		return;
	w->reason = reason;
	w->stop_at_ns = at;
}

static void signal_group(struct watch *w, int sig)
{
	if (!w->reaped && kill(-w->pid, sig) && errno == ESRCH)
		kill(w->pid, sig);
}

static void reap(struct watch *w)
{
	int st;

	if (!w->reaped && waitpid(w->pid, &st, WNOHANG) == w->pid) {
		w->reaped = true;
		w->status = st;
	}
}

static int start(struct watch *w, sigset_t *blocked)
{
	int pipefd[2];
	pid_t parent = getpid();

	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	w->pid = fork();
	if (w->pid < 0)
		return -1;
	if (w->pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		/* A group of its own: our terminal's Ctrl-C reaches us, and we
		 * decide; and it dies with us, whatever kills us. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		sigprocmask(SIG_UNBLOCK, blocked, NULL);
		if (null < 0 || dup2(null, 0) < 0 || dup2(pipefd[1], 1) < 0)
			_exit(127);
		execvp(w->o->argv[0], w->o->argv);
		fprintf(stderr, "vm-watch: %s: %s\n", w->o->argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(w->pid, w->pid);	/* both sides: no race with the first kill */
	close(pipefd[1]);
	w->out_fd = pipefd[0];
	return 0;
}

static void on_signal(struct watch *w)
{
	struct signalfd_siginfo si;

	while (read(w->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			reap(w);
			continue;
		}
		watch_stop(w, "interrupted", now_ns());
	}
}

/* How long the guest may stay silent now: -B until its first output. */
static double silence_limit(const struct watch *w)
{
	return w->output ? w->o->silence_s : w->o->boot_silence_s;
}

/* Since when it counts as silent: its last heartbeat (-H) once there was
 * one, else its last output. */
static int64_t quiet_since(const struct watch *w)
{
	return w->beat_seen ? w->last_beat_ns : w->last_output_ns;
}

static int64_t next_event(const struct watch *w, int64_t now)
{
	int64_t t = INT64_MAX;

	if (w->reason && !w->term_sent)
		t = w->stop_at_ns;
	else if (w->term_sent && !w->kill_sent)
		t = w->kill_at_ns;
	if (!w->reason) {
		int64_t d = secs_ns(w->o->deadline_s), s = secs_ns(silence_limit(w));

		if (d != INT64_MAX && w->start_ns + d < t)
			t = w->start_ns + d;
		if (s != INT64_MAX && quiet_since(w) + s < t)
			t = quiet_since(w) + s;
	}
	if (w->len > w->echoed && w->last_output_ns + PARTIAL_NS < t)
		t = w->last_output_ns + PARTIAL_NS;
	return t == INT64_MAX ? -1 : t > now ? t - now : 0;
}

static void timers(struct watch *w, int64_t now)
{
	if (!w->reason) {
		if (w->o->deadline_s > 0 && now >= w->start_ns + secs_ns(w->o->deadline_s))
			watch_stop(w, "deadline", now);
		else if (silence_limit(w) > 0 && now >= quiet_since(w) + secs_ns(silence_limit(w)))
			watch_stop(w, "silence", now);
	}
	if (w->reason && !w->term_sent && now >= w->stop_at_ns) {
		signal_group(w, SIGTERM);
		w->term_sent = true;
		w->kill_at_ns = now + TERM_WAIT_NS;
	} else if (w->term_sent && !w->kill_sent && now >= w->kill_at_ns) {
		signal_group(w, SIGKILL);
		w->kill_sent = true;
	}
	if (now >= w->last_output_ns + PARTIAL_NS)
		console_echo_partial(w);
}

/* What the command wrote just before it exited is still in the pipe. */
static void drain(struct watch *w)
{
	char buf[4096];
	int64_t end = now_ns() + NSEC_PER_SEC;
	ssize_t n;

	while (w->out_fd >= 0 && now_ns() < end) {
		struct pollfd p = { w->out_fd, POLLIN, 0 };

		if (poll(&p, 1, 100) <= 0 || (n = read(w->out_fd, buf, sizeof(buf))) <= 0)
			break;
		w->output = true;
		w->last_output_ns = now_ns();
		console_bytes(w, buf, (size_t)n);
	}
}

static void watch(struct watch *w)
{
	char buf[4096];

	while (!w->reaped) {
		struct pollfd p[2] = { { w->sig_fd, POLLIN, 0 }, { w->out_fd, POLLIN, 0 } };
		int64_t wait = next_event(w, now_ns());
		int timeout = wait < 0 ? -1 : (int)((wait + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);

		if (poll(p, w->out_fd >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			on_signal(w);
		if (w->out_fd >= 0 && p[1].revents) {
			ssize_t n = read(w->out_fd, buf, sizeof(buf));

			if (n > 0) {
				w->output = true;
				w->last_output_ns = now_ns();
				console_bytes(w, buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				/* The console closed: the command is ending. */
				close(w->out_fd);
				w->out_fd = -1;
				watch_stop(w, "eof", now_ns() + EOF_WAIT_NS);
			}
		}
		reap(w);
		timers(w, now_ns());
	}
	drain(w);
	if (w->len)
		console_line_done(w);
}

static void write_result(const struct watch *w)
{
	FILE *f = fopen(w->o->result_path, "w");
	int64_t now = now_ns();

	if (!f) {
		fprintf(stderr, "vm-watch: %s: %s\n", w->o->result_path, strerror(errno));
		return;
	}
	if (WIFEXITED(w->status))
		fprintf(f, "status=exited\nexit=%d\n", WEXITSTATUS(w->status));
	else
		fprintf(f, "status=killed\nsignal=SIG%s\n", sigabbrev_np(WTERMSIG(w->status)));
	/* "eof" and "end" only matter if we had to kill: a guest that went
	 * away by itself was not stopped by us. */
	if (w->reason && (w->term_sent || !strcmp(w->reason, "deadline") ||
			  !strcmp(w->reason, "silence") || !strcmp(w->reason, "interrupted")))
		fprintf(f, "reason=%s\n", w->reason);
	fprintf(f, "seconds=%.3f\nsilent=%.3f\noutput=%d\n", since(w, now),
		(double)(now - quiet_since(w)) / NSEC_PER_SEC, w->output);
	fprintf(f, "heartbeat=%d\n", w->beat_seen);
	fclose(f);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct watch w = { .o = &o, .out_fd = -1 };
	sigset_t set;

	if (parse_opts(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	if (o.log_path && !(w.log = fopen(o.log_path, "w"))) {
		fprintf(stderr, "vm-watch: %s: %s\n", o.log_path, strerror(errno));
		return 1;
	}
	if (o.marks_path && !(w.marks = fopen(o.marks_path, "w"))) {
		fprintf(stderr, "vm-watch: %s: %s\n", o.marks_path, strerror(errno));
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	w.sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	w.start_ns = w.last_output_ns = now_ns();
	if (w.sig_fd < 0 || start(&w, &set)) {
		fprintf(stderr, "vm-watch: cannot start %s: %s\n", o.argv[0], strerror(errno));
		return 1;
	}
	watch(&w);
	write_result(&w);
	if (w.log)
		fclose(w.log);
	if (w.marks)
		fclose(w.marks);
	return 0;
}
