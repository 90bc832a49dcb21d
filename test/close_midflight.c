// SPDX-License-Identifier: MIT
/*
 * Close mid-flight: a target ring (the case's profile), owned by the main
 * thread, with requests only teardown ends (load.h pending set) and a
 * teardown probe, is closed while threads keep sending it MSG_RING
 * (msgsend.h): in this process by fd number, in a forked child through its
 * inherited copy, which the child closes mid-flight too. The fd sits at a
 * dedicated high number (ringfd.h): after close() the lookup (io_assign_file)
 * fails with -EBADF, it never finds another file. The last reference goes
 * wherever it is dropped - a close(), the owner's io_uring_enter()
 * returning, a sender's in-flight MSG_RING - into io_uring_release ->
 * io_ring_ctx_wait_and_kill -> io_ring_exit_work (io_uring_try_cancel_requests,
 * DEFER local work cancelled in place) -> ctx freed. Seeded per round:
 *  plain       the owner only waits (never touching ring memory); a closer
 *              thread unmaps and closes the ring under its wait, which must
 *              then fail with -EBADF;
 *  registered  the closer closes the plain fd, which must not end the ring:
 *              the owner still submits, waits and receives every delivered
 *              message through the registered index; unregistering it
 *              (through itself, 6.3+) ends the ring.
 * In half the rounds (seeded) the parent's close is fuzzy-synchronised
 * (src/race/fuzzy.h, msgsend.h) with the submits of the parent's first
 * sender: placed at a seeded point of the window around one submit
 * (io_msg_ring's lookup of the target fd, io_msg_ring_data /
 * io_msg_remote_post), instead of after a random delay; -v counts the rounds
 * in which the close landed in a submit.
 * Checks: each send completes once with 0 or -EBADF as its fd's state says
 * (msgsend.h); teardown finishes (probe), and not while the registered fd
 * holds the ring (ringfd.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "lib/load.h"
#include "lib/msgsend.h"
#include "lib/ringfd.h"

#define SENDERS_MAX	8		/* per process */
#define TARGET_CQ	32768		/* holds every message of a round */
#define CLOSE_WINDOW_NS	(2 * NSEC_PER_MSEC)
/* How long the ring must outlive all but its registered fd: as long as the
 * slowest teardown seen (RCU grace periods make it tens of ms), bounded. */
#define ALIVE_CHECK_MIN_NS	(20 * NSEC_PER_MSEC)
#define ALIVE_CHECK_MAX_NS	(200 * NSEC_PER_MSEC)
#define CLAMP(x, lo, hi)	((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))

enum side { PARENT, CHILD, SIDES };

struct shared {				/* MAP_SHARED with the child */
	struct tw_barrier start;	/* senders of both sides and both closers */
	struct fd_watch fd[SIDES];	/* each side's copy of the target fd */
	struct tw_counter senders_done;
	uint64_t delivered;		/* MSG_RINGs that completed with 0 */
	struct fuzzy race;		/* parent sender 0's submits (A) vs the closer (B) */
	struct msg_sender snd[SIDES * SENDERS_MAX];
};

struct round {
	struct tcase *tc;
	struct shared *sh;
	bool registered;
	bool fuzzy;			/* the parent's close raced with a submit */
	int fd;				/* the target's dedicated number */
	unsigned nsend;			/* per side */
	int64_t close_delay_ns[SIDES];
	int64_t alive_check_ns, teardown_ns;
	struct tring target;
	struct teardown_probe probe;
	struct load load;		/* only its reaping and checks */
};

static int start_senders(struct round *rd, enum side side, struct tw_thread *th)
{
	for (unsigned i = 0; i < rd->nsend; i++) {
		if (tw_thread_start(rd->tc, &th[i], side == PARENT ? "psend" : "csend",
				    side * SENDERS_MAX + i, msg_sender_main,
				    &rd->sh->snd[side * SENDERS_MAX + i]))
			return -1;
	}
	return 0;
}

/* The child: its senders use the inherited fd, which it closes mid-flight. */
static int child_main(void *arg)
{
	struct round *rd = arg;
	struct tw_thread th[SENDERS_MAX];
	struct deadline dl = tc_deadline(rd->tc);

	probe_drop_writer(&rd->probe);
	if (start_senders(rd, CHILD, th) || tw_barrier_wait(&rd->sh->start, &dl))
		return 1;
	sleep_until_ns(now_ns() + rd->close_delay_ns[CHILD]);
	fd_watch_close(&rd->sh->fd[CHILD], rd->fd);
	return tw_threads_join(rd->tc, th, rd->nsend, NULL, NULL) == V_PASS ? 0 : 1;
}

/* This process's closer. Plain: the mappings hold the file too, they go first. */
static void *closer_main(struct tw_thread *t)
{
	struct round *rd = t->arg;
	struct deadline dl = tc_deadline(rd->tc);

	if (tw_barrier_wait(&rd->sh->start, &dl))
		return tc_hang(rd->tc, NULL, NULL, "closer: start barrier"), NULL;
	if (!rd->registered)
		tring_unmap(&rd->target);
	if (rd->fuzzy) {
		dl = tc_deadline(rd->tc);
		if (fd_watch_close_fuzzy(&rd->sh->fd[PARENT], rd->fd, &rd->sh->race, &dl))
			return NULL;
	}
	sleep_until_ns(now_ns() + rd->close_delay_ns[PARENT]);
	fd_watch_close(&rd->sh->fd[PARENT], rd->fd);
	return NULL;
}

/* ---- the owner (main thread) -------------------------------------------- */

static enum verdict owner_setup(struct round *rd, const struct load_idle *idle)
{
	const struct tring_opts o = { .cq_entries = TARGET_CQ, .register_fd = rd->registered,
				      .attach_wq_fd = -1 };
	enum verdict v = ringfd_target_init(rd->tc, &rd->target, &o, rd->fd, &rd->probe, idle);

	if (v == V_PASS)
		load_init(&rd->load, &rd->target, NULL, NULL, 0);
	return v;
}

/* Plain: only waits, for more than will come: the close lands inside one or
 * between two; from then on a wait must fail with -EBADF. */
static int owner_plain(struct round *rd, struct rng *rng)
{
	struct deadline dl = tc_deadline(rd->tc);
	int ret;

	do {
		bool closed = fd_watch_state(&rd->sh->fd[PARENT]) == FD_CLOSED;

		/* A wait that times out with CQEs in the CQ returns 0, not -ETIME. */
		ret = tring_wait(&rd->target, TARGET_CQ,
				 (int64_t)rng_range(rng, 100, 3000) * NSEC_PER_USEC, 0, NULL);
		if (ret != -EBADF && (closed || (ret && ret != -ETIME && ret != -EINTR)))
			return tc_fail(rd->tc, "owner: wait on the target (fd %s) returned %d, "
				       "expected %s", closed ? "closed" : "open", ret,
				       closed ? "-EBADF" : "-ETIME"), -1;
	} while (ret != -EBADF && !deadline_passed(&dl));
	if (ret != -EBADF)
		return tc_hang(rd->tc, NULL, NULL, "owner: its fd was never closed"), -1;
	return 0;
}

/* Registered: reap and wait until every sender is done and every delivered
 * message is in; once the plain fd is gone, submit a NOP through the index. */
static int owner_registered(struct round *rd, struct rng *rng)
{
	struct tring *t = &rd->target;
	uint64_t *received = &rd->load.seen[LOAD_MSG_IN];
	struct deadline dl = tc_deadline(rd->tc);
	bool nop_sent = false;
	char why[200];
	int ret;

	for (;;) {
		/* Messages and our NOP only: the pending set must stay pending. */
		load_reap(&rd->load, why, sizeof(why));
		if (why[0])
			return tc_fail(rd->tc, "target: %s", why), -1;
		if (tw_counter_get(&rd->sh->senders_done) == 2 * rd->nsend && rd->load.seen[LOAD_NOP] &&
		    *received >= __atomic_load_n(&rd->sh->delivered, __ATOMIC_ACQUIRE))
			break;
		if (!nop_sent && fd_watch_state(&rd->sh->fd[PARENT]) == FD_CLOSED) {
			struct io_uring_sqe *sqe = tring_sqe(t);

			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data64(sqe, load_ud(LOAD_NOP, 0));
			/* Its CQE is awaited below (SQPOLL: submit counts the SQ's backlog). */
			if ((ret = io_uring_submit(&t->ring)) < 0)
				return tc_fail(rd->tc, "owner: NOP through the registered ring fd "
					       "after close of the plain fd: %s", strerror(-ret)), -1;
			nop_sent = true;
		}
		ret = tring_wait(t, 1, (int64_t)rng_range(rng, 50, 2000) * NSEC_PER_USEC, 0, NULL);
		if (ret == -EBADF)
			return tc_fail(rd->tc, "owner: wait through the registered ring fd: EBADF"), -1;
		if (tc_failed(rd->tc))
			return -1;
		if (deadline_passed(&dl))
			return tc_hang(rd->tc, NULL, t, "owner: %llu of %llu delivered messages reaped",
				       (unsigned long long)*received,
				       (unsigned long long)rd->sh->delivered), -1;
	}
	if (*received != rd->sh->delivered)
		return tc_fail(rd->tc, "owner: received %llu messages, senders saw %llu delivered",
			       (unsigned long long)*received, (unsigned long long)rd->sh->delivered), -1;
	return 0;
}

/* ---- one round ---------------------------------------------------------- */

static enum verdict one_round(struct round *rd, struct rng *rng)
{
	struct tcase *tc = rd->tc;
	struct tw_thread closer, th[SENDERS_MAX];
	struct deadline dl;
	struct child child;
	struct load_idle idle;
	char buf[80];
	int status;
	enum verdict v;

	/* The pending set waits on pipes with a writer (us) that never writes. */
	if (load_idle_open(&idle) < 0 || probe_create(&rd->probe, "target") < 0)
		return tc_fail(tc, "pipe: %s", strerror(errno));
	if ((v = owner_setup(rd, &idle)) != V_PASS)
		return v;
	if (proc_spawn(&child, child_main, rd) < 0 || start_senders(rd, PARENT, th) ||
	    tw_thread_start(tc, &closer, "closer", 2 * SENDERS_MAX, closer_main, rd))
		return tc_fail(tc, "fork or pthread_create failed");
	if ((rd->registered ? owner_registered(rd, rng) : owner_plain(rd, rng)) ||
	    tw_threads_join(tc, th, rd->nsend, NULL, NULL) >= V_FAIL ||
	    tw_threads_join(tc, &closer, 1, NULL, NULL) >= V_FAIL)
		return tc_verdict(tc);
	dl = tc_deadline(tc);
	if (proc_reap(&child, &dl, &status)) {
		tc_hang(tc, NULL, NULL, "child %d did not finish", child.pid);
		diag_dump_tasks(child.pid, "#   ");
		return V_HANG;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return tc_fail(tc, "child: %s", proc_status_str(status, buf, sizeof(buf)));
	/* Registered, all else gone: the ring lives until the registered fd goes. */
	if (rd->registered && ringfd_release_registered(tc, &rd->target, &rd->probe,
							rd->alive_check_ns))
		return tc_verdict(tc);
	/* Every reference is gone: the teardown must finish. */
	dl = tc_deadline(tc);
	rd->teardown_ns = now_ns();
	status = probe_wait(&rd->probe, &dl);
	rd->teardown_ns = now_ns() - rd->teardown_ns;
	if (status) {
		tc_hang(tc, NULL, NULL, "teardown of the target ring did not finish after its last "
			"reference (%s) went", rd->registered ? "registered fd" : "plain fd");
		diag_dump_uring_kthreads("#   ");
		return V_HANG;
	}
	load_idle_close(&idle);
	probe_close(&rd->probe);
	return tc_verdict(tc);
}

/* A round's choices, and senders with a quota each: the target's CQ holds all. */
static void round_setup(struct round *rd, struct rng *rng, struct ledger **led, uint32_t quota)
{
	/* Unregistering through the registered fd itself needs 6.3+. */
	rd->registered = rng_chance(rng, 50) && kernel_features() & IORING_FEAT_REG_REG_RING;
	rd->close_delay_ns[PARENT] = (int64_t)rng_below(rng, CLOSE_WINDOW_NS);
	rd->close_delay_ns[CHILD] = (int64_t)rng_below(rng, CLOSE_WINDOW_NS);
	rd->fuzzy = rng_chance(rng, 50);
	memset(rd->sh, 0, sizeof(*rd->sh));
	fuzzy_init(&rd->sh->race, rng_next(rng), 0);
	tw_barrier_init(&rd->sh->start, 2 * rd->nsend + 2);
	for (unsigned i = 0; i < SIDES * SENDERS_MAX; i++) {
		if (!led[i])
			continue;
		ledger_reset(led[i]);
		rd->sh->snd[i] = (struct msg_sender){
			.tc = rd->tc, .fd = rd->fd, .watch = &rd->sh->fd[i / SENDERS_MAX],
			.led = led[i], .quota = quota, .msg_ud = load_ud(LOAD_MSG_IN, 0),
			.msg_len = LOAD_MSG_LEN, .start = &rd->sh->start,
			.done = &rd->sh->senders_done, .delivered = &rd->sh->delivered,
			.race = rd->fuzzy && i == 0 ? &rd->sh->race : NULL,
		};
	}
}

static void round_log(struct round *rd, unsigned n)
{
	unsigned long long ok[SIDES] = { 0 }, ebadf[SIDES] = { 0 };
	char parent[32] = "fuzzed";

	if (!rd->fuzzy)
		snprintf(parent, sizeof(parent), "+%lld", (long long)rd->close_delay_ns[PARENT] / 1000);
	for (unsigned i = 0; i < SIDES * SENDERS_MAX; i++) {
		ok[i / SENDERS_MAX] += rd->sh->snd[i].ok;
		ebadf[i / SENDERS_MAX] += rd->sh->snd[i].ebadf;
	}
	tc_log(rd->tc, "round %u: %s fd, closes at %s/+%lld us (parent/child), MSG_RING ok "
	       "%llu/%llu, EBADF %llu/%llu, teardown %.1f ms%s", n,
	       rd->registered ? "registered" : "plain", parent,
	       (long long)rd->close_delay_ns[CHILD] / 1000, ok[PARENT], ok[CHILD], ebadf[PARENT],
	       ebadf[CHILD], ns_to_s(rd->teardown_ns) * 1000,
	       rd->sh->snd[0].close_in_submit ? ", the close landed in a submit" : "");
}

static enum verdict run(struct tcase *tc)
{
	unsigned nsend = CLAMP(tc->threads / 2, 1, SENDERS_MAX), rounds = 0, registered = 0;
	unsigned raced[2] = { 0 }, in_submit[2] = { 0 };	/* [fuzzy] */
	int64_t alive_check_ns = ALIVE_CHECK_MAX_NS;
	uint32_t quota = TARGET_CQ / (2 * nsend);
	struct ledger *led[SIDES * SENDERS_MAX] = { 0 };
	struct deadline run_end;
	struct shared *sh;
	struct tring pre;
	struct rng rng;
	enum verdict v;

	/* A refused profile is judged here (needs.c); and kernel_features() is known. */
	if ((v = tring_init(tc, &pre, "precheck", tc->prof, NULL)) != V_PASS)
		return v;
	tring_exit(&pre);
	sh = proc_shared_alloc(sizeof(*sh));
	if (!sh)
		return tc_fail(tc, "mmap: %s", strerror(errno));
	for (unsigned i = 0; i < SIDES * SENDERS_MAX; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s sender %u", i < SENDERS_MAX ? "parent" : "child",
			 i % SENDERS_MAX);
		if (i % SENDERS_MAX < nsend && !(led[i] = ledger_new(tc, name, 1, 1, quota, 0)))
			return tc_fail(tc, "out of memory");
	}
	rng_seed(&rng, tc->seed, 0);
	run_end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	do {
		struct tcase rtc = *tc;		/* each round its own seeds */
		struct round rd = { .tc = &rtc, .sh = sh, .fd = ringfd_dedicated_number(),
				    .nsend = nsend, .alive_check_ns = alive_check_ns };

		rtc.seed = rng_next(&rng);
		round_setup(&rd, &rng, led, quota);
		/* A failed round leaves threads behind: no clean-up under them. */
		if (one_round(&rd, &rng) >= V_FAIL)
			return tc_verdict(tc);
		if (tc_verdict(tc) == V_SKIP)
			break;
		round_log(&rd, ++rounds);
		registered += rd.registered;
		raced[rd.fuzzy]++;
		in_submit[rd.fuzzy] += sh->snd[0].close_in_submit > 0;
		if (rounds == 1 || rd.teardown_ns > alive_check_ns)
			alive_check_ns = CLAMP(rd.teardown_ns, ALIVE_CHECK_MIN_NS, ALIVE_CHECK_MAX_NS);
	} while (!tc_failed(tc) && !deadline_passed(&run_end));
	tc_log(tc, "%u rounds, %u with a registered ring fd; the close landed in a submit of "
	       "sender 0 in %u of %u fuzzed rounds, %u of %u at a random delay", rounds, registered,
	       in_submit[1], raced[1], in_submit[0], raced[0]);
	for (unsigned i = 0; i < SIDES * SENDERS_MAX; i++)
		ledger_free(led[i]);
	munmap(sh, sizeof(*sh));
	return tc_verdict(tc);
}

static const struct scenario close_midflight = {
	.name = "close_midflight",
	.summary = "a ring is closed while threads of two processes send it MSG_RING and it has "
		   "pending requests: each send ends once with 0 or -EBADF, teardown finishes",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(MSG_RING),
	.min_threads = 2,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &close_midflight);
}
