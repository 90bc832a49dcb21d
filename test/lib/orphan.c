// SPDX-License-Identifier: MIT
/*
 * Orphan rounds (see orphan.h): the survivor's part, which runs the round
 * and checks it. Why each step is there: test/orphans.c.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "msgseq.h"
#include "orphan.h"

#define TIMEOUT_MAX_MS	30	/* most fire once the owner is gone */
#define PER_STREAM	64
/* Rounds are few (one exit each): a short calibration per exit kind. */
#define ORPHAN_RACE_CALIBRATE	2

enum { OWNER, SURVIVOR };	/* ledger producers */

const char *const orphan_kind_names[EXIT_KINDS] = {
	"thread-exit", "process-exit", "exec", "fd-passed",
};

static const char *const phase_names[PH_COUNT] = {
	[PH_NONE] = "never fired", [PH_LIVE] = "fired before the exit",
	[PH_RACE] = "fired during the exit", [PH_GONE] = "fired after the exit",
};

/* When the survivor fired the request (channel c, seq) of this round. */
static enum orphan_phase request_phase(const struct orphan_round *rd, unsigned c, uint32_t seq)
{
	if (c == PC_READ && seq < PENDING_MAX_READS)
		return rd->read_phase[seq];
	if (c == PC_POLL)
		return rd->poll_phase;
	if (c == PC_MSG && seq < ORPHAN_MAX_MSGS)
		return rd->msg_phase[seq];
	return PH_NONE;
}

/* Can a request of channel c go without a CQE (the "may" ledger)? */
static bool strandable(const struct orphan_expect *e, unsigned c)
{
	uint8_t any = c == PC_TIMEOUT ? e->timeouts : 0;

	for (int ph = 0; ph < PH_COUNT && (c == PC_READ || c == PC_POLL || c == PC_MSG); ph++)
		any |= c == PC_MSG ? e->msg[ph] : e->fired[ph];
	return any & OUT_STRANDED;
}

static const char *check_res(uint64_t ud, int32_t res, uint32_t flags, void *arg)
{
	struct orphan_round *rd = arg;
	enum orphan_phase ph;
	bool seeded;
	unsigned p, c;
	uint32_t seq;
	const char *want;

	ledger_decode(ud, &p, &c, &seq);
	ph = request_phase(rd, c, seq);
	/* Seeded: a read the live owner completed, taken for a cancelled one. */
	seeded = c == PC_READ && ph == PH_LIVE && res > 0 && harness_seeded("cancel-live");
	if (seeded)
		res = -ECANCELED;
	rd->cancelled += res == -ECANCELED;
	want = flags ? "no CQE flags" : rd->check(&rd->exp, c, ph, seq, res);
	if (!want)
		return NULL;
	snprintf(rd->why, sizeof(rd->why), "%s round %u, %s %s: want %s%s", RD(rd),
		 c < PC_COUNT ? pending_channel_names[c] : "?", phase_names[ph], want,
		 seeded ? " [seeded: res taken as -ECANCELED]" : "");
	return rd->why;
}

/* ---- the survivor --------------------------------------------------- */

static void msg_refused(void *arg, unsigned p, uint32_t seq, int32_t res)
{
	struct orphan_round *rd = arg;
	enum orphan_phase ph = request_phase(rd, PC_MSG, seq);

	(void)p;
	if (res != -EOWNERDEAD || !(rd->exp.msg[ph] & OUT_REFUSED))	/* (B) */
		tc_fail(rd->tc, "%s round %u: MSG_RING %llu into the ring (%s): %s", RD(rd),
			(unsigned long long)seq, phase_names[ph], strerror(-res));
}

/* MSG_RING from the survivor's own ring into the orphaned one. */
static void send_msgs(struct orphans *o, enum orphan_phase ph, unsigned n)
{
	struct orphan_round *rd = o->rd;
	struct ledger *l = rd->work.led[PC_MSG];
	struct deadline dl = tc_deadline(o->tc);

	msgseq_prep(&o->src, tring_fd(&rd->ring), l, SURVIVOR, PC_MSG, rd->msg_seq, n);
	for (unsigned i = 0; i < n && rd->msg_seq + i < ORPHAN_MAX_MSGS; i++)
		rd->msg_phase[rd->msg_seq + i] = ph;
	rd->msg_seq += n;
	if (!n || tc_failed(o->tc))
		return;
	if (io_uring_submit(&o->src.ring) != (int)n) {
		tc_fail(o->tc, "%s round %u: submit of %u MSG_RING failed", RD(rd), n);
		return;
	}
	msgseq_reap(o->tc, &o->src, l, n, &dl, msg_refused, rd,
		    "the %u MSG_RING sends of %s round %u", n, RD(rd));
}

/* Complete a share of what is still pending: reads, polls, plus MSG_RING;
 * each marked with the phase it was fired in, before any CQE is reaped. */
static void fire(struct orphans *o, enum orphan_phase ph, unsigned pct, unsigned min_msgs,
		 unsigned max_msgs)
{
	struct orphan_round *rd = o->rd;
	bool polls = rd->work.polls_fired;

	pending_fire_reads(&rd->work, &o->rng, pct);
	for (unsigned i = 0; i < rd->work.nread; i++)
		if (rd->work.read_fired[i] && !rd->read_phase[i])
			rd->read_phase[i] = ph;
	pending_fire_polls(&rd->work, &o->rng, pct);
	if (rd->work.polls_fired && !polls)
		rd->poll_phase = ph;
	send_msgs(o, ph, (unsigned)rng_range(&o->rng, min_msgs, max_msgs));
}

static enum verdict round_setup(struct orphans *o, enum orphan_kind kind, unsigned no)
{
	const struct tring_opts opts = { .cq_entries = ORPHAN_RING_CQ, .attach_wq_fd = -1,
					 .extra_flags = IORING_SETUP_R_DISABLED };
	struct orphan_round *rd = o->rd;
	struct ledger *must = rd->must, *may = rd->may;
	int ret;

	*rd = (struct orphan_round){ .tc = o->tc, .kind = kind, .no = no, .must = must,
				     .may = may, .exp = o->expect(o->tc->prof, kind), .check = o->check,
				     .ring_efd = -1, .handover = { .sock = { -1, -1 } },
				     .probe = { .rfd = -1, .wfd = -1 } };
	ledger_reset(must);
	ledger_reset(may);
	for (int c = 0; c < PC_COUNT; c++)
		rd->work.led[c] = strandable(&rd->exp, c) ? may : must;
	rd->work.producer = OWNER;
	rd->owner_reaps_again = rng_chance(&o->rng, 50);
	ret = pending_setup(&rd->work, &o->rng, tring_fd(&o->src), TIMEOUT_MAX_MS);
	if (!ret)
		ret = probe_create(&rd->probe, "orphaned ring");
	if (!ret && (rd->ring_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		ret = -errno;
	if (!ret && kind == EXIT_FDPASS)
		ret = handover_open(&rd->handover);
	if (ret)
		return tc_fail(o->tc, "round set-up: %s", strerror(-ret));
	if (kind == EXIT_FDPASS)
		return V_PASS;
	/* R_DISABLED: no submitter_task until the owner enables the ring
	 * (io_register_enable_rings()); until then the creator may register. */
	if (tring_init(o->tc, &rd->ring, "orphan", o->tc->prof, &opts) != V_PASS)
		return tc_verdict(o->tc);
	ret = io_uring_register_eventfd(&rd->ring.ring, rd->ring_efd);
	if (!ret)
		ret = io_uring_register_files(&rd->ring.ring, &rd->probe.rfd, 1);
	probe_drop_reader(&rd->probe);
	return ret ? tc_fail(o->tc, "ring registration: %s", strerror(-ret)) : V_PASS;
}

static void round_close(struct orphan_round *rd)
{
	tring_exit(&rd->ring);
	pending_close(&rd->work);
	probe_close(&rd->probe);
	handover_close(&rd->handover);
	if (rd->ring_efd >= 0)
		close(rd->ring_efd);
	rd->ring_efd = -1;
}

/* fd-passed: map the ring the owner created, like any process given its fd. */
static enum verdict take_ring(struct orphans *o, struct child *c)
{
	struct orphan_round *rd = o->rd;
	struct deadline dl = tc_deadline(o->tc);
	int ret = -ECANCELED;

	probe_drop_reader(&rd->probe);
	if (tw_event_wait(&rd->ring_ready, &dl))
		return tc_hang(o->tc, NULL, NULL, "fd-passed round %u: owner's ring", rd->no);
	if (!rd->abort)
		ret = handover_take(&rd->handover, c->pidfd, &dl, &rd->ring, o->tc->prof, "orphan");
	if (ret) {
		rd->abort = true;
		tw_event_set(&rd->ring_taken);
		return tc_fail(o->tc, "fd-passed round %u: taking the ring (%s): %s", rd->no,
			       handover_how(&rd->handover), strerror(-ret));
	}
	tw_event_set(&rd->ring_taken);
	return V_PASS;
}

static int owner_wait(struct orphans *o, struct tw_thread *t, struct child *c)
{
	struct orphan_round *rd = o->rd;
	struct deadline dl = tc_deadline(o->tc);
	char buf[64];
	int status;

	if (rd->kind == EXIT_THREAD ? tw_thread_join(t, &dl) == -ETIMEDOUT :
	    proc_reap(c, &dl, &status) == -ETIMEDOUT)
		return tc_hang(o->tc, rd->must, &rd->ring, "%s round %u: the owner did not exit",
			       RD(rd)), -1;
	if (rd->kind != EXIT_THREAD && (!WIFEXITED(status) || WEXITSTATUS(status)))
		tc_fail(o->tc, "%s round %u: the owner ended with %s", RD(rd),
			proc_status_str(status, buf, sizeof(buf)));
	return 0;
}

/* What happens to a DEFER ring's work without its submitter (B). */
static void check_defer_orphan(struct orphans *o)
{
	struct orphan_round *rd = o->rd;
	int ret = tring_wait(&rd->ring, 0, 0, 0, NULL);

	if (ret != -EEXIST)
		tc_fail(o->tc, "%s round %u: GETEVENTS by a non-submitter of a DEFER_TASKRUN ring "
			"returned %d, want -EEXIST", RD(rd), ret);
	if (pending_reap(&rd->work, &rd->ring, NULL))
		tc_fail(o->tc, "%s round %u: CQEs posted after the submitter was gone", RD(rd));
}

static void round_verify(struct orphans *o)
{
	struct orphan_round *rd = o->rd;
	int64_t stranded;
	struct deadline dl = tc_deadline(o->tc);
	int ret = pending_collect(&rd->work, &rd->ring, rd->ring_efd, rd->must, &dl);

	if (ret && ret != -ETIMEDOUT)
		tc_fail(o->tc, "%s round %u: eventfd wait: %s", RD(rd), strerror(-ret));
	if (!ledger_verify(rd->must))
		tc_info(o->tc, "%s round %u: channels 0-5: pipe read, eventfd poll, io_uring-fd "
			"poll, timeout, nop, MSG_RING; producer 0 owner, 1 survivor", RD(rd));
	if (o->tc->prof->props & PROF_LOCAL_TW)
		check_defer_orphan(o);
	stranded = ledger_outstanding(rd->may);
	o->stranded += stranded;
	tc_log(o->tc, "%s round %u: %u reads, %u polls, %u timeouts, %u MSG_RING; owner reaped "
	       "%u; %u -ECANCELED, %lld stranded%s", RD(rd), rd->work.nread, rd->work.npoll,
	       rd->work.ntimeout, rd->msg_seq, rd->owner_reaped, rd->cancelled,
	       (long long)stranded, rd->handover.via_getfd ? "; SCM_RIGHTS refused, took the fd with "
	       "pidfd_getfd()" : "");
}

/* The exit has been seen: its end for the fuzzy statistics, and whether the
 * firing overlapped it (the race this round is about). */
static void race_done(struct orphans *o, int owner_lost)
{
	struct orphan_round *rd = o->rd;
	struct deadline dl = tc_deadline(o->tc);
	int64_t exited = now_ns();
	bool fuzzy = rd->race;

	if (rd->race && !owner_lost) {
		fuzzy_end_for(rd->race, FUZZY_A, exited);
		fuzzy_end(rd->race, FUZZY_B, &dl);
	}
	if (!rd->fire_ns[0] || owner_lost)
		return;
	/* Calibrating rounds are not placed: they count as unfuzzed. */
	fuzzy = fuzzy && fuzzy_racing(rd->race);
	o->raced[fuzzy]++;
	o->fired_before_exit[fuzzy] += rd->fire_ns[1] <= rd->exit_ns;
}

enum verdict orphans_round(struct orphans *o, enum orphan_kind kind, unsigned no)
{
	struct orphan_round *rd = o->rd;
	struct tw_thread thread;
	struct child child;
	struct deadline dl = tc_deadline(o->tc);
	enum verdict v = round_setup(o, kind, no);
	bool pinned = false;
	cpu_set_t cpus;
	int ret;

	if (v != V_PASS) {
		round_close(rd);
		return v;
	}
	/* Half the rounds race the exit (the first of each kind calibrates). */
	if (rng_chance(&o->rng, 50))
		rd->race = &o->race[kind];
	ret = kind == EXIT_THREAD ?
	      tw_thread_start(o->tc, &thread, "owner", 0, o->owner_thread, rd) :
	      proc_spawn(&child, o->owner_child[kind], rd);
	if (ret < 0) {
		round_close(rd);
		return tc_fail(o->tc, "%s round %u: starting the owner: %s", RD(rd),
			       strerror(-ret));
	}
	if (kind == EXIT_FDPASS && take_ring(o, &child) != V_PASS)
		goto owner_gone;
	if (tw_event_wait(&rd->submitted, &dl) || rd->owner_failed)
		goto owner_gone;
	/* Before the exit: the live owner runs this task_work normally. */
	fire(o, PH_LIVE, 25, 0, 2);
	tw_event_set(&rd->go);
	if (tw_event_wait(&rd->exiting, &dl))
		goto owner_gone;
	/* Racing the exit: task_work queued to a task in do_exit() or exec;
	 * fuzzy: placed over the exit as the earlier rounds measured it. */
	if ((pinned = rd->race)) {
		fuzzy_pin(FUZZY_B, &cpus);
		if (fuzzy_start(rd->race, FUZZY_B, &dl))
			rd->race = NULL;
	}
	rd->fire_ns[0] = now_ns();
	fire(o, PH_RACE, 50, 0, 3);
	rd->fire_ns[1] = now_ns();
	if (pinned)
		fuzzy_unpin(&cpus);
	if (rd->race)
		fuzzy_end(rd->race, FUZZY_B, &(struct deadline){ 0 });	/* the exit is not over */
	pending_reap(&rd->work, &rd->ring, NULL);
owner_gone:
	/* The owner waits at the race for a firing that will not come. */
	if (rd->race && !rd->fire_ns[0])
		fuzzy_stop(rd->race);
	ret = owner_wait(o, &thread, &child);
	race_done(o, ret);
	if (ret)
		return V_HANG;	/* the owner may still use the round: leave it */
	if (!tc_failed(o->tc)) {
		/* After the exit: task_work_add() fails, the fallback runs it (A). */
		fire(o, PH_GONE, 100, 1, 3);
		round_verify(o);
	}
	tring_exit(&rd->ring);
	/* Teardown cancels what was stranded; then the ctx is freed. */
	dl = tc_deadline(o->tc);
	if (!tc_failed(o->tc) && probe_wait(&rd->probe, &dl)) {
		diag_dump_uring_kthreads("#   ");
		tc_hang(o->tc, rd->may, NULL, "%s round %u: the ring's teardown never finished",
			RD(rd));
	}
	round_close(rd);
	o->rounds[kind]++;
	return tc_verdict(o->tc);
}

enum verdict orphans_init(struct orphans *o, struct tcase *tc)
{
	o->tc = tc;
	if (tring_init(tc, &o->src, "survivor", &profiles[P_DEFAULT], NULL) != V_PASS)
		return tc_verdict(tc);
	o->rd = proc_shared_alloc(sizeof(*o->rd));
	o->race = proc_shared_alloc(sizeof(*o->race) * EXIT_KINDS);
	if (!o->rd || !o->race)
		return tc_fail(tc, "mmap: %s", strerror(errno));
	for (int k = 0; k < EXIT_KINDS; k++)
		fuzzy_init(&o->race[k], tc->seed ^ (0xe817ULL << 16 | (unsigned)k),
			   ORPHAN_RACE_CALIBRATE);
	o->rd->must = ledger_new(tc, "must-post", 2, PC_COUNT, PER_STREAM, 0);
	o->rd->may = ledger_new(tc, "may-strand", 2, PC_COUNT, PER_STREAM, 0);
	if (!o->rd->must || !o->rd->may)
		return tc_fail(tc, "out of memory");
	ledger_set_check(o->rd->must, check_res, o->rd);
	ledger_set_check(o->rd->may, check_res, o->rd);
	rng_seed(&o->rng, tc->seed, 0);
	return V_PASS;
}

void orphans_fini(struct orphans *o)
{
	/* After a hang an owner may still use the round: leave it be. */
	if (tc_verdict(o->tc) >= V_HANG)
		return;
	tring_exit(&o->src);
	if (o->race)
		munmap(o->race, sizeof(*o->race) * EXIT_KINDS);
	if (o->rd) {
		ledger_free(o->rd->must);
		ledger_free(o->rd->may);
		munmap(o->rd, sizeof(*o->rd));
	}
}
