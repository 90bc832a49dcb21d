// SPDX-License-Identifier: MIT
/*
 * A task's io_uring restrictions (IORING_REGISTER_BPF_FILTER with fd -1,
 * 7.0) apply to every ring it creates after: io_ctx_restriction_clone()
 * gives the new ring the task's set of cBPF filters, shared and marked
 * copy-on-write in the ring (io_bpf_filter_clone()). Before 7.3 only the
 * copy was marked: a filter the task registered later was inserted in
 * place, into the set the older rings use too, and changed what a ring
 * already created allows. 7.3 marks the task's set copy-on-write as well.
 * Checks, in a child (restrictions stay with a task for good), under
 * no_new_privs: with an allow-all filter on NOP registered, ring A is
 * created; a deny filter on NOP is registered, then ring B is created. A
 * NOP on A completes with 0; a NOP on B with -EACCES.
 */
#include <errno.h>
#include <linux/filter.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

#define REGISTER_BPF_FILTER	37	/* IORING_REGISTER_BPF_FILTER (7.0) */
#define BPF_CMD_FILTER		1	/* IO_URING_BPF_CMD_FILTER */

struct tw_bpf_filter {			/* struct io_uring_bpf with its filter */
	__u16 cmd_type, cmd_flags;
	__u32 resv;
	__u32 opcode, flags, filter_len;
	__u8 pdu_size, resv1[3];
	__u64 filter_ptr, resv2[5];
};

/* A filter on NOPs for this task: allow (1) or deny (0). 0 or -errno. */
static int task_filter_nop(unsigned verdict)
{
	struct sock_filter prog[] = { BPF_STMT(BPF_RET | BPF_K, verdict) };
	struct tw_bpf_filter f = {
		.cmd_type = BPF_CMD_FILTER, .opcode = IORING_OP_NOP, .filter_len = 1,
		.filter_ptr = (uintptr_t)prog,
	};

	return syscall(__NR_io_uring_register, -1, REGISTER_BPF_FILTER, &f, 1) < 0 ? -errno : 0;
}

/* One NOP on r: its CQE's res, or 1 after a failure. */
static int nop_res(struct tcase *tc, struct tring *r)
{
	struct deadline dl = tc_deadline(tc);
	struct io_uring_cqe *cqe;
	int res;

	io_uring_prep_nop(tring_sqe(r));
	if (tring_submit_await(tc, r, 1, 1, &dl, "a NOP on ring %s", r->name) != V_PASS)
		return 1;
	io_uring_peek_cqe(&r->ring, &cqe);
	res = cqe->res;
	io_uring_cqe_seen(&r->ring, cqe);
	return res;
}

static int restricted(void *arg)
{
	struct tcase *tc = arg;
	struct tring a, b;
	int ret, res_a, res_b;

	/* As seccomp: filters need no_new_privs or CAP_SYS_ADMIN. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		tc_fail(tc, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
		return 0;
	}
	ret = task_filter_nop(1);
	if (ret) {
		tc_refused(tc, NEED_BPF_FILTER, ret, "a task's BPF filter (fd -1)");
		return 0;
	}
	if (tring_init(tc, &a, "A", tc->prof, NULL) != V_PASS)
		return 0;
	ret = task_filter_nop(harness_seeded("allow-all"));
	if (ret) {
		tc_fail(tc, "a second BPF filter for the task: %s", strerror(-ret));
		goto out_a;
	}
	if (tring_init(tc, &b, "B", tc->prof, NULL) != V_PASS)
		goto out_a;
	res_a = nop_res(tc, &a);
	res_b = nop_res(tc, &b);
	if (res_a == -EACCES)
		tc_fail(tc, "filters of a ring changed after it was made: a NOP on a ring made "
			"before the task's deny filter on NOP was refused with -EACCES");
	else if (res_a != 0 && res_a != 1)
		tc_fail(tc, "NOP on the ring made before the deny filter: res %d, expected 0",
			res_a);
	if (res_b != -EACCES && res_b != 1)
		tc_fail(tc, "NOP on a ring made after the task's deny filter on NOP: res %d, "
			"expected -EACCES", res_b);
	tring_exit(&b);
out_a:
	tring_exit(&a);
	return 0;
}

static enum verdict run(struct tcase *tc)
{
	struct child c;

	if (proc_spawn(&c, restricted, tc))
		return tc_fail(tc, "fork: %s", strerror(errno));
	proc_reap_or_kill(tc, &c, "the restricted process");
	return tc_verdict(tc);
}

static const struct scenario regress_bpf_filter_cow = {
	.name = "regress_bpf_filter_cow",
	.summary = "a BPF filter a task registers applies to the rings it makes after, not to "
		   "those made before",
	/* restrictions are checked at submission, the same for every kind of task_work */
	.profiles = PMASK(P_DEFAULT) | PMASK(P_DEFER),
	.run = run,
	.needs = NEED(BPF_FILTER),
	.fix_commit = "-",
	.fix_subject = "io_uring/bpf_filter: mark the source's filters copy-on-write too when "
		       "cloning them (Linux 7.3)",
	.seeded_faults = "  allow-all  the second filter allows NOPs instead of denying them\n",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_bpf_filter_cow);
}
