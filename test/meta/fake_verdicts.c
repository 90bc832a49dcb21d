// SPDX-License-Identifier: MIT
/*
 * A fake test for the runner's meta tests (test/meta/runner.sh): each
 * case does what $TW_FAKE says, so every verdict runtests.sh can give is
 * produced on demand, through the real harness. It is a fixture, not a
 * self-test: test/selftest.sh does not run fake_*.t by itself.
 *
 * The scenario is named after the program (fake_verdicts, or a symlink's
 * name), with two cases: NAME.default and NAME.coop.
 *
 * TW_FAKE: comma-separated PATTERN=BEHAVIOUR, PATTERN a glob on the case name
 * ("*.coop"); a bare BEHAVIOUR is "*=BEHAVIOUR". First match wins; default pass.
 *   pass, fail, skip
 *   skip_part     a sub-check skipped (tc_skip_part), then passes
 *   hang          waits for an event nobody sets: the case reports its own hang
 *   stuck         blocks in pause(): only the harness watchdog ends it
 *   block         the whole program stops (the case pauses; the harness waits
 *                 longer than the runner's timeout): SIGINT ends it
 *   block_noint   as block, and the whole program ignores SIGINT: needs SIGKILL
 *   crash         SIGSEGV in the case
 *   kill_program  the case kills the test program itself with SIGSEGV
 *   taint         sets W in $TW_SYSCTL_DIR/tainted (a fake sysctl dir), passes
 * and, in the canned kernel log $TW_KMSG_FILE the runner reads instead of
 * /dev/kmsg (never the real log: its records reach every root run):
 *   splat         appends a fake kernel WARNING, then passes
 *   overrun       appends a record numbered 4 after the last: 3 were lost
 *   chatter       appends 3 harmless records
 *   teardown      a ring's deferred teardown, faked: after the program
 *                 ended, a process outside it appends a WARNING, then marks
 *                 the fake kworker $TW_FAKE_KWORKER (a comm file of the fake
 *                 /proc of TW_PROC_DIR) idle: "-iou_exit"
 *
 * After the cases (every verdict printed), TW_FAKE_EXIT says how the program
 * ends, as one whose rings' teardown went wrong would:
 *   hang          blocks in pause(): the runner's timeout (SIGINT) ends it
 *   crash         SIGSEGV
 *   exit2         exit status 2
 * TW_FAKE_USAGE=TEXT: the program refuses its arguments before any case, as
 * the harness's option parsing does (TEXT on stderr, exit status 2).
 * Neither applies to -l and -D, which the runner asks first.
 */
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define TAINT_WARN	(1ul << 9)	/* 'W' */

/* The behaviour TW_FAKE gives this case. */
static const char *behaviour(const char *case_name, char *buf, size_t len)
{
	const char *spec = getenv("TW_FAKE");
	char *copy, *save = NULL, *item;

	snprintf(buf, len, "pass");
	if (!spec)
		return buf;
	copy = strdup(spec);
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		const char *pattern = eq ? item : "*";

		if (eq)
			*eq = 0;
		if (fnmatch(pattern, case_name, 0) == 0) {
			snprintf(buf, len, "%s", eq ? eq + 1 : item);
			break;
		}
	}
	free(copy);
	return buf;
}

/* Append "PRIO,SEQ,0,-;TEXT" to the canned kernel log: 0 or -errno. */
static int log_append(const char *seq, const char *text)
{
	const char *path = getenv("TW_KMSG_FILE");
	int fd, ret = 0;

	if (!path || !*path)
		return -ENOENT;
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0 || dprintf(fd, "4,%s,0,-;%s\n", seq, text) < 0)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	return ret;
}

/* What the runner must catch: the first line of a kernel WARN(). */
static const char splat[] = "WARNING: CPU: 0 PID: 1 at fake/selftest.c:1 "
			    "tw_selftest_fake+0x0/0x0 (fake, from the runner's self-test)";

static enum verdict fake_log(struct tcase *tc, const char *what)
{
	int ret = 0;

	if (!strcmp(what, "splat"))
		ret = log_append("-", splat);
	else if (!strcmp(what, "overrun"))
		ret = log_append("+4", "fake: the 3 records before this one were overwritten");
	for (int i = 0; !ret && !strcmp(what, "chatter") && i < 3; i++)
		ret = log_append("-", "fake: chatter");
	if (ret)
		return tc_fail(tc, "%s needs TW_KMSG_FILE, a canned kernel log: %s", what,
			       strerror(-ret));
	return V_PASS;
}

/* The teardown's process: outside the program's process group, as a kworker. */
static void fake_teardown_work(int program, const char *kworker)
{
	struct pollfd pfd = { .fd = program, .events = POLLIN };
	int null = open("/dev/null", O_RDWR);
	FILE *f;

	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	poll(&pfd, 1, 60 * 1000);	/* until the program ended */
	log_append("-", "WARNING: CPU: 1 PID: 2 at io_uring/io_uring.c:1 io_ring_exit_work+0x0/0x0 "
		   "(fake teardown, from the runner's self-test)");
	f = fopen(kworker, "w");
	if (f) {
		fputs("kworker/u8:1-iou_exit\n", f);
		fclose(f);
	}
	_exit(0);
}

static enum verdict fake_teardown(struct tcase *tc)
{
	const char *kworker = getenv("TW_FAKE_KWORKER");
	int program = (int)syscall(SYS_pidfd_open, getppid(), 0);
	pid_t pid;

	if (!kworker || program < 0)
		return tc_fail(tc, "teardown needs TW_FAKE_KWORKER and pidfd_open");
	/* Out of the program's process group before the case ends, or the
	 * supervisor would kill it with the program's leftovers. */
	pid = fork();
	if (pid == 0) {
		setsid();
		if (fork() == 0)
			fake_teardown_work(program, kworker);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	close(program);
	return V_PASS;
}

static enum verdict fake_taint(struct tcase *tc)
{
	const char *dir = getenv("TW_SYSCTL_DIR");
	char path[512], buf[32] = "0";
	unsigned long taint;
	FILE *f;

	/* Never the real /proc/sys/kernel/tainted: only a fake directory. */
	if (!dir || !*dir)
		return tc_fail(tc, "taint needs TW_SYSCTL_DIR (a fake sysctl directory)");
	snprintf(path, sizeof(path), "%s/tainted", dir);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	taint = strtoul(buf, NULL, 0) | TAINT_WARN;
	f = fopen(path, "w");
	if (!f)
		return tc_fail(tc, "%s: %s", path, strerror(errno));
	fprintf(f, "%lu\n", taint);
	fclose(f);
	return V_PASS;
}

static enum verdict run(struct tcase *tc)
{
	char what[32];
	struct tw_event never = { 0 };
	struct deadline dl = tc_deadline(tc);

	behaviour(tc->name, what, sizeof(what));
	if (!strcmp(what, "pass"))
		return V_PASS;
	if (!strcmp(what, "fail"))
		/* Quotes, markup and a backslash: the reports must escape them. */
		return tc_fail(tc, "fake failure: expected \"1\" <one> & seen 2 \\ done");
	if (!strcmp(what, "skip"))
		return tc_skip(tc, "fake skip: the kernel lacks \"it\"");
	if (!strcmp(what, "skip_part")) {
		/* Twice: the harness reports a part once. */
		for (int i = 0; i < 2; i++)
			tc_skip_part(tc, "fake part", "fake: the kernel predates <\"it\"> & more");
		return V_PASS;
	}
	if (!strcmp(what, "hang")) {
		if (tw_event_wait(&never, &dl))
			return tc_hang(tc, NULL, NULL, "fake: waited for an event nobody sets");
		return tc_fail(tc, "an event nobody sets was set");
	}
	if (!strcmp(what, "stuck") || !strcmp(what, "block") || !strcmp(what, "block_noint")) {
		for (;;)
			pause();
	}
	if (!strcmp(what, "crash")) {
		/* The default action, not a sanitizer's handler: a real crash. */
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	}
	if (!strcmp(what, "kill_program")) {
		kill(getppid(), SIGSEGV);
		for (;;)
			pause();	/* PDEATHSIG ends us with the harness */
	}
	if (!strcmp(what, "splat") || !strcmp(what, "overrun") || !strcmp(what, "chatter"))
		return fake_log(tc, what);
	if (!strcmp(what, "teardown"))
		return fake_teardown(tc);
	if (!strcmp(what, "taint"))
		return fake_taint(tc);
	return tc_fail(tc, "unknown TW_FAKE behaviour '%s'", what);
}

/* -l or -D: the runner asks what the program is, it runs no case. */
static bool describing(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-l") || !strcmp(argv[i], "-D"))
			return true;
	return false;
}

/* How the program ends after its cases ($TW_FAKE_EXIT). */
static int fake_exit(int status)
{
	const char *how = getenv("TW_FAKE_EXIT");

	if (!how)
		return status;
	if (!strcmp(how, "hang"))
		for (;;)
			pause();
	if (!strcmp(how, "crash")) {
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	}
	if (!strcmp(how, "exit2"))
		return 2;
	fprintf(stderr, "unknown TW_FAKE_EXIT '%s'\n", how);
	return 1;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *spec = getenv("TW_FAKE");
	char name[48];
	struct scenario sc = {
		.name = name,
		.summary = "fake cases for the runner's meta tests (behaviour from $TW_FAKE)",
		.profiles = PMASK(P_DEFAULT) | PMASK(P_COOP),
		.run = run,
		.min_threads = 1,
	};

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(base, "."), base);
	/* block_noint: the harness and every case ignore SIGINT (inherited),
	 * so only the runner's SIGKILL can stop the program. */
	if (spec && strstr(spec, "block_noint"))
		signal(SIGINT, SIG_IGN);
	if (describing(argc, argv))
		return harness_main(argc, argv, &sc);
	if (getenv("TW_FAKE_USAGE")) {
		fprintf(stderr, "%s\n", getenv("TW_FAKE_USAGE"));
		return 2;
	}
	return fake_exit(harness_main(argc, argv, &sc));
}
