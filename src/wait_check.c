// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "wait_check.h"

void wait_check_init(struct wait_check *wc, struct tcase *tc, struct tring *r,
		     const struct ledger *l)
{
	memset(wc, 0, sizeof(*wc));
	wc->tc = tc;
	wc->r = r;
	wc->l = l;
	/* Long enough that reaching it with work delivered can only mean
	 * the waiter was never woken; a tenth of the hang deadline. */
	wc->slice_ns = tc->hang_ns / 10;
	if (wc->slice_ns < 200 * NSEC_PER_MSEC)
		wc->slice_ns = 200 * NSEC_PER_MSEC;
	wc->last_progress = now_ns();
}

void wait_check_progress(struct wait_check *wc)
{
	wc->last_progress = now_ns();
}

int wait_check_batch(struct wait_check *wc, unsigned want, int64_t avail, int64_t timeout_ns,
		     unsigned flags)
{
	struct tcase *tc = wc->tc;
	int64_t t0, elapsed;
	bool full_slice = timeout_ns <= 0 || timeout_ns >= wc->slice_ns;
	unsigned ready;
	int ret;

	if (now_ns() - wc->last_progress > tc->hang_ns) {
		tc_hang(tc, wc->l, wc->r, "ring %s: waiting for CQEs (%lld delivered, not reaped)",
			wc->r->name, (long long)avail);
		return -1;
	}
	t0 = now_ns();
	if (full_slice)
		timeout_ns = wc->slice_ns;
	ret = tring_wait(wc->r, want, timeout_ns, 0, NULL);
	elapsed = now_ns() - t0;
	ready = io_uring_cq_ready(&wc->r->ring);
	wc->waits++;
	if (ret < 0 && ret != -ETIME && ret != -EINTR) {
		tc_fail(tc, "ring %s: io_uring_enter(GETEVENTS, min_complete %u): %s", wc->r->name,
			want, strerror(-ret));
		return -1;
	}
	if (full_slice && elapsed >= timeout_ns && avail >= (int64_t)want) {
		unsigned before = ready;

		/* Entering again runs whatever task_work is queued: if the
		 * batch shows up now, it was there and nobody woke us. */
		tring_get_events(wc->r);
		ready = io_uring_cq_ready(&wc->r->ring);
		if (ready >= want)
			tc_fail(tc, "lost wake-up: ring %s: wait for %u CQEs slept %.2f s to its "
				"timeout although %lld completions were delivered; %u CQEs ready at "
				"the timeout, %u after entering the kernel again", wc->r->name, want,
				ns_to_s(elapsed), (long long)avail, before, ready);
		else
			tc_fail(tc, "lost CQE: ring %s: wait for %u CQEs slept %.2f s to its timeout "
				"although %lld completions were delivered; only %u CQEs posted, even "
				"after entering the kernel again (task_work lost or stuck)",
				wc->r->name, want, ns_to_s(elapsed), (long long)avail, ready);
		return -1;
	}
	if (!(flags & WAIT_EARLY_OK) && ret == 0 && ready < want && elapsed < timeout_ns / 2) {
		tc_fail(tc, "early wake-up: ring %s: wait for %u CQEs returned 0 after %.3f s "
			"with only %u ready (no timeout, signal or min_wait in play)", wc->r->name,
			want, ns_to_s(elapsed), ready);
		return -1;
	}
	if (elapsed >= timeout_ns)
		wc->slept_to_timeout++;
	return 0;
}

void wait_check_overflow(struct tcase *tc, struct tring *r)
{
	unsigned overflow = r->ring.cq.koverflow ? *r->ring.cq.koverflow : 0;

	if (overflow || (tring_sq_flags(r) & IORING_SQ_CQ_OVERFLOW))
		tc_fail(tc, "ring %s: CQ overflowed (%u dropped, sq_flags 0x%x) although the test "
			"never has more in flight than the CQ holds", r->name, overflow,
			tring_sq_flags(r));
}
