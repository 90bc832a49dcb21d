// SPDX-License-Identifier: MIT
/*
 * request_kinds' cancel phase: ASYNC_CANCEL by user_data, by fd, ANY, and
 * TIMEOUT_REMOVE, each racing a helper's write (or the timer) that completes
 * the target: exactly one of {completed, -ECANCELED}, and the cancel's res
 * agrees (0 / -ENOENT / -EALREADY; ANY: the count).
 */
#include "kinds.h"

#define RACES_PER_MODE	4

static const char *const cancel_names[CANCEL_MODES] = {
	[BY_UD] = "by user_data", [BY_FD] = "by fd", [BY_ANY] = "ANY",
	[BY_TIMEOUT_REMOVE] = "TIMEOUT_REMOVE",
};
/* What a mode needs beyond ASYNC_CANCEL by user_data; its name as a part. */
static const enum need_id cancel_needs[CANCEL_MODES] = {
	[BY_UD] = NEED_IO_URING, [BY_FD] = NEED_CANCEL_FD_ANY, [BY_ANY] = NEED_CANCEL_FD_ANY,
	[BY_TIMEOUT_REMOVE] = NEED_TIMEOUT_REMOVE,
};
static const char *const cancel_parts[CANCEL_MODES] = {
	[BY_UD] = "cancel by user_data", [BY_FD] = "cancel by fd", [BY_ANY] = "cancel ANY",
	[BY_TIMEOUT_REMOVE] = "cancel by TIMEOUT_REMOVE",
};

static void check_race(struct kinds *k, enum cancel_mode m)
{
	int32_t t = k->res[ROLE_CANCEL_TARGET], c = k->res[ROLE_CANCEL];
	bool cancelled = t == -ECANCELED;

	if (c == -EINVAL && m != BY_UD && !cancelled) {
		/* A skipped part only on a kernel before the mode's (5.5, 5.19). */
		if (!k->skipped[m])
			tc_refused_part(k->tc, cancel_needs[m], c, cancel_parts[m]);
		k->skipped[m] = true;
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

/* The target completes (helper's write, or its timer) while the cancel runs. */
static void cancel_race(struct kinds *k, enum cancel_mode m)
{
	struct __kernel_timespec ts = { .tv_nsec = (long)rng_range(&k->rng, 1, 60) * 1000 };
	struct kinds_helper *h = NULL;
	struct io_uring_sqe *sqe;
	uint64_t target;
	int fd = -1;

	kinds_begin(k, &k->rings[0]);
	if (m == BY_TIMEOUT_REMOVE) {
		io_uring_prep_timeout(kinds_prep(k, ROLE_CANCEL_TARGET, 0), &ts, 0, 0);
		io_uring_submit(&k->ring->ring);	/* its timer completes it */
	} else {
		fd = kinds_prep_fed_read(k, ROLE_CANCEL_TARGET, 0);
		h = kinds_feed(k, 3000);
	}
	kinds_spin((unsigned)rng_below(&k->rng, 3000));
	target = kinds_last_ud(k, ROLE_CANCEL_TARGET);
	sqe = kinds_prep(k, ROLE_CANCEL, 0);
	if (m == BY_TIMEOUT_REMOVE)
		io_uring_prep_timeout_remove(sqe, target, 0);
	else if (m == BY_UD)
		io_uring_prep_cancel64(sqe, target, 0);
	else if (m == BY_ANY)	/* matches every request: only the target is in flight */
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	else
		io_uring_prep_cancel_fd(sqe, fd, 0);
	sqe->user_data = kinds_last_ud(k, ROLE_CANCEL);
	if (!kinds_collect(k, cancel_names[m]))
		check_race(k, m);
	kinds_finish(k, h);
}

void kinds_cancel(struct kinds *k)
{
	for (unsigned i = 0; i < RACES_PER_MODE * CANCEL_MODES && !tc_failed(k->tc); i++)
		cancel_race(k, (enum cancel_mode)(i % CANCEL_MODES));
}

void kinds_cancel_log(struct kinds *k)
{
	for (unsigned m = 0; m < CANCEL_MODES; m++)
		tc_log(k->tc, "cancel %s: %u completed first, %u cancelled", cancel_names[m],
		       k->outcome[m][0], k->outcome[m][1]);
}
