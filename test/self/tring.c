// SPDX-License-Identifier: MIT
/*
 * Self-test of ring set-up and raw waits (src/tring.c). A set-up the kernel
 * refuses is a skip only where the kernel predates a flag asked for (the
 * needs table, src/needs.c) - that is what lets one suite run from 6.1 to
 * 7.3; on a kernel that has them all, the refusal (EINVAL, ENXIO, ...) is a
 * failure. The raw waits must end at their timeout.
 */
#include "selftest.h"

#define WAIT_NS		(50 * NSEC_PER_MSEC)
#define LATE_NS		(100 * NSEC_PER_MSEC)
#define NOT_A_RING	1000		/* an fd number nothing has open */

enum scene { UNKNOWN_FLAG, PREDATED_FLAG, ATTACH_BAD_FD, EVERY_PROFILE, REGISTERED };

/* In a child: set up a ring as the scene says; exit code is the verdict. */
static int setup(void *arg)
{
	enum scene scene = *(enum scene *)arg;
	struct tcase *tc = tc_selftest_new("selftest_tring");
	struct tring_opts o = { .attach_wq_fd = -1 };
	struct deadline dl;
	struct tring r;
	enum verdict v;

	const struct profile *prof = &profiles[P_DEFAULT];

	switch (scene) {
	case UNKNOWN_FLAG:
		o.extra_flags = 1u << 31;
		break;
	case PREDATED_FLAG:
		/* Refused (the unknown flag) on a kernel judged to be 6.0. */
		setenv("TW_KVER", "6.0.19", 1);
		prof = &profiles[P_DEFER];
		o.extra_flags = 1u << 31;
		break;
	case ATTACH_BAD_FD:
		o.attach_wq_fd = NOT_A_RING;
		break;
	case EVERY_PROFILE:
		for (int i = 0; i < P_COUNT; i++) {
			v = tring_init(tc, &r, "each", &profiles[i], NULL);
			printf("# profile %s: %s\n", profiles[i].name,
			       v == V_PASS ? "set up" : v == V_SKIP ? "skipped" : "FAILED");
			tring_exit(&r);
		}
		/* Skips are fine here (an older kernel); only a failure is not. */
		return tc_failed(tc) ? V_FAIL : V_PASS;
	case REGISTERED:
		o.register_fd = true;
		break;
	}
	v = tring_init(tc, &r, "r", prof, &o);
	printf("# tring_init -> %d, live %d, registered %d, reason: %s\n", v, r.live, r.registered,
	       tc_reason(tc));
	if (v == V_PASS && scene == REGISTERED) {
		/* A NOP, then waits entered through the registered ring fd. */
		dl = deadline_in(5 * NSEC_PER_SEC);
		io_uring_prep_nop(tring_sqe(&r));
		io_uring_submit(&r.ring);
		printf("# registered wait: %d\n", tring_wait_ready(&r, 1, &dl));
	}
	tring_exit(&r);
	tring_exit(&r);			/* twice is harmless */
	return v;
}

struct check {
	const char *what;
	enum scene scene;
	enum verdict verdict;
	const char *out[3];
};

static const struct check checks[] = {
	{ "a refused set-up on a kernel that has its flags is a failure", UNKNOWN_FLAG, V_FAIL,
	  { "tring_init -> 2, live 0", "# FAIL selftest_tring [default]: ring r (default): "
	    "io_uring_setup(flags 0x80000000): EINVAL (Invalid argument), but kernel" } },
	{ "a refused set-up on a kernel that predates a flag is a skip", PREDATED_FLAG, V_SKIP,
	  { "tring_init -> 1, live 0", "reason: ring r (defer): io_uring_setup(flags "
	    "0x80003000): kernel 6.0.19 predates "
	    "IORING_SETUP_DEFER_TASKRUN (first in 6.1)", "!FAIL" } },
	{ "another set-up error (ATTACH_WQ to no ring) is a failure", ATTACH_BAD_FD, V_FAIL,
	  { "# FAIL selftest_tring [default]: ring r (default): io_uring_setup(flags 0x20): "
	    "ENXIO", "tring_init -> 2, live 0" } },
	{ "every profile sets up or skips, none fails", EVERY_PROFILE, V_PASS,
	  { "# profile default: set up", "!FAILED" } },
	{ "registered ring fd: waits go through it", REGISTERED, V_PASS,
	  { "live 1, registered 1", "registered wait: 0" } },
};

/* Waits with nothing to wait for end at their timeout. */
static void check_wait_timeouts(void)
{
	struct tcase *tc = tc_selftest_new("selftest_tring");
	struct deadline dl;
	struct tring r;
	int64_t t0, took;
	int ret;

	if (tring_init(tc, &r, "idle", &profiles[P_DEFAULT], NULL) != V_PASS) {
		st_ok(false, "default ring set-up: %s", tc_reason(tc));
		return;
	}
	t0 = now_ns();
	ret = tring_wait(&r, 1, WAIT_NS, 0, NULL);
	took = now_ns() - t0;
	st_ok(ret == -ETIME && took >= WAIT_NS && took < WAIT_NS + LATE_NS,
	      "tring_wait: nothing comes -> %d (-ETIME) after %.1f ms of %.0f", ret,
	      (double)took / NSEC_PER_MSEC, (double)WAIT_NS / NSEC_PER_MSEC);
	dl = deadline_in(WAIT_NS);
	ret = tring_wait_ready(&r, 1, &dl);
	took = now_ns() - dl.end_ns;
	st_ok(ret == -ETIMEDOUT && took >= 0 && took < LATE_NS,
	      "tring_wait_ready: nothing comes -> %d (-ETIMEDOUT) %.1f ms after the deadline", ret,
	      (double)took / NSEC_PER_MSEC);
	tring_exit(&r);
}

int main(void)
{
	static struct st_run run;

	st_begin("tring self-test: refusals skip only before the flag's kernel, waits time out");
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		const struct check *c = &checks[i];
		bool good = st_capture(&run, setup, (void *)&c->scene) == 0 &&
			    st_exit(&run) == (int)c->verdict && st_matches(&run, c->out, 3);

		if (!st_ok(good, "tring_init: %s", c->what) || st_verbose())
			st_show(&run);
	}
	check_wait_timeouts();
	return st_end();
}
