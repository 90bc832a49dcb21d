// SPDX-License-Identifier: MIT
/*
 * Self-test of bench/ (twbench): the histogram puts every value in a bucket
 * that holds it and its percentiles are within a bucket's width; and each
 * loss check of the workloads fires - with a seeded fault that loses one
 * message, token or reply, or a consumer that stops handing credits back,
 * the row is an ERROR that says what was lost or stuck,
 * and without it the same row is OK. A benchmark that reports a lost
 * completion as a slow one would hide exactly what the suite exists for.
 */
#include "selftest.h"
#include "bench.h"
#include "result.h"

static void check_buckets(void)
{
	bool contiguous = true, holds = true;
	uint64_t bad = 0;

	for (unsigned i = 1; i < HIST_BUCKETS; i++)
		if (hist_bucket_low(i) != hist_bucket_high(i - 1) + 1)
			contiguous = false;
	st_ok(contiguous && hist_bucket_low(0) == 0,
	      "histogram: the %d buckets tile 0..%llu with no gap or overlap", HIST_BUCKETS,
	      (unsigned long long)hist_bucket_high(HIST_BUCKETS - 1));
	for (uint64_t v = 0; v < (1ULL << 42); v = v * 3 / 2 + 1) {
		unsigned i = hist_index(v);

		if (v < hist_bucket_low(i) || v > hist_bucket_high(i)) {
			holds = false;
			bad = v;
		}
	}
	st_ok(holds, "histogram: each value lands in the bucket that holds it%s",
	      holds ? "" : " (not for some value)");
	if (!holds)
		printf("# e.g. %llu -> bucket %u [%llu, %llu]\n", (unsigned long long)bad,
		       hist_index(bad), (unsigned long long)hist_bucket_low(hist_index(bad)),
		       (unsigned long long)hist_bucket_high(hist_index(bad)));
}

static bool near(uint64_t got, double want)
{
	/* A bucket is at most 1/16 of its value wide; the middle is half that. */
	return (double)got >= want * (1 - 1.0 / HIST_SUB) && (double)got <= want * (1 + 1.0 / HIST_SUB);
}

static void check_quantiles(void)
{
	struct hist *a = hist_new(), *b = hist_new();
	uint64_t p50, p99, p999;

	st_ok(hist_quantile(a, 0.5) == 0, "histogram: an empty one answers 0");
	/* 1..100000 us in two halves, merged: the merge must add up. */
	for (int64_t v = 1; v <= 100000; v++)
		hist_record(v % 2 ? a : b, v * 1000);
	hist_merge(a, b);
	p50 = hist_quantile(a, 0.50);
	p99 = hist_quantile(a, 0.99);
	p999 = hist_quantile(a, 0.999);
	st_ok(a->count == 100000 && a->max == 100000000ULL, "histogram: merged count %llu max %llu",
	      (unsigned long long)a->count, (unsigned long long)a->max);
	st_ok(near(p50, 50e6) && near(p99, 99e6) && near(p999, 99.9e6),
	      "histogram: uniform 1..100 ms -> p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms (within 1/16)",
	      (double)p50 / 1e6, (double)p99 / 1e6, (double)p999 / 1e6);
	hist_free(a);
	hist_free(b);
}

static void check_stats(void)
{
	double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 };
	struct stat3 o = stat3_of(odd, 3), e = stat3_of(even, 4);

	st_ok(o.min == 1 && o.median == 3 && o.max == 5 && e.median == 2.5,
	      "min/median/max: {5,1,3} -> %g/%g/%g, {4,1,3,2} -> median %g", o.min, o.median,
	      o.max, e.median);
}

/* One measurement of w in mode with p producers, fault f seeded: its
 * status, reason in why. */
static enum bench_status measure_row(const struct workload *w, const char *mode, int p,
				     enum bench_fault f, char *why, size_t len, uint64_t *ops)
{
	struct bench_opts o = {
		.duration_s = 0.1, .warmup_s = 0.02, .repeats = 1, .batch = 1, .wait_nr = 8, .window = 64,
		.hang_s = 1,
	};
	struct measurement meas = { .o = &o, .workload = w->name, .mode = mode, .producers = p };
	enum bench_status st;

	/* A stalled consumer is a hang only once producers have waited --hang
	 * seconds for credit: the measurement must outlast that. */
	if (f == FAULT_STALLED_CONSUMER)
		o.duration_s = 1.5;
	why[0] = 0;
	pthread_mutex_init(&meas.lock, NULL);
	bench_fault_set(f);
	st = w->measure(&meas, why, len);
	bench_fault_set(FAULT_NONE);
	if (meas.errors)
		snprintf(why, len, "%s", meas.error);
	*ops = meas.ops;
	pthread_mutex_destroy(&meas.lock);
	return st;
}

static void check_loss(const struct workload *w, const char *mode, int p, enum bench_fault f,
		       const char *words)
{
	char why[240];
	uint64_t ops;
	enum bench_status st = measure_row(w, mode, p, FAULT_NONE, why, sizeof(why), &ops);

	if (st == BENCH_SKIP) {
		st_skip(w->name, why);
		return;
	}
	st_ok(st == BENCH_OK && ops > 0, "%s.%s P=%d: a clean run is OK (%llu ops)%s%s", w->name,
	      mode, p, (unsigned long long)ops, why[0] ? ": " : "", why);
	st = measure_row(w, mode, p, f, why, sizeof(why), &ops);
	static const char *const fault_name[] = {
		[FAULT_LOST_MESSAGE] = "a lost message", [FAULT_LOST_TOKEN] = "a lost token",
		[FAULT_LOST_REPLY] = "a lost reply", [FAULT_STALLED_CONSUMER] = "a stalled consumer",
	};

	st_ok(st == BENCH_ERROR && strstr(why, words), "%s.%s P=%d: %s seeded -> ERROR \"%s\"",
	      w->name, mode, p, fault_name[f], why);
}

int main(void)
{
	st_begin("bench/: histogram, statistics, and the workloads' loss checks");
	check_buckets();
	check_quantiles();
	check_stats();
	check_loss(&wl_user_mpsc, "user", 2, FAULT_LOST_MESSAGE, "nothing for");
	check_loss(&wl_user_mpsc, "user", 2, FAULT_STALLED_CONSUMER, "no credit");
	check_loss(&wl_user_pingpong, "user", 1, FAULT_LOST_REPLY, "no turn");
	check_loss(&wl_epoll_wake, "epoll", 2, FAULT_LOST_TOKEN, "wake-up was lost");
	check_loss(&wl_msgring, "defer", 2, FAULT_LOST_MESSAGE, "sent");
	check_loss(&wl_msgring, "default", 2, FAULT_LOST_MESSAGE, "sent");
	check_loss(&wl_msgring, "defer", 2, FAULT_STALLED_CONSUMER, "no credit");
	check_loss(&wl_pingpong, "defer", 1, FAULT_LOST_REPLY, "lost");
	check_loss(&wl_pollwake, "default", 2, FAULT_LOST_TOKEN, "wake-up was lost");
	check_loss(&wl_pollwake, "defer", 2, FAULT_LOST_TOKEN, "wake-up was lost");
	check_loss(&wl_pollwake, "sqpoll", 2, FAULT_LOST_TOKEN, "wake-up was lost");
	return st_end();
}
