// SPDX-License-Identifier: MIT
/*
 * Request kinds as producers of task_work. One owner, one ring per profile,
 * and helper threads on other CPUs that make requests complete. Each round
 * runs these phases in a seeded order, each alone on the ring (a drain or a
 * cancel of "any" must see only its own requests):
 *  links     nop->read->nop (CQEs in chain order); read->LINK_TIMEOUT the
 *            read beats (-ECANCELED timeout); idle read->LINK_TIMEOUT that
 *            fires from its hrtimer (-ETIME, read -ECANCELED); a failing head
 *            (-EBADF, link -ECANCELED); read->LINK_TIMEOUT racing a write
 *  drain     reads a helper completes, then an IOSQE_IO_DRAIN nop, then a
 *            nop: the drain completes after every earlier request, the nop
 *            after the drain (io_drain_req's defer list)
 *  cancel    ASYNC_CANCEL by user_data, by fd, ANY, and TIMEOUT_REMOVE, each
 *            racing a helper's write (or the timer) that completes the target:
 *            exactly one of {completed, -ECANCELED}, and the cancel's res
 *            agrees (0 / -ENOENT / -EALREADY; ANY: the count)
 *  multishot multishot POLL_ADD on pipes and multishot RECV (provided buffer
 *            ring) on seqpacket sockets fed by helpers: every record once, in
 *            write order (ledger FIFO per stream); F_MORE on all but the last
 *            CQE, nothing after it
 *  async     IOSQE_ASYNC nops, memfd reads and pipe reads: completed from
 *            io-wq workers (and io-wq's poll), each once, expected res/data
 *  timeouts  timeouts fire from hrtimer context: -ETIME once, never early
 * The ring's teardown is proven at the end (probe).
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "lib/mstream.h"

#define MAX_HELPERS	MSTREAMS	/* one per multishot stream */
#define RECORDS		48	/* per multishot stream and round */
#define STREAM_CREDIT	12	/* a helper's unconsumed records (< MSTREAM_BUFS / 2) */
#define NASYNC		24
#define NTIMERS		12
#define PROBE_UD	0x0dull

enum role {			/* the once-ledger's channel: what a request is */
	L_A0, L_A1, L_A2, L_B_READ, L_B_LT, L_C_READ, L_C_LT, L_D_BAD, L_D_NOP,
	L_E_READ, L_E_LT, D_R0, D_R3 = D_R0 + 3, D_DRAIN, D_AFTER, C_TARGET, C_CANCEL,
	A_NOP, A_MEMFD, A_PIPE, T_TIMER, M_CANCEL, ROLES
};
static const char *const role_names[ROLES] = {
	[L_A0] = "nop (chain head)", [L_A1] = "read (chain middle)", [L_A2] = "nop (chain tail)",
	[L_B_READ] = "read", [L_B_LT] = "link timeout", [L_C_READ] = "idle read",
	[L_C_LT] = "link timeout", [L_D_BAD] = "read of a write end", [L_D_NOP] = "linked nop",
	[L_E_READ] = "read", [L_E_LT] = "link timeout",
	[D_R0] = "read 0", "read 1", "read 2", "read 3", [D_DRAIN] = "IOSQE_IO_DRAIN nop",
	[D_AFTER] = "nop submitted after the drain",
};
enum cancel_mode { BY_UD, BY_FD, BY_ANY, BY_TIMEOUT_REMOVE, CANCEL_MODES };
static const char *const cancel_names[] = { "by user_data", "by fd", "ANY", "TIMEOUT_REMOVE" };

struct helper {			/* a thread on another CPU that writes what it is told */
	struct tw_thread t;
	struct kinds *k;
	struct tw_barrier go, done;
	int fd[NASYNC];
	unsigned nfd, spin, stream;
	uint32_t records;	/* > 0: a stream of 8-byte records into fd[0] */
	struct tw_credit credit;
	bool quit;
};

struct kinds {
	struct tcase *tc;
	struct tring rings[2];	/* [1]: only for drains (see phase_drain) */
	struct tring *ring;	/* where prep() and collect() act */
	struct ledger *once, *records;
	struct rng rng;
	struct helper h[MAX_HELPERS];
	unsigned nhelpers, done, arrivals;
	uint32_t seq[ROLES];
	int32_t res[ROLES];
	unsigned at[ROLES];	/* arrival order of the last CQE per role */
	struct mstreams ms;
	bool skipped[CANCEL_MODES];
	unsigned outcome[CANCEL_MODES][2];	/* completed, cancelled */
	int memfd;
	uint64_t areads[NASYNC];
	int64_t timer_due[NTIMERS];
};

static void spin(unsigned n)
{
	for (volatile unsigned i = 0; i < n; i++)
		;
}

static void *helper_main(struct tw_thread *t)
{
	struct helper *h = t->arg;
	struct deadline dl;

	for (;;) {
		dl = deadline_in(3 * h->k->tc->hang_ns);
		if (tw_barrier_wait(&h->go, &dl))
			return tc_hang(h->k->tc, NULL, NULL, "helper %u: no job", t->idx), NULL;
		if (h->quit)
			return NULL;
		for (uint32_t i = 0; i < h->records; i++) {
			dl = tc_deadline(h->k->tc);
			if (tw_credit_take(&h->credit, 1, &dl) < 0) {
				tc_hang(h->k->tc, h->k->records, h->k->ring,
					"helper %u: stream %u: records not consumed", t->idx,
					h->stream);
				break;
			}
			ledger_sent(h->k->records, h->stream, 0, 1);
			if (write(h->fd[0], &(uint64_t){ i }, 8) != 8)
				tc_fail(h->k->tc, "helper %u: write record %u: %m", t->idx, i);
		}
		for (unsigned i = 0; i < h->nfd && !h->records; i++) {
			unsigned j = i + (unsigned)rng_below(&t->rng, h->nfd - i);
			int fd = h->fd[j];

			h->fd[j] = h->fd[i];
			spin(h->spin);
			if (write(fd, "x", 1) != 1)
				tc_fail(h->k->tc, "helper %u: write fd %d: %m", t->idx, fd);
		}
		/* The owner's own waits report a hang first, naming what they await. */
		dl = deadline_in(3 * h->k->tc->hang_ns);
		if (tw_barrier_wait(&h->done, &dl))
			return tc_hang(h->k->tc, NULL, NULL, "helper %u: owner gone", t->idx), NULL;
	}
}

/* Hand helper i a job: write one byte to each fd (random order, after spin). */
static struct helper *job(struct kinds *k, unsigned i, const int *fds, unsigned n, unsigned sp)
{
	struct helper *h = &k->h[i % k->nhelpers];

	memcpy(h->fd, fds, n * sizeof(int));
	h->nfd = n;
	h->spin = sp;
	h->records = 0;
	return h;
}

static void job_sync(struct kinds *k, struct tw_barrier *b, const char *what)
{
	struct deadline dl = tc_deadline(k->tc);

	if (tw_barrier_wait(b, &dl))
		tc_hang(k->tc, NULL, k->ring, "a helper did not %s its job", what);
}

static struct io_uring_sqe *prep(struct kinds *k, enum role role, unsigned flags)
{
	struct io_uring_sqe *sqe = tring_sqe(k->ring);

	io_uring_prep_nop(sqe);
	sqe->flags = flags;
	io_uring_sqe_set_data64(sqe, ledger_ud(k->once, 0, role, k->seq[role]));
	ledger_sent(k->once, 0, role, 1);
	k->seq[role]++;
	k->res[role] = INT32_MIN;
	return sqe;
}

static void expect(struct kinds *k, const char *phase, enum role role, int32_t want)
{
	if (k->res[role] != want)
		tc_fail(k->tc, "bad result: %s [%s]: %s: expected %d (%s), seen %d (%s)",
			phase, k->tc->prof->name, role_names[role], want,
			want < 0 ? strerror(-want) : "ok", k->res[role],
			k->res[role] < 0 ? strerror(-k->res[role]) : "ok");
}

static void expect_before(struct kinds *k, const char *phase, enum role a, enum role b)
{
	if (k->at[a] >= k->at[b])
		tc_fail(k->tc, "order: %s [%s]: %s completed after %s", phase,
			k->tc->prof->name, role_names[a], role_names[b]);
}

/* Bulk roles are judged per CQE; the others by their phase, from k->res. */
static const char *check_once(uint64_t ud, int32_t res, uint32_t flags, void *arg)
{
	struct kinds *k = arg;
	unsigned p, role;
	uint32_t seq;

	ledger_decode(ud, &p, &role, &seq);
	if (flags & ~IORING_CQE_F_BUFFER)
		return "unexpected CQE flags";
	switch (role) {
	case A_NOP:
		return res == 0 ? NULL : "IOSQE_ASYNC nop: expected 0";
	case A_PIPE:
		return res == 1 ? NULL : "IOSQE_ASYNC pipe read: expected 1 byte";
	case A_MEMFD:
		if (res != 8)
			return "IOSQE_ASYNC memfd read: expected 8 bytes";
		return k->areads[seq % NASYNC] == seq % NASYNC * 0x0101010101010101ull ? NULL :
		       "IOSQE_ASYNC memfd read: wrong data";
	case M_CANCEL:
		return res == 0 ? NULL : "ASYNC_CANCEL of an idle multishot request: expected 0";
	case T_TIMER:
		if (res != -ETIME)
			return "timeout: expected -ETIME";
		return now_ns() >= k->timer_due[seq % NTIMERS] ? NULL :
		       "timeout: completed before it was due";
	}
	return NULL;
}

static void on_cqe(struct kinds *k, const struct io_uring_cqe *cqe)
{
	unsigned p, role;
	uint32_t seq;

	if (cqe->user_data == PROBE_UD)
		return;
	if (mstreams_owns(cqe->user_data)) {
		mstreams_cqe(&k->ms, cqe);
		return;
	}
	ledger_decode(cqe->user_data, &p, &role, &seq);
	if (ledger_cqe(k->once, cqe->user_data, cqe->res, cqe->flags) && role < ROLES) {
		k->res[role] = cqe->res;
		k->at[role] = k->arrivals;
	}
	k->arrivals++;
	k->done++;
}

/* Submit what is queued, then reap until k->done reaches target. */
static int collect(struct kinds *k, unsigned target, const char *what)
{
	struct deadline dl = tc_deadline(k->tc);

	io_uring_submit(&k->ring->ring);
	while (!tc_failed(k->tc)) {
		struct io_uring_cqe *cqe;
		unsigned head, got = 0;

		io_uring_for_each_cqe(&k->ring->ring, head, cqe) {
			on_cqe(k, cqe);
			got++;
		}
		io_uring_cq_advance(&k->ring->ring, got);
		if (got)
			dl = tc_deadline(k->tc);
		if (io_uring_sq_ready(&k->ring->ring))
			io_uring_submit(&k->ring->ring);	/* multishot re-arms */
		if (k->done >= target && mstreams_settled(&k->ms))
			return 0;
		if (deadline_passed(&dl)) {
			tc_hang(k->tc, k->once, k->ring, "%s [%s]: %u of %u CQEs", what,
				k->tc->prof->name, k->done, target);
			return -1;
		}
		tring_wait(k->ring, 1, 10 * NSEC_PER_MSEC, 0, NULL);
	}
	return -1;
}

static void pipes(struct kinds *k, int (*p)[2], unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (pipe2(p[i], O_CLOEXEC))
			tc_fail(k->tc, "pipe2: %m");
}

static void unpipe(int (*p)[2], unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
}

/* liburing's prep helpers clear sqe->flags: set them afterwards. */
static void prep_read(struct kinds *k, enum role role, int fd, unsigned flags, void *buf,
		      unsigned len, uint64_t off)
{
	struct io_uring_sqe *sqe = prep(k, role, 0);

	io_uring_prep_read(sqe, fd, buf, len, off);
	sqe->flags = flags;
}

static void prep_lt(struct kinds *k, enum role role, struct __kernel_timespec *ts)
{
	io_uring_prep_link_timeout(prep(k, role, 0), ts, 0);
}

static void phase_links(struct kinds *k)
{
	struct __kernel_timespec long_ts = { .tv_sec = 10 },
		short_ts = { .tv_nsec = (long)rng_range(&k->rng, 50, 1000) * 1000 },
		race_ts = { .tv_nsec = (long)rng_range(&k->rng, 1, 100) * 1000 };
	int p[4][2], fds[3];
	char buf[4];
	struct helper *h;

	pipes(k, p, 4);
	k->done = 0;
	prep(k, L_A0, IOSQE_IO_LINK);			/* chain: CQEs in link order */
	prep_read(k, L_A1, p[0][0], IOSQE_IO_LINK, &buf[0], 1, 0);
	prep(k, L_A2, 0);
	/* completion beats the timer */
	prep_read(k, L_B_READ, p[1][0], IOSQE_IO_LINK, &buf[1], 1, 0);
	prep_lt(k, L_B_LT, &long_ts);
	/* nobody writes: the timer fires */
	prep_read(k, L_C_READ, p[2][0], IOSQE_IO_LINK, &buf[2], 1, 0);
	prep_lt(k, L_C_LT, &short_ts);
	/* a write end: -EBADF fails the link */
	prep_read(k, L_D_BAD, p[2][1], IOSQE_IO_LINK, &buf[3], 1, 0);
	prep(k, L_D_NOP, 0);
	/* a write races the timer */
	prep_read(k, L_E_READ, p[3][0], IOSQE_IO_LINK, &buf[3], 1, 0);
	prep_lt(k, L_E_LT, &race_ts);
	io_uring_submit(&k->ring->ring);
	fds[0] = p[0][1], fds[1] = p[1][1], fds[2] = p[3][1];
	h = job(k, (unsigned)rng_below(&k->rng, k->nhelpers), fds, 3,
		(unsigned)rng_below(&k->rng, 20000));
	job_sync(k, &h->go, "start");
	if (!collect(k, 11, "links")) {
		expect(k, "nop->read->nop", L_A0, 0);
		expect(k, "nop->read->nop", L_A1, 1);
		expect(k, "nop->read->nop", L_A2, 0);
		expect_before(k, "nop->read->nop", L_A0, L_A1);
		expect_before(k, "nop->read->nop", L_A1, L_A2);
		expect(k, "read->link timeout (completes)", L_B_READ, 1);
		expect(k, "read->link timeout (completes)", L_B_LT, -ECANCELED);
		expect(k, "idle read->link timeout (fires)", L_C_READ, -ECANCELED);
		expect(k, "idle read->link timeout (fires)", L_C_LT, -ETIME);
		expect(k, "bad read->nop", L_D_BAD, -EBADF);
		expect(k, "bad read->nop", L_D_NOP, -ECANCELED);
		/*
		 * The race (io_req_task_link_timeout): a cancelled read means the
		 * timer won outright (-ETIME). A read that completed disarmed the
		 * timer (-ECANCELED), or the timer fired too late to find it
		 * (-ETIME: already unlinked; -ENOENT, -EALREADY: io_try_cancel()).
		 */
		if (k->res[L_E_READ] == -ECANCELED)
			expect(k, "read->link timeout (race)", L_E_LT, -ETIME);
		else if (k->res[L_E_READ] != 1 || (k->res[L_E_LT] != -ECANCELED &&
			 k->res[L_E_LT] != -ETIME && k->res[L_E_LT] != -EALREADY &&
			 k->res[L_E_LT] != -ENOENT))
			tc_fail(k->tc, "bad result: read->link timeout (race) [%s]: read %d, "
				"timeout %d", k->tc->prof->name, k->res[L_E_READ], k->res[L_E_LT]);
	}
	job_sync(k, &h->done, "finish");
	unpipe(p, 4);
}

/*
 * On a ring of its own. After a drain the kernel keeps its drain state until
 * a later request finds the defer list empty (6.18, 7.3): the next requests
 * go through the defer list and task_work, so a cancel submitted after an
 * armed multishot may not find it yet (DEFER: -ENOENT, the multishot stays
 * armed), and on the host's SQPOLL a cancel once waited forever behind an
 * armed multishot. Kept apart so the other phases test their own paths.
 */
static void phase_drain(struct kinds *k)
{
	int p[4][2], fds[4];
	char buf[4];
	struct helper *h;

	k->ring = &k->rings[1];
	pipes(k, p, 4);
	k->done = 0;
	for (unsigned i = 0; i < 4; i++) {
		prep_read(k, D_R0 + i, p[i][0], 0, &buf[i], 1, 0);
		fds[i] = p[i][1];
	}
	prep(k, D_DRAIN, IOSQE_IO_DRAIN);
	prep(k, D_AFTER, 0);
	io_uring_submit(&k->ring->ring);
	h = job(k, (unsigned)rng_below(&k->rng, k->nhelpers), fds, 4,
		(unsigned)rng_below(&k->rng, 5000));
	job_sync(k, &h->go, "start");
	if (!collect(k, 6, "drain")) {
		for (unsigned i = 0; i < 4; i++) {
			expect(k, "drain", D_R0 + i, 1);
			expect_before(k, "drain", D_R0 + i, D_DRAIN);
		}
		expect(k, "drain", D_DRAIN, 0);
		expect(k, "drain", D_AFTER, 0);
		expect_before(k, "drain", D_DRAIN, D_AFTER);
	}
	job_sync(k, &h->done, "finish");
	unpipe(p, 4);
	k->ring = &k->rings[0];
}

/* The target completes (helper's write, or its timer) while the cancel runs. */
static void cancel_race(struct kinds *k, enum cancel_mode m)
{
	struct __kernel_timespec ts = { .tv_nsec = (long)rng_range(&k->rng, 1, 60) * 1000 };
	struct io_uring_sqe *sqe;
	struct helper *h = NULL;
	uint64_t target;
	int p[1][2];
	char buf;
	int32_t t, c;
	bool cancelled;

	pipes(k, p, 1);
	k->done = 0;
	if (m == BY_TIMEOUT_REMOVE)
		io_uring_prep_timeout(prep(k, C_TARGET, 0), &ts, 0, 0);
	else
		prep_read(k, C_TARGET, p[0][0], 0, &buf, 1, 0);
	io_uring_submit(&k->ring->ring);
	if (m != BY_TIMEOUT_REMOVE) {
		h = job(k, (unsigned)rng_below(&k->rng, k->nhelpers), &p[0][1], 1,
			(unsigned)rng_below(&k->rng, 3000));
		job_sync(k, &h->go, "start");
	}
	spin((unsigned)rng_below(&k->rng, 3000));
	target = ledger_ud(k->once, 0, C_TARGET, k->seq[C_TARGET] - 1);
	sqe = prep(k, C_CANCEL, 0);
	if (m == BY_TIMEOUT_REMOVE)
		io_uring_prep_timeout_remove(sqe, target, 0);
	else if (m == BY_UD)
		io_uring_prep_cancel64(sqe, target, 0);
	else if (m == BY_ANY)	/* matches every request: only the target is in flight */
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	else
		io_uring_prep_cancel_fd(sqe, p[0][0], 0);
	sqe->user_data = ledger_ud(k->once, 0, C_CANCEL, k->seq[C_CANCEL] - 1);
	if (!collect(k, 2, cancel_names[m])) {
		t = k->res[C_TARGET], c = k->res[C_CANCEL];
		cancelled = t == -ECANCELED;
		if (c == -EINVAL && m != BY_UD && !cancelled) {
			k->skipped[m] = true;	/* 5.19 added CANCEL_FD and ANY */
		} else if (t != (m == BY_TIMEOUT_REMOVE ? -ETIME : 1) && !cancelled) {
			tc_fail(k->tc, "bad result: cancel race %s [%s]: target %d, expected %s or "
				"-ECANCELED", cancel_names[m], k->tc->prof->name, t,
				m == BY_TIMEOUT_REMOVE ? "-ETIME" : "1");
		} else if (m == BY_ANY ? (cancelled ? c != 1 : c != 0 && c != 1) :
			   (cancelled ? c != 0 : c != -ENOENT && c != -EALREADY)) {
			tc_fail(k->tc, "bad result: cancel race %s [%s]: target %s (%d) but the "
				"cancel returned %d, expected %s", cancel_names[m],
				k->tc->prof->name, cancelled ? "cancelled" : "completed", t, c,
				m == BY_ANY ? (cancelled ? "1" : "0 or 1") :
				cancelled ? "0" : "-ENOENT or -EALREADY");
		}
		k->outcome[m][cancelled]++;
	}
	if (h)
		job_sync(k, &h->done, "finish");
	unpipe(p, 1);
}

static void phase_cancel(struct kinds *k)
{
	for (unsigned i = 0; i < 4 * CANCEL_MODES && !tc_failed(k->tc); i++)
		cancel_race(k, (enum cancel_mode)(i % CANCEL_MODES));
}

/* The multishot streams (test/lib/mstream.c), each fed by its own helper. */
static void record_consumed(void *arg, unsigned stream)
{
	struct kinds *k = arg;

	tw_credit_give(&k->h[stream].credit, 1);
}

static void phase_multishot(struct kinds *k)
{
	struct mstreams *m = &k->ms;

	ledger_reset(k->records);
	k->done = 0;
	mstreams_start(m, RECORDS);
	for (unsigned s = 0; s < m->n; s++) {
		struct helper *h = &k->h[s];

		h->fd[0] = m->s[s].wfd;
		h->records = RECORDS;
		h->stream = s;
		tw_credit_init(&h->credit, STREAM_CREDIT);
	}
	io_uring_submit(&k->ring->ring);
	for (unsigned s = 0; s < m->n; s++)
		job_sync(k, &k->h[s].go, "start");
	if (collect(k, 0, "multishot records"))
		return;
	for (unsigned s = 0; s < m->n; s++)
		io_uring_prep_cancel64(prep(k, M_CANCEL, 0), mstreams_ud(s), 0);
	mstreams_stop(m);
	if (collect(k, m->n, "multishot cancels"))
		return;
	for (unsigned s = 0; s < m->n; s++)
		job_sync(k, &k->h[s].done, "finish");
	mstreams_end(m);
	ledger_verify(k->records);
}

static void phase_async(struct kinds *k)
{
	int p[NASYNC][2], fds[NASYNC];
	unsigned npipe = 0;
	char buf[NASYNC];
	struct helper *h;

	pipes(k, p, NASYNC);
	k->done = 0;
	for (unsigned i = 0; i < NASYNC; i++) {
		switch (rng_below(&k->rng, 3)) {
		case 0:
			prep(k, A_NOP, IOSQE_ASYNC);
			break;
		case 1:	/* memfd page i holds bytes of value i; slot = seq % NASYNC */
			prep_read(k, A_MEMFD, k->memfd, IOSQE_ASYNC,
				  &k->areads[k->seq[A_MEMFD] % NASYNC], 8,
				  (k->seq[A_MEMFD] % NASYNC) * 4096);
			break;
		default:	/* io-wq finds the pipe empty, arms poll: the write's wake-up */
			prep_read(k, A_PIPE, p[npipe][0], IOSQE_ASYNC, &buf[npipe], 1, 0);
			fds[npipe] = p[npipe][1];
			npipe++;
		}
	}
	io_uring_submit(&k->ring->ring);
	h = job(k, (unsigned)rng_below(&k->rng, k->nhelpers), fds, npipe, 0);
	job_sync(k, &h->go, "start");
	collect(k, NASYNC, "IOSQE_ASYNC requests");
	job_sync(k, &h->done, "finish");
	unpipe(p, NASYNC);
}

static void phase_timeouts(struct kinds *k)
{
	struct __kernel_timespec ts[NTIMERS];

	k->done = 0;
	for (unsigned i = 0; i < NTIMERS; i++) {
		int64_t ns = (int64_t)rng_range(&k->rng, 20, 1500) * NSEC_PER_USEC;

		ts[i] = (struct __kernel_timespec){ .tv_nsec = ns };
		/* Due no earlier than now + ns: the hrtimer never fires early. */
		k->timer_due[k->seq[T_TIMER] % NTIMERS] = now_ns() + ns;
		io_uring_prep_timeout(prep(k, T_TIMER, 0), &ts[i], 0, 0);
	}
	collect(k, NTIMERS, "timeouts");
}

static enum verdict run(struct tcase *tc)
{
	static void (*const phases[])(struct kinds *) = {
		phase_links, phase_drain, phase_cancel, phase_multishot, phase_async,
		phase_timeouts,
	};
	const unsigned nph = sizeof(phases) / sizeof(phases[0]);
	struct tring_opts o = { .cq_entries = 256, .attach_wq_fd = -1 };
	struct kinds *k = calloc(1, sizeof(*k));
	struct deadline end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	unsigned rounds = 0;
	enum verdict v;

	if (!k)
		return tc_fail(tc, "out of memory");
	k->tc = tc;
	if ((v = tring_init(tc, &k->rings[0], "kinds", tc->prof, &o)) != V_PASS ||
	    (v = tring_init(tc, &k->rings[1], "drain", tc->prof, &o)) != V_PASS)
		return v;
	k->ring = &k->rings[0];
	k->once = ledger_new(tc, "requests", 1, ROLES, 1u << 20, 0);
	k->records = ledger_new(tc, "multishot records", MSTREAMS, 1, 1u << 20, LEDGER_FIFO);
	k->memfd = memfd_create("request_kinds", MFD_CLOEXEC);
	if (!k->once || !k->records || k->memfd < 0 || ftruncate(k->memfd, NASYNC * 4096))
		return tc_fail(tc, "set-up: ledgers or memfd: %m");
	for (unsigned i = 0; i < NASYNC; i++) {
		uint64_t v64 = i * 0x0101010101010101ull;

		if (pwrite(k->memfd, &v64, 8, i * 4096) != 8)
			return tc_fail(tc, "memfd write: %m");
	}
	ledger_set_check(k->once, check_once, k);
	rng_seed(&k->rng, tc->seed, 0);
	k->ms = (struct mstreams){ .tc = tc, .ring = k->ring, .records = k->records,
				   .consumed = record_consumed, .arg = k };
	if (mstreams_setup(&k->ms) != V_PASS)
		return tc_verdict(tc);
	k->nhelpers = tc->threads < MAX_HELPERS ? tc->threads : MAX_HELPERS;
	for (unsigned i = 0; i < k->nhelpers; i++) {
		k->h[i].k = k;
		tw_barrier_init(&k->h[i].go, 2);
		tw_barrier_init(&k->h[i].done, 2);
		if (tw_thread_start(tc, &k->h[i].t, "helper", i, helper_main, &k->h[i]))
			return tc_fail(tc, "pthread_create failed");
	}
	do {
		unsigned first = (unsigned)rng_below(&k->rng, nph);

		for (unsigned i = 0; i < nph && !tc_failed(tc); i++)
			phases[(first + i) % nph](k);
		rounds++;
	} while (!tc_failed(tc) && !deadline_passed(&end));
	if (tc_failed(tc))
		return tc_verdict(tc);	/* helpers may be stuck: leave them to exit() */
	for (unsigned i = 0; i < k->nhelpers; i++) {
		k->h[i].quit = true;
		job_sync(k, &k->h[i].go, "quit");
	}
	for (unsigned i = 0; i < k->nhelpers; i++) {
		struct deadline dl = tc_deadline(tc);

		if (tw_thread_join(&k->h[i].t, &dl))
			tc_hang(tc, NULL, NULL, "helper %u did not exit", i);
	}
	for (unsigned m = 0; m < CANCEL_MODES; m++) {
		if (k->skipped[m])
			tc_info(tc, "cancel %s: sub-check skipped: the kernel refuses it (EINVAL)",
				cancel_names[m]);
		tc_log(tc, "cancel %s: %u completed first, %u cancelled", cancel_names[m],
		       k->outcome[m][0], k->outcome[m][1]);
	}
	tc_log(tc, "%u rounds, %llu requests, %llu multishot records in the last%s", rounds,
	       (unsigned long long)ledger_total_seen(k->once),
	       (unsigned long long)ledger_total_seen(k->records),
	       k->ms.n == MSTREAMS ? "" : " (no multishot recv on this kernel)");
	ledger_verify(k->once);
	ledger_verify(k->records);
	mstreams_teardown(&k->ms);
	tring_exit_proven(tc, k->rings, 2, PROBE_UD);
	return tc_verdict(tc);
}

static const struct scenario request_kinds = {
	.name = "request_kinds",
	.summary = "links, link timeouts, drain, cancels racing completion, multishot poll/recv, "
		   "io-wq and hrtimer completions: each CQE once, with its expected res and order",
	.profiles = PROFILES_ALL,
	.run = run,
	.min_threads = MAX_HELPERS,	/* one helper per multishot stream */
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &request_kinds);
}
