/* SPDX-License-Identifier: MIT */
/*
 * What a scenario needs of the kernel, declared, and what a refusal means.
 * needs.c holds the table: per feature its name, the first mainline kernel
 * that has it and how to probe it. A scenario lists its needs in struct
 * scenario (.needs: the whole case; .part_needs: sub-checks); the harness
 * checks them before run() - a kernel older than a need's first version
 * skips the case ("kernel 5.15 predates IORING_OP_MSG_RING (first in
 * 5.18)"), a newer kernel must pass the need's probe or the case fails.
 *
 * A refusal met while running is judged by the same table: tc_refused()
 * for the whole case, tc_refused_part() for one sub-check. On a kernel
 * that predates the feature it is a skip (of the case, or of the part:
 * "# SKIP-PART <case>: <part>: <reason>", which the runner reports); on
 * any newer kernel it is a failure that names the feature, the errno and
 * both versions. ENOMEM is never a skip. A refusal that is the system's
 * choice, not the kernel's (kernel.io_uring_disabled, a seccomp filter,
 * kernel.yama.ptrace_scope), is a skip that says so.
 *
 * Included by harness.h (it uses enum verdict and struct tcase from there).
 */
#ifndef TW_NEEDS_H
#define TW_NEEDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The features, oldest first (the order of the table in needs.c): NEED_<name>. */
enum need_id {
	NEED_IO_URING,		/* io_uring_setup(), 5.1 */
	NEED_SQPOLL,		/* IORING_SETUP_SQPOLL, 5.1 (as root) */
	NEED_CQSIZE,		/* IORING_SETUP_CQSIZE, 5.5 */
	NEED_FEAT_NODROP,	/* IORING_FEAT_NODROP, 5.5 */
	NEED_TIMEOUT_REMOVE,	/* IORING_OP_TIMEOUT_REMOVE, 5.5 */
	NEED_ATTACH_WQ,		/* IORING_SETUP_ATTACH_WQ, 5.6 */
	NEED_PROBE,		/* IORING_REGISTER_PROBE, 5.6 */
	NEED_PIDFD_GETFD,	/* pidfd_getfd(), 5.6 */
	NEED_R_DISABLED,	/* IORING_SETUP_R_DISABLED, 5.10 */
	NEED_EXT_ARG,		/* IORING_FEAT_EXT_ARG, 5.11 */
	NEED_SQ_IO_THREAD,	/* the SQ thread an io thread (iou-sqp-*), 5.12 */
	NEED_SQPOLL_UNPRIV,	/* SQPOLL without privileges, 5.13 */
	NEED_IOWQ_MAX_WORKERS,	/* IORING_REGISTER_IOWQ_MAX_WORKERS, 5.15 */
	NEED_MSG_RING,		/* IORING_OP_MSG_RING, 5.18 */
	NEED_RING_FD,		/* IORING_REGISTER_RING_FDS, 5.18 */
	NEED_COOP_TASKRUN,	/* IORING_SETUP_COOP_TASKRUN, 5.19 */
	NEED_TASKRUN_FLAG,	/* IORING_SETUP_TASKRUN_FLAG, 5.19 */
	NEED_CANCEL_FD_ANY,	/* IORING_ASYNC_CANCEL_FD, _ANY, 5.19 */
	NEED_CQE32,		/* IORING_SETUP_CQE32, 5.19 */
	NEED_SINGLE_ISSUER,	/* IORING_SETUP_SINGLE_ISSUER, 6.0 */
	NEED_RECV_MULTISHOT,	/* multishot recv from a buffer ring, 6.0 */
	NEED_MSG_SEND_FD,	/* IORING_MSG_SEND_FD, IORING_MSG_RING_CQE_SKIP, 6.0 */
	NEED_SYNC_CANCEL,	/* IORING_REGISTER_SYNC_CANCEL, 6.0 */
	NEED_DEFER_TASKRUN,	/* IORING_SETUP_DEFER_TASKRUN, 6.1 */
	NEED_MSG_FLAGS_PASS,	/* IORING_MSG_RING_FLAGS_PASS, 6.3 */
	NEED_PIPE_NOWAIT,	/* pipes with FMODE_NOWAIT: a READ waits on poll, 6.4 */
	NEED_TIMEOUT_MULTISHOT,	/* IORING_TIMEOUT_MULTISHOT, 6.4 */
	NEED_REGISTERED_FD_ONLY, /* IORING_SETUP_REGISTERED_FD_ONLY with NO_MMAP, 6.5 */
	NEED_CANCEL_OP,		/* IORING_ASYNC_CANCEL_OP, sync cancel's opcode, 6.6 */
	NEED_FUTEX,		/* IORING_OP_FUTEX_WAIT, _WAKE, 6.7 */
	NEED_MIN_TIMEOUT,	/* IORING_FEAT_MIN_TIMEOUT, 6.12 */
	NEED_RESIZE_RINGS,	/* IORING_REGISTER_RESIZE_RINGS, 6.13 */
	NEED_REG_WAIT,		/* IORING_REGISTER_MEM_REGION wait args, 6.13 */
	NEED_SEND_MSG_RING,	/* IORING_REGISTER_SEND_MSG_RING, 6.13 */
	NEED_CQE_MIXED,		/* IORING_SETUP_CQE_MIXED, 6.18 */
	NEED_NOP_CQE32,		/* IORING_NOP_CQE32, 6.18 */
	NEED_SQE_MIXED,		/* IORING_SETUP_SQE_MIXED, 6.19 */
	NEED_NOP128,		/* IORING_OP_NOP128, 6.19 */
	NEED_BPF_FILTER,	/* IORING_REGISTER_BPF_FILTER (task filters), 7.0 */
	NEED_TASK_RESTRICTIONS,	/* IORING_REGISTER_RESTRICTIONS for a task (fd -1), 7.0 */
	NEED_COUNT
};

/* A set of needs: .needs = NEED(MSG_RING) | NEED(RESIZE_RINGS). */
#define NEED_BIT(id)	(UINT64_C(1) << (id))
#define NEED(name)	NEED_BIT(NEED_##name)

/* How the harness probes a need before a case (on kernels that have it). */
enum need_probe {
	NP_NONE,		/* version only: the test's own use is the probe */
	NP_SETUP,		/* io_uring_setup() with these flags succeeds */
	NP_FEAT,		/* this IORING_FEAT_* bit is set at setup */
	NP_OP,			/* this opcode is in IORING_REGISTER_PROBE's answer */
	NP_SYSCALL,		/* this syscall exists (EBADF on fd -1, not ENOSYS) */
};

struct need {
	const char *name;		/* short, for -D: "msg_ring" */
	const char *what;		/* for messages: "IORING_OP_MSG_RING" */
	unsigned first;			/* KVER(): the first mainline release with it */
	enum need_probe probe;
	unsigned arg;			/* setup flags, feature bit, opcode or syscall */
	unsigned setup_flag;		/* the IORING_SETUP_* flag it is, or 0 */
};

extern const struct need needs[NEED_COUNT];

/* Needs of every case: what the harness itself uses (tring_wait: EXT_ARG). */
#define NEEDS_HARNESS	(NEED(IO_URING) | NEED(EXT_ARG))

/* "6.1.158", "5.10" (the patch level only when not 0). */
const char *need_kver_str(unsigned kver, char *buf, size_t len);
/* Does the running kernel (kver_running(), TW_KVER) predate the need? */
bool need_predated(enum need_id n);
/* The needs a ring set up with these flags has (profile and options). */
uint64_t need_setup_flags(unsigned setup_flags);
/* Of a set: the newest need the running kernel predates, else the newest
 * (NEED_IO_URING for an empty set). */
enum need_id need_newest(uint64_t set);
/* Probe the need now: 0, or the -errno of the refusal, with *refused the
 * need refused (NEED_PROBE when the kernel would not list its opcodes;
 * NEED_IO_URING when not even a plain ring could be set up). EOPNOTSUPP: the
 * kernel does not offer it (a feature bit, an opcode). */
int need_probe(enum need_id n, enum need_id *refused);
/* "msg_ring 5.18, resize_rings 6.13" for a set ("-" for none). */
const char *need_list(uint64_t set, char *buf, size_t len);

struct tcase;

/*
 * A refusal (err: -errno or errno; 0: "not seen", e.g. a thread that should
 * be there) of what the case needs:
 * a skip on a kernel that predates the feature, or where the system
 * refuses io_uring (or ptrace) to this process; else a failure naming the
 * feature, the errno and both versions. ENOMEM always fails. what: the
 * operation refused ("ring kinds (defer): io_uring_setup").
 */
enum verdict tc_refused(struct tcase *tc, enum need_id need, int err, const char *what);
/* The same for a ring set-up refused with these flags: the need is the
 * newest feature among them. */
enum verdict tc_setup_refused(struct tcase *tc, unsigned setup_flags, int err, const char *what);
/*
 * A refusal that disables one sub-check (part) of the case: V_SKIP when
 * tc_refused() would skip - the part is recorded as skipped
 * (tc_skip_part()) and the case goes on - else V_FAIL. The need must be in
 * the scenario's .needs or .part_needs.
 */
enum verdict tc_refused_part(struct tcase *tc, enum need_id need, int err, const char *part);
/* Before a part: true (and the part recorded as skipped) if the running
 * kernel predates the need; the need must be in .part_needs (or be a
 * set-up flag's). */
bool tc_part_predated(struct tcase *tc, enum need_id need, const char *part);

#endif
