// SPDX-License-Identifier: MIT
/*
 * Self-test of ring set-up and raw waits (src/profile.c). A profile the
 * kernel refuses (EINVAL for setup flags it does not know) must become a
 * skip with a reason, never a failure - that is what lets one suite run
 * from 6.1 to 7.3; but an error that is not such a refusal must still fail.
 * The raw waits must end at their timeout.
 */
#include "selftest.h"

#define WAIT_NS		(50 * NSEC_PER_MSEC)
#define LATE_NS		(100 * NSEC_PER_MSEC)
#define NOT_A_RING	1000		/* an fd number nothing has open */

enum scene { UNKNOWN_FLAG, ATTACH_BAD_FD, EVERY_PROFILE, REGISTERED };

/* In a child: set up a ring as the scene says; exit code is the verdict. */
static int setup(void *arg)
{
	enum scene scene = *(enum scene *)arg;
	struct tcase *tc = tc_selftest_new("selftest_tring");
	struct tring_opts o = { .attach_wq_fd = -1 };
	struct deadline dl;
	struct tring r;
	enum verdict v;

	switch (scene) {
	case UNKNOWN_FLAG:
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
	v = tring_init(tc, &r, "r", &profiles[P_DEFAULT], &o);
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
	{ "unknown setup flag (EINVAL) is a skip with a reason", UNKNOWN_FLAG, V_SKIP,
	  { "tring_init -> 1, live 0", "reason: ring r (default): kernel refuses setup flags "
	    "0x80000000 (EINVAL)", "!FAIL" } },
	{ "another set-up error (ATTACH_WQ to no ring) is a failure", ATTACH_BAD_FD, V_FAIL,
	  { "# FAIL selftest_tring [default]: ring r (default): io_uring_queue_init_params(flags "
	    "0x20)", "tring_init -> 2, live 0" } },
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

	st_begin("tring self-test: refused profiles skip, real errors fail, waits time out");
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
