// SPDX-License-Identifier: MIT
/*
 * Request kinds as producers of task_work. One owner, one ring per profile,
 * and helper threads on other CPUs that make requests complete. Each round
 * runs the phases below in a seeded rotation, each alone on the ring (a
 * drain or a cancel of "any" must see only its own requests). Checks:
 *  - every request completes exactly once (the once-ledger; its channel is
 *    the request's role), every multishot record once and in write order;
 *  - each role's result, and the completion order within a link chain and
 *    around a drain (test/lib/kinds_links.c, kinds_drain.c);
 *  - a cancel racing its target's completion: exactly one of {completed,
 *    -ECANCELED}, with the cancel's res agreeing (kinds_cancel.c);
 *  - multishot CQEs: F_MORE on all but the last, nothing after it
 *    (test/lib/mstream.c);
 *  - io-wq and hrtimer completions: the expected res and data, a timeout
 *    never before it was due (kinds_async.c);
 *  - the rings' teardown finishes at the end (probe).
 * 6.1.y fails it (a request after an IOSQE_IO_DRAIN one completes before
 * it): an XFAIL through test/known-issues.
 */
#include "harness.h"
#include "lib/kinds.h"

/*
 * A phase: alone on a ring, its requests queued, completed and judged by
 * its own file in test/lib/. Its counts (requests, pipes, fds a helper
 * feeds) follow from what it queues; its messages name it in their words.
 */
struct phase {
	const char *name;
	const char *drives;		/* the kernel paths its requests complete through */
	void (*run)(struct kinds *k);
};

static const struct phase phases[] = {
	{ .name = "links", .run = kinds_links,
	  .drives = "link chains (io_queue_next), link timeouts from the hrtimer "
		    "(io_link_timeout_fn -> io_req_task_link_timeout), failed links" },
	{ .name = "drain", .run = kinds_drain,
	  .drives = "io_drain_req's defer list, flushed as earlier requests complete" },
	{ .name = "cancel", .run = kinds_cancel,
	  .drives = "ASYNC_CANCEL and TIMEOUT_REMOVE (io_try_cancel) racing a completion" },
	{ .name = "multishot", .run = kinds_multishot,
	  .drives = "multishot poll wake-ups, multishot recv from a provided buffer ring" },
	{ .name = "async", .run = kinds_async,
	  .drives = "io-wq workers (IOSQE_ASYNC), and the poll io-wq arms on an empty pipe" },
	{ .name = "timeouts", .run = kinds_timeouts,
	  .drives = "timeouts fired from hrtimer context" },
};
#define NPHASES	(sizeof(phases) / sizeof(phases[0]))

static enum verdict run(struct tcase *tc)
{
	struct kinds *k = calloc(1, sizeof(*k));
	struct deadline end = deadline_in((int64_t)(tc->duration * NSEC_PER_SEC));
	unsigned rounds = 0;
	enum verdict v;

	if (!k)
		return tc_fail(tc, "out of memory");
	if ((v = kinds_setup(k, tc)) != V_PASS)
		return v;
	do {
		unsigned first = (unsigned)rng_below(&k->rng, NPHASES);

		for (unsigned i = 0; i < NPHASES && !tc_failed(tc); i++)
			phases[(first + i) % NPHASES].run(k);
		rounds++;
	} while (!tc_failed(tc) && !deadline_passed(&end));
	if (tc_failed(tc))
		return tc_verdict(tc);	/* helpers may be stuck: leave them to exit() */
	kinds_stop_helpers(k);
	kinds_cancel_log(k);
	tc_log(tc, "%u rounds, %llu requests, %llu multishot records in the last%s", rounds,
	       (unsigned long long)ledger_total_seen(k->once),
	       (unsigned long long)ledger_total_seen(k->records),
	       k->ms.n == MSTREAMS ? "" : " (" MSTREAM_RECV_PART " skipped)");
	kinds_teardown(k);
	free(k);
	return tc_verdict(tc);
}

static const struct scenario request_kinds = {
	.name = "request_kinds",
	.summary = "links, link timeouts, drain, cancels racing completion, multishot poll/recv, "
		   "io-wq and hrtimer completions: each CQE once, with its expected res and order",
	.profiles = PROFILES_ALL,
	.run = run,
	/* Cancel modes and recv streams newer than the rest: skipped parts. */
	.part_needs = NEED(TIMEOUT_REMOVE) | NEED(CANCEL_FD_ANY) | NEED(RECV_MULTISHOT),
	.min_threads = KINDS_HELPERS,	/* one helper per multishot stream */
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &request_kinds);
}
