// SPDX-License-Identifier: MIT
/*
 * harness_main(): options, seeds, the profile loop and TAP output. Each
 * case runs in a process of its own under a watchdog (case.c); its verdict
 * and messages come from tc.c.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "case.h"

struct run_opts {
	uint64_t seed;
	double duration;
	double hang_s;
	unsigned threads;
	unsigned profile_mask;
	int verbose;
	bool list, describe;
	bool jitter, fault_inject, stop_first;
};

/* ---- options ------------------------------------------------------------ */

/* --help as every other tool of the suite takes it. */
static const struct option long_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(const struct scenario *sc, const char *prog, FILE *f)
{
	char v[16];

	fprintf(f,
		"%s - %s\n\n"
		"usage: %s [-s SEED] [-d SECONDS] [-n THREADS] [-p PROFILE[,PROFILE...]]\n"
		"       [-t HANG_SECONDS] [-j] [-F] [-x] [-l] [-D] [-v] [-h | --help]\n\n"
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
		"  -x          stop at the first case that fails, hangs or crashes: the\n"
		"              cases after it are skips, \"not run: stopped at ...\"\n"
		"  -l          list the cases and exit\n"
		"  -D          describe the scenario in one line and exit: name, profiles,\n"
		"              needs (root, kernel features with their first version; parts:\n"
		"              those of sub-checks), fix and summary, tab-separated (- for none)\n"
		"  -v          verbose\n"
		"  -h, --help  this text\n\n"
		"A case skips where the kernel predates what it needs (-D); on a newer\n"
		"kernel a refusal is a failure. $TW_KVER=6.1 judges as if on 6.1.\n\n"
		"profiles:\n",
		sc->name, sc->summary, prog, DEFAULT_DURATION,
		sc->min_threads ? sc->min_threads : 4, DEFAULT_HANG_S);
	for (int i = 0; i < P_COUNT; i++)
		if (sc->profiles & PMASK(i))
			fprintf(f, "  %-11s %s (%s+)\n", profiles[i].name, profiles[i].what,
				need_kver_str(needs[need_newest(need_setup_flags(
					profiles[i].setup_flags))].first, v, sizeof(v)));
	if (sc->seeded_faults)
		fprintf(f, "\nseeded faults, to show a check firing (off unless $TW_SEED_FAULT names "
			"them,\ncomma separated):\n%s", sc->seeded_faults);
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

bool harness_seeded(const char *name)
{
	const char *v = getenv("TW_SEED_FAULT");
	size_t len = strlen(name);

	for (; v && *v; v += strcspn(v, ","), v += *v == ',')
		if (!strncmp(v, name, len) && (v[len] == ',' || !v[len]))
			return true;
	return false;
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
	while ((opt = getopt_long(argc, argv, "s:d:n:p:t:jFxlDvh", long_opts, NULL)) != -1) {
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
		case 'x':
			o->stop_first = true;
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

/* The needs of -D: "root, msg_ring 5.18; parts: reg_wait 6.13", or "-". */
static const char *needs_column(const struct scenario *sc, char *buf, size_t len)
{
	char list[256];
	size_t off = 0;

	buf[0] = 0;
	if (sc->needs_root)
		off += snprintf(buf, len, "root");
	if (sc->needs && off < len)
		off += snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
				need_list(sc->needs, list, sizeof(list)));
	if (sc->part_needs && off < len)
		off += snprintf(buf + off, len - off, "%sparts: %s", off ? "; " : "",
				need_list(sc->part_needs, list, sizeof(list)));
	return off ? buf : "-";
}

/*
 * The scenario's metadata, the one source of what runtests.sh --describe and
 * the documentation's table of tests say about it: one line, tab-separated,
 * "-" for an empty field.
 */
static void describe(const struct scenario *sc)
{
	const char *sep = "";
	char col[512];

	printf("%s\t", sc->name);
	for (int i = 0; i < P_COUNT; i++)
		if (sc->profiles & PMASK(i)) {
			printf("%s%s", sep, profiles[i].name);
			sep = ",";
		}
	printf("\t%s\t", needs_column(sc, col, sizeof(col)));
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
	int ret, ncases = 0, n = 0, failed = 0, passed = 0, stopped_at = -1;	/* -x: its profile */

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
	if (getenv("TW_SEED_FAULT") && *getenv("TW_SEED_FAULT"))
		printf("# seeded fault: %s (TW_SEED_FAULT): not a real run\n",
		       getenv("TW_SEED_FAULT"));
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
		if (stopped_at >= 0) {	/* -x: a skip the runner tells from a real one */
			printf("ok %d %s # SKIP not run: stopped at the first failure (%s.%s)\n",
			       ++n, tc.name, sc->name, profiles[stopped_at].name);
			continue;
		}
		memset(shared, 0, sizeof(*shared));
		printf("# case %s: %s\n", tc.name, profiles[i].what);
		start = now_ns();
		if (sc->needs_root && !is_root()) {
			snprintf(shared->reason, sizeof(shared->reason), "needs root");
			v = V_SKIP;
		} else {
			v = case_run(&tc);
		}
		print_result(++n, &tc, v, ns_to_s(now_ns() - start));
		if (v >= V_FAIL && o.stop_first)
			stopped_at = i;
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
