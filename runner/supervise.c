// SPDX-License-Identifier: MIT
/*
 * supervise [options] -- PROGRAM [ARGS...]
 *
 * Runs one test program for runtests.sh, in a process group of its own, and
 * writes how it ended to a key=value result file:
 *  - output: stdout and stderr into the log (and our stdout with -e);
 *  - timeout: the group's tasks are dumped (state, wchan, kernel stack), then
 *    SIGINT to the group, SIGKILL after the grace time, and a member still
 *    alive after the kill wait is reported unkillable, with its stack;
 *  - SIGINT/SIGTERM/SIGHUP to us (Ctrl-C, a dying runner): the same stop;
 *  - kernel log and taint around the run and around each case (kmsg.c),
 *    after waiting for io_uring teardown to settle (settle.c).
 * Every wait is a poll on a pidfd, the output pipe and a signalfd.
 *
 * supervise -r RESULT -M LABEL [-K SEQ -T TAINT -b FILE] [-S SECS] runs no
 * program: it waits for io_uring teardown to settle, marks the log and keeps
 * what came since the previous reader - the start and end of runtests.sh's
 * run (runner/kmsg.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervise.h"

#define DRAIN_NS	(2 * NSEC_PER_SEC)	/* output still buffered after exit */

/* ---- stopping the program -------------------------------------------------- */

static void set_deadline(struct run *r, double secs)
{
	r->deadline_ns = now_ns() + (int64_t)(secs * NSEC_PER_SEC);
}

/* The next step of SIGINT -> SIGKILL -> unkillable. */
static void escalate(struct run *r)
{
	switch (r->phase) {
	case RUNNING:
		out_msg(&r->out, "SIGINT to process group %d", r->pid);
		kill(-r->pid, SIGINT);
		r->phase = SENT_INT;
		set_deadline(r, r->o->grace_s);
		break;
	case SENT_INT:
		out_msg(&r->out, "still running %g s after SIGINT: SIGKILL to process group %d",
			r->o->grace_s, r->pid);
		kill(-r->pid, SIGKILL);
		r->phase = SENT_KILL;
		set_deadline(r, r->o->kill_wait_s);
		break;
	case SENT_KILL:
		out_msg(&r->out, "process %d did not die %g s after SIGKILL: it cannot be killed "
			"(stuck in the kernel); its tasks:", r->pid, r->o->kill_wait_s);
		group_dump(&r->out, r->pid);
		r->phase = UNKILLABLE;
		break;
	case UNKILLABLE:
		break;
	}
}

static void on_deadline(struct run *r)
{
	if (r->phase == RUNNING) {
		r->timed_out = true;
		out_msg(&r->out, "timeout: still running after %g s; its tasks:", r->o->timeout_s);
		group_dump(&r->out, r->pid);
	}
	escalate(r);
}

static void on_signal(struct run *r)
{
	struct signalfd_siginfo si;

	if (read(r->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	r->interrupted = (int)si.ssi_signo;
	out_msg(&r->out, "interrupted by %s: stopping the test", signame(r->interrupted));
	/* Each signal is one step: a second Ctrl-C does not wait for the grace time. */
	escalate(r);
}

/* ---- running it ------------------------------------------------------------ */

static int spawn(struct run *r, const sigset_t *blocked)
{
	int pipefd[2];

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	r->start_ns = now_ns();
	r->pid = fork();
	if (r->pid < 0)
		return -errno;
	if (r->pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, STDIN_FILENO);
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		/* The test must die of our SIGINT even when we were started with
		 * it ignored (nohup, a background job of a script, some CI). */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, blocked, NULL);
		signal(SIGPIPE, SIG_DFL);
		execvp(r->o->argv[0], r->o->argv);
		dprintf(STDERR_FILENO, "supervise: cannot run %s: %s\n", r->o->argv[0],
			strerror(errno));
		_exit(127);
	}
	setpgid(r->pid, r->pid);	/* also here: no race with our kill(-pid) */
	close(pipefd[1]);
	r->out_fd = pipefd[0];
	r->pidfd = pidfd_open_pid(r->pid);
	if (r->pidfd < 0) {
		int err = errno;

		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
		return -err;
	}
	return 0;
}

static void watch(struct run *r)
{
	r->deadline_ns = r->o->timeout_s > 0 ? r->start_ns +
			 (int64_t)(r->o->timeout_s * NSEC_PER_SEC) : INT64_MAX;
	r->case_start_ns = r->start_ns;
	progress_show(r);
	while (!r->reaped && r->phase != UNKILLABLE) {
		struct pollfd pfd[3] = {
			{ .fd = r->out_fd, .events = POLLIN },
			{ .fd = r->sig_fd, .events = POLLIN },
			{ .fd = r->pidfd, .events = POLLIN },
		};
		/* Wake at the deadline, or for the progress line's next second. */
		int64_t wake = r->o->progress && r->progress_next_ns < r->deadline_ns ?
			       r->progress_next_ns : r->deadline_ns;
		int64_t left = wake - now_ns();
		int ms = wake == INT64_MAX ? -1 :
			 left <= 0 ? 0 : (int)((left + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
		int ret = poll(pfd, 3, ms);

		if (ret < 0 && errno != EINTR)
			break;
		if (now_ns() >= r->deadline_ns || (ret == 0 && wake == r->deadline_ns)) {
			on_deadline(r);
			continue;
		}
		if (r->o->progress && now_ns() >= r->progress_next_ns)
			progress_show(r);
		if (ret <= 0)
			continue;
		if (pfd[0].revents && !read_output(r)) {
			close(r->out_fd);
			r->out_fd = -1;	/* poll ignores negative fds */
		}
		if (pfd[1].revents)
			on_signal(r);
		if (pfd[2].revents && waitpid(r->pid, &r->status, WNOHANG) == r->pid)
			r->reaped = true;
	}
	r->end_ns = now_ns();
}

/* Its children (the cases) die with it; one that does not is stuck. */
static void reap_group(struct run *r)
{
	pid_t pids[MAX_GROUP];
	struct deadline dl;
	int n = group_members(r->pid, pids, MAX_GROUP);

	if (!n)
		return;
	r->leftover = (unsigned)n;
	out_msg(&r->out, "%d processes of the test's group left after it ended: SIGKILL, "
		"waiting for them", n);
	dl = deadline_in((int64_t)(r->o->kill_wait_s * NSEC_PER_SEC));
	r->stuck = (unsigned)group_kill_wait(&r->out, r->pid, &dl, r->stuck_pids, STUCK_MAX);
}

/* Its rings' teardown runs after it: what that logs is its own (settle.c).
 * A program that cannot be killed still holds its rings. */
static void settle_after(struct run *r)
{
	struct kmsg *k = &r->kmsg;

	if (r->phase == UNKILLABLE || r->stuck) {
		k->settled = false;
		snprintf(k->settle, sizeof(k->settle),
			 "io_uring teardown not waited for: the program cannot be killed");
		return;
	}
	k->settled = settle_wait(r->interrupted ? 0 : r->o->settle_s, r->sig_fd, k->settle,
				 sizeof(k->settle));
	if (!k->settled)
		out_msg(&r->out, "%s", k->settle);
}

/* ---- options --------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: supervise -r RESULT [-o LOG] [-k KMSG] [-t SECS] [-g SECS] [-w SECS] [-e]\n"
		"                 [-K SEQ -T TAINT -b GAP] [-S SECS] -- PROGRAM [ARGS...]\n"
		"       supervise -r RESULT -M LABEL [-K SEQ -T TAINT -b GAP] [-S SECS]\n\n"
		"  -r RESULT  key=value result file (status, exit/signal, seconds, taint, ...)\n"
		"  -o LOG     the program's stdout and stderr (default: our stdout)\n"
		"  -k KMSG    kernel log excerpt, per case (root: reads /dev/kmsg)\n"
		"  -t SECS    timeout, 0 for none (default 0)\n"
		"  -g SECS    grace after SIGINT before SIGKILL (default 5)\n"
		"  -w SECS    wait after SIGKILL before calling it unkillable (default 10)\n"
		"  -e         echo the output to our stdout as well\n"
		"  -K SEQ     the previous reader's last kernel log record ('-': none)\n"
		"  -T TAINT   the taint there ('-': unknown)\n"
		"  -b GAP     the records after SEQ and before our first marker (the log\n"
		"             between programs)\n"
		"  -S SECS    wait up to SECS for io_uring teardown to settle (default 0)\n"
		"  -M LABEL   no program: settle, write a marker, keep the log since SEQ\n"
		"  -P LABEL   a progress line on stderr while it runs: LABEL, the case\n"
		"             running and its seconds, redrawn each second, cleared at the end\n");
}

/* Seconds, at most MAX_SECS: more would overflow the nanoseconds of a
 * deadline (int64) into one already passed, a timeout at once. */
#define MAX_SECS	1e9

static int parse_secs(const char *arg, double *v)
{
	char *end;

	*v = strtod(arg, &end);
	return end == arg || *end || !(*v >= 0 && *v <= MAX_SECS) ? -1 : 0;
}

/* A record number or a taint mask (0x... too); "-" is none. */
static int parse_number(const char *arg, unsigned long long *v, bool *has)
{
	char *end;

	*has = strcmp(arg, "-") != 0;
	if (!*has)
		return 0;
	errno = 0;
	*v = strtoull(arg, &end, 0);
	return *end || end == arg || errno ? -1 : 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	unsigned long long t = 0;
	int opt;

	*o = (struct opts){ .grace_s = 5, .kill_wait_s = 10 };
	while ((opt = getopt(argc, argv, "+r:o:k:t:g:w:eK:T:b:S:M:P:h")) != -1) {
		switch (opt) {
		case 'r': o->result_path = optarg; break;
		case 'o': o->log_path = optarg; break;
		case 'k': o->kmsg_path = optarg; break;
		case 't': if (parse_secs(optarg, &o->timeout_s)) return -1; break;
		case 'g': if (parse_secs(optarg, &o->grace_s)) return -1; break;
		case 'w': if (parse_secs(optarg, &o->kill_wait_s)) return -1; break;
		case 'e': o->echo = true; break;
		case 'K': if (parse_number(optarg, &o->prev.seq, &o->prev.has_seq)) return -1; break;
		case 'T': if (parse_number(optarg, &t, &o->prev.has_taint)) return -1; break;
		case 'b': o->prev.gap_path = optarg; break;
		case 'S': if (parse_secs(optarg, &o->settle_s)) return -1; break;
		case 'M': o->mark_label = optarg; break;
		case 'P': o->progress = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	o->prev.taint = (unsigned long)t;
	if ((optind >= argc) == !o->mark_label || !o->result_path)
		return -1;
	o->argv = argv + optind;
	return 0;
}

/* -M: the run's start or end, no program. */
static int mark_only(const struct opts *o, int sig_fd)
{
	char report[sizeof(((struct kmsg *)0)->settle)];
	bool settled = settle_wait(o->settle_s, sig_fd, report, sizeof(report));
	struct kmsg k;
	FILE *res;

	kmsg_open(&k, o->mark_label, "mark", &o->prev);
	k.taint_end = taint_read();
	k.settled = settled;
	snprintf(k.settle, sizeof(k.settle), "%s", report);
	res = fopen(o->result_path, "w");
	if (!res) {
		fprintf(stderr, "supervise: %s: %s\n", o->result_path, strerror(errno));
		kmsg_free(&k);
		return 1;
	}
	kmsg_result(&k, res);
	kmsg_free(&k);
	return fclose(res) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct run r = { .o = &o, .pidfd = -1, .out_fd = -1 };
	sigset_t stop;
	FILE *res;
	int err;

	if (parse_opts(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	r.out = (struct out){ .log_fd = -1, .echo = o.echo || !o.log_path, .at_line_start = true };
	if (o.log_path) {
		r.out.log_fd = open(o.log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (r.out.log_fd < 0) {
			fprintf(stderr, "supervise: %s: %s\n", o.log_path, strerror(errno));
			return 1;
		}
	}
	/* Ctrl-C, a CI kill or our runner dying: stop the test, then report. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	/* An ignored signal never reaches the signalfd: take them back from
	 * SIG_IGN (blocked, the default action cannot run). */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	r.sig_fd = signalfd(-1, &stop, SFD_CLOEXEC);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_IGN);

	if (o.mark_label)
		return mark_only(&o, r.sig_fd);
	kmsg_open(&r.kmsg, o.argv[0], "begin", &o.prev);
	err = spawn(&r, &stop);
	if (err) {
		fprintf(stderr, "supervise: cannot start %s: %s\n", o.argv[0], strerror(-err));
		return 1;
	}
	watch(&r);
	if (r.reaped)
		reap_group(&r);
	drain_output(&r, r.phase == UNKILLABLE || r.stuck ? DRAIN_NS / 10 : DRAIN_NS);
	progress_clear(&r);
	settle_after(&r);
	err = kmsg_finish(&r.kmsg, o.kmsg_path);
	if (err)
		fprintf(stderr, "supervise: %s: %s\n", o.kmsg_path, strerror(-err));
	res = fopen(o.result_path, "w");
	if (!res) {
		fprintf(stderr, "supervise: %s: %s\n", o.result_path, strerror(errno));
		return 1;
	}
	write_result(&r, res);
	kmsg_free(&r.kmsg);
	return fclose(res) ? 1 : 0;
}
