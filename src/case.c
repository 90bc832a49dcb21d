// SPDX-License-Identifier: MIT
/*
 * Running one case: each (scenario, profile) case runs in its own forked
 * process. The parent is the watchdog: it waits on the case's pidfd with a
 * deadline, and if the case neither finishes nor reports its own hang in
 * time, it dumps the case's threads (state, wchan, kernel stack) and rings
 * (fdinfo) from the outside, kills it, and reports a hang - including a
 * case stuck in the kernel where no in-process check could run. A case
 * that dies of a signal is a crash. Running cases in separate processes
 * also keeps one case's leftovers (a ring stuck in teardown, a dead
 * thread) from bleeding into the next.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "case.h"
#include "race/jitter.h"

static int verdict_exit_code(enum verdict v)
{
	switch (v) {
	case V_PASS:	return 0;
	case V_SKIP:	return EXIT_SKIP;
	case V_HANG:	return EXIT_HANG;
	default:	return 1;
	}
}

static const char *const unreported[] = {
	[V_PASS] = "", [V_SKIP] = "skipped (the scenario gave no reason)", [V_FAIL] = "failed",
	[V_HANG] = "hang (the scenario gave no report)", [V_CRASH] = "crash (reported by the scenario)",
};

/*
 * What the case needs of the kernel (src/needs.h), before run(): a need the
 * kernel predates skips it; each other one must pass its probe. The probes
 * run in a child of their own, so the case starts with no probe's ring, io
 * thread or exit work behind it.
 */
struct probe_job {
	uint64_t set;
	int need, refused, err;		/* the first need refused, or need -1 */
};

static int probe_all(void *arg)
{
	struct probe_job *j = arg;
	enum need_id refused;

	for (int i = 0; i < NEED_COUNT && j->need < 0; i++) {
		if (!(j->set & NEED_BIT(i)) || need_predated(i))
			continue;
		j->err = need_probe(i, &refused);
		if (j->err) {
			j->need = i;
			j->refused = refused;
		}
	}
	return 0;
}

static enum verdict case_needs(struct tcase *tc)
{
	const struct scenario *sc = tc->sc;
	uint64_t whole = NEEDS_HARNESS | need_setup_flags(tc->prof->setup_flags) | sc->needs;
	enum need_id n = need_newest(whole);
	struct probe_job *j, job;
	struct deadline dl;
	struct child c;
	char what[160];
	int status;

	if (need_predated(n))
		return tc_refused(tc, n, 0, NULL);
	j = proc_shared_alloc(sizeof(*j));
	if (!j)
		return tc_fail(tc, "probing the needs: mmap: %s", strerror(errno));
	*j = (struct probe_job){ .set = whole | sc->part_needs, .need = -1 };
	if (proc_spawn(&c, probe_all, j))
		return tc_fail(tc, "probing the needs: fork: %s", strerror(errno));
	dl = tc_deadline(tc);
	if (proc_reap(&c, &dl, &status)) {
		proc_kill_reap(&c, &dl, &status);
		return tc_hang(tc, NULL, NULL, "probing the needs: the probe did not finish");
	}
	close(c.pidfd);
	job = *j;
	munmap(j, sizeof(*j));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return tc_fail(tc, "probing the needs: the probe ended with status 0x%x", status);
	if (job.need < 0)
		return V_PASS;
	if (job.refused == job.need)
		snprintf(what, sizeof(what), "probe of %s", needs[job.need].what);
	else
		snprintf(what, sizeof(what), "probing %s with %s", needs[job.need].what,
			 needs[job.refused].what);
	return tc_refused(tc, job.refused, job.err, what);
}

static int run_case_child(struct tcase *tc)
{
	struct jitter *j;
	enum verdict v;

	/* proc_spawn() already tied us to the parent (PDEATHSIG, then a check
	 * that it is still there). No getppid() == 1 test here: the parent
	 * may itself be PID 1 (a container's entrypoint, a guest's init). */
	prctl(PR_SET_NAME, tc->sc->name);
	tc->start_ns = now_ns();
	/* What the case needs of the kernel: by version, then by probe. */
	v = case_needs(tc);
	if (v != V_PASS) {
		fflush(stdout);
		exit(verdict_exit_code(tc->shared->verdict));
	}
	j = tc->jitter ? jitter_start(tc) : NULL;
	v = tc->sc->run(tc);
	jitter_stop(j);
	if ((unsigned)v > V_CRASH)
		v = tc_fail(tc, "run() returned %d, not a verdict", (int)v);
	/* Only used if run() returned a verdict it did not report itself. */
	tc_set_verdict(tc, v, unreported[v]);
	fflush(stdout);
	/* exit(), not _exit(): sanitizer builds check for leaks here. */
	exit(verdict_exit_code(tc->shared->verdict));
}

/*
 * The outside view of a case that missed its deadline: threads and rings
 * first (while still alive), then the kill, then whether it even died.
 */
static void watchdog_fire(struct tcase *tc, struct child *c, double secs)
{
	struct deadline dl;
	int status;

	printf("# HANG %s: case did not finish within %.1f s (watchdog); its state:\n", tc->name,
	       secs);
	diag_dump_tasks(c->pid, "#   ");
	diag_dump_rings(c->pid, "#   ");
	diag_dump_uring_kthreads("#   ");
	fflush(stdout);
	dl = deadline_in(tc->hang_ns);
	if (proc_kill_reap(c, &dl, &status) == -ETIMEDOUT) {
		printf("# HANG %s: case process %d cannot be killed (stuck in the kernel):\n",
		       tc->name, c->pid);
		diag_dump_tasks(c->pid, "#   ");
	}
	snprintf(tc->shared->reason, sizeof(tc->shared->reason),
		 "no verdict within %.1f s; watchdog killed it (see thread and ring state above)",
		 secs);
	tc->shared->verdict = V_HANG;
}

/*
 * How long the parent gives a case: its load, three hang deadlines for its
 * own waits and reports, and slack. $TW_WATCHDOG_SECONDS overrides it: the
 * self-tests prove the watchdog fires without waiting for the slack, and a
 * slow emulated machine may need more.
 */
double tc_watchdog_secs(const struct tcase *tc)
{
	const char *env = getenv("TW_WATCHDOG_SECONDS");
	double secs = env ? strtod(env, NULL) : 0;

	if (secs > 0)
		return secs;
	return tc->duration * 2 + ns_to_s(tc->hang_ns) * 3 + 10;
}

enum verdict case_run(struct tcase *tc)
{
	double secs = tc_watchdog_secs(tc);
	struct deadline dl;
	struct child c;
	int status = 0;
	char buf[64];

	fflush(stdout);
	if (proc_spawn(&c, (int (*)(void *))run_case_child, tc) < 0) {
		snprintf(tc->shared->reason, sizeof(tc->shared->reason), "fork: %s",
			 strerror(errno));
		return tc->shared->verdict = V_FAIL;
	}
	dl = deadline_in((int64_t)(secs * NSEC_PER_SEC));
	if (proc_reap(&c, &dl, &status) == -ETIMEDOUT) {
		watchdog_fire(tc, &c, secs);
		return V_HANG;
	}
	if (WIFSIGNALED(status)) {
		/* A hang or failure reported before the crash stays in the reason. */
		char reason[sizeof(tc->shared->reason) + 128];

		snprintf(reason, sizeof(reason), "%s%s%s", proc_status_str(status, buf, sizeof(buf)),
			 tc->shared->reason[0] ? " after: " : "", tc->shared->reason);
		snprintf(tc->shared->reason, sizeof(tc->shared->reason), "%.*s",
			 (int)sizeof(tc->shared->reason) - 1, reason);
		tc->shared->verdict = V_CRASH;
	} else if (WEXITSTATUS(status) != verdict_exit_code(tc->shared->verdict) &&
		   tc->shared->verdict < V_FAIL) {
		/* A failure already reported stands (a sanitizer may add its own
		 * exit status on that path); a pass or skip that exits non-zero
		 * is a failure of its own: no verdict, or a sanitizer report. */
		snprintf(tc->shared->reason, sizeof(tc->shared->reason),
			 "case process exited with %d after reporting %s (a sanitizer report, or no "
			 "verdict?)", WEXITSTATUS(status), verdict_names[tc->shared->verdict]);
		tc->shared->verdict = V_FAIL;
	}
	return tc->shared->verdict;
}
