// SPDX-License-Identifier: MIT
/*
 * Self-test of harness_main()'s verdicts: a case that blocks where no
 * in-process check can see it is caught by the parent's watchdog (HANG, with
 * the case's threads and rings dumped from outside, and the case killed); a
 * case that reports its own hang shows ledger, fdinfo and threads; a case
 * killed by a signal is a CRASH; a skip carries its reason; and the exit
 * code is 0 when everything passed, 77 when everything skipped, else 1.
 *
 * This program is both the checker and the cases: run as
 * `verdicts.t scenario NAME [harness options]` it is a harness test with
 * scenario NAME, and the checker runs it that way and reads its TAP.
 */
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "selftest.h"

/* ---- the scenarios under test ------------------------------------------- */

/* Blocks in read() on a pipe nobody writes: no deadline, no tc_hang(). */
static enum verdict run_block(struct tcase *tc)
{
	struct tring r;
	int fds[2];
	char c;

	/* A ring open while it blocks: the watchdog must show its fdinfo. */
	if (tring_init(tc, &r, "idle", tc->prof, NULL) != V_PASS || pipe(fds))
		return tc_fail(tc, "set-up failed");
	printf("# blocking in read()\n");
	fflush(stdout);
	if (read(fds[0], &c, 1) >= 0)
		return tc_fail(tc, "read() on an unwritten pipe returned");
	return V_PASS;
}

/* Waits for an event nobody sets, with a deadline, and reports the hang. */
static enum verdict run_selfhang(struct tcase *tc)
{
	struct tw_event go = { 0 };
	struct deadline dl;
	struct ledger *l;
	struct tring r;
	enum verdict v;

	if (tring_init(tc, &r, "waiter", tc->prof, NULL) != V_PASS)
		return tc_fail(tc, "set-up failed");
	l = ledger_new(tc, "pending", 1, 1, 16, 0);
	ledger_sent(l, 0, 0, 3);
	dl = tc_deadline(tc);
	if (tw_event_wait(&go, &dl) == -ETIMEDOUT)
		v = tc_hang(tc, l, &r, "event 'go' never set");
	else
		v = tc_fail(tc, "tw_event_wait returned before its deadline");
	ledger_free(l);
	tring_exit(&r);
	return v;
}

/* No core dump of a deliberate crash, to a file or a core_pattern pipe
 * (tests leave nothing behind): a process that is not dumpable gets none. */
static void no_core_dump(void)
{
	prctl(PR_SET_DUMPABLE, 0);
}

/* Crashes. The default action is restored so that a sanitizer's SEGV
 * handler does not turn the crash into a plain exit. */
static enum verdict run_segv(struct tcase *tc)
{
	(void)tc;
	no_core_dump();
	signal(SIGSEGV, SIG_DFL);
	raise(SIGSEGV);
	return V_PASS;
}

/* Fails, then aborts: the failure stays in the crash reason. */
static enum verdict run_abort(struct tcase *tc)
{
	no_core_dump();
	tc_fail(tc, "first a failure");
	abort();
}

static enum verdict run_skip(struct tcase *tc)
{
	return tc_skip(tc, "needs the frobnicator (selftest)");
}

/* Returns a skip without saying why (a scenario bug): still a reason shown. */
static enum verdict run_bare_skip(struct tcase *tc)
{
	(void)tc;
	return V_SKIP;
}

/* Returns something that is no verdict at all (a scenario bug). */
static enum verdict run_bogus(struct tcase *tc)
{
	(void)tc;
	return (enum verdict)42;
}

/* Exits behind the harness's back: no verdict was ever given. */
static enum verdict run_exit(struct tcase *tc)
{
	(void)tc;
	fflush(stdout);
	_exit(5);
}

/* default passes, coop skips, single fails (and then claims to pass). */
static enum verdict run_mixed(struct tcase *tc)
{
	switch (tc->prof->id) {
	case P_COOP:
		return tc_skip(tc, "coop skipped (selftest)");
	case P_SINGLE:
		tc_fail(tc, "expected 1, saw 2");
		return V_PASS;		/* the worst verdict given must win */
	default:
		return V_PASS;
	}
}

#define SCENARIO(n, fn, mask) { .name = n, .summary = "selftest " n, .profiles = (mask), .run = fn }

static const struct scenario scenarios[] = {
	SCENARIO("st_block", run_block, PMASK(P_DEFAULT)),
	SCENARIO("st_selfhang", run_selfhang, PMASK(P_DEFAULT)),
	SCENARIO("st_segv", run_segv, PMASK(P_DEFAULT)),
	SCENARIO("st_abort", run_abort, PMASK(P_DEFAULT)),
	SCENARIO("st_skip", run_skip, PMASK(P_DEFAULT)),
	SCENARIO("st_bare_skip", run_bare_skip, PMASK(P_DEFAULT)),
	SCENARIO("st_bogus", run_bogus, PMASK(P_DEFAULT)),
	SCENARIO("st_exit", run_exit, PMASK(P_DEFAULT)),
	SCENARIO("st_mixed", run_mixed, PMASK(P_DEFAULT) | PMASK(P_COOP) | PMASK(P_SINGLE)),
	/* A regression test: its failures name the fix the kernel may lack. */
	{ .name = "st_fix_hint", .summary = "selftest st_fix_hint", .run = run_mixed,
	  .profiles = PMASK(P_DEFAULT) | PMASK(P_COOP) | PMASK(P_SINGLE),
	  .fix_commit = "0123456789ab", .fix_subject = "io_uring: fix the selftest" },
	{ .name = "st_fix_nocommit", .summary = "selftest st_fix_nocommit", .run = run_mixed,
	  .profiles = PMASK(P_SINGLE), .fix_commit = "-", .fix_subject = "fixed in 7.3" },
};

static int scenario_main(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(argv[0], scenarios[i].name))
			return harness_main(argc, argv, &scenarios[i]);
	fprintf(stderr, "no scenario %s\n", argv[0]);
	return 2;
}

/* ---- the checks ------------------------------------------------------------ */

static struct st_run run;

/* Run scenario name with -d 0 -n 1 -t hang and the given profiles. */
static void run_scenario(const char *name, const char *profiles, const char *hang)
{
	char *argv[] = { "verdicts.t", "scenario", (char *)name, "-d", "0", "-n", "1",
			 "-t", (char *)hang, "-p", (char *)profiles, NULL };

	if (st_exec_self(&run, argv))
		printf("# %s: could not run it to completion\n", name);
}

/* Expect exit code and every string of out[] in the TAP; show it if not. */
static void expect(const char *what, int code, const char *const out[])
{
	bool good = st_exit(&run) == code;

	for (int i = 0; out[i]; i++)
		good = good && st_has(&run, out[i]);
	if (!st_ok(good, "%s", what) || st_verbose())
		st_show(&run);
}

#define EXPECT(what, code, ...) expect(what, code, (const char *const[]){ __VA_ARGS__, NULL })

static void check_watchdog(void)
{
	const char *threads;
	int pid = 0;

	/* Only this run gets a short watchdog; the others must finish on their own. */
	setenv("TW_WATCHDOG_SECONDS", "0.5", 1);
	run_scenario("st_block", "default", "0.2");
	unsetenv("TW_WATCHDOG_SECONDS");
	EXPECT("watchdog: a case blocked without deadline is a HANG, exit 1", 1,
	       "not ok 1 st_block.default # HANG no verdict within 0.5 s; watchdog killed it",
	       "# HANG st_block.default: case did not finish within 0.5 s (watchdog); its state:");
	EXPECT("watchdog: dumps the blocked case's threads and its ring's fdinfo", 1,
	       "#   threads of ", "(st_block) state S", "#   ring fd ", "SqHead:");
	threads = strstr(run.out, "#   threads of ");
	if (threads)
		pid = atoi(threads + strlen("#   threads of "));
	st_ok(pid > 0 && kill(pid, 0) < 0 && errno == ESRCH,
	      "watchdog: the blocked case process (%d) is gone afterwards", pid);
	st_ok(run.secs < 5, "watchdog: fired after its 0.5 s, not a default deadline (%.2f s)",
	      run.secs);
}

static void check_verdicts(void)
{
	run_scenario("st_selfhang", "default", "0.2");
	EXPECT("tc_hang: a wait past its deadline is a HANG with ledger, fdinfo, threads", 1,
	       "not ok 1 st_selfhang.default # HANG event 'go' never set",
	       "# HANG st_selfhang.default [default]: event 'go' never set (no progress for 0.2 s; 0.",
	       "ledger pending: 1 producers x 1 channels, 3 issued, 0 completed",
	       "producer 0 channel 0: issued 3, completed 0", "#   ring fd ", "SqHead:",
	       "#   threads of ", "# reproduce: ");

	run_scenario("st_segv", "default", "1");
	EXPECT("crash: SIGSEGV is a CRASH, exit 1", 1,
	       "not ok 1 st_segv.default # CRASH killed by signal 11");

	run_scenario("st_abort", "default", "1");
	EXPECT("crash: abort() after tc_fail() is a CRASH that keeps the failure", 1,
	       "# FAIL st_abort.default [default]: first a failure",
	       "not ok 1 st_abort.default # CRASH killed by signal 6",
	       "after: first a failure");

	run_scenario("st_exit", "default", "1");
	EXPECT("exit without a verdict is a FAIL", 1,
	       "not ok 1 st_exit.default # FAIL case process exited with 5 after reporting pass");

	run_scenario("st_skip", "default", "1");
	EXPECT("skip: SKIP with its reason, all skipped: exit 77", 77,
	       "ok 1 st_skip.default # SKIP needs the frobnicator (selftest)");

	run_scenario("st_bare_skip", "default", "1");
	EXPECT("skip: a skip returned without tc_skip() still shows a reason", 77,
	       "ok 1 st_bare_skip.default # SKIP skipped (the scenario gave no reason)");

	run_scenario("st_bogus", "default", "1");
	EXPECT("a run() returning no verdict at all is a FAIL", 1,
	       "not ok 1 st_bogus.default # FAIL run() returned 42, not a verdict");

	run_scenario("st_mixed", "default", "1");
	EXPECT("exit code: all pass -> 0", 0, "1..1\n", "ok 1 st_mixed.default\n");

	run_scenario("st_mixed", "default,coop", "1");
	EXPECT("exit code: pass and skip -> 0", 0, "ok 1 st_mixed.default\n",
	       "ok 2 st_mixed.coop # SKIP coop skipped (selftest)");

	run_scenario("st_mixed", "coop", "1");
	EXPECT("exit code: all skip -> 77", 77, "ok 1 st_mixed.coop # SKIP");

	run_scenario("st_mixed", "default,coop,single", "1");
	EXPECT("exit code: any fail -> 1; tc_fail() beats a returned pass", 1,
	       "1..3\n", "ok 1 st_mixed.default\n", "ok 2 st_mixed.coop # SKIP",
	       "not ok 3 st_mixed.single # FAIL expected 1, saw 2");
}

static void check_fix_hint(void)
{
	run_scenario("st_fix_hint", "default,coop,single", "1");
	EXPECT("fix hint: a failure names the fix, in the verdict line and the TAP reason", 1,
	       "# regression test of fix 0123456789ab (\"io_uring: fix the selftest\")",
	       "# st_fix_hint.single: fail in ",
	       " s: may be missing fix 0123456789ab (\"io_uring: fix the selftest\")\n",
	       "not ok 3 st_fix_hint.single # FAIL expected 1, saw 2; may be missing fix "
	       "0123456789ab (\"io_uring: fix the selftest\")\n");
	/* The lines end right after verdict and reason: no hint there. */
	EXPECT("fix hint: not on a pass or a skip", 1, "\nok 1 st_fix_hint.default\n",
	       "\nok 2 st_fix_hint.coop # SKIP coop skipped (selftest)\n");
	run_scenario("st_fix_nocommit", "single", "1");
	EXPECT("fix hint: a fix without a commit id is named by its subject", 1,
	       "not ok 1 st_fix_nocommit.single # FAIL expected 1, saw 2; may be missing fix "
	       "\"fixed in 7.3\"\n");
}

/*
 * In a new PID namespace, as its PID 1 - a container's entrypoint, or a
 * minimal guest's init - run argv and pass on its exit code. Forks by hand:
 * proc_spawn()'s parent check cannot see a parent outside the namespace.
 * Ends with _exit(): after unshare(CLONE_NEWPID) this process may not
 * create threads, which LeakSanitizer's exit-time check needs.
 */
static int as_pid1(void *argv)
{
	struct deadline dl = deadline_in(ST_CHILD_DEADLINE_NS);
	struct child c;
	int status;

	if (unshare(CLONE_NEWPID) && unshare(CLONE_NEWUSER | CLONE_NEWPID)) {
		printf("# skip: cannot make a PID namespace: %s\n", strerror(errno));
		fflush(stdout);
		_exit(77);
	}
	c.pid = fork();
	if (c.pid == 0) {
		/* Killing the namespace's init kills all of it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(st_exec_main(argv));
	}
	c.pidfd = syscall(SYS_pidfd_open, c.pid, 0);
	if (c.pid < 0 || c.pidfd < 0 || proc_reap(&c, &dl, &status))
		_exit(99);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 99);
}

static void check_pid1(void)
{
	char *argv[] = { "verdicts.t", "scenario", "st_mixed", "-d", "0", "-n", "1", "-p",
			 "default", NULL };
	const char *skip;

	st_capture(&run, as_pid1, argv);
	skip = strstr(run.out, "# skip: ");
	if (st_exit(&run) == 77 && skip) {
		st_skip("harness running as PID 1 of its namespace", skip + strlen("# skip: "));
		return;
	}
	EXPECT("harness running as PID 1 of its namespace: cases still run", 0,
	       "ok 1 st_mixed.default\n");
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "scenario"))
		return scenario_main(argc - 2, argv + 2);
	st_begin("verdict self-test: watchdog, hang reports, crash, skip and exit codes");
	check_watchdog();
	check_verdicts();
	check_fix_hint();
	check_pid1();
	return st_end();
}
