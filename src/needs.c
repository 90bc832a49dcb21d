// SPDX-License-Identifier: MIT
/*
 * The needs table and what a refusal means (see needs.h). Versions are the
 * first mainline release with the feature (the man pages of liburing and
 * the kernel's history); a stable or vendor kernel with a backport just
 * passes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"
#include "case.h"
#include "kver.h"
#include "procfs.h"

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd		438
#endif
#define S_SQPOLL	IORING_SETUP_SQPOLL
#define S_CQSIZE	IORING_SETUP_CQSIZE
#define S_ATTACH	IORING_SETUP_ATTACH_WQ
#define S_DISABLED	(1U << 6)	/* IORING_SETUP_R_DISABLED */
#define S_COOP		(1U << 8)	/* IORING_SETUP_COOP_TASKRUN */
#define S_TRFLAG	(1U << 9)	/* IORING_SETUP_TASKRUN_FLAG */
#define S_SINGLE	IORING_SETUP_SINGLE_ISSUER
#define S_DEFER		IORING_SETUP_DEFER_TASKRUN
#define S_MIXED		(1U << 18)	/* IORING_SETUP_CQE_MIXED */
#define S_CQE32		(1U << 11)	/* IORING_SETUP_CQE32 */
#define S_SQE_MIXED	(1U << 19)	/* IORING_SETUP_SQE_MIXED */

/*
 * The table: name (for -D), what (for messages), the first mainline release,
 * how the harness probes it (and the probe's argument), and the
 * IORING_SETUP_* flag that is the feature (a refused set-up is judged by
 * the newest flag it asked for).
 */
#define ROW(id, name, what, major, minor, probe, arg, flag) \
	[NEED_##id] = { name, what, KVER(major, minor, 0), probe, arg, flag }

const struct need needs[NEED_COUNT] = {
	ROW(IO_URING, "io_uring", "io_uring_setup()", 5, 1, NP_SETUP, 0, 0),
	ROW(SQPOLL, "sqpoll", "IORING_SETUP_SQPOLL", 5, 1, NP_SETUP, S_SQPOLL, S_SQPOLL),
	ROW(CQSIZE, "cqsize", "IORING_SETUP_CQSIZE", 5, 5, NP_SETUP, S_CQSIZE, S_CQSIZE),
	ROW(FEAT_NODROP, "nodrop", "IORING_FEAT_NODROP", 5, 5, NP_FEAT, IORING_FEAT_NODROP, 0),
	ROW(TIMEOUT_REMOVE, "timeout_remove", "IORING_OP_TIMEOUT_REMOVE",
	    5, 5, NP_OP, IORING_OP_TIMEOUT_REMOVE, 0),
	ROW(ATTACH_WQ, "attach_wq", "IORING_SETUP_ATTACH_WQ", 5, 6, NP_NONE, 0, S_ATTACH),
	ROW(PROBE, "probe", "IORING_REGISTER_PROBE", 5, 6, NP_NONE, 0, 0),
	ROW(PIDFD_GETFD, "pidfd_getfd", "pidfd_getfd()", 5, 6, NP_SYSCALL, SYS_pidfd_getfd, 0),
	ROW(R_DISABLED, "r_disabled", "IORING_SETUP_R_DISABLED",
	    5, 10, NP_SETUP, S_DISABLED, S_DISABLED),
	ROW(EXT_ARG, "ext_arg", "IORING_FEAT_EXT_ARG", 5, 11, NP_FEAT, IORING_FEAT_EXT_ARG, 0),
	ROW(SQ_IO_THREAD, "sq_io_thread", "the SQ thread as an io thread (iou-sqp-*)",
	    5, 12, NP_NONE, 0, 0),
	ROW(SQPOLL_UNPRIV, "sqpoll_unprivileged", "IORING_SETUP_SQPOLL without privileges",
	    5, 13, NP_NONE, 0, 0),
	ROW(IOWQ_MAX_WORKERS, "iowq_max_workers", "IORING_REGISTER_IOWQ_MAX_WORKERS",
	    5, 15, NP_NONE, 0, 0),
	ROW(MSG_RING, "msg_ring", "IORING_OP_MSG_RING", 5, 18, NP_OP, IORING_OP_MSG_RING, 0),
	ROW(RING_FD, "ring_fd", "IORING_REGISTER_RING_FDS", 5, 18, NP_NONE, 0, 0),
	ROW(COOP_TASKRUN, "coop_taskrun", "IORING_SETUP_COOP_TASKRUN",
	    5, 19, NP_SETUP, S_COOP, S_COOP),
	ROW(TASKRUN_FLAG, "taskrun_flag", "IORING_SETUP_TASKRUN_FLAG",
	    5, 19, NP_SETUP, S_COOP | S_TRFLAG, S_TRFLAG),
	ROW(CANCEL_FD_ANY, "cancel_fd_any", "IORING_ASYNC_CANCEL_FD and _ANY",
	    5, 19, NP_NONE, 0, 0),
	ROW(CQE32, "cqe32", "IORING_SETUP_CQE32", 5, 19, NP_SETUP, S_CQE32, S_CQE32),
	ROW(SINGLE_ISSUER, "single_issuer", "IORING_SETUP_SINGLE_ISSUER",
	    6, 0, NP_SETUP, S_SINGLE, S_SINGLE),
	ROW(RECV_MULTISHOT, "recv_multishot", "multishot recv from a buffer ring",
	    6, 0, NP_NONE, 0, 0),
	ROW(MSG_SEND_FD, "msg_send_fd", "IORING_MSG_SEND_FD and IORING_MSG_RING_CQE_SKIP",
	    6, 0, NP_NONE, 0, 0),
	ROW(SYNC_CANCEL, "sync_cancel", "IORING_REGISTER_SYNC_CANCEL", 6, 0, NP_NONE, 0, 0),
	ROW(DEFER_TASKRUN, "defer_taskrun", "IORING_SETUP_DEFER_TASKRUN",
	    6, 1, NP_SETUP, S_SINGLE | S_DEFER, S_DEFER),
	ROW(MSG_FLAGS_PASS, "msg_flags_pass", "IORING_MSG_RING_FLAGS_PASS", 6, 3, NP_NONE, 0, 0),
	/* Before, a pipe READ blocks in an io-wq worker: concurrent reads of
	 * one pipe complete in any order (io_uring promises none). From 6.4
	 * (afed6271f5b0) it waits on poll and completes in task_work order. */
	ROW(PIPE_NOWAIT, "pipe_nowait", "pipes with FMODE_NOWAIT (a READ waits on poll)",
	    6, 4, NP_NONE, 0, 0),
	ROW(TIMEOUT_MULTISHOT, "timeout_multishot", "IORING_TIMEOUT_MULTISHOT",
	    6, 4, NP_NONE, 0, 0),
	ROW(REGISTERED_FD_ONLY, "registered_fd_only",
	    "IORING_SETUP_REGISTERED_FD_ONLY (with IORING_SETUP_NO_MMAP)", 6, 5, NP_NONE, 0, 0),
	ROW(CANCEL_OP, "cancel_op", "IORING_ASYNC_CANCEL_OP (a sync cancel's opcode)",
	    6, 6, NP_NONE, 0, 0),
	ROW(FUTEX, "futex", "IORING_OP_FUTEX_WAIT", 6, 7, NP_OP, 51, 0),
	ROW(MIN_TIMEOUT, "min_timeout", "IORING_FEAT_MIN_TIMEOUT",
	    6, 12, NP_FEAT, IORING_FEAT_MIN_TIMEOUT, 0),
	ROW(RESIZE_RINGS, "resize_rings", "IORING_REGISTER_RESIZE_RINGS", 6, 13, NP_NONE, 0, 0),
	ROW(REG_WAIT, "reg_wait", "IORING_REGISTER_MEM_REGION (registered wait arguments)",
	    6, 13, NP_NONE, 0, 0),
	ROW(SEND_MSG_RING, "send_msg_ring", "IORING_REGISTER_SEND_MSG_RING", 6, 13, NP_NONE, 0, 0),
	ROW(CQE_MIXED, "cqe_mixed", "IORING_SETUP_CQE_MIXED", 6, 18, NP_SETUP, S_MIXED, S_MIXED),
	ROW(NOP_CQE32, "nop_cqe32", "IORING_NOP_CQE32", 6, 18, NP_NONE, 0, 0),
	ROW(SQE_MIXED, "sqe_mixed", "IORING_SETUP_SQE_MIXED", 6, 19, NP_SETUP, S_SQE_MIXED,
	    S_SQE_MIXED),
	ROW(NOP128, "nop128", "IORING_OP_NOP128", 6, 19, NP_OP, 63, 0),
	ROW(BPF_FILTER, "bpf_filter", "IORING_REGISTER_BPF_FILTER", 7, 0, NP_NONE, 0, 0),
	ROW(TASK_RESTRICTIONS, "task_restrictions",
	    "IORING_REGISTER_RESTRICTIONS for the task (ring fd -1)", 7, 0, NP_NONE, 0, 0),
};

/* What a test may meet without declaring it: set-up flags (from its
 * profile and tring options) and what the harness itself uses. */
static uint64_t implicit_needs(void)
{
	uint64_t set = NEEDS_HARNESS | NEED(PROBE) | NEED(RING_FD) | NEED(SQPOLL_UNPRIV);

	for (int n = 0; n < NEED_COUNT; n++)
		if (needs[n].setup_flag)
			set |= NEED_BIT(n);
	return set;
}

const char *need_kver_str(unsigned kver, char *buf, size_t len)
{
	unsigned patch = kver & 255;

	if (!kver)
		snprintf(buf, len, "(unknown version)");
	else if (patch)
		snprintf(buf, len, "%u.%u.%u", kver >> 16, (kver >> 8) & 255, patch);
	else
		snprintf(buf, len, "%u.%u", kver >> 16, (kver >> 8) & 255);
	return buf;
}

bool need_predated(enum need_id n)
{
	unsigned v = kver_running();

	return v && v < needs[n].first;	/* unknown: assume new */
}

uint64_t need_setup_flags(unsigned setup_flags)
{
	uint64_t set = NEED_BIT(NEED_IO_URING);

	for (int n = 0; n < NEED_COUNT; n++)
		if (needs[n].setup_flag & setup_flags)
			set |= NEED_BIT(n);
	if ((setup_flags & S_SQPOLL) && !is_root())
		set |= NEED_BIT(NEED_SQPOLL_UNPRIV);
	return set;
}

enum need_id need_newest(uint64_t set)
{
	int best = -1, old = -1;

	/* The first of equals in the table: the feature, not its details. */
	for (int n = 0; n < NEED_COUNT; n++) {
		if (!(set & NEED_BIT(n)))
			continue;
		if (best < 0 || needs[n].first > needs[best].first)
			best = n;
		if (need_predated(n) && (old < 0 || needs[n].first > needs[old].first))
			old = n;
	}
	return old >= 0 ? old : best >= 0 ? best : NEED_IO_URING;
}

const char *need_list(uint64_t set, char *buf, size_t len)
{
	char v[16];
	size_t off = 0;

	buf[0] = 0;
	for (int n = 0; n < NEED_COUNT && off < len; n++)
		if (set & NEED_BIT(n))
			off += snprintf(buf + off, len - off, "%s%s %s", off ? ", " : "",
					needs[n].name, need_kver_str(needs[n].first, v, sizeof(v)));
	if (!off)
		snprintf(buf, len, "-");
	return buf;
}

/* ---- probes ---------------------------------------------------------------- */

static int setup_ring(struct io_uring *ring, unsigned flags, struct io_uring_params *p)
{
	memset(p, 0, sizeof(*p));
	p->flags = flags;
	if (flags & S_CQSIZE)
		p->cq_entries = 4;
	if (flags & S_SQPOLL)
		p->sq_thread_idle = 1;
	return io_uring_queue_init_params(2, ring, p);
}

int need_probe(enum need_id n, enum need_id *refused)
{
	const struct need *d = &needs[n];
	struct io_uring_params p;
	struct io_uring_probe *pr;
	struct io_uring ring;
	int ret;

	*refused = n;
	if (d->probe == NP_NONE)
		return 0;
	if (d->probe == NP_SYSCALL)
		return syscall(d->arg, -1, 0, 0) < 0 && errno != EBADF ? -errno : 0;
	ret = setup_ring(&ring, d->probe == NP_SETUP ? d->arg : 0, &p);
	if (ret < 0) {
		*refused = d->probe == NP_SETUP ? n : NEED_IO_URING;
		return ret;
	}
	if (d->probe == NP_FEAT && !(p.features & d->arg)) {
		ret = -EOPNOTSUPP;
	} else if (d->probe == NP_OP) {
		/* Opcodes are probed only since 5.6: older kernels predate it. */
		pr = calloc(1, sizeof(*pr) + 256 * sizeof(pr->ops[0]));
		ret = pr ? io_uring_register_probe(&ring, pr, 256) : -ENOMEM;
		if (ret < 0)
			*refused = NEED_PROBE;
		else if (!io_uring_opcode_supported(pr, (int)d->arg))
			ret = -EOPNOTSUPP;
		free(pr);
	}
	io_uring_queue_exit(&ring);
	return ret < 0 ? ret : 0;
}

/* ---- what a refusal means ------------------------------------------------- */

/* A kernel.* sysctl's value (0 if absent), from $TW_SYSCTL_DIR (as the
 * runner reads it: a fake directory in the meta tests) or /proc/sys/kernel. */
static int sysctl_int(const char *name)
{
	const char *dir = getenv("TW_SYSCTL_DIR");
	char path[512], buf[32];

	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/proc/sys/kernel", name);
	return procfs_read(path, buf, sizeof(buf)) ? 0 : atoi(buf);
}

static bool seccomp_filtered(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	bool on = false;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Seccomp:", 8))
			on = atoi(line + 8) == 2;
	if (f)
		fclose(f);
	return on;
}

/* A refusal that is the system's choice, not the kernel's: its reason. */
static const char *system_refusal(enum need_id n, int err, char *buf, size_t len)
{
	struct io_uring_params p;
	struct io_uring ring;
	int v;

	if (err != EPERM && err != EACCES && err != ENOSYS)
		return NULL;
	if (n == NEED_PIDFD_GETFD) {
		v = sysctl_int("yama/ptrace_scope");
		if (v >= 2 && err != ENOSYS)
			snprintf(buf, len, "ptrace access refused (kernel.yama.ptrace_scope=%d)", v);
		else if (seccomp_filtered())
			snprintf(buf, len, "%s refused under a seccomp filter", needs[n].what);
		else
			return NULL;
		return buf;
	}
	if (n != NEED_IO_URING && !needs[n].setup_flag)
		return NULL;
	/* Only if io_uring as a whole is refused to this process. */
	if (setup_ring(&ring, 0, &p) == 0) {
		io_uring_queue_exit(&ring);
		return NULL;
	}
	v = sysctl_int("io_uring_disabled");
	if (v && err == EPERM)
		snprintf(buf, len, "io_uring disabled for this user (kernel.io_uring_disabled=%d)", v);
	else if (seccomp_filtered())
		snprintf(buf, len, "io_uring_setup() refused under a seccomp filter");
	else if (err == ENOSYS)
		snprintf(buf, len, "the kernel has no io_uring (ENOSYS: CONFIG_IO_URING off)");
	else
		return NULL;
	return buf;
}

static const char *err_str(int err, char *buf, size_t len)
{
	if (!err)
		snprintf(buf, len, "not seen");
	else
		snprintf(buf, len, "%s (%s)", strerrorname_np(err) ? strerrorname_np(err) : "?",
			 strerror(err));
	return buf;
}

/* The skip reason (V_SKIP) or failure (V_FAIL) of a refusal, in msg. */
static enum verdict judge(struct tcase *tc, enum need_id n, int err, const char *what,
			  char *msg, size_t len)
{
	const struct need *d = &needs[n];
	char run[24], first[16], why[160], e[64];
	const char *pre = what ? what : "", *sep = what ? ": " : "";
	const struct scenario *sc = tc->sc;
	struct rlimit rl;

	err = err < 0 ? -err : err;
	need_kver_str(kver_running(), run, sizeof(run));
	need_kver_str(d->first, first, sizeof(first));
	err_str(err, e, sizeof(e));
	if (sc && !((sc->needs | sc->part_needs | implicit_needs()) & NEED_BIT(n))) {
		snprintf(msg, len, "%s%s%s: %s is not among the scenario's needs (struct scenario "
			 ".needs, .part_needs)", pre, sep, e, d->what);
		return V_FAIL;
	}
	if (err == ENOMEM) {
		/* Kernels before 5.12 charge rings to RLIMIT_MEMLOCK: raise it. */
		getrlimit(RLIMIT_MEMLOCK, &rl);
		snprintf(msg, len, "%s%s%s: out of memory is never a skip%s", pre, sep, e,
			 kver_running() && kver_running() < KVER(5, 12, 0) ?
			 (rl.rlim_cur == RLIM_INFINITY ? "" : "; kernels before 5.12 charge rings "
			  "to RLIMIT_MEMLOCK: raise it (ulimit -l)") : "");
		return V_FAIL;
	}
	if (system_refusal(n, err, why, sizeof(why))) {
		snprintf(msg, len, "%s%s%s: %s", pre, sep, e, why);
		return V_SKIP;
	}
	if (need_predated(n)) {
		snprintf(msg, len, "%s%skernel %s predates %s (first in %s)", pre, sep, run, d->what,
			 first);
		return V_SKIP;
	}
	snprintf(msg, len, "%s%s%s, but kernel %s has %s (since %s)", pre, sep, e, run, d->what,
		 first);
	return V_FAIL;
}

enum verdict tc_refused(struct tcase *tc, enum need_id need, int err, const char *what)
{
	char msg[480];

	if (judge(tc, need, err, what, msg, sizeof(msg)) == V_SKIP)
		return tc_skip(tc, "%s", msg);
	return tc_fail(tc, "%s", msg);
}

enum verdict tc_setup_refused(struct tcase *tc, unsigned setup_flags, int err, const char *what)
{
	return tc_refused(tc, need_newest(need_setup_flags(setup_flags)), err, what);
}

enum verdict tc_refused_part(struct tcase *tc, enum need_id need, int err, const char *part)
{
	char msg[480];

	if (judge(tc, need, err, NULL, msg, sizeof(msg)) == V_SKIP) {
		tc_skip_part(tc, part, "%s", msg);
		return V_SKIP;
	}
	return tc_fail(tc, "%s: %s", part, msg);
}

bool tc_part_predated(struct tcase *tc, enum need_id need, const char *part)
{
	const struct scenario *sc = tc->sc;
	char run[24], first[16];

	if (sc && !((sc->part_needs | implicit_needs()) & NEED_BIT(need))) {
		tc_fail(tc, "%s: %s is not among the scenario's part needs (.part_needs)", part,
			needs[need].what);
		return false;
	}
	if (!need_predated(need))
		return false;
	tc_skip_part(tc, part, "kernel %s predates %s (first in %s)",
		     need_kver_str(kver_running(), run, sizeof(run)), needs[need].what,
		     need_kver_str(needs[need].first, first, sizeof(first)));
	return true;
}
