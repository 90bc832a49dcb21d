// SPDX-License-Identifier: MIT
/*
 * An IORING_OP_LINK_TIMEOUT that expires cancels the request it is linked
 * to (io_req_task_link_timeout() -> io_try_cancel()) and completes with
 * -ETIME, the request with -ECANCELED. io_try_cancel() answers 0 for most
 * kinds of request, but for a futex wait (and a waitid) it passes on the
 * number of requests io_cancel_remove() cancelled: 1. Before 7.3 the link
 * timeout took that 1 as its result ("ret ?: -ETIME"), so a FUTEX_WAIT
 * whose linked timeout expired gave a timeout CQE of res 1, which reads as
 * neither a timeout nor an error. 7.3 maps a count to 0.
 * Checks: a FUTEX_WAIT that nobody wakes, with a LINK_TIMEOUT of WAIT_NS:
 * the wait completes with -ECANCELED and the link timeout with -ETIME, one
 * CQE each.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "lib/reap_ud.h"

#define OP_FUTEX_WAIT	51		/* IORING_OP_FUTEX_WAIT (6.7) */
#define FUTEX2_U32	0x02		/* FUTEX2_SIZE_U32 */
#define FUTEX2_PRIV	0x80		/* FUTEX2_PRIVATE */
#define MATCH_ANY	0xffffffffull	/* FUTEX_BITSET_MATCH_ANY */
#define UD_WAIT		0xf7
#define UD_LTIMEOUT	0x17
#define WAIT_NS		(20 * NSEC_PER_MSEC)

static uint32_t futex_word;		/* 0, and nobody changes it */

static enum verdict run(struct tcase *tc)
{
	struct __kernel_timespec ts = { .tv_nsec = WAIT_NS };
	static const uint64_t uds[2] = { UD_WAIT, UD_LTIMEOUT };
	struct io_uring_sqe *sqe;
	struct deadline dl;
	int res[2];
	struct tring r;
	enum verdict v;

	v = tring_init(tc, &r, "ring", tc->prof, NULL);
	if (v != V_PASS)
		return v;
	/* io_uring_prep_futex_wait() of newer liburings, by hand */
	sqe = tring_sqe(&r);
	io_uring_prep_rw(OP_FUTEX_WAIT, sqe, FUTEX2_U32 | FUTEX2_PRIV, &futex_word, 0, 0);
	sqe->addr2 = 0;			/* the value expected: it is there, so wait */
	sqe->addr3 = MATCH_ANY;
	sqe->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, UD_WAIT);
	sqe = tring_sqe(&r);
	io_uring_prep_link_timeout(sqe, &ts, 0);
	io_uring_sqe_set_data64(sqe, UD_LTIMEOUT);
	dl = tc_deadline(tc);
	if (tring_submit_await(tc, &r, 2, 2, &dl, "a FUTEX_WAIT with a LINK_TIMEOUT of %.3f s",
			       ns_to_s(WAIT_NS)) != V_PASS)
		goto out;
	reap_ud_init(res, 2);
	if (!reap_ud(tc, &r, uds, res, 2))
		goto out;
	if (res[0] == -EINVAL && res[1] == -ECANCELED)
		tc_refused(tc, NEED_FUTEX, res[0], "FUTEX_WAIT (u32, private)");
	else if (res[0] != -ECANCELED || res[1] != -ETIME)
		tc_fail(tc, "expired LINK_TIMEOUT of a FUTEX_WAIT: the timeout's res %d, the "
			"wait's %d; expected -ETIME and -ECANCELED", res[1], res[0]);
out:
	tring_exit(&r);
	return tc_verdict(tc);
}

static const struct scenario regress_ltimeout_futex = {
	.name = "regress_ltimeout_futex",
	.summary = "a LINK_TIMEOUT that cancels a FUTEX_WAIT completes with -ETIME",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(FUTEX),
	.fix_commit = "-",
	.fix_subject = "io_uring/timeout: a link timeout that cancelled a futex wait ends with "
		       "-ETIME, not the count (Linux 7.3)",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_ltimeout_futex);
}
