// SPDX-License-Identifier: MIT
/*
 * exec, fork and fd passing, beside test/orphans.c (which accounts what an
 * exiting owner leaves behind). Each round, in every profile:
 *  exec      a child enables an R_DISABLED ring (becoming its submitter),
 *            submits reads and execs this program while a writer in the
 *            parent completes them: begin_new_exec() -> io_uring_task_cancel()
 *            races the wake-ups' task_work. The exec'd image (same task, new
 *            io_uring_task) maps the inherited ring and submits a NOP. The
 *            parent sees every read once, 1 or -ECANCELED, and the NOP (SQPOLL:
 *            the SQ thread died with the old image: -EOWNERDEAD instead).
 *  fd-passed a child creates an R_DISABLED ring, hands it over (SCM_RIGHTS;
 *            since 6.7 scm_fp_copy() refuses io_uring files with EINVAL, then
 *            pidfd_getfd()) and dies. The receiver enables it and keeps using
 *            it: sender threads MSG_RING into it, it submits NOPs itself.
 *  disabled  senders MSG_RING a ring created R_DISABLED: -EBADFD, no CQE
 *            (msg_ring.c checks R_DISABLED before it looks at submitter_task);
 *            the owner enables it mid-stream: from then on every message
 *            arrives, once, in per-sender order, and none refused ever does.
 *  clone     a clone(CLONE_FILES) child sends MSG_RING into the ring through
 *            the shared fd table from a ring it creates there, submits NOPs
 *            on it directly (not SINGLE_ISSUER), and exits; its ring stays
 *            in the shared table. Nothing lost, no hang.
 * Every ring's teardown is proven by a probe. The sender threads, the
 * children and the exec'd image are in test/lib/exec_fork.c.
 */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "lib/exec_fork.h"

#define PROBE_UD	0x0dull

/*
 * Join the senders (they need nothing from us: MSG_RING completes at the
 * sender once queued; the CQ is large enough), then reap the target - we are
 * its submitter - until the ledger has all that was sent.
 */
static void reap_all(struct xf *x, struct tw_thread *th, unsigned n)
{
	char what[96];

	if (n && tw_threads_join(x->tc, th, n, x->led, &x->ring) != V_PASS)
		return;
	snprintf(what, sizeof(what), "%s: messages did not arrive", x->tc->name);
	xf_drain(x, -1, what);
}

/* The ring is closed: its teardown must finish (the probe proves it). */
static void await_teardown(struct xf *x, struct teardown_probe *probe, const char *round)
{
	struct deadline dl = tc_deadline(x->tc);

	if (probe_wait(probe, &dl))
		tc_hang(x->tc, NULL, NULL, "%s round [%s]: teardown of the ring did not finish",
			round, x->tc->prof->name);
	probe_close(probe);
}

/* ---- exec ---- */

static void round_exec(struct xf *x, struct rng *rng)
{
	struct deadline dl = tc_deadline(x->tc);
	struct teardown_probe probe;
	char how[64];
	struct child c;
	int efd, status, err = 0;

	/* Our own set-up: the exec'd image needs the params to map the ring. */
	err = handover_ring_init(&x->h, &x->ring.ring,
				 x->tc->prof->setup_flags | IORING_SETUP_R_DISABLED, 0);
	if (err) {
		snprintf(how, sizeof(how), "exec round: io_uring_setup(flags 0x%x)",
			 x->h.params.flags);
		return (void)tc_setup_refused(x->tc, x->h.params.flags, err, how);
	}
	x->ring = (struct tring){ .ring = x->ring.ring, .prof = x->tc->prof, .live = true,
				  .name = "exec" };
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0 || probe_create(&probe, "exec") ||
	    io_uring_register_eventfd(&x->ring.ring, efd) ||
	    io_uring_register_files(&x->ring.ring, &probe.rfd, 1)) {
		tc_fail(x->tc, "exec round: eventfd or probe set-up failed");
		return;
	}
	probe_drop_reader(&probe);	/* the ring's file table holds the only reader */
	for (unsigned i = 0; i < XF_NREADS && !err; i++)
		err = pipe2(x->pipes[i], O_CLOEXEC);
	x->submitted = (struct tw_event){ 0 };
	if (err || proc_spawn(&c, xf_exec_child, x)) {
		tc_fail(x->tc, "exec round: pipes or fork: %m");
		return;
	}
	if (tw_event_wait(&x->submitted, &dl) == 0) {
		/* The writer: wake-ups whose task_work races the exec. */
		for (unsigned i = 0; i < XF_NREADS; i++) {
			unsigned j = i + (unsigned)rng_below(rng, XF_NREADS - i);
			int tmp[2];

			memcpy(tmp, x->pipes[j], sizeof(tmp));
			memcpy(x->pipes[j], x->pipes[i], sizeof(tmp));
			memcpy(x->pipes[i], tmp, sizeof(tmp));
			for (volatile unsigned s = rng_below(rng, 20000); s; s--)
				;
			if (write(x->pipes[i][1], "x", 1) != 1)
				tc_fail(x->tc, "exec round: write: %m");
		}
	}
	dl = tc_deadline(x->tc);
	if (proc_reap(&c, &dl, &status)) {
		tc_hang(x->tc, x->led, NULL, "exec round: the exec'd child did not exit");
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		ledger_sent(x->led, 0, XF_EXEC_NOP, 1);
	else if (!(WIFEXITED(status) && WEXITSTATUS(status) == XF_IMAGE_OWNERDEAD &&
		   (x->tc->prof->props & PROF_SQPOLL)))
		tc_fail(x->tc, "exec round [%s]: the child or its exec'd image failed: %s (2 "
			"enable, 3 submit, 4 exec, 5 mmap, 6 submit after exec, 7 SQ not "
			"consumed, %d -EOWNERDEAD, 100+errno submit after exec)", x->tc->prof->name,
			proc_status_str(status, how, sizeof(how)), XF_IMAGE_OWNERDEAD);
	xf_drain(x, efd, "exec round: CQEs of the exec'd task");
	ledger_verify(x->led);
	tring_exit(&x->ring);
	close(efd);
	await_teardown(x, &probe, "exec");
	for (unsigned i = 0; i < XF_NREADS; i++) {
		close(x->pipes[i][0]);
		close(x->pipes[i][1]);
	}
}

/* ---- fd-passed ---- */

static void round_fdpass(struct xf *x)
{
	struct deadline dl = tc_deadline(x->tc);
	struct tw_thread th[XF_NSENDERS];
	struct teardown_probe probe;
	struct child c;
	int ret, status;

	x->ready = x->taken = (struct tw_event){ 0 };
	x->child_failed = false;
	if (handover_open(&x->h) || proc_spawn(&c, xf_fdpass_owner, x))
		return (void)tc_fail(x->tc, "fd-passed round: socketpair or fork: %m");
	if (tw_event_wait(&x->ready, &dl) || x->child_failed) {
		tc_fail(x->tc, "fd-passed round [%s]: owner: %s", x->tc->prof->name,
			x->child_failed ? x->why : "never ready");
		goto out;
	}
	ret = handover_take(&x->h, c.pidfd, &dl, &x->ring, x->tc->prof, "passed");
	if (ret) {
		tc_fail(x->tc, "fd-passed round: taking the ring (%s): %s", handover_how(&x->h),
			strerror(-ret));
		goto out;
	}
	tw_event_set(&x->taken);
	handover_close(&x->h);
	if (proc_reap(&c, &dl, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
		tc_fail(x->tc, "fd-passed round: the owner did not exit cleanly");
	/* The owner is dead: the receiver enables the ring, becoming its submitter. */
	if ((status = tring_enable(&x->ring)))
		tc_fail(x->tc, "fd-passed round [%s]: enabling the received ring: %s",
			x->tc->prof->name, strerror(-status));
	x->target_fd = tring_fd(&x->ring);
	__atomic_store_n(&x->enable_state, 2, __ATOMIC_RELEASE);
	/* SQPOLL: the SQ thread was the dead owner's (created at set-up, even
	 * R_DISABLED): nothing submitted here is ever fetched. MSG_RING only. */
	for (unsigned i = 0; i < XF_NREADS && !(x->tc->prof->props & PROF_SQPOLL); i++) {
		struct io_uring_sqe *sqe = tring_sqe(&x->ring);

		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, ledger_ud(x->led, XF_NSENDERS, 0, i));
		ledger_sent(x->led, XF_NSENDERS, 0, 1);
	}
	io_uring_submit(&x->ring.ring);
	reap_all(x, th, xf_start_senders(x, th));
	ledger_verify(x->led);
	/* A probe without a pending read: the SQPOLL ring cannot submit one. */
	if (probe_create(&probe, "passed") || io_uring_register_files(&x->ring.ring, &probe.rfd, 1))
		return (void)tc_fail(x->tc, "fd-passed round: cannot arm the teardown probe");
	probe_drop_reader(&probe);
	tring_exit(&x->ring);
	await_teardown(x, &probe, "fd-passed");
	return;
out:
	tw_event_set(&x->taken);
	proc_kill_reap(&c, &dl, &status);
	handover_close(&x->h);
}

/* ---- disabled ---- */

static void round_disabled(struct xf *x, struct rng *rng)
{
	const struct tring_opts o = { .extra_flags = IORING_SETUP_R_DISABLED, .attach_wq_fd = -1,
				      .cq_entries = 1024 };
	struct deadline dl = tc_deadline(x->tc);
	struct tw_thread th[XF_NSENDERS];
	unsigned n;
	int ret;

	if (tring_init(x->tc, &x->ring, "disabled", x->tc->prof, &o) != V_PASS)
		return;
	x->target_fd = tring_fd(&x->ring);
	x->enable_state = 0;
	x->refused = (struct tw_counter){ 0 };
	n = xf_start_senders(x, th);
	/* Messages are aimed at it while it is disabled: they are refused. */
	for (uint32_t want = XF_NSENDERS + (uint32_t)rng_below(rng, 8); !tc_failed(x->tc);) {
		struct deadline tick = deadline_in(10 * NSEC_PER_MSEC);

		/* In ticks: a sender that saw a wrong result stops, and says why. */
		if (!tw_counter_wait_ge(&x->refused, want, &tick))
			break;
		if (deadline_passed(&dl)) {
			tc_hang(x->tc, x->led, &x->ring, "disabled round: no MSG_RING was refused");
			break;
		}
	}
	if (io_uring_cq_ready(&x->ring.ring))
		tc_fail(x->tc, "disabled round [%s]: %u CQEs in a ring still disabled",
			x->tc->prof->name, io_uring_cq_ready(&x->ring.ring));
	for (volatile unsigned s = rng_below(rng, 20000); s; s--)
		;
	__atomic_store_n(&x->enable_state, 1, __ATOMIC_RELEASE);
	ret = tring_enable(&x->ring);
	__atomic_store_n(&x->enable_state, 2, __ATOMIC_RELEASE);
	if (ret)
		tc_fail(x->tc, "disabled round [%s]: IORING_REGISTER_ENABLE_RINGS: %s",
			x->tc->prof->name, strerror(-ret));
	reap_all(x, th, n);
	ledger_verify(x->led);
	tring_exit_proven(x->tc, &x->ring, 1, PROBE_UD);
}

/* ---- clone(CLONE_FILES) ---- */

static void round_clone(struct xf *x)
{
	struct deadline dl = tc_deadline(x->tc);
	struct child c = { .pidfd = -1 };
	int status;

	if (tring_init(x->tc, &x->ring, "clone", x->tc->prof, NULL) != V_PASS)
		return;
	x->target_fd = tring_fd(&x->ring);
	x->leftover_fd = -1;
	if (xf_clone_spawn(x, &c))
		return (void)tc_fail(x->tc, "clone(CLONE_FILES) or pidfd_open: %m");
	if (proc_reap(&c, &dl, &status))
		return (void)tc_hang(x->tc, x->led, &x->ring, "clone round: child did not exit");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		tc_fail(x->tc, "clone round [%s]: the CLONE_FILES child failed (exit status "
			"0x%x: 2 ring set-up, 3 MSG_RING)", x->tc->prof->name, status);
	/* The child moved the SQ tail through its own copy of struct io_uring. */
	x->ring.ring.sq.sqe_head = x->ring.ring.sq.sqe_tail = *x->ring.ring.sq.ktail;
	reap_all(x, NULL, 0);
	ledger_verify(x->led);
	if (x->leftover_fd < 0 || fcntl(x->leftover_fd, F_GETFD) < 0)
		tc_fail(x->tc, "clone round: the child's ring is not in the shared fd table");
	else
		close(x->leftover_fd);
	tring_exit_proven(x->tc, &x->ring, 1, PROBE_UD);
}

static const char *check(uint64_t ud, int32_t res, uint32_t flags, void *arg)
{
	struct xf *x = arg;
	unsigned p, c;
	uint32_t seq;

	ledger_decode(ud, &p, &c, &seq);
	if (flags)
		return "unexpected CQE flags";
	switch (x->kind) {
	case R_EXEC:	/* io_uring_task_cancel() at exec, or the write first */
		return c == XF_EXEC_NOP ? (res == 0 ? NULL : "NOP after exec: expected 0") :
		       res == 1 || res == -ECANCELED ? NULL : "read: expected 1 or -ECANCELED";
	case R_CLONE:
		return c == XF_CLONE_NOP ? (res == 0 ? NULL : "NOP: expected 0") :
		       (uint32_t)res == seq ? NULL : "MSG_RING payload: expected its seq";
	default:	/* sender payloads are attempt numbers (>= seq); our NOPs 0 */
		return p == XF_NSENDERS ? (res == 0 ? NULL : "NOP: expected 0") :
		       res >= 0 && (uint32_t)res >= seq ? NULL : "MSG_RING payload";
	}
}

static enum verdict run(struct tcase *tc)
{
	struct xf *x = proc_shared_alloc(sizeof(*x));
	struct deadline end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	unsigned rounds = 0;
	struct rng rng;

	if (!x)
		return tc_fail(tc, "mmap: %m");
	x->tc = tc;
	x->quota = 64;
	x->led = ledger_new(tc, "exec_fork", XF_NREADS, 2, 1u << 16, LEDGER_FIFO);
	if (!x->led)
		return tc_fail(tc, "out of memory");
	ledger_set_check(x->led, check, x);
	rng_seed(&rng, tc->seed, 0);
	do {
		for (x->kind = R_EXEC; x->kind < ROUND_KINDS && tc_verdict(tc) == V_PASS;
		     x->kind++) {
			ledger_reset(x->led);
			if (x->kind == R_EXEC)
				round_exec(x, &rng);
			else if (x->kind == R_FDPASS)
				round_fdpass(x);
			else if (x->kind == R_DISABLED)
				round_disabled(x, &rng);
			else
				round_clone(x);
		}
		rounds++;
	} while (tc_verdict(tc) == V_PASS && !deadline_passed(&end));
	tc_log(tc, "%u rounds; ring handed over by %s", rounds,
	       x->h.via_getfd ? "pidfd_getfd (SCM_RIGHTS refused: EINVAL, 6.7+)" : "SCM_RIGHTS");
	ledger_free(x->led);
	return tc_verdict(tc);
}

static const struct scenario exec_fork = {
	.name = "exec_fork",
	.summary = "exec with pending work, a passed ring whose owner died, MSG_RING into "
		   "R_DISABLED rings, CLONE_FILES children: every CQE once, precise errors, "
		   "teardown finishes",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(MSG_RING),
};

int main(int argc, char **argv)
{
	/* The exec round's child re-execs this program: the image's part. */
	if (argc == 5 && !strcmp(argv[1], XF_EXEC_ARG))
		return xf_exec_image(argv);
	return harness_main(argc, argv, &exec_fork);
}
