// SPDX-License-Identifier: MIT
/*
 * Orphans: a task with work pending on a ring exits while the ring lives on
 * in a survivor. Each round an owner leaves reads, polls, a tracked poll,
 * timeouts and a NOP pending (test/lib/pending.h), may reap some CQEs itself, and
 * exits; the survivor completes the work before, during and after the exit,
 * sends MSG_RING into the ring, and accounts every CQE (test/lib/orphan.c): one
 * for each request that can still post, with a result listed below; what
 * cannot post must be cleaned up by the ring's teardown. Exit kinds:
 *   thread-exit   the submitting thread exits, its process keeps the ring
 *   process-exit  a forked child that enabled an R_DISABLED ring exits
 *   exec          that child execs this program, which exits at once
 *   fd-passed     a child creates the ring, hands it over (SCM_RIGHTS, or
 *                 pidfd_getfd() since 6.7 refuses io_uring files over
 *                 sockets in scm_fp_copy()) and exits
 *
 * What the kernel may do with each request, by when the survivor fired it
 * (its pipe write, the polls' eventfd write, the MSG_RING's send): live
 * before the go, exit from the owner's "exiting" until it is reaped, gone
 * after that; never: not fired yet (only a cancellation completes it).
 * P its own result (1 byte, POLLIN, the payload), X -ECANCELED, S no CQE
 * before the ring's teardown (stranded; nobody sees it), R the sender's
 * MSG_RING refused with -EOWNERDEAD; "-": any CQE is a failure.
 *   reads, polls                        never  live   exit   gone
 *   normal tw, exit or fd-passed (A)    -      P      P X    X
 *   normal tw, exec (A, C)              X      P      P X    X
 *   DEFER, exec (C)                     X      P      P X    X
 *   DEFER, exit or fd-passed, 6.4+ (B)  -      P S    P S    S
 *   DEFER, ... before 6.4 (B')          -      P S X  P S X  S X
 *   SQPOLL (D)                          -      P      P      P
 *   SQPOLL, fd-passed (E)               X      P X    P X    X
 *   MSG_RING into a DEFER ring, 6.11+   -      P S    P S    S
 *   ... 6.2-6.10 (B'')                  -      P      P R    R
 *   MSG_RING into the others, and into DEFER before 6.2: P (the sender
 *   posts it: io_post_aux_cqe(); seen on 6.1.176 after the owner was gone).
 * Before 6.4 pipes lack FMODE_NOWAIT: a read runs blocking in the owner's
 * io-wq, not armed by poll, and the owner's exit cancels it (its io-wq
 * goes, cancelling what it holds) whether fired or not: reads, but for D,
 * add X in every column there (seen on 6.1.176: process-exit and fd-passed
 * rounds, reads fired before the exit, -ECANCELED).
 * The tracked poll is POLLIN or, where the exit cancels it, -ECANCELED (not
 * for D); timeouts -ETIME, -ECANCELED after exec (C) and with E, stranded
 * on DEFER (B).
 * live: the owner returns to user space at least once after the firing (its
 *    wake-up of "exiting" is a system call): its task_work runs in normal
 *    mode, with the real result - never cancel mode, on any kernel. Its
 *    DEFER local work runs when it enters the ring again, or in its exit:
 *    io_uring_cancel_generic() runs it (io_uring_try_cancel_requests() ->
 *    io_run_local_work(), before PF_EXITING) while a tracked request is in
 *    flight, and stops once none is: then the rest strands (B). exec's
 *    cancel_all loop runs it while any request of the task is in flight (C).
 * A: do_exit() runs io_uring_files_cancel() before exit_signals() sets
 *    PF_EXITING: io_uring_cancel_generic(cancel_all=false) cancels only
 *    REQ_F_INFLIGHT requests (io_match_task_safe(), io_kill_timeouts()): the
 *    tracked poll. The rest stay armed; a later wake-up's task_work runs in
 *    exit_task_work() (PF_EXITING) or, once task_work_add() fails, from a
 *    kworker (PF_KTHREAD; 6.18: ctx->fallback_work, 7.2+:
 *    io_tctx_fallback_work()): io_should_terminate_tw() -> cancel mode ->
 *    io_poll_check_events() -ECANCELED (6.1: the same for req->task
 *    PF_EXITING). io_timeout_complete() ignores cancel mode: timeouts end
 *    -ETIME.
 * B: DEFER_TASKRUN completions are local work only the submitter runs
 *    (io_allowed_defer_tw_run(); the survivor's GETEVENTS gets -EEXIST). What
 *    comes after its exit, MSG_RING included (io_msg_remote_post(), 6.11+),
 *    waits for teardown: io_ring_exit_work() -> io_cancel_local_task_work()
 *    (7.2+) / io_move_task_work_from_local() (6.4-7.1), posting into a CQ
 *    nobody maps any more. The teardown probe proves that happened (a CQE
 *    lost here would look stranded: exec rounds and the tracked poll check
 *    DEFER's exactly-once).
 * B': before 6.4 io_req_local_work_add() hands all local work to the
 *    fallback work (io_move_task_work_from_local()) once the submitter's
 *    cancellation began (tctx->in_cancel, left set by its exit), and the
 *    fallback cancels it (req->task PF_EXITING): what was queued before the
 *    exit too. Seen on 6.1.176.
 * B'': 6.2-6.10 make a DEFER ring's message normal task_work for its
 *    submitter (io_msg_exec_remote()), which posts it (io_msg_tw_complete())
 *    - or fails the send with -EOWNERDEAD: task_work_add() on a dead task,
 *    or run while PF_EXITING.
 * C: begin_new_exec() -> io_uring_task_cancel(): cancel_all, and the loop
 *    runs task_work and local work until the task has no request left.
 * D: SQPOLL requests belong to the SQ thread (req->tctx) of the process that
 *    created the ring: the survivor's, which the owner's exit leaves alone.
 * E: an owner-created ring's SQ thread dies with the owner's process
 *    (get_signal() returns for PF_USER_WORKER) and io_uring_cancel_generic(
 *    true, sqd) cancels all, what it had not run yet too; io_uring_enter() is
 *    -EOWNERDEAD from then on.
 * MSG_RING into other rings is posted directly (io_post_aux_cqe()): always.
 * Half the rounds fuzzy-synchronise the firing during the exit with the exit
 * itself (src/race/fuzzy.h; its duration measured per exit kind in earlier
 * rounds): placed anywhere from just before do_exit()/exec to its end.
 * The survivor waits on an eventfd registered on the ring: io_uring_enter()
 * refuses it (-EEXIST, -EOWNERDEAD above), and polling a DEFER ring fd with a
 * dead submitter is useless: io_activate_pollwq() needs task_work on the
 * submitter, and io_uring_poll() says EPOLLIN while local work is pending.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "kver.h"
#include "lib/handover.h"
#include "lib/orphan.h"

#define EXEC_EXIT_ENV	"TW_ORPHANS_EXEC_EXIT"	/* set: main() exits at once */

#define P	OUT_POSTED
#define X	OUT_CANCELLED
#define S	OUT_STRANDED
#define R	OUT_REFUSED
#define PHASES(never, live, exit, gone) \
	{ [PH_NONE] = (never), [PH_LIVE] = (live), [PH_RACE] = (exit), [PH_GONE] = (gone) }

/* The table above, for this kernel (kver_running(); TW_KVER overrides). */
static struct orphan_expect expect_for(const struct profile *p, enum orphan_kind k)
{
	bool exec = k == EXIT_EXEC, local = p->props & PROF_LOCAL_TW;
	struct orphan_expect e = { .fired = PHASES(exec ? X : 0, P, P | X, X),
				   .msg = PHASES(0, P, P, P), .tracked = P | X,
				   .timeouts = exec ? P | X : P };		/* A, C */

	if ((p->props & PROF_SQPOLL) && k != EXIT_FDPASS)	/* D */
		return (struct orphan_expect){ .fired = PHASES(0, P, P, P), .msg = PHASES(0, P, P, P),
					       .tracked = P, .timeouts = P };
	if (p->props & PROF_SQPOLL) {				/* E */
		memcpy(e.fired, (uint8_t[])PHASES(X, P | X, P | X, X), sizeof(e.fired));
		e.timeouts = P | X;
	}
	if (local && !exec) {					/* B, B' */
		memcpy(e.fired, (uint8_t[])PHASES(0, P | S, P | S, S), sizeof(e.fired));
		e.timeouts = P | S;
		if (!kver_at_least(6, 4))
			memcpy(e.fired, (uint8_t[])PHASES(0, P | S | X, P | S | X, S | X),
			       sizeof(e.fired));
	}
	if (local && kver_at_least(6, 11))			/* B */
		memcpy(e.msg, (uint8_t[])PHASES(0, P | S, P | S, S), sizeof(e.msg));
	else if (local && kver_at_least(6, 2))			/* B'' */
		memcpy(e.msg, (uint8_t[])PHASES(0, P, P | R, R), sizeof(e.msg));
	if (!kver_at_least(6, 4))		/* pipe reads in the owner's io-wq */
		e.read_any = X;
	return e;
}

/* NULL if res is one the kernel may post for a request of channel c fired in
 * phase ph, else what it may post. */
static const char *expect_check(const struct orphan_expect *e, unsigned c, enum orphan_phase ph,
				uint32_t seq, int32_t res)
{
	static const char *const own[PC_COUNT] = {
		[PC_READ] = "1 (the byte written)", [PC_POLL] = "POLLIN", [PC_TRACKED] = "POLLIN",
		[PC_TIMEOUT] = "-ETIME", [PC_SYNC] = "0", [PC_MSG] = "the payload sent (its seq)",
	};
	static char want[128];
	const int32_t result[PC_COUNT] = { [PC_READ] = 1, [PC_POLL] = POLLIN,
					   [PC_TRACKED] = POLLIN, [PC_TIMEOUT] = -ETIME,
					   [PC_SYNC] = 0, [PC_MSG] = (int32_t)seq };
	uint8_t may;

	if (c >= PC_COUNT)
		return "no CQE on this channel";
	may = c == PC_READ ? e->fired[ph] | e->read_any : c == PC_POLL ? e->fired[ph] :
	      c == PC_MSG ? e->msg[ph] : c == PC_TRACKED ? e->tracked :
	      c == PC_TIMEOUT ? e->timeouts : P;
	if (((may & P) && res == result[c]) || ((may & X) && res == -ECANCELED))
		return NULL;
	want[0] = 0;
	for (unsigned bit = P; bit <= R; bit <<= 1)
		if (may & bit)
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s",
				 want[0] ? " or " : "", bit == P ? own[c] : bit == X ? "-ECANCELED" :
				 bit == S ? "no CQE before teardown" : "no CQE (send refused)");
	return want[0] ? want : "no CQE at all";
}

static int owner_reap_until_sync(struct orphan_round *rd, struct tring *r)
{
	struct deadline dl = tc_deadline(rd->tc);
	int ret = pending_reap_until_sync(&rd->work, r, &dl, &rd->owner_reaped);

	if (ret == -ETIMEDOUT)
		tc_hang(rd->tc, rd->must, r, "%s round %u: owner: its NOP never completed",
			RD(rd));
	else if (ret)
		tc_fail(rd->tc, "%s round %u: owner: wait: %s", RD(rd),
			strerror(-ret));
	return ret;
}

/* Enable the ring (its submitter from now on), leave work pending, wait for
 * the go, maybe run task_work once more; then the caller exits. */
static void owner_run(struct orphan_round *rd, struct tring *r, bool enable)
{
	struct deadline dl = tc_deadline(rd->tc);
	int ret = enable ? tring_enable(r) : 0;
	unsigned n;

	if (ret < 0)
		tc_fail(rd->tc, "%s round %u: io_uring_enable_rings: %s", RD(rd), strerror(-ret));
	n = ret < 0 ? 0 : pending_prep(&rd->work, r);
	if (n && (ret = io_uring_submit(&r->ring)) != (int)n)
		tc_fail(rd->tc, "%s round %u: owner: submit of %u: %d", RD(rd), n, ret);
	else if (n)
		pending_sent(&rd->work);
	rd->owner_failed = tc_failed(rd->tc) || owner_reap_until_sync(rd, r);
	tw_event_set(&rd->submitted);
	if (!rd->owner_failed && tw_event_wait(&rd->go, &dl))
		tc_hang(rd->tc, NULL, NULL, "%s round %u: owner: no go", RD(rd));
	else if (!rd->owner_failed && rd->owner_reaps_again) {
		tring_get_events(r);	/* task_work / DEFER local work, normal mode */
		rd->owner_reaped += pending_reap(&rd->work, r, NULL);
	}
	tw_event_set(&rd->exiting);	/* not reaping any more: the survivor takes over */
	/* Fuzzy: the exit (the caller's return) is the step; the survivor marks
	 * its end when it sees it. */
	if (rd->race) {
		fuzzy_pin(FUZZY_A, NULL);	/* it exits: no mask to restore */
		fuzzy_start(rd->race, FUZZY_A, &dl);
	}
	rd->exit_ns = now_ns();
}

static void *owner_thread(struct tw_thread *t)
{
	struct orphan_round *rd = t->arg;

	owner_run(rd, &rd->ring, true);
	return NULL;	/* do_exit() of this thread only */
}

static int owner_process(void *arg)
{
	struct orphan_round *rd = arg;

	owner_run(rd, &rd->ring, true);
	return 0;	/* _exit(): do_exit() of the whole process */
}

static int owner_exec(void *arg)
{
	struct orphan_round *rd = arg;
	char *argv[] = { "orphans-exec-exit", NULL };

	owner_run(rd, &rd->ring, true);
	setenv(EXEC_EXIT_ENV, "1", 1);
	execv("/proc/self/exe", argv);
	tc_fail(rd->tc, "exec round %u: execv(/proc/self/exe): %s", rd->no, strerror(errno));
	return 1;
}

/* The owner creates the ring (with SQPOLL, also its SQ thread) and hands
 * it over; the survivor maps it (orphan.c: take_ring()). */
static int owner_fdpass(void *arg)
{
	struct orphan_round *rd = arg;
	struct tring r = { .prof = rd->tc->prof, .name = "orphan" };
	struct deadline dl = tc_deadline(rd->tc);
	int ret;

	ret = handover_ring_init(&rd->handover, &r.ring, r.prof->setup_flags, ORPHAN_RING_CQ);
	if (!ret && !(ret = io_uring_register_eventfd(&r.ring, rd->ring_efd)))
		ret = io_uring_register_files(&r.ring, &rd->probe.rfd, 1);
	close(rd->probe.rfd);	/* our copy; the survivor closes its own */
	if (!ret)
		ret = handover_give(&rd->handover, r.ring.ring_fd);
	if (ret) {
		tc_fail(rd->tc, "fd-passed round %u: owner: ring set-up or SCM_RIGHTS: %s", rd->no,
			strerror(-ret));
		rd->owner_failed = rd->abort = true;
	}
	tw_event_set(&rd->ring_ready);
	if (!rd->abort && tw_event_wait(&rd->ring_taken, &dl))
		tc_hang(rd->tc, NULL, NULL, "fd-passed round %u: owner: ring not taken", rd->no);
	else if (!rd->abort) {
		r.live = true;
		owner_run(rd, &r, false);
	}
	tw_event_set(&rd->submitted);
	tw_event_set(&rd->exiting);
	return rd->owner_failed;	/* process exit: the ring is the survivor's alone */
}

static enum verdict run(struct tcase *tc)
{
	struct orphans o = {
		.expect = expect_for,
		.check = expect_check,
		.owner_thread = owner_thread,
		.owner_child = { [EXIT_PROCESS] = owner_process, [EXIT_EXEC] = owner_exec,
				 [EXIT_FDPASS] = owner_fdpass },
	};
	struct deadline run_end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	unsigned n = 0;

	/* Every exit kind at least once, then round-robin for the duration. */
	if (orphans_init(&o, tc) == V_PASS)
		while (orphans_round(&o, (enum orphan_kind)(n % EXIT_KINDS), n) == V_PASS &&
		       (++n < EXIT_KINDS || !deadline_passed(&run_end)))
			;
	tc_log(tc, "the firing reached into the owner's exit (was not over before it began) in "
	       "%u of %u fuzzed rounds, %u of %u others", o.raced[1] - o.fired_before_exit[1],
	       o.raced[1], o.raced[0] - o.fired_before_exit[0], o.raced[0]);
	tc_log(tc, "rounds: %u thread-exit, %u process-exit, %u exec, %u fd-passed; %lld "
	       "requests stranded in DEFER rings, cleaned up by teardown", o.rounds[EXIT_THREAD],
	       o.rounds[EXIT_PROCESS], o.rounds[EXIT_EXEC], o.rounds[EXIT_FDPASS],
	       (long long)o.stranded);
	orphans_fini(&o);
	return tc_verdict(tc);
}

static const struct scenario orphans = {
	.name = "orphans",
	.summary = "a task with pending work exits (thread exit, process exit, exec, after handing "
		   "its ring over): one CQE per request that can still post, the rest torn down",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(MSG_RING),
	.seeded_faults = "  cancel-live  a read's CQE, fired before the owner's exit, is taken as "
			 "-ECANCELED\n",
};

int main(int argc, char **argv)
{
	/* The exec round's owner execs this program: it exits at once. */
	if (getenv(EXEC_EXIT_ENV))
		return 0;
	return harness_main(argc, argv, &orphans);
}
