// SPDX-License-Identifier: MIT
/* request_kinds' machinery: helpers, queueing by role, collecting (see kinds.h). */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kinds.h"

#define PER_STREAM	(1u << 20)	/* requests of a role, records of a stream, per run */
#define PROBE_UD	0x0dull

static const char *const role_names[ROLES] = {
	[ROLE_CHAIN_HEAD] = "nop (chain head)",
	[ROLE_CHAIN_READ] = "read (chain middle)",
	[ROLE_CHAIN_TAIL] = "nop (chain tail)",
	[ROLE_PROMPT_READ] = "read",
	[ROLE_PROMPT_READ_TIMEOUT] = "link timeout",
	[ROLE_IDLE_READ] = "idle read",
	[ROLE_IDLE_READ_TIMEOUT] = "link timeout",
	[ROLE_BAD_READ] = "read of a write end",
	[ROLE_BAD_READ_NOP] = "linked nop",
	[ROLE_RACING_READ] = "read",
	[ROLE_RACING_READ_TIMEOUT] = "link timeout",
	[ROLE_DRAIN_NOP] = "IOSQE_IO_DRAIN nop",
	[ROLE_NOP_AFTER_DRAIN] = "nop submitted after the drain",
};

/* "read 0", "read 1", ... for the drained reads; the table for the rest. */
static const char *role_name(enum kinds_role role, char *buf, size_t len)
{
	if (role < ROLE_DRAINED_READ || role >= ROLE_DRAINED_READ + KINDS_DRAINED_READS)
		return role_names[role];
	snprintf(buf, len, "read %u", (unsigned)(role - ROLE_DRAINED_READ));
	return buf;
}

void kinds_spin(unsigned n)
{
	for (volatile unsigned i = 0; i < n; i++)
		;
}

/* ---- helpers ------------------------------------------------------------ */

static void *helper_main(struct tw_thread *t)
{
	struct kinds_helper *h = t->arg;
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
			kinds_spin(h->spin);
			if (write(fd, "x", 1) != 1)
				tc_fail(h->k->tc, "helper %u: write fd %d: %m", t->idx, fd);
		}
		/* The owner's own waits report a hang first, naming what they await. */
		dl = deadline_in(3 * h->k->tc->hang_ns);
		if (tw_barrier_wait(&h->done, &dl))
			return tc_hang(h->k->tc, NULL, NULL, "helper %u: owner gone", t->idx), NULL;
	}
}

void kinds_sync(struct kinds *k, struct tw_barrier *b, const char *what)
{
	struct deadline dl = tc_deadline(k->tc);

	if (tw_barrier_wait(b, &dl))
		tc_hang(k->tc, NULL, k->ring, "a helper did not %s its job", what);
}

struct kinds_helper *kinds_feed(struct kinds *k, unsigned spin_max)
{
	struct kinds_helper *h;
	unsigned spin;

	io_uring_submit(&k->ring->ring);
	/* The spin is drawn before the helper: the order seeds have always replayed. */
	spin = (unsigned)rng_below(&k->rng, spin_max);
	h = &k->h[(unsigned)rng_below(&k->rng, k->nhelpers) % k->nhelpers];
	memcpy(h->fd, k->fed, k->nfed * sizeof(int));
	h->nfd = k->nfed;
	h->spin = spin;
	h->records = 0;
	kinds_sync(k, &h->go, "start");
	return h;
}

void kinds_feed_stream(struct kinds *k, unsigned s, int wfd, uint32_t records, int32_t credit)
{
	struct kinds_helper *h = &k->h[s];

	h->fd[0] = wfd;
	h->records = records;
	h->stream = s;
	tw_credit_init(&h->credit, credit);
}

/* ---- queueing by role ---------------------------------------------------- */

void kinds_begin(struct kinds *k, struct tring *r)
{
	k->ring = r;
	k->queued = k->done = 0;
	k->npipes = k->nfed = 0;
}

struct io_uring_sqe *kinds_prep(struct kinds *k, enum kinds_role role, unsigned flags)
{
	struct io_uring_sqe *sqe = tring_sqe(k->ring);

	io_uring_prep_nop(sqe);
	sqe->flags = flags;
	io_uring_sqe_set_data64(sqe, ledger_ud(k->once, 0, role, k->seq[role]));
	ledger_sent(k->once, 0, role, 1);
	k->seq[role]++;
	k->res[role] = INT32_MIN;
	k->queued++;
	return sqe;
}

uint64_t kinds_last_ud(const struct kinds *k, enum kinds_role role)
{
	return ledger_ud(k->once, 0, role, k->seq[role] - 1);
}

/* liburing's prep helpers clear sqe->flags: set them afterwards. */
void kinds_prep_read(struct kinds *k, enum kinds_role role, int fd, unsigned flags, void *buf,
		     unsigned len, uint64_t off)
{
	struct io_uring_sqe *sqe = kinds_prep(k, role, 0);

	io_uring_prep_read(sqe, fd, buf, len, off);
	sqe->flags = flags;
}

void kinds_prep_link_timeout(struct kinds *k, enum kinds_role role, struct __kernel_timespec *ts)
{
	io_uring_prep_link_timeout(kinds_prep(k, role, 0), ts, 0);
}

/* A new pipe of this phase (kinds_finish() closes it); -1s if none. */
static int *open_pipe(struct kinds *k, char **sink)
{
	static int none[2] = { -1, -1 };
	int *p = k->pipes[k->npipes];

	*sink = &k->sink[k->npipes];
	if (k->npipes == KINDS_PIPES_MAX) {
		*sink = &k->sink[0];
		tc_fail(k->tc, "a phase opened more than %u pipes", KINDS_PIPES_MAX);
		return none;
	}
	if (pipe2(p, O_CLOEXEC)) {
		tc_fail(k->tc, "pipe2: %m");
		return none;
	}
	k->npipes++;
	return p;
}

int kinds_prep_fed_read(struct kinds *k, enum kinds_role role, unsigned flags)
{
	char *sink;
	int *p = open_pipe(k, &sink);

	kinds_prep_read(k, role, p[0], flags, sink, 1, 0);
	if (k->nfed < KINDS_PIPES_MAX)
		k->fed[k->nfed++] = p[1];
	return p[0];
}

int kinds_prep_idle_read(struct kinds *k, enum kinds_role role, unsigned flags)
{
	char *sink;
	int *p = open_pipe(k, &sink);

	kinds_prep_read(k, role, p[0], flags, sink, 1, 0);
	return p[1];
}

void kinds_finish(struct kinds *k, struct kinds_helper *h)
{
	if (h)
		kinds_sync(k, &h->done, "finish");
	for (unsigned i = 0; i < k->npipes; i++) {
		close(k->pipes[i][0]);
		close(k->pipes[i][1]);
	}
	k->npipes = k->nfed = 0;
	k->ring = &k->rings[0];
}

void kinds_expect(struct kinds *k, const char *phase, enum kinds_role role, int32_t want)
{
	char name[16];

	if (k->res[role] != want)
		tc_fail(k->tc, "bad result: %s [%s]: %s: expected %d (%s), seen %d (%s)",
			phase, k->tc->prof->name, role_name(role, name, sizeof(name)), want,
			want < 0 ? strerror(-want) : "ok", k->res[role],
			k->res[role] < 0 ? strerror(-k->res[role]) : "ok");
}

void kinds_expect_before(struct kinds *k, const char *phase, enum kinds_role a,
			 enum kinds_role b)
{
	char name_a[16], name_b[16];

	if (k->at[a] >= k->at[b])
		tc_fail(k->tc, "order: %s [%s]: %s completed after %s", phase, k->tc->prof->name,
			role_name(a, name_a, sizeof(name_a)), role_name(b, name_b, sizeof(name_b)));
}

/* ---- collecting ---------------------------------------------------------- */

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
	case ROLE_ASYNC_NOP:
		return res == 0 ? NULL : "IOSQE_ASYNC nop: expected 0";
	case ROLE_ASYNC_PIPE_READ:
		return res == 1 ? NULL : "IOSQE_ASYNC pipe read: expected 1 byte";
	case ROLE_ASYNC_MEMFD_READ:
		if (res != 8)
			return "IOSQE_ASYNC memfd read: expected 8 bytes";
		return k->areads[seq % KINDS_ASYNC] == seq % KINDS_ASYNC * 0x0101010101010101ull ?
		       NULL : "IOSQE_ASYNC memfd read: wrong data";
	case ROLE_MULTISHOT_CANCEL:
		return res == 0 ? NULL : "ASYNC_CANCEL of an idle multishot request: expected 0";
	case ROLE_TIMEOUT:
		if (res != -ETIME)
			return "timeout: expected -ETIME";
		return now_ns() >= k->timer_due[seq % KINDS_TIMERS] ? NULL :
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

int kinds_collect(struct kinds *k, const char *what)
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
		if (k->done >= k->queued && mstreams_settled(&k->ms))
			return 0;
		if (deadline_passed(&dl)) {
			tc_hang(k->tc, k->once, k->ring, "%s [%s]: %u of %u CQEs", what,
				k->tc->prof->name, k->done, k->queued);
			return -1;
		}
		tring_wait(k->ring, 1, 10 * NSEC_PER_MSEC, 0, NULL);
	}
	return -1;
}

/* ---- set-up and teardown ------------------------------------------------- */

/* The multishot streams (test/lib/mstream.c), each fed by its own helper. */
static void record_consumed(void *arg, unsigned stream)
{
	struct kinds *k = arg;

	tw_credit_give(&k->h[stream].credit, 1);
}

enum verdict kinds_setup(struct kinds *k, struct tcase *tc)
{
	struct tring_opts o = { .cq_entries = 256, .attach_wq_fd = -1 };
	enum verdict v;

	k->tc = tc;
	if ((v = tring_init(tc, &k->rings[0], "kinds", tc->prof, &o)) != V_PASS ||
	    (v = tring_init(tc, &k->rings[1], "drain", tc->prof, &o)) != V_PASS)
		return v;
	k->ring = &k->rings[0];
	k->once = ledger_new(tc, "requests", 1, ROLES, PER_STREAM, 0);
	k->records = ledger_new(tc, "multishot records", MSTREAMS, 1, PER_STREAM, LEDGER_FIFO);
	k->memfd = memfd_create("request_kinds", MFD_CLOEXEC);
	if (!k->once || !k->records || k->memfd < 0 || ftruncate(k->memfd, KINDS_ASYNC * 4096))
		return tc_fail(tc, "set-up: ledgers or memfd: %m");
	/* memfd page i holds bytes of value i (see kinds_async). */
	for (unsigned i = 0; i < KINDS_ASYNC; i++) {
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
	k->nhelpers = tc->threads < KINDS_HELPERS ? tc->threads : KINDS_HELPERS;
	for (unsigned i = 0; i < k->nhelpers; i++) {
		k->h[i].k = k;
		tw_barrier_init(&k->h[i].go, 2);
		tw_barrier_init(&k->h[i].done, 2);
		if (tw_thread_start(tc, &k->h[i].t, "helper", i, helper_main, &k->h[i]))
			return tc_fail(tc, "pthread_create failed");
	}
	return V_PASS;
}

void kinds_stop_helpers(struct kinds *k)
{
	for (unsigned i = 0; i < k->nhelpers; i++) {
		k->h[i].quit = true;
		kinds_sync(k, &k->h[i].go, "quit");
	}
	for (unsigned i = 0; i < k->nhelpers; i++) {
		struct deadline dl = tc_deadline(k->tc);

		if (tw_thread_join(&k->h[i].t, &dl))
			tc_hang(k->tc, NULL, NULL, "helper %u did not exit", i);
	}
}

void kinds_teardown(struct kinds *k)
{
	ledger_verify(k->once);
	ledger_verify(k->records);
	mstreams_teardown(&k->ms);
	tring_exit_proven(k->tc, k->rings, 2, PROBE_UD);
}
