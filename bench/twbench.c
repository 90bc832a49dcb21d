// SPDX-License-Identifier: MIT
/*
 * twbench - throughput and latency of io_uring task_work.
 *
 *   bench/twbench [-d SECS] [-w SECS] [-r N] [-p LIST] [-b N] [-c N] [-W N]
 *                 [-a MODE] [-t SECS] [-o DIR] [-q] [-l] [WORKLOAD[.MODE]...]
 *
 * Measures every selected (workload, mode, producer count) -r times for -d
 * seconds after a -w warm-up, prints a table row per result as it goes and,
 * with -o, writes DIR/bench.txt (the table) and DIR/bench.json. The floors
 * (user_*, epoll_wake) run first, so that each kernel row can be shown next
 * to its reference. Exit: 0 done, 1 a row saw an error (a lost message or
 * wake-up, a failed request), 2 usage, 77 nothing could run. doc/benchmark.md
 * says what each number means and how to compare two runs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "result.h"

/* The floors first: a kernel row's "vs ref" needs its reference. */
static const struct workload *const workloads[] = {
	&wl_user_mpsc, &wl_user_pingpong, &wl_epoll_wake,
	&wl_msgring, &wl_pingpong, &wl_pollwake,
};
#define NWORKLOADS	(int)(sizeof(workloads) / sizeof(workloads[0]))
#define MAX_RESULTS	256

static const char *sel_name(const struct workload *w, const char *mode)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s.%s", w->name, mode);
	return buf;
}

static const struct option long_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench/twbench [options] [WORKLOAD[.MODE]...]\n"
		"  -d SECS   measured time per run (default 0.5)\n"
		"  -w SECS   warm-up before it, not counted (default 0.1)\n"
		"  -r N      runs per row; min/median/max are over them (default 3)\n"
		"  -p LIST   producer counts for the fan-in workloads (default 1,2,4,8,16)\n"
		"  -b N      msgring, user_mpsc: messages per submit (default 1)\n"
		"  -c N      msgring: CQEs the consumer waits for (default 8)\n"
		"  -W N      msgring, user_mpsc: messages in flight at most (default 256)\n"
		"  -a MODE   thread placement: split (default: consumer on the first CPU,\n"
		"            producers on the others) or none (the scheduler's choice)\n"
		"  -t SECS   a wait longer than this is a hang, reported as an error\n"
		"            (default 10, or TW_HANG_SECONDS)\n"
		"  -o DIR    write DIR/bench.txt and DIR/bench.json\n"
		"  -q        no table on the terminal\n"
		"  -l        list workloads and modes\n"
		"  -h        this text (also --help)\n"
		"Workloads (all by default):\n");
	for (int i = 0; i < NWORKLOADS; i++) {
		const struct workload *w = workloads[i];

		for (int m = 0; w->modes[m]; m++)
			fprintf(f, "  %-22s %s\n", sel_name(w, w->modes[m]), w->path(w->modes[m]));
	}
}

static int parse_plist(struct bench_opts *o, const char *s)
{
	char *end;

	o->nplist = 0;
	for (;;) {
		long v = strtol(s, &end, 10);

		if (end == s || v < 1 || v > BENCH_MAX_PRODUCERS || o->nplist == BENCH_MAX_PLIST)
			return -1;
		o->plist[o->nplist++] = (int)v;
		if (!*end)
			return 0;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

/* -OPT's value: seconds in [min, 3600], or a usage error naming -OPT. */
static bool opt_secs(int opt, const char *s, double min, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (end != s && !*end && !errno && *v >= min && *v <= 3600)
		return true;
	fprintf(stderr, "twbench: bad -%c '%s': seconds, %g..3600\n", opt, s, min);
	return false;
}

/* -OPT's value: a whole number in [lo, hi], or a usage error naming -OPT. */
static bool opt_int(int opt, const char *s, long lo, long hi, int *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (end != s && !*end && !errno && n >= lo && n <= hi) {
		*v = (int)n;
		return true;
	}
	fprintf(stderr, "twbench: bad -%c '%s': a whole number, %ld..%ld\n", opt, s, lo, hi);
	return false;
}

/* Does WORKLOAD[.MODE] select (w, mode)? */
static bool selects(const char *sel, const struct workload *w, const char *mode)
{
	size_t n = strlen(w->name);

	if (strncmp(sel, w->name, n))
		return false;
	return !sel[n] || (sel[n] == '.' && !strcmp(sel + n + 1, mode));
}

static bool selected(char **sel, int nsel, const struct workload *w, const char *mode)
{
	if (!nsel)
		return true;
	for (int i = 0; i < nsel; i++)
		if (selects(sel[i], w, mode))
			return true;
	return false;
}

static bool known(const char *sel)
{
	for (int i = 0; i < NWORKLOADS; i++)
		for (int m = 0; workloads[i]->modes[m]; m++)
			if (selects(sel, workloads[i], workloads[i]->modes[m]))
				return true;
	return false;
}

/* One measurement, as the next repeat of res; false when the row is done
 * (skip, error). */
static bool measure_once(const struct bench_opts *o, struct result *res)
{
	struct measurement meas = {
		.o = o, .workload = res->w->name, .mode = res->mode, .producers = res->producers,
	};
	enum bench_status st;

	pthread_mutex_init(&meas.lock, NULL);
	hist_reset(&meas.lat);
	st = res->w->measure(&meas, res->reason, sizeof(res->reason));
	pthread_mutex_destroy(&meas.lock);
	res->errors += meas.errors;
	if (st == BENCH_OK && !meas.ops) {
		st = BENCH_ERROR;
		snprintf(res->reason, sizeof(res->reason), "no operation completed in %.2f s",
			 meas.seconds);
	}
	if (st == BENCH_ERROR && meas.errors)
		snprintf(res->reason, sizeof(res->reason), "%s", meas.error);
	res->status = st;
	if (st != BENCH_OK)
		return false;
	res->ops_s[res->repeats] = (double)meas.ops / meas.seconds;
	res->cpu_ns[res->repeats] = meas.cpu_s * 1e9 / (double)meas.ops;
	res->sleeps[res->repeats] =
		meas.slept_measured ? (double)meas.sleeps / (double)meas.ops : -1;
	res->repeats++;
	res->ops += meas.ops;
	hist_merge(res->lat, &meas.lat);
	return true;
}

static const struct result *find_ref(const struct result *res, int n, const struct workload *w,
				     int producers)
{
	const char *name = result_ref_name(w);

	for (int i = 0; name && i < n; i++)
		if (!strcmp(res[i].w->name, name) && res[i].producers == producers)
			return &res[i];
	return NULL;
}

/* The kernel's clocksource: every latency is two clock reads, and a
 * clocksource that is not read in userspace (hpet, acpi_pm) makes each a
 * system call. "?" where sysfs says nothing. */
static void clocksource(char *buf, size_t len)
{
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");

	snprintf(buf, len, "?");
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

/* -o DIR and its parents, like mkdir -p (make bench's results/bench/<release>
 * in a fresh clone has none of them); errors show when bench.txt is opened. */
static void mkdir_p(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			mkdir(path, 0755);
			*p = '/';
		}
	}
	mkdir(path, 0755);
}

static void utc_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int main(int argc, char **argv)
{
	struct bench_opts o = {
		.duration_s = 0.5, .warmup_s = 0.1, .repeats = 3, .batch = 1, .wait_nr = 8,
		.window = 256,
		.hang_s = 10, .pin = true, .plist = { 1, 2, 4, 8, 16 }, .nplist = 5,
	};
	static struct result res[MAX_RESULTS];
	const char *out = NULL, *env = getenv("TW_HANG_SECONDS");
	struct report_info ri = { .o = &o };
	char started[32], path[4096];
	struct utsname u;
	bool quiet = false;
	int n = 0, nok = 0, nerr = 0, c;
	int64_t t0 = now_ns();
	FILE *txt = NULL;

	if (env && !opt_int('t', env, 1, 86400, &o.hang_s)) {
		fprintf(stderr, "twbench: (the value of TW_HANG_SECONDS)\n");
		return 2;
	}
	/* For showing the loss checks fire (README): 1 message, 2 token, 3 reply,
	 * 4 a consumer that stops giving credits back. */
	env = getenv("TW_BENCH_FAULT");
	if (env)
		bench_fault_set((enum bench_fault)atoi(env));
	while ((c = getopt_long(argc, argv, "d:w:r:p:b:c:W:a:t:o:qlh", long_opts, NULL)) != -1) {
		bool ok = true;

		switch (c) {
		case 'd': ok = opt_secs(c, optarg, 0.01, &o.duration_s); break;
		case 'w': ok = opt_secs(c, optarg, 0, &o.warmup_s); break;
		case 'r': ok = opt_int(c, optarg, 1, BENCH_MAX_REPEATS, &o.repeats); break;
		case 'p':
			if (parse_plist(&o, optarg)) {
				fprintf(stderr, "twbench: bad -p '%s' (e.g. 1,2,4; 1..%d)\n", optarg,
					BENCH_MAX_PRODUCERS);
				return 2;
			}
			break;
		case 'b': ok = opt_int(c, optarg, 1, 256, &o.batch); break;
		case 'c': ok = opt_int(c, optarg, 1, 256, &o.wait_nr); break;
		case 'W': ok = opt_int(c, optarg, 1, 65536, &o.window); break;
		case 'a':
			if (strcmp(optarg, "split") && strcmp(optarg, "none")) {
				fprintf(stderr, "twbench: bad -a '%s' (split or none)\n", optarg);
				return 2;
			}
			o.pin = !strcmp(optarg, "split");
			break;
		case 't': ok = opt_int(c, optarg, 1, 86400, &o.hang_s); break;
		case 'o': out = optarg; break;
		case 'q': quiet = true; break;
		case 'l': usage(stdout); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (!ok)
			return 2;
	}
	if (o.window < o.batch || o.window < o.wait_nr) {
		fprintf(stderr, "twbench: bad -W %d: at least -b (%d) and -c (%d)\n", o.window,
			o.batch, o.wait_nr);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		if (!known(argv[i])) {
			fprintf(stderr, "twbench: unknown workload '%s' (bench/twbench -l)\n", argv[i]);
			return 2;
		}
	}
	if (out) {
		mkdir_p(out);
		snprintf(path, sizeof(path), "%s/bench.txt", out);
		txt = fopen(path, "w");
		if (!txt) {
			fprintf(stderr, "twbench: cannot write %s: %s\n", path, strerror(errno));
			return 2;
		}
	}
	uname(&u);
	utc_now(started, sizeof(started));
	ri.release = u.release;
	ri.machine = u.machine;
	ri.cpus = sysconf(_SC_NPROCESSORS_ONLN);
	ri.accel = getenv("TW_VM_ACCEL");
	if (ri.accel && !*ri.accel)
		ri.accel = NULL;
	ri.started = started;
	clocksource(ri.clock_start, sizeof(ri.clock_start));
	if (!quiet)
		report_header(stdout, &ri);
	if (txt)
		report_header(txt, &ri);

	for (int wi = 0; wi < NWORKLOADS; wi++) {
		const struct workload *w = workloads[wi];

		for (int m = 0; w->modes[m]; m++) {
			if (!selected(argv + optind, argc - optind, w, w->modes[m]))
				continue;
			for (int pi = 0; pi < (w->fan_in ? o.nplist : 1); pi++) {
				struct result *row = &res[n];

				if (n == MAX_RESULTS)
					break;
				*row = (struct result){ .w = w, .mode = w->modes[m],
							.producers = w->fan_in ? o.plist[pi] : 1,
							.lat = hist_new() };
				for (int k = 0; k < o.repeats && measure_once(&o, row); k++)
					;
				row->ref = find_ref(res, n, w, row->producers);
				n++;
				nok += row->status == BENCH_OK;
				nerr += row->status == BENCH_ERROR;
				/* Errors reach the terminal even with -q. */
				if (!quiet || row->status == BENCH_ERROR) {
					report_row(quiet ? stderr : stdout, row);
					fflush(stdout);
				}
				if (txt)
					report_row(txt, row);
			}
		}
	}
	clocksource(ri.clock_end, sizeof(ri.clock_end));
	if (strcmp(ri.clock_start, ri.clock_end)) {
		fprintf(stderr, "twbench: the clocksource changed from %s to %s during the run: "
				"the rows after it are not comparable with those before\n",
			ri.clock_start, ri.clock_end);
		if (txt)
			fprintf(txt, "# the clocksource changed during the run: %s -> %s\n",
				ri.clock_start, ri.clock_end);
	}
	if (txt)
		fclose(txt);
	if (out) {
		const char *status = nerr ? "error" : nok ? "ok" : "skip";

		snprintf(path, sizeof(path), "%s/bench.json", out);
		if (report_json(path, &ri, res, n, status, (double)(now_ns() - t0) / 1e9)) {
			fprintf(stderr, "twbench: cannot write %s\n", path);
			return 1;
		}
	}
	for (int i = 0; i < n; i++)
		hist_free(res[i].lat);
	if (nerr) {
		fprintf(stderr, "twbench: %d of %d rows failed (see ERROR above)\n", nerr, n);
		return 1;
	}
	return nok ? 0 : 77;
}
