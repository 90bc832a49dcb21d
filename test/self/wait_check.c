// SPDX-License-Identifier: MIT
/*
 * Self-test of the checked batched wait (src/wait_check.c):
 *  - claiming `avail >= want` while nothing was delivered must fail as a
 *    lost-CQE report after exactly one slice (a lost wake-up, where the
 *    batch appears once the kernel is entered again, needs a broken kernel);
 *  - a wait with avail < want that times out is fine;
 *  - with completions really delivered (NOPs; MSG_RING from another task,
 *    which on a DEFER_TASKRUN ring is local task_work run by the wait
 *    itself) the wait returns at once and nothing fails;
 *  - a wait that returns early without its batch fails as an early wake-up
 *    (a TIMEOUT request ends it), unless the caller said WAIT_EARLY_OK;
 *  - no progress for the hang deadline is a hang report.
 * Each check runs in a forked child; its exit code is the case verdict.
 * The hang deadline is 1 s, so a slice is its 200 ms minimum.
 */
#include "selftest.h"
#include "wait_check.h"

#define HANG_NS		NSEC_PER_SEC
#define SLICE_NS	(200 * NSEC_PER_MSEC)
#define LATE_NS		(200 * NSEC_PER_MSEC)
#define NMSG		4

enum scene { LOST, HONEST_TIMEOUT, NOPS, MSG_FROM_THREAD, EARLY, EARLY_OK, NO_PROGRESS };

struct check_arg {
	enum scene scene;
	enum profile_id prof;
};

struct sender {
	struct tcase *tc;
	int target_fd;
	int sent;			/* MSG_RING completions seen by the sender */
};

/* Another task sends NMSG messages to the target and waits until they are
 * queued there: on a DEFER_TASKRUN target they are now pending local work. */
static void *send_msgs(void *arg)
{
	struct sender *s = arg;
	struct deadline dl = deadline_in(5 * NSEC_PER_SEC);
	struct tring src;

	if (tring_init(s->tc, &src, "source", &profiles[P_DEFAULT], NULL) != V_PASS)
		return NULL;
	for (int i = 0; i < NMSG; i++)
		io_uring_prep_msg_ring(tring_sqe(&src), s->target_fd, 0, i, 0);
	if (io_uring_submit(&src.ring) == NMSG && !tring_wait_ready(&src, NMSG, &dl))
		s->sent = NMSG;
	tring_exit(&src);
	return NULL;
}

static const char *how_long(int64_t ns)
{
	if (ns < SLICE_NS / 2)
		return "at once";
	if (ns >= SLICE_NS && ns < SLICE_NS + LATE_NS)
		return "after one slice";
	return "after an unexpected time";
}

static int run_check(void *p)
{
	const struct check_arg *a = p;
	struct tcase *tc = tc_selftest_new("selftest_wait");
	struct __kernel_timespec ts = { .tv_nsec = 20 * NSEC_PER_MSEC };
	struct sender s = { .tc = tc };
	struct wait_check wc;
	struct tring r;
	pthread_t th;
	int64_t t0, avail = 0;
	unsigned want = NMSG, flags = 0;
	int ret;

	tc->hang_ns = HANG_NS;
	tc->prof = &profiles[a->prof];
	ret = tring_init(tc, &r, "wc", tc->prof, NULL);
	if (ret != V_PASS) {
		printf("# skip: %s\n", tc_reason(tc));
		return ret;
	}
	wait_check_init(&wc, tc, &r, NULL);
	switch (a->scene) {
	case LOST:		/* claims delivered, but nothing was */
		avail = NMSG;
		break;
	case HONEST_TIMEOUT:
		avail = NMSG - 1;
		break;
	case NOPS:
		for (int i = 0; i < NMSG; i++)
			io_uring_prep_nop(tring_sqe(&r));
		io_uring_submit(&r.ring);
		avail = NMSG;
		break;
	case MSG_FROM_THREAD:
		if (need_predated(NEED_MSG_RING)) {
			printf("# skip: IORING_OP_MSG_RING needs Linux 5.18\n");
			return V_SKIP;
		}
		s.target_fd = tring_fd(&r);
		pthread_create(&th, NULL, send_msgs, &s);
		pthread_join(th, NULL);
		avail = s.sent;
		break;
	case EARLY_OK:		/* the caller knows a timeout may end the wait */
		flags = WAIT_EARLY_OK;
		/* fall through */
	case EARLY:		/* a TIMEOUT request ends the wait before its batch */
		io_uring_prep_timeout(tring_sqe(&r), &ts, 0, 0);
		io_uring_submit(&r.ring);
		break;
	case NO_PROGRESS:
		wc.last_progress = now_ns() - 2 * HANG_NS;
		break;
	}
	t0 = now_ns();
	ret = wait_check_batch(&wc, want, avail, 0, flags);
	printf("# batch: ret %d, %s, %u ready\n", ret, how_long(now_ns() - t0),
	       io_uring_cq_ready(&r.ring));
	tring_exit(&r);
	return tc_verdict(tc);
}

struct check {
	const char *what;
	struct check_arg arg;
	enum verdict verdict;
	const char *out[3];
};

static const struct check checks[] = {
	{ "nothing delivered but avail >= want: lost CQEs after one slice",
	  { LOST, P_DEFAULT }, V_FAIL,
	  { "lost CQE: ring wc: wait for 4 CQEs slept 0.2", "although 4 completions were "
	    "delivered; only 0 CQEs posted, even after entering the kernel again",
	    "batch: ret -1, after one slice" } },
	{ "same on a DEFER_TASKRUN ring", { LOST, P_DEFER }, V_FAIL,
	  { "lost CQE: ring wc", "batch: ret -1, after one slice" } },
	{ "avail < want and a timeout: fine", { HONEST_TIMEOUT, P_DEFAULT }, V_PASS,
	  { "batch: ret 0, after one slice, 0 ready", "!FAIL" } },
	{ "4 NOPs completed: the wait returns at once", { NOPS, P_DEFAULT }, V_PASS,
	  { "batch: ret 0, at once, 4 ready", "!FAIL" } },
	{ "4 NOPs on a DEFER_TASKRUN ring: at once", { NOPS, P_DEFER }, V_PASS,
	  { "batch: ret 0, at once, 4 ready", "!FAIL" } },
	{ "4 MSG_RING from another task: at once", { MSG_FROM_THREAD, P_DEFAULT }, V_PASS,
	  { "batch: ret 0, at once, 4 ready", "!FAIL" } },
	{ "4 MSG_RING as local work of a DEFER_TASKRUN ring: at once",
	  { MSG_FROM_THREAD, P_DEFER }, V_PASS,
	  { "batch: ret 0, at once, 4 ready", "!FAIL" } },
	{ "woken early without the batch: early wake-up", { EARLY, P_DEFAULT }, V_FAIL,
	  { "early wake-up: ring wc: wait for 4 CQEs returned 0 after",
	    "with only 1 ready", "batch: ret -1, at once" } },
	{ "woken early with WAIT_EARLY_OK: fine", { EARLY_OK, P_DEFAULT }, V_PASS,
	  { "batch: ret 0, at once, 1 ready", "!FAIL" } },
	{ "no progress for the hang deadline: hang report", { NO_PROGRESS, P_DEFAULT }, V_HANG,
	  { "# HANG selftest_wait [default]: ring wc: waiting for CQEs", "threads of",
	    "batch: ret -1, at once" } },
};

int main(void)
{
	static struct st_run run;

	st_begin("wait_check self-test: lost and early wake-ups fire, honest waits do not");
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		const struct check *c = &checks[i];
		bool good = st_capture(&run, run_check, (void *)&c->arg) == 0 &&
			    st_exit(&run) == (int)c->verdict && st_matches(&run, c->out, 3);
		const char *skip = strstr(run.out, "# skip: ");

		if (st_exit(&run) == V_SKIP && skip) {
			st_skip(c->what, skip + strlen("# skip: "));
			continue;
		}
		if (!st_ok(good, "wait_check: %s", c->what) || st_verbose())
			st_show(&run);
	}
	return st_end();
}
