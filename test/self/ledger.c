// SPDX-License-Identifier: MIT
/*
 * Self-test of the CQE ledger: each violation it exists to catch - a lost
 * CQE, a duplicate, a FIFO reordering, a CQE it never issued (unknown, or a
 * seq at or beyond what was sent), a CQE of an earlier round, a CQE for a
 * withdrawn request, a bad result - must fail the case with a message naming
 * producer, channel and sequence; clean runs, withdrawn requests without a
 * CQE and a reordering where no order was promised must not.
 *
 * Every check runs in a forked child with a fresh case context; its exit code
 * is its verdict, its stdout is matched against the message expected. CQEs
 * are fed synthetically and through a real ring (NOPs and failing reads).
 */
#include "selftest.h"

#define PRODUCERS	2
#define CHANNELS	2
#define PER_STREAM	64
#define REAL_DEADLINE	(5 * NSEC_PER_SEC)

static struct ledger *new_ledger(struct tcase **tc, unsigned flags)
{
	*tc = tc_selftest_new("selftest_ledger");
	return ledger_new(*tc, "synth", PRODUCERS, CHANNELS, PER_STREAM, flags);
}

/* End of a check: run the end-of-round verification and say what happened. */
static int finish(struct tcase *tc, struct ledger *l)
{
	unsigned before = ledger_errors(l);
	bool clean = ledger_verify(l);

	printf("# summary: errors %u, then verify %s\n", before,
	       clean ? "clean" : "complains");
	ledger_free(l);
	return tc_verdict(tc);
}

/* Feed seq first..last (inclusive) of one stream, in order. */
static void feed(struct ledger *l, unsigned p, unsigned c, uint32_t first, uint32_t last)
{
	for (uint32_t s = first; s <= last; s++)
		ledger_cqe(l, ledger_ud(l, p, c, s), 0, 0);
}

/* ---- synthetic CQEs ------------------------------------------------------ */

static int clean_run(void *arg)
{
	struct tcase *tc;
	struct ledger *l = new_ledger(&tc, LEDGER_FIFO);

	(void)arg;
	for (unsigned p = 0; p < PRODUCERS; p++)
		for (unsigned c = 0; c < CHANNELS; c++) {
			ledger_sent(l, p, c, 10);
			feed(l, p, c, 0, 9);
		}
	return finish(tc, l);
}

/*
 * A script on stream (0, 0) of a FIFO ledger ("~" first: no order promised):
 * "s3" ledger_sent 3, "c5" a CQE for seq 5, "w2" withdraw seq 2, "k1" keep
 * seq 1's user_data, "r" the next round (ledger_reset), "K" a CQE for the kept
 * user_data. An op the ledger refuses prints "# <op> refused".
 */
static int script(void *arg)
{
	const char *op = arg;
	struct tcase *tc;
	struct ledger *l = new_ledger(&tc, *op == '~' ? 0 : LEDGER_FIFO);
	uint64_t kept = 0;

	op += *op == '~';

	while (*op) {
		const char *name = op;
		char what = *op++;
		uint32_t n = (uint32_t)strtoul(op, (char **)&op, 10);
		bool ok = true;

		if (what == 's')
			ledger_sent(l, 0, 0, n);
		else if (what == 'c' || what == 'K')
			ok = ledger_cqe(l, what == 'K' ? kept : ledger_ud(l, 0, 0, n), 0, 0);
		else if (what == 'w')
			ok = ledger_withdraw(l, 0, 0, n);
		else if (what == 'k')
			kept = ledger_ud(l, 0, 0, n);
		else if (what == 'r')
			ledger_reset(l);
		if (!ok)
			printf("# %.*s refused\n", (int)(op - name), name);
		op += strspn(op, " ");
	}
	printf("# outstanding %lld\n", (long long)ledger_outstanding(l));
	return finish(tc, l);
}

static int foreign_tag(void *arg)
{
	struct tcase *tc;
	struct ledger *l = new_ledger(&tc, 0);
	struct ledger *other = ledger_new(tc, "other", PRODUCERS, CHANNELS, PER_STREAM, 0);

	(void)arg;
	/* Same (producer, channel, seq), but issued by another ledger. */
	ledger_cqe(l, ledger_ud(other, 0, 0, 0), 0, 0);
	ledger_free(other);
	return finish(tc, l);
}

static int out_of_range(void *arg)
{
	struct tcase *tc;
	struct ledger *l = new_ledger(&tc, 0);

	(void)arg;
	ledger_cqe(l, ledger_ud(l, PRODUCERS, 0, 0), 0, 0);
	ledger_cqe(l, ledger_ud(l, 0, CHANNELS, 0), 0, 0);
	ledger_cqe(l, ledger_ud(l, 0, 0, PER_STREAM), 0, 0);
	ledger_cqe(l, ledger_ud(l, 0, 0, 1u << 24), 0, 0);	/* past the seq field */
	if (!ledger_new(tc, "huge", 1, 1, LEDGER_MAX_PER_STREAM + 1, 0))
		printf("# per_stream past the limit refused\n");
	return finish(tc, l);
}

static const char *res_must_be_zero(uint64_t ud, int32_t res, uint32_t flags, void *arg)
{
	(void)ud, (void)flags, (void)arg;
	return res == 0 ? NULL : "res must be 0";
}

static int bad_result(void *arg)
{
	struct tcase *tc;
	struct ledger *l = new_ledger(&tc, LEDGER_FIFO);

	(void)arg;
	ledger_set_check(l, res_must_be_zero, NULL);
	ledger_sent(l, 0, 0, 2);
	ledger_cqe(l, ledger_ud(l, 0, 0, 0), 0, 0);
	ledger_cqe(l, ledger_ud(l, 0, 0, 1), -5, 0);
	return finish(tc, l);
}

/* A flood of violations is capped, with a note, but every one is counted. */
static int many(void *arg)
{
	struct tcase *tc;
	struct ledger *l = new_ledger(&tc, 0);

	(void)arg;
	for (int i = 0; i < 20; i++)
		ledger_cqe(l, 0x1234, 0, 0);
	return finish(tc, l);
}

/* A test that issues more than the ledger can track gets told so. */
static int over_capacity(void *arg)
{
	struct tcase *tc;
	struct ledger *l = new_ledger(&tc, LEDGER_FIFO);

	(void)arg;
	ledger_sent(l, 0, 0, PER_STREAM + 6);
	feed(l, 0, 0, 0, PER_STREAM - 1);
	ledger_sent(l, 0, 1, 1);
	feed(l, 0, 1, 0, 0);
	return finish(tc, l);
}

/* ...and one that counts into a stream the ledger does not have, too. */
static int sent_out_of_range(void *arg)
{
	struct tcase *tc;
	struct ledger *l = new_ledger(&tc, LEDGER_FIFO);

	(void)arg;
	ledger_sent(l, PRODUCERS, 0, 1);
	ledger_sent(l, 0, CHANNELS, 1);
	return finish(tc, l);
}

/* Producer in a forked process, consumer here: the ledger is shared memory. */
static int producer_child(void *arg)
{
	ledger_sent(arg, 1, 1, 4);
	return 0;
}

static int cross_process(void *arg)
{
	struct deadline dl = deadline_in(REAL_DEADLINE);
	struct tcase *tc;
	struct ledger *l = new_ledger(&tc, LEDGER_FIFO);
	struct child c;
	int status;

	(void)arg;
	if (proc_spawn(&c, producer_child, l) || proc_reap(&c, &dl, &status))
		return 99;
	feed(l, 1, 1, 0, 2);
	return finish(tc, l);
}

/* ---- CQEs from a real ring ------------------------------------------------- */

enum real_case { REAL_CLEAN, REAL_DUP, REAL_LOSS, REAL_REORDER, REAL_UNKNOWN, REAL_BADRES,
		 REAL_STALE };

static const char *res_not_negative(uint64_t ud, int32_t res, uint32_t flags, void *arg)
{
	(void)ud, (void)flags, (void)arg;
	return res >= 0 ? NULL : "request failed";
}

static void prep_nop(struct tring *r, uint64_t ud)
{
	struct io_uring_sqe *sqe = tring_sqe(r);

	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, ud);
}

static int real_ring(void *arg)
{
	enum real_case what = *(enum real_case *)arg;
	struct deadline dl = deadline_in(REAL_DEADLINE);
	struct io_uring_sqe *sqe;
	static char buf[8];
	struct tcase *tc;
	struct ledger *l = new_ledger(&tc, LEDGER_FIFO);
	struct tring r;
	unsigned n = 0;

	if (tring_init(tc, &r, "nop", &profiles[P_DEFAULT], NULL) != V_PASS)
		return 99;
	ledger_set_check(l, res_not_negative, NULL);
	ledger_sent(l, 0, 1, 3);
	if (what == REAL_CLEAN || what == REAL_DUP || what == REAL_UNKNOWN)
		for (; n < 3; n++)
			prep_nop(&r, ledger_ud(l, 0, 1, n));
	switch (what) {
	case REAL_CLEAN:
		break;
	case REAL_DUP:		/* seq 1 submitted twice: the kernel completes both */
		prep_nop(&r, ledger_ud(l, 0, 1, 1));
		n++;
		break;
	case REAL_LOSS:		/* seq 1 counted as sent, never submitted */
		prep_nop(&r, ledger_ud(l, 0, 1, 0));
		prep_nop(&r, ledger_ud(l, 0, 1, 2));
		n = 2;
		break;
	case REAL_REORDER:	/* NOPs complete inline, in submission order */
		prep_nop(&r, ledger_ud(l, 0, 1, 1));
		prep_nop(&r, ledger_ud(l, 0, 1, 0));
		prep_nop(&r, ledger_ud(l, 0, 1, 2));
		n = 3;
		break;
	case REAL_UNKNOWN:
		prep_nop(&r, 0xdeadbeef);
		n++;
		break;
	case REAL_STALE:	/* seq 2 of the last round: this round's seq 2 is lost */
		prep_nop(&r, ledger_ud(l, 0, 1, 2));
		ledger_reset(l);
		ledger_sent(l, 0, 1, 3);
		prep_nop(&r, ledger_ud(l, 0, 1, 0));
		prep_nop(&r, ledger_ud(l, 0, 1, 1));
		n = 3;
		break;
	case REAL_BADRES:	/* seq 2 reads from fd -1: res -EBADF */
		prep_nop(&r, ledger_ud(l, 0, 1, 0));
		prep_nop(&r, ledger_ud(l, 0, 1, 1));
		sqe = tring_sqe(&r);
		io_uring_prep_read(sqe, -1, buf, sizeof(buf), 0);
		io_uring_sqe_set_data64(sqe, ledger_ud(l, 0, 1, 2));
		n = 3;
		break;
	}
	if (io_uring_submit(&r.ring) != (int)n || tring_wait_ready(&r, n, &dl))
		return 99;
	printf("# reaped %u of %u\n", ledger_reap(l, &r), n);
	tring_exit(&r);
	return finish(tc, l);
}

/* ---- the table --------------------------------------------------------- */

static enum real_case real[] = { REAL_CLEAN, REAL_DUP, REAL_LOSS, REAL_REORDER, REAL_UNKNOWN,
				 REAL_BADRES, REAL_STALE };

struct check {
	const char *what;
	int (*fn)(void *);
	void *arg;
	enum verdict verdict;
	const char *out[3];		/* in the output; "!..." must not be */
};

#define FAIL_LINE	"# FAIL selftest_ledger [default]: ledger synth: "

static const struct check checks[] = {
	{ "clean run: no message, pass", clean_run, NULL, V_PASS,
	  { "errors 0, then verify clean", "!FAIL" } },
	{ "lost CQEs are listed by producer, channel and seq", script,
	  "s12 c0 c1 c2 c4 c5 c9 c10 c11", V_FAIL,
	  { FAIL_LINE "lost CQE: producer 0 channel 0: 4 of 12 requests never completed, seq 3 6-8",
	    "errors 0, then verify complains" } },
	{ "duplicate CQE", script, "s3 c0 c1 c2 c2", V_FAIL,
	  { FAIL_LINE "duplicate CQE: producer 0 channel 0 seq 2", "c2 refused",
	    "then verify clean" } },
	{ "a duplicate does not count for a lost CQE", script, "s2 c0 c0", V_FAIL,
	  { FAIL_LINE "duplicate CQE: producer 0 channel 0 seq 0",
	    FAIL_LINE "lost CQE: producer 0 channel 0: 1 of 2 requests never completed, seq 1" } },
	{ "a seq at or beyond sent (below capacity) is never issued", script, "s3 c0 c1 c2 c5",
	  V_FAIL, { FAIL_LINE "more CQEs than requests issued: producer 0 channel 0: 4 completed "
		    "and 0 withdrawn of 3 issued; seq 5 never issued", "errors 0," } },
	{ "...nor does it stand in for a lost one", script, "s3 c0 c1 c5", V_FAIL,
	  { FAIL_LINE "lost CQE: producer 0 channel 0: 1 of 3 requests never completed, seq 2",
	    FAIL_LINE "more CQEs than requests issued: producer 0 channel 0: 3 completed and 0 "
	    "withdrawn of 3 issued; seq 5 never issued" } },
	{ "more seen than sent", script, "s2 c0 c1 c2 c3", V_FAIL,
	  { FAIL_LINE "more CQEs than requests issued: producer 0 channel 0: 4 completed and 0 "
	    "withdrawn of 2 issued; seq 2-3 never issued" } },
	{ "a late CQE of the last round does not stand in for a lost one", script,
	  "s2 c0 k1 r s2 c0 K", V_FAIL,
	  { FAIL_LINE "stale CQE of an earlier round: producer 0 channel 0 seq 1 has generation 0, "
	    "this round's is 1", FAIL_LINE "lost CQE: producer 0 channel 0: 1 of 2 requests never "
	    "completed, seq 1", "K refused" } },
	{ "rounds: each verified on its own, the last one's bits cleared", script,
	  "s2 c0 c1 r s3 c0 c1 c2", V_PASS, { "errors 0, then verify clean", "!FAIL" } },
	{ "withdrawn requests need no CQE", script, "s4 w2 c0 c1 c3", V_PASS,
	  { "outstanding 0", "errors 0, then verify clean", "!FAIL" } },
	{ "a CQE for a withdrawn request", script, "s2 w1 c0 c1", V_FAIL,
	  { FAIL_LINE "CQE for a withdrawn request: producer 0 channel 0 seq 1", "c1 refused" } },
	{ "withdrawing a completed request", script, "s2 c0 c1 w1", V_FAIL,
	  { FAIL_LINE "withdrawn request had completed: producer 0 channel 0 seq 1", "w1 refused" } },
	{ "withdrawing twice, or what was never issued", script, "s2 w1 w1 c0 w3", V_FAIL,
	  { FAIL_LINE "withdrawn twice: producer 0 channel 0 seq 1", FAIL_LINE "more CQEs than "
	    "requests issued: producer 0 channel 0: 1 completed and 2 withdrawn of 2 issued; seq 3 "
	    "never issued" } },
	{ "FIFO ledger: reordered pair", script, "s2 c1 c0", V_FAIL,
	  { FAIL_LINE "order: producer 0 channel 0: seq 0 completed after seq 1",
	    "errors 1, then verify clean" } },
	{ "non-FIFO ledger: same pair, no order complaint", script, "~s2 c1 c0", V_PASS,
	  { "errors 0, then verify clean", "!FAIL" } },
	{ "CQE with another ledger's tag is unknown", foreign_tag, NULL, V_FAIL,
	  { FAIL_LINE "unknown CQE: user_data 0x", "errors 1," } },
	{ "producer, channel or seq out of range is unknown", out_of_range, NULL, V_FAIL,
	  { FAIL_LINE "unknown CQE", "errors 4,", "per_stream past the limit refused" } },
	{ "check callback rejects a result", bad_result, NULL, V_FAIL,
	  { FAIL_LINE "bad result: producer 0 channel 0 seq 1: res must be 0 (res -5, flags 0x0)",
	    "errors 1, then verify clean" } },
	{ "violations beyond 12 are counted, not printed", many, NULL, V_FAIL,
	  { "ledger synth: further violations not shown", "errors 20," } },
	{ "more issued than the ledger tracks per stream", over_capacity, NULL, V_FAIL,
	  { FAIL_LINE "producer 0 channel 0: 70 requests issued, more than the 64 per stream "
	    "this ledger tracks", "errors 0, then verify complains", "!lost CQE" } },
	{ "ledger_sent() for a stream out of range", sent_out_of_range, NULL, V_FAIL,
	  { FAIL_LINE "ledger_sent: producer 2 channel 0 out of range (2 x 2)",
	    FAIL_LINE "ledger_sent: producer 0 channel 2 out of range", "then verify clean" } },
	{ "ledger shared with a forked producer", cross_process, NULL, V_FAIL,
	  { FAIL_LINE "lost CQE: producer 1 channel 1: 1 of 4 requests never completed, seq 3" } },
	{ "real ring: NOPs complete exactly once, in order", real_ring, &real[REAL_CLEAN], V_PASS,
	  { "reaped 3 of 3", "errors 0, then verify clean", "!FAIL" } },
	{ "real ring: a NOP submitted twice is a duplicate", real_ring, &real[REAL_DUP], V_FAIL,
	  { FAIL_LINE "duplicate CQE: producer 0 channel 1 seq 1", "reaped 4 of 4" } },
	{ "real ring: a NOP never submitted is lost", real_ring, &real[REAL_LOSS], V_FAIL,
	  { FAIL_LINE "lost CQE: producer 0 channel 1: 1 of 3 requests never completed, seq 1",
	    "errors 0, then verify complains" } },
	{ "real ring: NOPs submitted out of order", real_ring, &real[REAL_REORDER], V_FAIL,
	  { FAIL_LINE "order: producer 0 channel 1: seq 0 completed after seq 1" } },
	{ "real ring: a foreign user_data is unknown", real_ring, &real[REAL_UNKNOWN], V_FAIL,
	  { FAIL_LINE "unknown CQE: user_data 0x00000000deadbeef res 0" } },
	{ "real ring: a failed read is a bad result", real_ring, &real[REAL_BADRES], V_FAIL,
	  { FAIL_LINE "bad result: producer 0 channel 1 seq 2: request failed (res -9," } },
	{ "real ring: a NOP of the last round is stale", real_ring, &real[REAL_STALE], V_FAIL,
	  { FAIL_LINE "stale CQE of an earlier round: producer 0 channel 1 seq 2 has generation 0",
	    FAIL_LINE "lost CQE: producer 0 channel 1: 1 of 3 requests never completed, seq 2" } },
};

int main(void)
{
	static struct st_run run;

	st_begin("ledger self-test: every violation fails the case, clean runs pass");
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		const struct check *c = &checks[i];
		bool good = st_capture(&run, c->fn, c->arg) == 0 &&
			    st_exit(&run) == (int)c->verdict && st_matches(&run, c->out, 3);

		if (!st_ok(good, "ledger: %s", c->what) || st_verbose())
			st_show(&run);
	}
	return st_end();
}
