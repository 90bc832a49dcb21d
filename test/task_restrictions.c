// SPDX-License-Identifier: MIT
/*
 * Task restrictions (7.0): IORING_REGISTER_RESTRICTIONS with ring fd -1
 * restricts every ring the task creates later, and a fork copies them to
 * the child (io_uring_fork -> __io_uring_fork in io_uring/tctx.c, the
 * copy a new ring takes in io_uring_create). A child of the case's
 * process sets no_new_privs, restricts itself to IORING_OP_NOP and forks
 * a grandchild. Checks:
 *  - the restriction is accepted (0);
 *  - in the child and in the grandchild, a second registration is refused
 *    (-EPERM: the task has restrictions, the grandchild by its copy);
 *  - a ring of the case's profile the grandchild sets up runs a NOP (0)
 *    and refuses a READ (-EACCES), in that order, and nothing else.
 */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

#define TW_RESTRICTION_SQE_OP	1	/* IORING_RESTRICTION_SQE_OP */

struct task_restriction {		/* struct io_uring_task_restriction */
	uint16_t flags, nr_res;
	uint32_t resv[3];
	struct io_uring_restriction res[1];
};

static const struct task_restriction nop_only = {
	.nr_res = 1,
	.res = { { .opcode = TW_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_NOP } },
};

static int restrict_task(void)
{
	return syscall(__NR_io_uring_register, -1, IORING_REGISTER_RESTRICTIONS, &nop_only, 1) < 0
	       ? -errno : 0;
}

static void second_registration(struct tcase *tc, const char *who)
{
	int ret = restrict_task();

	if (ret != -EPERM)
		tc_fail(tc, "%s: a second IORING_REGISTER_RESTRICTIONS of the task: %d (%s), "
			"expected -EPERM", who, ret, ret < 0 ? strerror(-ret) : "accepted");
}

/* The grandchild: restrictions by its parent's copy, a ring of its own. */
static int grandchild(void *arg)
{
	struct tcase *tc = arg;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct deadline dl = tc_deadline(tc);
	struct tring r;
	uint64_t seen = 0;
	int p[2], ret;
	char c;

	second_registration(tc, "grandchild");
	/* A byte in the pipe: a READ let through would complete at once. */
	if (pipe(p) || write(p[1], "x", 1) != 1 ||
	    tring_init(tc, &r, "restricted", tc->prof, NULL) != V_PASS)
		return tc_fail(tc, "grandchild: a pipe with a byte and a ring"), 1;
	sqe = tring_sqe(&r);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, 1);
	sqe = tring_sqe(&r);
	io_uring_prep_read(sqe, p[0], &c, 1, 0);
	io_uring_sqe_set_data64(sqe, 2);
	ret = io_uring_submit(&r.ring);
	if (ret < 1)
		return tc_fail(tc, "grandchild: submit of the NOP and the READ: %d", ret), 1;
	if (tring_await(tc, &r, 2, &dl, "the grandchild's NOP and READ") != V_PASS)
		return 1;
	/* Each once: the NOP (1) with 0, the READ (2) with -EACCES. */
	for (int i = 0; i < 2 && io_uring_peek_cqe(&r.ring, &cqe) == 0; i++) {
		uint64_t ud = cqe->user_data;

		if ((ud != 1 && ud != 2) || (seen & ud) || cqe->res != (ud == 1 ? 0 : -EACCES))
			tc_fail(tc, "grandchild: CQE user_data %llu res %d under inherited "
				"restrictions, expected the NOP (1) with 0 and the READ (2) with "
				"-EACCES, once each", (unsigned long long)ud, cqe->res);
		seen |= ud < 3 ? ud : 0;
		io_uring_cqe_seen(&r.ring, cqe);
	}
	tring_exit(&r);
	return 0;
}

static int child(void *arg)
{
	struct tcase *tc = arg;
	struct child gc;
	int ret;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return tc_fail(tc, "child: PR_SET_NO_NEW_PRIVS: %s", strerror(errno)), 1;
	ret = restrict_task();
	if (ret)
		return tc_refused(tc, NEED_TASK_RESTRICTIONS, ret, "IORING_REGISTER_RESTRICTIONS "
				  "of the task"), 0;
	second_registration(tc, "child");
	if (proc_spawn(&gc, grandchild, tc))
		return tc_fail(tc, "child: fork of the grandchild failed"), 1;
	proc_reap_or_kill(tc, &gc, "grandchild");
	return 0;
}

static enum verdict run(struct tcase *tc)
{
	struct child c;

	if (proc_spawn(&c, child, tc))
		return tc_fail(tc, "fork of the restricting child failed");
	proc_reap_or_kill(tc, &c, "restricting child");
	return tc_verdict(tc);
}

static const struct scenario task_restrictions = {
	.name = "task_restrictions",
	.summary = "a task's io_uring restrictions, copied by fork: its grandchild's ring runs a "
		   "NOP and refuses a READ; neither task may register others",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(TASK_RESTRICTIONS),
	.min_threads = 1,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &task_restrictions);
}
