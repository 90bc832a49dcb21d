// SPDX-License-Identifier: MIT
/*
 * harness_main(): options, seeds, the profile loop and TAP output.
 *
 * Each (scenario, profile) case runs in its own forked process. The parent
 * is the watchdog: it waits on the case's pidfd with a deadline, and if the
 * case neither finishes nor reports its own hang in time, it dumps the case's
 * threads (state, wchan, kernel stack) and rings (fdinfo) from the outside,
 * kills it, and reports a hang - including a case stuck in the kernel where
 * no in-process check could run. A case that dies of a signal is a crash.
 * Running cases in separate processes also keeps one case's leftovers (a
 * ring stuck in teardown, a dead thread) from bleeding into the next.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "race/jitter.h"

#define EXIT_SKIP		77
#define EXIT_HANG		3
#define DEFAULT_DURATION	0.4
#define DEFAULT_HANG_S		10.0

struct case_shared {
	int verdict;
	char reason[480];
};

struct run_opts {
	uint64_t seed;
	double duration;
	double hang_s;
	unsigned threads;
	unsigned profile_mask;
	int verbose;
	bool list, describe;
	bool jitter, fault_inject;
};

static const char *verdict_names[] = {
	[V_PASS] = "pass", [V_SKIP] = "skip", [V_FAIL] = "fail",
	[V_HANG] = "hang", [V_CRASH] = "crash",
};

/* ---- verdicts and messages ---------------------------------------------- */

static void set_verdict(struct tcase *tc, enum verdict v, const char *reason)
{
	struct case_shared *sh = tc->shared;

	/* The worst verdict wins; the first reason given for it is kept. */
	if ((int)v > sh->verdict) {
		sh->verdict = v;
		snprintf(sh->reason, sizeof(sh->reason), "%s", reason);
	}
}

static void vmsg(struct tcase *tc, const char *tag, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	printf("# %s%s%s\n", tag, tag[0] ? " " : "", msg);
	(void)tc;
}

enum verdict tc_fail(struct tcase *tc, const char *fmt, ...)
{
	char msg[480];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# FAIL %s [%s]: %s\n", tc->name, tc->prof->name, msg);
	set_verdict(tc, V_FAIL, msg);
	return V_FAIL;
}

enum verdict tc_skip(struct tcase *tc, const char *fmt, ...)
{
	char msg[480];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_verdict(tc, V_SKIP, msg);
	return V_SKIP;
}

void tc_log(struct tcase *tc, const char *fmt, ...)
{
	va_list ap;

	if (!tc->verbose)
		return;
	va_start(ap, fmt);
	vmsg(tc, "", fmt, ap);
	va_end(ap);
}

void tc_info(struct tcase *tc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(tc, "", fmt, ap);
	va_end(ap);
}

enum verdict tc_verdict(const struct tcase *tc)
{
	return tc->shared->verdict;
}

const char *tc_reason(const struct tcase *tc)
{
	return tc->shared->reason;
}

bool tc_failed(const struct tcase *tc)
{
	return tc->shared->verdict >= V_FAIL;
}

struct deadline tc_deadline(const struct tcase *tc)
{
	return deadline_in(tc->hang_ns);
}

bool tc_keep_going(const struct tcase *tc, const struct deadline *load_end)
{
	return !tc_failed(tc) && !deadline_passed(load_end);
}

enum verdict tc_hang(struct tcase *tc, const struct ledger *l, const struct tring *r,
		     const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# HANG %s [%s]: %s (no progress for %.1f s)\n", tc->name, tc->prof->name, msg,
	       ns_to_s(tc->hang_ns));
	if (l)
		ledger_dump(l);
	if (r && r->live)
		diag_dump_fdinfo(getpid(), r->ring.ring_fd, "#   ");
	diag_dump_tasks(getpid(), "#   ");
	set_verdict(tc, V_HANG, msg);
	fflush(stdout);
	return V_HANG;
}

struct tcase *tc_selftest_new(const char *name)
{
	struct selftest_case {
		struct tcase tc;
		struct case_shared shared;
	} *m;

	m = proc_shared_alloc(sizeof(*m));
	if (!m)
		return NULL;
	m->tc = (struct tcase){
		.prof = &profiles[P_DEFAULT],
		.hang_ns = (int64_t)(DEFAULT_HANG_S * NSEC_PER_SEC),
		.duration = DEFAULT_DURATION,
		.threads = 1,
		.shared = &m->shared,
	};
	snprintf(m->tc.name, sizeof(m->tc.name), "%s", name);
	return &m->tc;
}

/* ---- the per-case process ---------------------------------------------- */

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

static int run_case_child(struct tcase *tc)
{
	struct jitter *j;
	enum verdict v;

	/* proc_spawn() already tied us to the parent (PDEATHSIG, then a check
	 * that it is still there). No getppid() == 1 test here: the parent
	 * may itself be PID 1 (a container's entrypoint, a guest's init). */
	prctl(PR_SET_NAME, tc->sc->name);
	j = tc->jitter ? jitter_start(tc) : NULL;
	v = tc->sc->run(tc);
	jitter_stop(j);
	if ((unsigned)v > V_CRASH)
		v = tc_fail(tc, "run() returned %d, not a verdict", (int)v);
	/* Only used if run() returned a verdict it did not report itself. */
	set_verdict(tc, v, unreported[v]);
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
static double watchdog_secs(const struct tcase *tc)
{
	const char *env = getenv("TW_WATCHDOG_SECONDS");
	double secs = env ? strtod(env, NULL) : 0;

	if (secs > 0)
		return secs;
	return tc->duration * 2 + ns_to_s(tc->hang_ns) * 3 + 10;
}

static enum verdict run_case(struct tcase *tc)
{
	double secs = watchdog_secs(tc);
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

/* ---- options ------------------------------------------------------------ */

static void usage(const struct scenario *sc, const char *prog, FILE *f)
{
	fprintf(f,
		"%s - %s\n\n"
		"usage: %s [-s SEED] [-d SECONDS] [-n THREADS] [-p PROFILE[,PROFILE...]]\n"
		"       [-t HANG_SECONDS] [-j] [-F] [-l] [-D] [-v] [-h]\n\n"
		"  -s SEED     replay a run (the seed is printed by every run)\n"
		"  -d SECONDS  load phase per case (default %.1f); longer is a soak\n"
		"  -n THREADS  producer threads (default 2 x CPUs, at least %u)\n"
		"  -p PROFILES run only these ring profiles\n"
		"  -t SECONDS  a wait without progress for this long is a hang (default %.0f,\n"
		"              or $TW_HANG_SECONDS); $TW_WATCHDOG_SECONDS sets how long\n"
		"              the parent gives a whole case\n"
		"  -j          jitter: CPU hogs, sched_yield storms and CPU migration of the\n"
		"              test's threads at seeded intervals (or $TW_JITTER=1)\n"
		"  -F          allow fault injection where a test does it (or\n"
		"              $TW_FAULT_INJECT=1; root and a kernel with fail-nth)\n"
		"  -l          list the cases and exit\n"
		"  -D          describe the scenario in one line and exit: name, profiles,\n"
		"              needs, fix and summary, separated by tabs (- for none)\n"
		"  -v          verbose\n\n"
		"profiles:\n",
		sc->name, sc->summary, prog, DEFAULT_DURATION,
		sc->min_threads ? sc->min_threads : 4, DEFAULT_HANG_S);
	for (int i = 0; i < P_COUNT; i++)
		if (sc->profiles & PMASK(i))
			fprintf(f, "  %-11s %s\n", profiles[i].name, profiles[i].what);
	fprintf(f, "\nexit status: 0 pass, 77 all skipped, 1 failure, hang or crash\n");
}

static int parse_profiles(const char *arg, unsigned *mask)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int ret = 0;

	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct profile *p = profile_by_name(tok);

		if (!p) {
			fprintf(stderr, "unknown profile '%s'\n", tok);
			ret = -1;
			break;
		}
		*mask |= PMASK(p->id);
	}
	free(copy);
	return ret;
}

static uint64_t fresh_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);
	return seed;
}

/* A yes/no environment setting: set, and not "0" or empty. */
static bool env_flag(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0");
}

static int parse_opts(int argc, char **argv, const struct scenario *sc, struct run_opts *o)
{
	const char *env = getenv("TW_HANG_SECONDS");
	unsigned minthreads = sc->min_threads ? sc->min_threads : 4;
	char *end;
	int opt;

	memset(o, 0, sizeof(*o));
	o->seed = fresh_seed();
	o->duration = DEFAULT_DURATION;
	o->hang_s = env ? strtod(env, NULL) : DEFAULT_HANG_S;
	o->profile_mask = sc->profiles;
	o->jitter = env_flag("TW_JITTER");
	o->fault_inject = env_flag("TW_FAULT_INJECT");
	while ((opt = getopt(argc, argv, "s:d:n:p:t:jFlDvh")) != -1) {
		switch (opt) {
		case 's':
			o->seed = strtoull(optarg, &end, 0);
			if (*end) {
				fprintf(stderr, "bad seed '%s'\n", optarg);
				return 2;
			}
			break;
		case 'd':
			o->duration = strtod(optarg, &end);
			if (*end || o->duration < 0) {
				fprintf(stderr, "bad duration '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n':
			o->threads = strtoul(optarg, &end, 0);
			if (*end || !o->threads || o->threads > 1024) {
				fprintf(stderr, "bad thread count '%s'\n", optarg);
				return 2;
			}
			break;
		case 'p':
			if (parse_profiles(optarg, &o->profile_mask))
				return 2;
			break;
		case 't':
			o->hang_s = strtod(optarg, &end);
			if (*end || o->hang_s <= 0) {
				fprintf(stderr, "bad hang deadline '%s'\n", optarg);
				return 2;
			}
			break;
		case 'j':
			o->jitter = true;
			break;
		case 'F':
			o->fault_inject = true;
			break;
		case 'l':
			o->list = true;
			break;
		case 'D':
			o->describe = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(sc, argv[0], stdout);
			exit(0);
		default:
			usage(sc, argv[0], stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(sc, argv[0], stderr);
		return 2;
	}
	if (o->hang_s <= 0)
		o->hang_s = DEFAULT_HANG_S;
	if (!o->threads) {
		o->threads = 2 * ncpus();
		if (o->threads < minthreads)
			o->threads = minthreads;
	}
	return 0;
}

/*
 * The scenario's metadata, the one source of what runtests.sh --describe and
 * the documentation's table of tests say about it: one line, tab-separated,
 * "-" for an empty field.
 */
static void describe(const struct scenario *sc)
{
	const char *sep = "";

	printf("%s\t", sc->name);
	for (int i = 0; i < P_COUNT; i++)
		if (sc->profiles & PMASK(i)) {
			printf("%s%s", sep, profiles[i].name);
			sep = ",";
		}
	printf("\t%s\t", sc->needs_root ? "root" : "-");
	if (sc->fix_subject)
		printf("%s \"%s\"", sc->fix_commit ? sc->fix_commit : "-", sc->fix_subject);
	else
		printf("-");
	printf("\t%s\n", sc->summary);
}

/* ---- main loop ---------------------------------------------------------- */

static uint64_t case_seed(uint64_t run_seed, const char *scenario, int profile)
{
	uint64_t x = run_seed;

	for (const char *s = scenario; *s; s++)
		x = x * 131 + (unsigned char)*s;
	x ^= (uint64_t)profile << 48;
	return splitmix64(&x);
}

/* For a regression test's failure: which fix the kernel may be missing. */
static void fix_hint(const struct scenario *sc, char *buf, size_t len)
{
	buf[0] = 0;
	if (!sc->fix_subject)
		return;
	if (sc->fix_commit && strcmp(sc->fix_commit, "-"))
		snprintf(buf, len, "may be missing fix %s (\"%s\")", sc->fix_commit,
			 sc->fix_subject);
	else
		snprintf(buf, len, "may be missing fix \"%s\"", sc->fix_subject);
}

static void print_result(int n, struct tcase *tc, enum verdict v, double secs)
{
	const char *reason = tc->shared->reason;
	char hint[256];

	fix_hint(tc->sc, hint, sizeof(hint));
	if (v >= V_FAIL && hint[0])
		printf("# %s: %s in %.2f s: %s\n", tc->name, verdict_names[v], secs, hint);
	else
		printf("# %s: %s in %.2f s\n", tc->name, verdict_names[v], secs);
	switch (v) {
	case V_PASS:
		printf("ok %d %s\n", n, tc->name);
		break;
	case V_SKIP:
		printf("ok %d %s # SKIP %s\n", n, tc->name, reason);
		break;
	default:
		printf("not ok %d %s # %s %s%s%s\n", n, tc->name, v == V_HANG ? "HANG" :
		       v == V_CRASH ? "CRASH" : "FAIL", reason, hint[0] ? "; " : "", hint);
		printf("# reproduce: %s -s 0x%016" PRIx64 " -p %s%s%s\n", program_invocation_name,
		       tc->run_seed, tc->prof->name, tc->jitter ? " -j" : "",
		       tc->fault_inject ? " -F" : "");
		break;
	}
	fflush(stdout);
}

int harness_main(int argc, char **argv, const struct scenario *sc)
{
	struct case_shared *shared;
	struct run_opts o;
	int ret, ncases = 0, n = 0, failed = 0, passed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = parse_opts(argc, argv, sc, &o);
	if (ret)
		return ret;
	for (int i = 0; i < P_COUNT; i++)
		if (o.profile_mask & sc->profiles & PMASK(i))
			ncases++;
	if (o.describe) {
		describe(sc);
		return 0;
	}
	if (o.list) {
		for (int i = 0; i < P_COUNT; i++)
			if (o.profile_mask & sc->profiles & PMASK(i))
				printf("%s.%s\n", sc->name, profiles[i].name);
		return 0;
	}
	/* Keep a dead parent's test from running on (the runner killed us). */
	signal(SIGPIPE, SIG_IGN);
	shared = proc_shared_alloc(sizeof(*shared));
	if (!shared) {
		perror("mmap");
		return 1;
	}
	printf("TAP version 13\n");
	printf("# %s: %s\n", sc->name, sc->summary);
	if (sc->fix_subject)
		printf("# regression test of fix %s (\"%s\")\n",
		       sc->fix_commit ? sc->fix_commit : "-", sc->fix_subject);
	printf("# seed 0x%016" PRIx64 ", duration %.2f s, %u threads, hang deadline %.1f s%s%s\n",
	       o.seed, o.duration, o.threads, o.hang_s, o.jitter ? ", jitter" : "",
	       o.fault_inject ? ", fault injection allowed" : "");
	printf("1..%d\n", ncases);
	for (int i = 0; i < P_COUNT; i++) {
		struct tcase tc = {
			.sc = sc,
			.prof = &profiles[i],
			.seed = case_seed(o.seed, sc->name, i),
			.run_seed = o.seed,
			.duration = o.duration,
			.hang_ns = (int64_t)(o.hang_s * NSEC_PER_SEC),
			.threads = o.threads,
			.verbose = o.verbose,
			.jitter = o.jitter,
			.fault_inject = o.fault_inject,
			.shared = shared,
		};
		int64_t start;
		enum verdict v;

		if (!(o.profile_mask & sc->profiles & PMASK(i)))
			continue;
		snprintf(tc.name, sizeof(tc.name), "%s.%s", sc->name, profiles[i].name);
		memset(shared, 0, sizeof(*shared));
		printf("# case %s: %s\n", tc.name, profiles[i].what);
		start = now_ns();
		if (sc->needs_root && !is_root()) {
			snprintf(shared->reason, sizeof(shared->reason), "needs root");
			v = V_SKIP;
		} else {
			v = run_case(&tc);
		}
		print_result(++n, &tc, v, ns_to_s(now_ns() - start));
		if (v >= V_FAIL)
			failed++;
		else if (v == V_PASS)
			passed++;
	}
	munmap(shared, sizeof(*shared));
	if (failed)
		return 1;
	return passed ? 0 : EXIT_SKIP;
}
