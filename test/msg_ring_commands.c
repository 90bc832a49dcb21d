// SPDX-License-Identifier: MIT
/*
 * IORING_OP_MSG_RING beyond a plain message: its other command (passing a
 * fixed file, IORING_MSG_SEND_FD), its flags (IORING_MSG_RING_CQE_SKIP,
 * IORING_MSG_RING_FLAGS_PASS), a target set up with IORING_SETUP_IOPOLL,
 * sends from io-wq (IOSQE_ASYNC), the synchronous form without a source
 * ring (IORING_REGISTER_SEND_MSG_RING) and every refusal of a bad message.
 * The target is a ring of the case's profile: on DEFER_TASKRUN targets a
 * file is installed by task_work on the target's task (io_msg_fd_remote ->
 * io_msg_tw_fd_complete) and a message is its local work
 * (io_msg_remote_post); elsewhere both happen in the sender
 * (io_msg_install_complete, io_post_aux_cqe), under the target's lock for an
 * IOPOLL target (io_lock_external_ctx). Each step is one message; after it,
 * a fence message proves what reached the target. Checks, per step:
 *  - the sender's CQE has the result expected: 0, the target slot, or the
 *    exact errno of a refusal (EINVAL, EBADF, EBADFD, ENXIO);
 *  - the target gets exactly the CQEs expected before the fence: the
 *    message with its user_data, payload and passed flags, none for a
 *    refusal or CQE_SKIP;
 *  - a passed file is installed in the slot asked for (or the one reported):
 *    a read through that fixed file on the target returns the byte written
 *    into the pipe.
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

#ifndef IORING_SETUP_IOPOLL
#define IORING_SETUP_IOPOLL		(1U << 0)
#endif
#define MSG_DATA			0	/* IORING_MSG_DATA */
#define MSG_SEND_FD			1	/* IORING_MSG_SEND_FD, 6.0 */
#define MSG_CQE_SKIP			(1U << 0)	/* IORING_MSG_RING_CQE_SKIP, 6.0 */
#define MSG_FLAGS_PASS			(1U << 1)	/* IORING_MSG_RING_FLAGS_PASS, 6.3 */
#define TW_REGISTER_SEND_MSG_RING	31		/* IORING_REGISTER_SEND_MSG_RING, 6.13 */
#define TW_FILE_INDEX_ALLOC		(~0U)		/* IORING_FILE_INDEX_ALLOC */

#define TARGET_SLOTS	4	/* the target's sparse file table */
#define SRC_SLOT	0	/* the sender's fixed file: a pipe's read end */
#define EMPTY_SLOT	1	/* a sender slot left empty */
#define UD_FENCE	0xfe11ce00ull
#define UD_READ		0x4ead0000ull
#define PASSED_FLAGS	0x5a5a0000u	/* cqe->flags a FLAGS_PASS message sets */
#define MAX_SEEN	8

/* One step: a message, what the sender's CQE says, what the target gets. */
struct step {
	const char *what;
	unsigned cmd;
	unsigned flags;			/* msg_ring_flags */
	int to;				/* TO_*: which fd the SQE names */
	unsigned len;			/* payload (DATA), 0 for SEND_FD */
	uint32_t src_slot;		/* SEND_FD: sqe->addr3 */
	uint32_t dst;			/* sqe->file_index: slot + 1, flags, ALLOC */
	bool async;			/* IOSQE_ASYNC: issued from io-wq */
	int res;			/* the sender's CQE res expected */
	bool posted;			/* a CQE at the target, with res post_res */
	int post_res;
	bool read;			/* SEND_FD: read through the slot filled */
	enum need_id part;		/* a part a kernel may predate (0: none) */
};
enum { TO_TARGET, TO_SELF, TO_PIPE };

struct state {
	struct tcase *tc;
	struct tring src;		/* the sender: default profile, a file table */
	struct tring *dst;		/* the target of the steps now run */
	int pipe[2];
	uint64_t next_ud;
};

/* Submit what is queued on r and return the res of the CQE with user_data
 * ud, the only one expected; INT32_MIN after a failure. */
static int32_t complete_one(struct state *s, struct tring *r, uint64_t ud, const char *what)
{
	struct io_uring_cqe *cqe;
	struct deadline dl = tc_deadline(s->tc);
	int32_t res;

	if (tring_submit_await(s->tc, r, 1, 1, &dl, "the %s ring's CQE (%s)", r->name,
			       what) != V_PASS)
		return INT32_MIN;
	io_uring_peek_cqe(&r->ring, &cqe);
	res = cqe->res;
	if (cqe->user_data != ud) {
		tc_fail(s->tc, "%s: CQE user_data 0x%llx on the %s ring, expected 0x%llx", what,
			(unsigned long long)cqe->user_data, r->name, (unsigned long long)ud);
		res = INT32_MIN;
	}
	io_uring_cqe_seen(&r->ring, cqe);
	return res;
}

/* Send the fence and collect the target's CQEs before it into seen[]:
 * their number, or -1 after a failure. */
static int target_collect(struct state *s, struct io_uring_cqe *seen, const char *what)
{
	struct io_uring_sqe *sqe = tring_sqe(&s->src);
	struct io_uring_cqe *cqe;
	struct deadline dl;
	int n = 0;

	io_uring_prep_msg_ring(sqe, tring_fd(s->dst), 0, UD_FENCE, 0);
	io_uring_sqe_set_data64(sqe, UD_FENCE);
	if (complete_one(s, &s->src, UD_FENCE, what) != 0) {
		tc_fail(s->tc, "%s: the fence message after it failed", what);
		return -1;
	}
	dl = tc_deadline(s->tc);
	for (;;) {
		if (tring_await(s->tc, s->dst, 1, &dl, "the fence message after %s to reach "
				"the target", what) != V_PASS)
			return -1;
		io_uring_peek_cqe(&s->dst->ring, &cqe);
		if (cqe->user_data == UD_FENCE) {
			io_uring_cqe_seen(&s->dst->ring, cqe);
			return n;
		}
		if (n < MAX_SEEN)
			seen[n++] = *cqe;
		io_uring_cqe_seen(&s->dst->ring, cqe);
	}
}

/* Write a byte into the pipe and read it through the target's fixed file
 * slot: the file passed is the pipe's read end, installed there. */
static void read_through(struct state *s, int slot, const char *what)
{
	struct io_uring_sqe *sqe = tring_sqe(s->dst);
	char in = 0, out = (char)('a' + slot);
	int32_t res;

	if (write(s->pipe[1], &out, 1) != 1) {
		tc_fail(s->tc, "%s: write into the pipe: %s", what, strerror(errno));
		return;
	}
	io_uring_prep_read(sqe, slot, &in, 1, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, UD_READ + slot);
	res = complete_one(s, s->dst, UD_READ + slot, what);
	if (res != 1 || in != out)
		tc_fail(s->tc, "%s: read through target slot %d: res %d byte '%c', expected 1 "
			"and '%c' (the file passed is not there)", what, slot, res, in ? in : '?', out);
}

static void run_step(struct state *s, const struct step *st)
{
	struct io_uring_cqe seen[MAX_SEEN];
	struct io_uring_sqe *sqe;
	uint64_t ud = ++s->next_ud;
	int fd, n;
	int32_t res;

	if (st->part && tc_part_predated(s->tc, st->part, st->what))
		return;
	fd = st->to == TO_SELF ? tring_fd(&s->src) : st->to == TO_PIPE ? s->pipe[0]
									   : tring_fd(s->dst);
	sqe = tring_sqe(&s->src);
	io_uring_prep_msg_ring(sqe, fd, st->len, ud, 0);
	sqe->addr = st->cmd;
	sqe->addr3 = st->src_slot;
	sqe->file_index = st->dst;
	sqe->msg_ring_flags = st->flags;
	if (st->async)
		sqe->flags |= IOSQE_ASYNC;
	io_uring_sqe_set_data64(sqe, ud);
	res = complete_one(s, &s->src, ud, st->what);
	if (res == INT32_MIN)
		return;
	if (res != st->res) {
		tc_fail(s->tc, "%s (target %s): the sender's CQE res %d (%s), expected %d (%s)",
			st->what, s->dst->name, res, res < 0 ? strerror(-res) : "ok", st->res,
			st->res < 0 ? strerror(-st->res) : "ok");
		return;
	}
	n = target_collect(s, seen, st->what);
	if (n < 0)
		return;
	if (!st->posted && n)
		tc_fail(s->tc, "%s (target %s): %d CQE(s) reached the target (first: user_data "
			"0x%llx res %d), expected none", st->what, s->dst->name, n,
			(unsigned long long)seen[0].user_data, seen[0].res);
	if (st->posted && (n != 1 || seen[0].user_data != ud || seen[0].res != st->post_res ||
				seen[0].flags != (st->flags & MSG_FLAGS_PASS ? st->dst : 0)))
		tc_fail(s->tc, "%s (target %s): %d CQE(s) at the target, first user_data 0x%llx "
			"res %d flags 0x%x; expected one: 0x%llx res %d flags 0x%x", st->what,
			s->dst->name, n, n ? (unsigned long long)seen[0].user_data : 0ull,
			n ? seen[0].res : 0, n ? seen[0].flags : 0, (unsigned long long)ud,
			st->post_res, st->flags & MSG_FLAGS_PASS ? st->dst : 0);
	/* The slot asked for, or the one the target allocated and reported. */
	if (st->read && !tc_failed(s->tc))
		read_through(s, st->dst == TW_FILE_INDEX_ALLOC ? res : (int)st->dst - 1, st->what);
}

/* Before the target has a file table. */
static const struct step no_table[] = {
	{ .what = "SEND_FD to a target without a file table", .cmd = MSG_SEND_FD,
	  .dst = 1, .res = -ENXIO },
};

/* With the target's sparse table of TARGET_SLOTS. */
static const struct step steps[] = {
	{ .what = "SEND_FD into target slot 0", .cmd = MSG_SEND_FD, .dst = 0 + 1,
	  .res = 0, .posted = true, .read = true },
	{ .what = "SEND_FD into a slot the target allocates", .cmd = MSG_SEND_FD,
	  .dst = TW_FILE_INDEX_ALLOC, .res = 1, .posted = true, .post_res = 1, .read = true },
	{ .what = "SEND_FD with CQE_SKIP into target slot 2", .cmd = MSG_SEND_FD,
	  .flags = MSG_CQE_SKIP, .dst = 2 + 1, .res = 0, .read = true },
	{ .what = "SEND_FD from io-wq into target slot 3", .cmd = MSG_SEND_FD, .dst = 3 + 1,
	  .async = true, .res = 0, .posted = true, .read = true },
	{ .what = "SEND_FD past the target's table", .cmd = MSG_SEND_FD,
	  .dst = TARGET_SLOTS + 1, .res = -EINVAL },
	{ .what = "SEND_FD from an empty slot", .cmd = MSG_SEND_FD, .src_slot = EMPTY_SLOT,
	  .dst = 1, .res = -EBADF },
	{ .what = "SEND_FD to the sender's own ring", .cmd = MSG_SEND_FD, .to = TO_SELF,
	  .dst = 1, .res = -EINVAL },
	{ .what = "a message with flags passed", .flags = MSG_FLAGS_PASS, .len = 7,
	  .dst = PASSED_FLAGS, .res = 0, .posted = true, .post_res = 7,
	  .part = NEED_MSG_FLAGS_PASS },
	{ .what = "a message from io-wq", .len = 9, .async = true, .res = 0, .posted = true,
	  .post_res = 9 },
	{ .what = "a message naming a source slot", .src_slot = 1, .res = -EINVAL },
	{ .what = "a message naming a target slot", .dst = 1, .res = -EINVAL },
	{ .what = "an unknown command", .cmd = 2, .res = -EINVAL },
	{ .what = "an unknown MSG_RING flag", .flags = 1u << 7, .res = -EINVAL },
	{ .what = "a message to a pipe", .to = TO_PIPE, .res = -EBADFD },
};

/* IORING_REGISTER_SEND_MSG_RING: a message without a source ring. */
static int sync_msg(unsigned cmd, int fd, uint64_t ud, unsigned len, unsigned flags,
		    unsigned dst)
{
	struct io_uring_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = IORING_OP_MSG_RING;
	sqe.fd = fd;
	sqe.addr = cmd;
	sqe.len = len;
	sqe.off = ud;
	sqe.msg_ring_flags = flags;
	sqe.file_index = dst;
	return syscall(__NR_io_uring_register, -1, TW_REGISTER_SEND_MSG_RING, &sqe, 1) < 0 ? -errno
											  : 0;
}

static void run_sync(struct state *s)
{
	static const struct { const char *what; unsigned cmd, flags; int fd; int res; } bad[] = {
		{ "synchronous SEND_FD", MSG_SEND_FD, 0, TO_TARGET, -EINVAL },
		{ "synchronous message to a pipe", MSG_DATA, 0, TO_PIPE, -EBADFD },
		{ "synchronous message to fd -1", MSG_DATA, 0, -1, -EBADF },
		{ "synchronous message with an unknown flag", MSG_DATA, 1u << 7, TO_TARGET, -EINVAL },
	};
	struct io_uring_cqe seen[MAX_SEEN];
	uint64_t ud = ++s->next_ud;
	int ret, n;

	if (tc_part_predated(s->tc, NEED_SEND_MSG_RING, "IORING_REGISTER_SEND_MSG_RING"))
		return;
	ret = sync_msg(MSG_DATA, tring_fd(s->dst), ud, 5, MSG_FLAGS_PASS, PASSED_FLAGS);
	if (ret) {
		tc_fail(s->tc, "synchronous message (target %s): %s, expected 0", s->dst->name,
			strerror(-ret));
		return;
	}
	n = target_collect(s, seen, "synchronous message");
	if (n >= 0 && (n != 1 || seen[0].user_data != ud || seen[0].res != 5 ||
		       seen[0].flags != PASSED_FLAGS))
		tc_fail(s->tc, "synchronous message (target %s): %d CQE(s), first user_data 0x%llx "
			"res %d flags 0x%x; expected one: 0x%llx res 5 flags 0x%x", s->dst->name, n,
			n > 0 ? (unsigned long long)seen[0].user_data : 0ull, n > 0 ? seen[0].res : 0,
			n > 0 ? seen[0].flags : 0, (unsigned long long)ud, PASSED_FLAGS);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]) && !tc_failed(s->tc); i++) {
		int fd = bad[i].fd == TO_PIPE ? s->pipe[0] : bad[i].fd == TO_TARGET ?
			 tring_fd(s->dst) : bad[i].fd;

		ret = sync_msg(bad[i].cmd, fd, ++s->next_ud, 0, bad[i].flags, 0);
		if (ret != bad[i].res)
			tc_fail(s->tc, "%s: %d (%s), expected %s", bad[i].what, ret,
				ret ? strerror(-ret) : "ok", strerror(-bad[i].res));
		else if ((n = target_collect(s, seen, bad[i].what)) > 0)
			tc_fail(s->tc, "%s: refused, but %d CQE(s) reached the target", bad[i].what, n);
	}
}

/* The steps against one target ring (profile flags | extra); an IOPOLL
 * ring refuses a read from a pipe, so the passed file is not read there. */
static void run_target(struct state *s, const char *name, unsigned extra)
{
	struct step st;
	const struct tring_opts o = { .extra_flags = extra, .attach_wq_fd = -1 };
	struct tring dst;
	int ret;

	if (tring_init(s->tc, &dst, name, s->tc->prof, &o) != V_PASS)
		return;
	s->dst = &dst;
	for (unsigned i = 0; i < sizeof(no_table) / sizeof(no_table[0]); i++)
		run_step(s, &no_table[i]);
	ret = io_uring_register_files_sparse(&dst.ring, TARGET_SLOTS);
	if (ret)
		tc_fail(s->tc, "target %s: a sparse table of %d files: %s", name, TARGET_SLOTS,
			strerror(-ret));
	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]) && !tc_failed(s->tc); i++) {
		st = steps[i];
		if (extra & IORING_SETUP_IOPOLL)
			st.read = false;
		run_step(s, &st);
	}
	if (!tc_failed(s->tc))
		run_sync(s);
	tring_exit(&dst);
}

static enum verdict run(struct tcase *tc)
{
	struct state s = { .tc = tc };
	int files[2];
	enum verdict v;

	if (pipe(s.pipe))
		return tc_fail(tc, "pipe: %s", strerror(errno));
	v = tring_init(tc, &s.src, "sender", &profiles[P_DEFAULT], NULL);
	if (v != V_PASS)
		return v;
	files[SRC_SLOT] = s.pipe[0];
	files[EMPTY_SLOT] = -1;
	if (io_uring_register_files(&s.src.ring, files, 2))
		return tc_fail(tc, "the sender's fixed files: registration failed");
	run_target(&s, "target", 0);
	/* MSG_RING takes an IOPOLL target's lock to post (also on DEFER). */
	if (!tc_failed(tc))
		run_target(&s, "iopoll-target", IORING_SETUP_IOPOLL);
	tring_exit(&s.src);
	close(s.pipe[0]);
	close(s.pipe[1]);
	return tc_verdict(tc);
}

static const struct scenario msg_ring_commands = {
	.name = "msg_ring_commands",
	.summary = "MSG_RING passing fixed files, with CQE_SKIP and FLAGS_PASS, to IOPOLL "
		   "targets, from io-wq, without a source ring, and its refusals: exact results",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(MSG_RING) | NEED(MSG_SEND_FD),
	.part_needs = NEED(MSG_FLAGS_PASS) | NEED(SEND_MSG_RING),
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &msg_ring_commands);
}
