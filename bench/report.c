// SPDX-License-Identifier: MIT
/* The table (terminal, bench.txt) and bench.json, one result per line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config-host.h"
#include "result.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct stat3 stat3_of(const double *v, int n)
{
	double s[BENCH_MAX_REPEATS];

	if (n <= 0)
		return (struct stat3){ 0, 0, 0 };
	memcpy(s, v, sizeof(double) * (size_t)n);
	qsort(s, (size_t)n, sizeof(double), cmp_double);
	return (struct stat3){
		.min = s[0],
		.median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2,
		.max = s[n - 1],
	};
}

double result_spread_pct(const struct result *res)
{
	struct stat3 s = stat3_of(res->ops_s, res->repeats);

	return s.median > 0 ? (s.max - s.min) / s.median * 100 : 0;
}

const char *result_ref_name(const struct workload *w)
{
	if (w == &wl_msgring)
		return "user_mpsc";
	if (w == &wl_pollwake)
		return "epoll_wake";
	if (w == &wl_pingpong)
		return "user_pingpong";
	return NULL;
}

void report_header(FILE *f, const struct report_info *ri)
{
	const struct bench_opts *o = ri->o;

	fprintf(f, "# twbench on %s (%s, %ld CPUs%s%s, clocksource %s), %s\n", ri->release,
		ri->machine, ri->cpus, ri->accel ? ", guest under " : "", ri->accel ? ri->accel : "",
		ri->clock_start, ri->started);
	fprintf(f, "# %d x %.2f s per row after %.2f s warm-up; batch %d, wait %d, window %d; threads %s\n",
		o->repeats, o->duration_s, o->warmup_s, o->batch, o->wait_nr, o->window,
		o->pin ? "split (consumer on the first CPU, producers on the others)" : "unpinned");
	fprintf(f, "# ops/s: median of the repeats, spread (max-min)/median; latency over all repeats;\n"
		   "# vs ref: ops/s divided by the reference row's (msgring: user_mpsc, pollwake:\n"
		   "# epoll_wake, pingpong: user_pingpong) at the same producer count\n");
	fprintf(f, "# sleeps/op: how often the consumer slept (was woken) per operation\n");
	fprintf(f, "%-13s %-7s %3s %12s %7s %9s %9s %9s %9s %9s %7s\n", "workload", "mode", "P",
		"ops/s", "spread", "cpu ns/op", "sleeps/op", "p50 us", "p99 us", "p99.9 us", "vs ref");
}

static void fmt_rate(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}

void report_row(FILE *f, const struct result *res)
{
	struct stat3 ops = stat3_of(res->ops_s, res->repeats);
	struct stat3 cpu = stat3_of(res->cpu_ns, res->repeats);
	char rate[32], ref[16] = "-";

	if (res->status != BENCH_OK) {
		fprintf(f, "%-13s %-7s %3d %s: %s\n", res->w->name, res->mode, res->producers,
			res->status == BENCH_SKIP ? "SKIP" : "ERROR", res->reason);
		return;
	}
	fmt_rate(rate, sizeof(rate), ops.median);
	if (res->ref && res->ref->status == BENCH_OK) {
		struct stat3 r = stat3_of(res->ref->ops_s, res->ref->repeats);

		if (r.median > 0)
			snprintf(ref, sizeof(ref), "%.2f", ops.median / r.median);
	}
	fprintf(f, "%-13s %-7s %3d %12s %6.1f%% %9.0f %9.3f %9.1f %9.1f %9.1f %7s\n",
		res->w->name, res->mode, res->producers, rate, result_spread_pct(res), cpu.median,
		stat3_of(res->sleeps, res->repeats).median,
		(double)hist_quantile(res->lat, 0.50) / 1e3, (double)hist_quantile(res->lat, 0.99) / 1e3,
		(double)hist_quantile(res->lat, 0.999) / 1e3, ref);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* Plain decimals for people and awk; small values (sleeps per operation)
 * keep four significant digits. */
static void json_number(FILE *f, double v)
{
	fprintf(f, v >= 1 || v <= -1 || v == 0 ? "%.1f" : "%.4g", v);
}

static void json_stat3(FILE *f, struct stat3 s)
{
	fprintf(f, "{\"min\": ");
	json_number(f, s.min);
	fprintf(f, ", \"median\": ");
	json_number(f, s.median);
	fprintf(f, ", \"max\": ");
	json_number(f, s.max);
	fprintf(f, "}");
}

static void json_result(FILE *f, const struct result *res)
{
	bool ok = res->status == BENCH_OK;
	const char *ref = result_ref_name(res->w);

	fprintf(f, "{\"workload\": ");
	json_string(f, res->w->name);
	fprintf(f, ", \"mode\": ");
	json_string(f, res->mode);
	fprintf(f, ", \"path\": ");
	json_string(f, res->w->path(res->mode));
	fprintf(f, ", \"producers\": %d, \"status\": \"%s\", \"reason\": ", res->producers,
		ok ? "ok" : res->status == BENCH_SKIP ? "skip" : "error");
	json_string(f, res->reason);
	fprintf(f, ", \"repeats\": %d", res->repeats);
	if (!ok) {
		fprintf(f, ", \"ops\": null, \"ops_per_sec\": null, \"spread_pct\": null, "
			   "\"cpu_ns_per_op\": null, \"lat_ns\": null");
	} else {
		fprintf(f, ", \"ops\": %llu, \"ops_per_sec\": ", (unsigned long long)res->ops);
		json_stat3(f, stat3_of(res->ops_s, res->repeats));
		fprintf(f, ", \"spread_pct\": %.1f, \"cpu_ns_per_op\": ", result_spread_pct(res));
		json_stat3(f, stat3_of(res->cpu_ns, res->repeats));
		fprintf(f, ", \"lat_ns\": {\"p50\": %llu, \"p99\": %llu, \"p999\": %llu, \"max\": %llu}",
			(unsigned long long)hist_quantile(res->lat, 0.50),
			(unsigned long long)hist_quantile(res->lat, 0.99),
			(unsigned long long)hist_quantile(res->lat, 0.999),
			(unsigned long long)res->lat->max);
	}
	fprintf(f, ", \"errors\": %llu", (unsigned long long)res->errors);
	if (ok) {
		fprintf(f, ", \"sleeps_per_op\": ");
		json_stat3(f, stat3_of(res->sleeps, res->repeats));
	} else {
		fprintf(f, ", \"sleeps_per_op\": null");
	}
	fprintf(f, ", \"ref\": ");
	if (ref)
		json_string(f, ref);
	else
		fprintf(f, "null");
	fprintf(f, "}");
}

int report_json(const char *path, const struct report_info *ri, const struct result *res,
		int n, const char *status, double seconds)
{
	const struct bench_opts *o = ri->o;
	char clock[sizeof(ri->clock_start) + sizeof(ri->clock_end) + 4];
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "{\n  \"schema\": 1,\n  \"tool\": \"twbench\",\n  \"release\": ");
	json_string(f, ri->release);
	fprintf(f, ",\n  \"machine\": ");
	json_string(f, ri->machine);
	fprintf(f, ",\n  \"cpus\": %ld,\n  \"accel\": ", ri->cpus);
	if (ri->accel)
		json_string(f, ri->accel);
	else
		fprintf(f, "null");
	fprintf(f, ",\n  \"liburing\": ");
	json_string(f, LIBURING_VERSION_STR);
	fprintf(f, ",\n  \"started\": ");
	json_string(f, ri->started);
	/* "tsc", or "tsc -> hpet" when it changed during the run. */
	snprintf(clock, sizeof(clock), "%s%s%s", ri->clock_start,
		 strcmp(ri->clock_start, ri->clock_end) ? " -> " : "",
		 strcmp(ri->clock_start, ri->clock_end) ? ri->clock_end : "");
	fprintf(f, ",\n  \"clocksource\": ");
	json_string(f, clock);
	fprintf(f, ",\n  \"params\": {\"duration\": %.3f, \"warmup\": %.3f, \"repeats\": %d, "
		   "\"producers\": [", o->duration_s, o->warmup_s, o->repeats);
	for (int i = 0; i < o->nplist; i++)
		fprintf(f, "%s%d", i ? ", " : "", o->plist[i]);
	fprintf(f, "], \"batch\": %d, \"wait\": %d, \"window\": %d, \"hang\": %d, \"pin\": \"%s\"},\n"
		   "  \"results\": [\n", o->batch, o->wait_nr, o->window, o->hang_s,
		o->pin ? "split" : "none");
	for (int i = 0; i < n; i++) {
		json_result(f, &res[i]);
		fprintf(f, "%s\n", i + 1 < n ? "," : "");
	}
	fprintf(f, "  ],\n  \"status\": \"%s\",\n  \"seconds\": %.1f\n}\n", status, seconds);
	return fclose(f);
}
