// SPDX-License-Identifier: MIT
/*
 * Self-test of the teardown probes (src/probe.c). A probe armed on a ring
 * must fire once the ring is closed and its teardown (io_ring_exit_work ->
 * io_ring_ctx_free) dropped the fixed-file table - for a normal ring and a
 * DEFER_TASKRUN one. It must NOT fire while the ring lives: while it is
 * open, or while a forked child (blocked, not touching it) still holds the
 * inherited ring fd after the parent closed its own; there probe_wait()
 * returns -ETIMEDOUT at its deadline. Once that child exits, it fires.
 */
#include <sys/mman.h>

#include "selftest.h"

#define FIRE_NS		(5 * NSEC_PER_SEC)	/* teardown of an idle ring: far less */
#define QUIET_NS	(200 * NSEC_PER_MSEC)	/* how long a live ring is watched */
#define LATE_NS		(100 * NSEC_PER_MSEC)
#define PROBE_UD	0x9e0be

static struct tcase *tc;

static double ms(int64_t ns)
{
	return (double)ns / NSEC_PER_MSEC;
}

/* A ring of the profile with an armed probe; false (and a skip) if refused. */
static bool ring_with_probe(struct tring *r, struct teardown_probe *p, enum profile_id prof,
			    const char *what)
{
	enum verdict v = tring_init(tc, r, "probed", &profiles[prof], NULL);
	int ret;

	if (v != V_PASS) {
		st_skip(what, tc_reason(tc));
		return false;
	}
	ret = probe_create(p, "selftest");
	if (!ret)
		ret = probe_arm(p, r, PROBE_UD);
	if (ret) {
		st_ok(false, "%s: probe_create/probe_arm: %s", what, strerror(-ret));
		tring_exit(r);
		return false;
	}
	return true;
}

/* Wait for the probe with a deadline QUIET_NS away: it must not fire. */
static void expect_quiet(struct teardown_probe *p, const char *what)
{
	struct deadline dl = deadline_in(QUIET_NS);
	int ret = probe_wait(p, &dl);
	int64_t late = now_ns() - dl.end_ns;

	st_ok(ret == -ETIMEDOUT && late >= 0 && late < LATE_NS,
	      "%s: no fire, -ETIMEDOUT %.1f ms after the deadline (ret %d)", what, ms(late), ret);
}

static void expect_fire(struct teardown_probe *p, const char *what)
{
	struct deadline dl = deadline_in(FIRE_NS);
	int64_t t0 = now_ns();
	int ret = probe_wait(p, &dl);

	st_ok(ret == 0, "%s: fires after %.1f ms (ret %d)", what, ms(now_ns() - t0), ret);
}

static void check_closed(enum profile_id prof, const char *what)
{
	struct teardown_probe p;
	struct tring r;

	if (!ring_with_probe(&r, &p, prof, what))
		return;
	tring_exit(&r);
	expect_fire(&p, what);
	probe_close(&p);
}

static void check_open(enum profile_id prof, const char *what)
{
	struct teardown_probe p;
	struct tring r;

	if (!ring_with_probe(&r, &p, prof, what))
		return;
	expect_quiet(&p, what);
	tring_exit(&r);
	probe_close(&p);
}

/* The child only holds what fork() gave it (ring fd and mappings) and waits. */
static int hold_and_wait(void *arg)
{
	struct deadline dl = deadline_in(10 * NSEC_PER_SEC);

	return tw_event_wait(arg, &dl) ? 1 : 0;
}

static void check_held_by_child(enum profile_id prof, const char *what)
{
	struct tw_event *go = mmap(NULL, sizeof(*go), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct deadline dl = deadline_in(FIRE_NS);
	struct teardown_probe p;
	struct child c;
	struct tring r;
	char then[128];
	int status = -1;

	go->set = 0;
	if (!ring_with_probe(&r, &p, prof, what))
		return;
	if (proc_spawn(&c, hold_and_wait, go)) {
		st_ok(false, "%s: fork", what);
		return;
	}
	tring_exit(&r);
	expect_quiet(&p, what);
	tw_event_set(go);
	proc_reap(&c, &dl, &status);
	snprintf(then, sizeof(then), "%s, then the child exits", what);
	expect_fire(&p, then);
	st_ok(status == 0, "%s: the child had been waiting (status 0x%x)", what, status);
	probe_close(&p);
	munmap(go, sizeof(*go));
}

int main(void)
{
	st_begin("probe self-test: fires once a ring is torn down, never while it lives");
	tc = tc_selftest_new("selftest_probe");
	check_closed(P_DEFAULT, "normal ring closed");
	check_closed(P_DEFER, "DEFER_TASKRUN ring closed");
	check_open(P_DEFAULT, "normal ring still open");
	check_open(P_DEFER, "DEFER_TASKRUN ring still open");
	check_held_by_child(P_DEFAULT, "normal ring closed, fd still held by a blocked child");
	check_held_by_child(P_DEFER, "DEFER_TASKRUN ring closed, fd still held by a blocked child");
	st_ok(tc_verdict(tc) == V_PASS, "no verdict was set along the way");
	return st_end();
}
