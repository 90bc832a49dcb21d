// SPDX-License-Identifier: MIT
/*
 * Self-test of the needs table (src/needs.c): a refusal is a skip only on a
 * kernel that predates the feature (or where the system refuses, e.g.
 * kernel.yama.ptrace_scope), a failure with the errno and both versions on
 * any newer one, and ENOMEM never a skip; a skipped part prints one
 * "# SKIP-PART" line and leaves the case passing; a need the scenario did
 * not declare fails. Each check runs in a child with its own TW_KVER (the
 * version is read once per process) and looks at verdict and message.
 */
#include <sys/stat.h>

#include "selftest.h"

struct call {
	const char *kver;		/* TW_KVER of the child */
	const char *sysctl_dir;		/* TW_SYSCTL_DIR, or NULL */
	bool declared;			/* the scenario declares the need */
	enum verdict (*fn)(struct tcase *tc);
};

static const struct scenario declared = {
	.name = "needs", .part_needs = NEED(REG_WAIT) | NEED(PIDFD_GETFD),
	.needs = NEED(MSG_RING),
};
static const struct scenario bare = { .name = "needs" };

static int child(void *p)
{
	const struct call *c = p;
	struct tcase *tc = tc_selftest_new("needs.default");
	enum verdict v;

	setenv("TW_KVER", c->kver, 1);
	if (c->sysctl_dir)
		setenv("TW_SYSCTL_DIR", c->sysctl_dir, 1);
	tc->sc = c->declared ? &declared : &bare;
	v = c->fn(tc);
	printf("returned %s, verdict %s: %s\n", v == V_SKIP ? "skip" : v == V_FAIL ? "fail" :
	       v == V_PASS ? "pass" : "other", tc_verdict(tc) == V_SKIP ? "skip" :
	       tc_verdict(tc) == V_FAIL ? "fail" : tc_verdict(tc) == V_PASS ? "pass" : "other",
	       tc_reason(tc));
	return 0;
}

static void check(const char *what, struct call c, const char *const out[])
{
	struct st_run r;

	if (st_capture(&r, child, &c) || !st_ok(st_exit(&r) == 0 && st_matches(&r, out, 8),
						 "%s (TW_KVER=%s)", what, c.kver) || st_verbose())
		st_show(&r);
}

static enum verdict msg_einval(struct tcase *tc)
{
	return tc_refused(tc, NEED_MSG_RING, -EINVAL, "MSG_RING");
}

static enum verdict msg_enomem(struct tcase *tc)
{
	return tc_refused(tc, NEED_MSG_RING, -ENOMEM, "MSG_RING");
}

static enum verdict defer_setup(struct tcase *tc)
{
	return tc_setup_refused(tc, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
				-EINVAL, "ring r (defer)");
}

static enum verdict part_twice(struct tcase *tc)
{
	tc_skip_part(tc, "the part", "why %d", 1);
	tc_skip_part(tc, "the part", "why %d", 2);
	return tc_verdict(tc);
}

static enum verdict region_part(struct tcase *tc)
{
	return tc_refused_part(tc, NEED_REG_WAIT, -EINVAL, "registered wait region");
}

static enum verdict region_predated(struct tcase *tc)
{
	return tc_part_predated(tc, NEED_REG_WAIT, "registered wait region") ? V_SKIP :
	       tc_verdict(tc);
}

static enum verdict getfd_eperm(struct tcase *tc)
{
	return tc_refused(tc, NEED_PIDFD_GETFD, -EPERM, "pidfd_getfd");
}

/* The table itself: oldest first, every entry named, a flag it probes. */
static void check_table(void)
{
	bool ok = true;

	for (int n = 0; n < NEED_COUNT; n++) {
		const struct need *d = &needs[n];

		if (!d->name || !d->what || !d->first ||
		    (n && d->first < needs[n - 1].first) ||
		    (d->probe == NP_SETUP && (d->arg & d->setup_flag) != d->setup_flag)) {
			printf("# entry %d (%s) is out of order or incomplete\n", n,
			       d->name ? d->name : "?");
			ok = false;
		}
	}
	st_ok(ok, "the table: oldest first, each entry complete");
}

int main(void)
{
	char dir[] = "/tmp/needs-selftest.XXXXXX", path[64];
	FILE *f;

	st_begin("needs: a refusal is a skip only on a kernel that predates the feature");
	check_table();
	check("a refusal on a kernel that predates the feature skips",
	      (struct call){ "5.10.0", NULL, true, msg_einval },
	      (const char *[]){ "returned skip, verdict skip: MSG_RING: kernel 5.10 predates "
				"IORING_OP_MSG_RING (first in 5.18)", NULL });
	check("a refusal on a kernel that has the feature fails with errno and versions",
	      (struct call){ "7.3.4", NULL, true, msg_einval },
	      (const char *[]){ "returned fail, verdict fail: MSG_RING: EINVAL (Invalid argument), "
				"but kernel 7.3.4 has IORING_OP_MSG_RING (since 5.18)", NULL });
	check("ENOMEM is never a skip, not even on an old kernel",
	      (struct call){ "5.10", NULL, true, msg_enomem },
	      (const char *[]){ "returned fail, verdict fail: MSG_RING: ENOMEM", "never a skip",
				NULL });
	check("a refused set-up is judged by its newest flag (skip)",
	      (struct call){ "6.0.19", NULL, true, defer_setup },
	      (const char *[]){ "verdict skip: ring r (defer): kernel 6.0.19 predates "
				"IORING_SETUP_DEFER_TASKRUN (first in 6.1)", NULL });
	check("a refused set-up is judged by its newest flag (fail)",
	      (struct call){ "6.1", NULL, true, defer_setup },
	      (const char *[]){ "verdict fail: ring r (defer): EINVAL", "but kernel 6.1 has "
				"IORING_SETUP_DEFER_TASKRUN (since 6.1)", NULL });
	check("a skipped part is one SKIP-PART line, and the case passes",
	      (struct call){ "7.3.4", NULL, true, part_twice },
	      (const char *[]){ "# SKIP-PART needs.default: the part: why 1\n",
				"!why 2", "returned pass, verdict pass", NULL });
	check("a refused part on a kernel that predates it is a skipped part",
	      (struct call){ "6.12", NULL, true, region_part },
	      (const char *[]){ "# SKIP-PART needs.default: registered wait region: kernel 6.12 "
				"predates IORING_REGISTER_MEM_REGION", "returned skip, verdict pass",
				NULL });
	check("a refused part on a kernel that has it fails",
	      (struct call){ "7.3.4", NULL, true, region_part },
	      (const char *[]){ "!SKIP-PART", "verdict fail: registered wait region: EINVAL "
				"(Invalid argument), but kernel 7.3.4 has", NULL });
	check("a part asked before it runs: skipped where predated",
	      (struct call){ "6.11", NULL, true, region_predated },
	      (const char *[]){ "# SKIP-PART needs.default: registered wait region: kernel 6.11",
				"returned skip, verdict pass", NULL });
	check("a part asked before it runs: runs where the kernel has it",
	      (struct call){ "6.13", NULL, true, region_predated },
	      (const char *[]){ "!SKIP-PART", "returned pass, verdict pass", NULL });
	check("a need the scenario does not declare fails",
	      (struct call){ "5.10", NULL, false, region_part },
	      (const char *[]){ "verdict fail", "not among the scenario's needs", "!SKIP-PART",
				NULL });
	check("a part the scenario does not declare fails",
	      (struct call){ "5.10", NULL, false, region_predated },
	      (const char *[]){ "verdict fail", "not among the scenario's part needs", NULL });
	if (!mkdtemp(dir))
		return perror("mkdtemp"), 1;
	snprintf(path, sizeof(path), "%s/yama", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/yama/ptrace_scope", dir);
	f = fopen(path, "w");
	if (!f)
		return perror(path), 1;
	fprintf(f, "2\n");
	fclose(f);
	check("the system's refusal is a skip that says so",
	      (struct call){ "7.3.4", dir, true, getfd_eperm },
	      (const char *[]){ "verdict skip: pidfd_getfd: EPERM (Operation not permitted): "
				"ptrace access refused (kernel.yama.ptrace_scope=2)", NULL });
	remove(path);
	check("without the system's refusal it fails",
	      (struct call){ "7.3.4", dir, true, getfd_eperm },
	      (const char *[]){ "verdict fail: pidfd_getfd: EPERM", NULL });
	snprintf(path, sizeof(path), "%s/yama", dir);
	rmdir(path);
	rmdir(dir);
	return st_end();
}
