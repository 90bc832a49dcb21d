// SPDX-License-Identifier: MIT
/*
 * tc_*: a case's verdict and messages. The verdict and its reason live in
 * the case's shared area (struct case_shared, MAP_SHARED), so a case's
 * forked children report into it too, and the parent watching the case
 * reads it after the case process is gone.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "case.h"

const char *const verdict_names[] = {
	[V_PASS] = "pass", [V_SKIP] = "skip", [V_FAIL] = "fail",
	[V_HANG] = "hang", [V_CRASH] = "crash",
};

void tc_set_verdict(struct tcase *tc, enum verdict v, const char *reason)
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

/* A failure is printed at once; a skip's reason only on its TAP line. */
static void vverdict(struct tcase *tc, enum verdict v, const char *fmt, va_list ap)
{
	char msg[480];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (v == V_FAIL)
		printf("# FAIL %s [%s]: %s\n", tc->name, tc->prof->name, msg);
	tc_set_verdict(tc, v, msg);
}

enum verdict tc_fail(struct tcase *tc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vverdict(tc, V_FAIL, fmt, ap);
	va_end(ap);
	return V_FAIL;
}

enum verdict tc_skip(struct tcase *tc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vverdict(tc, V_SKIP, fmt, ap);
	va_end(ap);
	return V_SKIP;
}

void tc_skip_part(struct tcase *tc, const char *part, const char *fmt, ...)
{
	struct case_shared *sh = tc->shared;
	char msg[400];
	unsigned i, n = __atomic_load_n(&sh->nparts, __ATOMIC_ACQUIRE);
	va_list ap;

	for (i = 0; i < n && i < CASE_PARTS; i++)
		if (!strncmp(sh->parts[i], part, sizeof(sh->parts[i]) - 1))
			return;
	i = __atomic_fetch_add(&sh->nparts, 1, __ATOMIC_ACQ_REL);
	if (i < CASE_PARTS)
		snprintf(sh->parts[i], sizeof(sh->parts[i]), "%s", part);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# SKIP-PART %s: %s: %s\n", tc->name, part, msg);
	fflush(stdout);
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
	/* The time into the case too: a "hang" reported long before the
	 * deadline could pass is a wrong verdict, and this shows it. */
	printf("# HANG %s [%s]: %s (no progress for %.1f s; %.2f s into the case)\n", tc->name,
	       tc->prof->name, msg, ns_to_s(tc->hang_ns),
	       ns_to_s(now_ns() - tc->start_ns));
	if (l)
		ledger_dump(l);
	if (r && r->live)
		diag_dump_fdinfo(getpid(), r->ring.ring_fd, "#   ");
	diag_dump_tasks(getpid(), "#   ");
	tc_set_verdict(tc, V_HANG, msg);
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
		.start_ns = now_ns(),
		.duration = DEFAULT_DURATION,
		.threads = 1,
		.shared = &m->shared,
	};
	snprintf(m->tc.name, sizeof(m->tc.name), "%s", name);
	return &m->tc;
}
