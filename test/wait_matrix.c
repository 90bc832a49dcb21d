// SPDX-License-Identifier: MIT
/*
 * The wait contract, across a generated matrix: a wait for N completions
 * returns once N completions can be posted, and never before. Users rely on
 * it whatever produces the completions, so it is checked for every way work
 * reaches a ring, not only the ways a scenario thought of.
 *
 * A cell is a producer x N x a wait form x a timing (test/lib/wm.h; the
 * tables are in test/lib/wm_cells.c and doc/wait-matrix.md):
 *  - producers: MSG_RING data and fds, one-shot reads and writes on pipes
 *    and sockets, POLL_ADD (one-shot, multishot, EPOLLEXCLUSIVE), multishot
 *    recv (datagram, stream), accept and read, links, link timeouts,
 *    timeouts, futex wait/wake, waitid, IOSQE_ASYNC (io-wq) and cancels;
 *  - N: 1, 2, 3, 8, 40 (past a run of local work and of the SQ thread's);
 *  - wait forms: plain GETEVENTS, a long timeout, a short one, min_wait
 *    (EXT_ARG and a registered wait region), SQPOLL with the SQ thread
 *    asleep or polling, a second waiting thread;
 *  - timings: every event before the wait, each after the waiter is seen
 *    asleep in io_uring_enter, at seeded gaps, back to back.
 * The harness runs one case per ring profile; a case runs that profile's
 * cells, each on a fresh ring, the owner waiting and a firer thread making
 * the events happen. Every cell checks:
 *  - the wait ends within a bound (-t / 20) of the last event: a waiter
 *    still asleep then is kicked by a signal, and if its CQEs are there
 *    once the kernel ran its task_work, that is a lost wake-up - even where
 *    a timeout or min_wait would have ended the wait later;
 *  - it never returns early: not with fewer CQEs than asked for, not before
 *    its short timeout or its min_wait;
 *  - the CQEs are exactly the expected ones: each event's once, with its
 *    result, in order where the producer promises it, a multishot request
 *    ended only by its cancel, nothing else.
 * The default run (-d 0.4) runs the core cells - every producer in the
 * shape of the known lost wake-up (N = 2, plain wait, back to back), every
 * wait form with pipe reads - then cells in a seeded order until -d
 * seconds have passed; a longer -d sweeps the whole matrix, then again with
 * new seeds. -L lists the cells, -C filters them; a failing cell prints the
 * command that replays it.
 */
#include <errno.h>

#include "harness.h"
#include "lib/wm.h"

#define MAX_FAILS	12
#define MAX_SKIPS	16

struct tally {
	unsigned ran, failed, skipped, nfails, nskips;
	const struct wm_cell *fails[MAX_FAILS];	/* the first ones, for the reason */
	struct { const char *first; char why[200]; unsigned n; } skips[MAX_SKIPS];
	const struct wm_cell *other;	/* the first failure not of the known bug's shape */
	char other_why[400];
};

static void note_skip(struct tally *t, const struct wm_cell *cell, const char *why)
{
	unsigned i;

	t->skipped++;
	for (i = 0; i < t->nskips && strcmp(t->skips[i].why, why); i++)
		;
	if (i == MAX_SKIPS)
		return;
	if (i == t->nskips) {		/* a reason not seen before */
		t->nskips++;
		t->skips[i].first = cell->name;
		snprintf(t->skips[i].why, sizeof(t->skips[i].why), "%s", why);
	}
	t->skips[i].n++;
}

/* A lost wake-up of a multishot request: the known bug's shape. */
static bool known_shape(const struct wm_run *r)
{
	return r->kind == WK_LOST_WAKE && (r->cell->p->flags & WP_MULTISHOT);
}

static void note_fail(struct tcase *tc, struct tally *t, const struct wm_run *r)
{
	tc_info(tc, "cell %s: FAIL: %s", r->cell->name, r->why);
	tc_info(tc, "replay: %s -p %s -C cell=%s -s 0x%llx -d 0 -t %g", program_invocation_name,
		tc->prof->name, r->cell->name, (unsigned long long)tc->run_seed,
		ns_to_s(tc->hang_ns));
	t->failed++;
	if (t->nfails < MAX_FAILS)
		t->fails[t->nfails++] = r->cell;
	if (!known_shape(r) && !t->other) {
		t->other = r->cell;
		snprintf(t->other_why, sizeof(t->other_why), "%s", r->why);
	}
}

/*
 * One reason for the case, naming the failed cells. Only when every
 * failure is a multishot lost wake-up does it begin "lost wake-up: K of R
 * cells, all multishot", which is what test/known-issues matches; any
 * other failure leads the reason instead, so it never passes for the
 * known bug.
 */
static void verdict(struct tcase *tc, const struct tally *t)
{
	char list[300] = "";
	size_t len = 0;

	for (unsigned i = 0; i < t->nfails && len < sizeof(list); i++)
		len += snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
				t->fails[i]->name);
	if (len >= sizeof(list))
		snprintf(list + sizeof(list) - 4, 4, "...");
	if (!t->other)
		tc_fail(tc, "lost wake-up: %u of %u cells, all multishot: %s", t->failed, t->ran,
			list);
	else
		tc_fail(tc, "%s (cell %s; %u of %u cells failed: %s)", t->other_why,
			t->other->name, t->failed, t->ran, list);
}

static bool run_cell(struct wm_case *c, struct tally *t, const struct wm_cell *cell,
		     uint64_t seed)
{
	int64_t t0 = now_ns();
	const char *skip = wm_cell_run(c, cell, seed);

	tc_log(c->tc, "cell %s: %.1f ms%s%s", cell->name, (now_ns() - t0) / 1e6,
	       skip ? ", skipped: " : "", skip ? skip : "");
	if (tc_verdict(c->tc) >= V_HANG)
		return false;
	if (skip) {
		note_skip(t, cell, skip);
		return true;
	}
	t->ran++;
	if (c->run.failed)
		note_fail(c->tc, t, &c->run);
	return true;
}

/*
 * Until when the cells a case must run may run past -d: the harness's
 * watchdog for the case, less one hang deadline and its 10 s of slack.
 */
static struct deadline case_limit(const struct tcase *tc)
{
	return deadline_in((int64_t)(tc_watchdog_secs(tc) * NSEC_PER_SEC) - tc->hang_ns -
			   10 * NSEC_PER_SEC);
}

static enum verdict run(struct tcase *tc)
{
	struct wm_case *c = calloc(1, sizeof(*c));
	struct tally *t = calloc(1, sizeof(*t));
	struct deadline end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	unsigned n, must, *order, k, pass = 0;
	struct deadline limit = case_limit(tc);
	struct wm_cell *cells;
	enum verdict v;

	if (!c || !t)
		return tc_fail(tc, "out of memory");
	c->tc = tc;
	/* A profile the kernel refuses skips the whole case. */
	v = wm_ring_first(c);
	if (v != V_PASS)
		return v;
	cells = wm_cells(tc->prof->id, &n);
	order = calloc(n + 1, sizeof(*order));
	if (!cells || !order)
		return tc_fail(tc, "out of memory");
	if (!n)
		return tc_skip(tc, "no cell of profile %s matches the filter", tc->prof->name);
	must = wm_order(cells, n, tc->seed, order);
	/* The bound: a twentieth of the hang deadline (0.5 s by default). */
	c->bound_ns = tc->hang_ns / 20 > 100 * NSEC_PER_MSEC ? tc->hang_ns / 20
							     : 100 * NSEC_PER_MSEC;
	c->long_ns = tc->hang_ns / 2;
	v = wm_threads_start(c);
	if (v != V_PASS)
		return v;
	/* Pass 0: the core (or filtered) cells, then the others while -d
	 * lasts; later passes run everything again with new seeds. */
	for (k = 0; (k < must && !deadline_passed(&limit)) || !deadline_passed(&end); k++) {
		uint64_t seed;

		if (k == n) {
			k = 0;
			pass++;
		}
		seed = tc->seed ^ (pass * 0x9e3779b97f4a7c15ull);
		if (!run_cell(c, t, &cells[order[k]], seed))
			return tc_verdict(tc);
		if (pass)
			must = 0;
	}
	if (k < must)
		tc_info(tc, "%u of %u cells to run whatever -d did not: the watchdog's time is near "
			"(give a longer -d or $TW_WATCHDOG_SECONDS)", must - k, must);
	wm_threads_stop(c);
	wm_rings_exit(c);
	wm_region_free();
	for (unsigned i = 0; i < t->nskips; i++)
		tc_skip_part(tc, t->skips[i].first, "%u cells like it: %s", t->skips[i].n,
			     t->skips[i].why);
	tc_log(tc, "%u of %u cells ran (%u failed), %u skipped", t->ran, n, t->failed, t->skipped);
	if (t->failed)
		verdict(tc, t);
	else if (!t->ran && t->nskips)
		tc_skip(tc, "%s", t->skips[0].why);
	free(cells);
	free(order);
	free(t);
	free(c);
	return tc_verdict(tc);
}

static const struct scenario wait_matrix = {
	.name = "wait_matrix",
	.summary = "the wait contract across producers x N x wait forms x timings: a wait for N "
		   "ends once N CQEs are postable, never early, with exactly the expected CQEs",
	.profiles = PROFILES_ALL,
	.run = run,
	.min_threads = 1,
};

/* -p for -L: the profiles named (the harness checks the names). */
static unsigned profile_mask(const char *arg)
{
	char *copy = strdup(arg), *save = NULL;
	unsigned mask = 0;

	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (profile_by_name(tok))
			mask |= PMASK(profile_by_name(tok)->id);
	free(copy);
	return mask;
}

int main(int argc, char **argv)
{
	const char *fault = getenv("TW_WM_FAULT");
	unsigned mask = PROFILES_ALL;
	bool list = false;
	int out = 1;

	if (fault && *fault && wm_fault_parse(fault))
		return 2;
	/* The matrix's own options; the rest is the harness's. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-C") && i + 1 < argc) {
			if (wm_filter_parse(argv[++i]))
				return 2;
			continue;
		}
		if (!strcmp(argv[i], "-L")) {
			list = true;
			continue;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			printf("wait_matrix's own options:\n"
			       "  -L          list the cells (of the -p profiles) and exit\n"
			       "  -C FILTER   only these cells: key=value,... with keys producer, n,\n"
			       "              wait, timing, cell (a key twice: either value), set=core\n\n");
		if (!strcmp(argv[i], "-p") && i + 1 < argc)
			mask = profile_mask(argv[i + 1]);
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	if (list) {
		wm_list(mask);
		return 0;
	}
	return harness_main(out, argv, &wait_matrix);
}
