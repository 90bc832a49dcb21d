// SPDX-License-Identifier: MIT
/*
 * IORING_OP_MSG_RING aimed at a ring created IORING_SETUP_R_DISABLED. A
 * DEFER_TASKRUN ring has no submitter task before it is enabled, and the
 * message is local task_work for that task: kernels without the check
 * queued it anyway (task_work_add() on a NULL task: an oops in the sender,
 * or work stranded on a ring nobody may run it for). Fixed kernels fail the
 * message with -EBADFD.
 * Checks: a message to the disabled ring fails with -EBADFD and never shows
 * up; once the ring is enabled, a message arrives exactly once, with the
 * user_data and payload sent (and the sender's CQE is the message's).
 */
#include <errno.h>
#include <string.h>

#include "harness.h"

#ifndef IORING_SETUP_R_DISABLED
#define IORING_SETUP_R_DISABLED	(1U << 6)
#endif

#define UD_EARLY	0x1111
#define UD_LATE		0x2222
#define LEN_EARLY	11		/* the payloads: the res at the target */
#define LEN_LATE	22

/* Send one message and return the sender's CQE res (or a failure). */
static int send_msg(struct tcase *tc, struct tring *src, struct tring *dst, uint64_t ud,
		    unsigned len, int *res)
{
	struct io_uring_sqe *sqe = tring_sqe(src);
	struct io_uring_cqe *cqe;
	struct deadline dl;

	io_uring_prep_msg_ring(sqe, tring_fd(dst), len, ud, 0);
	io_uring_sqe_set_data64(sqe, ud);
	dl = tc_deadline(tc);
	if (tring_submit_await(tc, src, 1, 1, &dl, "the sender's CQE of MSG_RING 0x%llx",
			       (unsigned long long)ud) != V_PASS)
		return -1;
	io_uring_peek_cqe(&src->ring, &cqe);
	*res = cqe->res;
	if (cqe->user_data != ud)
		tc_fail(tc, "the sender's CQE of MSG_RING 0x%llx has user_data 0x%llx",
			(unsigned long long)ud, (unsigned long long)cqe->user_data);
	io_uring_cqe_seen(&src->ring, cqe);
	return 0;
}

static enum verdict run(struct tcase *tc)
{
	const struct tring_opts o = { .extra_flags = IORING_SETUP_R_DISABLED, .attach_wq_fd = -1 };
	struct io_uring_cqe *cqe;
	struct tring src, dst;
	unsigned seen_late = 0;
	struct deadline dl;
	enum verdict v;
	int res, ret;

	v = tring_init(tc, &dst, "target", tc->prof, &o);
	if (v != V_PASS)
		return v;
	v = tring_init(tc, &src, "sender", &profiles[P_DEFAULT], NULL);
	if (v != V_PASS)
		goto out_dst;
	if (send_msg(tc, &src, &dst, UD_EARLY, LEN_EARLY, &res))
		goto out;
	if (res != -EBADFD)
		tc_fail(tc, "MSG_RING to a disabled ring: res %d (%s), expected -EBADFD", res,
			res < 0 ? strerror(-res) : "queued");
	ret = tring_enable(&dst);
	if (ret) {
		tc_fail(tc, "IORING_REGISTER_ENABLE_RINGS: %s", strerror(-ret));
		goto out;
	}
	/* Seeded: the late message's payload is not the one checked for. */
	if (send_msg(tc, &src, &dst, UD_LATE, LEN_LATE + harness_seeded("wrong-msg"), &res))
		goto out;
	if (res != 0) {
		tc_fail(tc, "MSG_RING to the enabled ring: %s, expected 0", strerror(-res));
		goto out;
	}
	/* The late one arrives (the sender's CQE says it is queued); the
	 * early one must not, it failed. Entering again runs what is left. */
	dl = tc_deadline(tc);
	if (tring_await(tc, &dst, 1, &dl, "the message sent after "
			"IORING_REGISTER_ENABLE_RINGS") != V_PASS)
		goto out;
	tring_get_events(&dst);
	while (io_uring_peek_cqe(&dst.ring, &cqe) == 0) {
		if (cqe->user_data == UD_LATE && (cqe->res != LEN_LATE || cqe->flags))
			tc_fail(tc, "the message sent after enabling arrived with res %d flags 0x%x, "
				"want the payload sent (%d) and no flags", cqe->res, cqe->flags,
				LEN_LATE);
		if (cqe->user_data == UD_LATE)
			seen_late++;
		else if (cqe->user_data == UD_EARLY)
			tc_fail(tc, "the message sent while the ring was disabled arrived (res %d)",
				cqe->res);
		else
			tc_fail(tc, "unknown CQE: user_data 0x%llx res %d",
				(unsigned long long)cqe->user_data, cqe->res);
		io_uring_cqe_seen(&dst.ring, cqe);
	}
	if (seen_late != 1)
		tc_fail(tc, "the message sent after enabling arrived %u times, expected once",
			seen_late);
out:
	tring_exit(&src);
out_dst:
	tring_exit(&dst);
	return tc_verdict(tc);
}

static const struct scenario regress_msg_disabled = {
	.name = "regress_msg_disabled",
	.summary = "MSG_RING to a ring that is still R_DISABLED fails with -EBADFD; after "
		   "enabling, a message arrives once",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(MSG_RING),
	.fix_commit = "8579538c89e3",
	.fix_subject = "io_uring/msg_ring: fix remote queue to disabled ring",
	.seeded_faults = "  wrong-msg  the message sent after enabling carries payload 23, not 22\n",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_msg_disabled);
}
