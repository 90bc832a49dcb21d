// SPDX-License-Identifier: MIT
/*
 * Self-test of ring set-up and raw waits (src/tring.c). A set-up the kernel
 * refuses is a skip only where the kernel predates a flag asked for (the
 * needs table, src/needs.c) - that is what lets one suite run from 6.1 to
 * 7.3; on a kernel that has them all, the refusal (EINVAL, ENXIO, ...) is a
 * failure. The raw waits must end at their timeout. The judged waits
 * (tring_await(), tring_submit_await(), tring_await_ledger()) call only a
 * passed deadline a hang: a wait or submit that fails at once is a failure
 * that says what failed. tring_await_ledger()'s hang shows what the ledger
 * still has outstanding.
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

enum judged { AWAIT_NOTHING, AWAIT_BROKEN, SUBMIT_BROKEN, SUBMIT_NOP, AWAIT_LEDGER };

/* In a child: a judged wait as the scene says; exit code is the verdict. */
static int judged(void *arg)
{
	enum judged scene = *(enum judged *)arg;
	struct tcase *tc = tc_selftest_new("selftest_await");
	struct ledger *l = NULL;
	struct deadline dl;
	struct tring r;
	enum verdict v;
	int p[2];

	if (tring_init(tc, &r, "r", &profiles[P_DEFAULT], NULL) != V_PASS || pipe(p))
		return V_FAIL;
	tc->hang_ns = 100 * NSEC_PER_MSEC;
	dl = tc_deadline(tc);
	if (scene != AWAIT_NOTHING && scene != AWAIT_LEDGER)
		io_uring_prep_nop(tring_sqe(&r));
	/* A ring fd that is no ring any more: io_uring_enter() fails at once. */
	if (scene == AWAIT_BROKEN || scene == SUBMIT_BROKEN)
		dup2(p[0], r.ring.ring_fd);
	if (scene == AWAIT_LEDGER) {
		/* Three requests issued, none completed: the hang shows them. */
		l = ledger_new(tc, "pending", 1, 1, 16, 0);
		ledger_sent(l, 0, 0, 3);
		v = tring_await_ledger(tc, l, &r, 1, &dl, "the %s", "test CQE");
	} else if (scene == AWAIT_NOTHING || scene == AWAIT_BROKEN) {
		v = tring_await(tc, &r, 1, &dl, "the %s", "test CQE");
	} else {
		v = tring_submit_await(tc, &r, 1, 1, &dl, "a NOP");
	}
	printf("# judged -> %d\n", v);
	if (l)
		ledger_free(l);
	tring_exit(&r);
	return v;
}

static const struct {
	const char *what;
	enum judged scene;
	enum verdict verdict;
	const char *out[3];
} judged_checks[] = {
	{ "tring_await: nothing comes by the deadline -> HANG, with the time into the case",
	  AWAIT_NOTHING, V_HANG,
	  { "# HANG selftest_await [default]: waiting for the test CQE: 1 CQEs awaited, 0 ready "
	    "(no progress for 0.1 s; 0.", " s into the case)", "!FAIL" } },
	{ "tring_await: a wait that fails at once is a FAIL naming the error, no HANG",
	  AWAIT_BROKEN, V_FAIL,
	  { "# FAIL selftest_await [default]: waiting for the test CQE: the wait failed: ",
	    "(-95), 0 of 1 CQEs ready", "!HANG" } },
	{ "tring_submit_await: a failed submit is a FAIL with what it returned, no HANG",
	  SUBMIT_BROKEN, V_FAIL,
	  { "# FAIL selftest_await [default]: submit for a NOP failed: ", "(-95)", "!HANG" } },
	{ "tring_submit_await: a NOP submitted and completed passes", SUBMIT_NOP, V_PASS,
	  { "judged -> 0", "!FAIL", "!HANG" } },
	{ "tring_await_ledger: nothing comes by the deadline -> HANG, with the ledger's pending "
	  "requests", AWAIT_LEDGER, V_HANG,
	  { "# HANG selftest_await [default]: waiting for the test CQE: 1 CQEs awaited, 0 ready",
	    "ledger pending: 1 producers x 1 channels, 3 issued, 0 completed",
	    "producer 0 channel 0: issued 3, completed 0, withdrawn 0" } },
};

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

	st_begin("tring self-test: refusals skip only before the flag's kernel, waits time out, "
		 "only a passed deadline is a hang");
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		const struct check *c = &checks[i];
		bool good = st_capture(&run, setup, (void *)&c->scene) == 0 &&
			    st_exit(&run) == (int)c->verdict && st_matches(&run, c->out, 3);

		if (!st_ok(good, "tring_init: %s", c->what) || st_verbose())
			st_show(&run);
	}
	check_wait_timeouts();
	for (size_t i = 0; i < sizeof(judged_checks) / sizeof(judged_checks[0]); i++) {
		bool good = st_capture(&run, judged, (void *)&judged_checks[i].scene) == 0 &&
			    st_exit(&run) == (int)judged_checks[i].verdict &&
			    st_matches(&run, judged_checks[i].out, 3);

		if (!st_ok(good, "%s", judged_checks[i].what) || st_verbose())
			st_show(&run);
	}
	return st_end();
}
