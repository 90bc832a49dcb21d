// SPDX-License-Identifier: MIT
/*
 * What io_uring keeps per task (struct io_uring_task, io_uring/tctx.c)
 * beside its task_work list, driven from userspace and checked by what it
 * returns. On a ring of the case's profile:
 *  - the registered ring fds (io_ringfd_register, io_ringfd_unregister):
 *    a ring registered at an offset answers IORING_ENTER_REGISTERED_RING
 *    there; offsets taken are -EBUSY, a full table -EBUSY, a pipe
 *    -EOPNOTSUPP, a closed fd -EBADF, resv/data/offset out of range
 *    -EINVAL, 0 or more than 16 entries -EINVAL, an unreadable array
 *    -EFAULT, an array it cannot write back -EFAULT with the entry undone
 *    (the slot is free again), a batch stops at its first bad entry and
 *    says how many it did, and a thread that never used io_uring
 *    unregisters nothing (0);
 *  - a ring set up IORING_SETUP_REGISTERED_FD_ONLY (6.5, with NO_MMAP)
 *    returns the registered index, the first free one, and -EBUSY once all
 *    16 are taken (io_ring_add_registered_file);
 *  - io-wq limits set on the ring (IORING_REGISTER_IOWQ_MAX_WORKERS) are
 *    the limits of a new task's io-wq once it submits there (the tctx it
 *    gets in __io_uring_add_tctx_node);
 *  - a SINGLE_ISSUER ring refuses another task's submission (-EEXIST);
 *  - a thread that exits with a ring fd registered puts it: the ring, its
 *    fd closed, is torn down (a probe proves it; io_uring_unreg_ringfd);
 * Task restrictions, the rest of the task's io_uring state, are
 * test/task_restrictions.c's.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

#define RINGFD_MAX			16	/* IO_RINGFD_REG_MAX */
#define TW_SETUP_NO_MMAP		(1U << 14)	/* IORING_SETUP_NO_MMAP, 6.5 */
#define TW_SETUP_REGISTERED_FD_ONLY	(1U << 15)	/* ..._REGISTERED_FD_ONLY, 6.5 */

struct state {
	struct tcase *tc;
	struct tring r;
	struct tring plain;		/* a default ring, for a thread of no profile */
	int pipe[2];
	void *unmapped, *readonly;	/* no memory; a page that cannot be written */
};

static int reg_call(int fd, unsigned op, void *arg, unsigned nr)
{
	int ret = syscall(__NR_io_uring_register, fd, op, arg, nr);

	return ret < 0 ? -errno : ret;
}

/* Register (op IORING_REGISTER_RING_FDS) or unregister n entries; each
 * entry's offset and data as given, the answer must be want. */
static void ringfds(struct state *s, const char *what, unsigned op, struct io_uring_rsrc_update *u,
		    unsigned n, int want)
{
	int ret = reg_call(tring_fd(&s->r), op, u, n);

	if (ret != want)
		tc_fail(s->tc, "%s: %s returned %d (%s), expected %d (%s)", what,
			op == IORING_REGISTER_RING_FDS ? "IORING_REGISTER_RING_FDS" :
			"IORING_UNREGISTER_RING_FDS", ret, ret < 0 ? strerror(-ret) : "ok", want,
			want < 0 ? strerror(-want) : "ok");
}

#define UPD(off, fd)	((struct io_uring_rsrc_update){ .offset = (off), .data = (uint64_t)(fd) })

/* A NOP entered through the registered index idx: the ring it names works. */
static void enter_registered(struct state *s, unsigned idx, const char *what)
{
	struct io_uring_sqe *sqe = tring_sqe(&s->r);
	struct deadline dl = tc_deadline(s->tc);
	int ret;

	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, 0x600d);
	io_uring_smp_store_release(s->r.ring.sq.ktail, s->r.ring.sq.sqe_tail);
	s->r.ring.sq.sqe_head = s->r.ring.sq.sqe_tail;
	ret = io_uring_enter2((int)idx, 1, 0, IORING_ENTER_REGISTERED_RING |
			      (s->r.prof->props & PROF_SQPOLL ? IORING_ENTER_SQ_WAKEUP : 0), NULL, 0);
	if (ret != 1) {
		tc_fail(s->tc, "%s: io_uring_enter through registered index %u: %d (%s), expected "
			"1 submitted", what, idx, ret, ret < 0 ? strerror(-ret) : "ok");
		return;
	}
	if (tring_await(s->tc, &s->r, 1, &dl, "the NOP entered through index %u (%s)", idx,
			what) == V_PASS)
		io_uring_cq_advance(&s->r.ring, 1);
}

static void ringfd_table(struct state *s)
{
	struct io_uring_rsrc_update u[RINGFD_MAX + 1], *ro = s->readonly;
	int fd = tring_fd(&s->r);

	u[0] = UPD(3, fd);
	ringfds(s, "register at offset 3", IORING_REGISTER_RING_FDS, u, 1, 1);
	if (!tc_failed(s->tc))
		enter_registered(s, 3, "registered at offset 3");
	u[0] = UPD(3, fd);
	ringfds(s, "register at a taken offset", IORING_REGISTER_RING_FDS, u, 1, -EBUSY);
	u[0] = UPD(RINGFD_MAX, fd);
	ringfds(s, "register past the table", IORING_REGISTER_RING_FDS, u, 1, -EINVAL);
	u[0] = UPD(-1U, s->pipe[0]);
	ringfds(s, "register a pipe", IORING_REGISTER_RING_FDS, u, 1, -EOPNOTSUPP);
	u[0] = UPD(-1U, -1);
	ringfds(s, "register a closed fd", IORING_REGISTER_RING_FDS, u, 1, -EBADF);
	u[0] = UPD(-1U, fd);
	u[0].resv = 1;
	ringfds(s, "register with resv set", IORING_REGISTER_RING_FDS, u, 1, -EINVAL);
	ringfds(s, "register no entry", IORING_REGISTER_RING_FDS, u, 0, -EINVAL);
	ringfds(s, "register 17 entries", IORING_REGISTER_RING_FDS, u, RINGFD_MAX + 1, -EINVAL);
	ringfds(s, "register from an unmapped array", IORING_REGISTER_RING_FDS, s->unmapped, 1,
		-EFAULT);
	/* Read but not written back: the slot it took (the first free, 0) is
	 * given back, the next registration gets it. */
	ringfds(s, "register from a read-only array", IORING_REGISTER_RING_FDS, ro, 1, -EFAULT);
	u[0] = UPD(-1U, fd);
	ringfds(s, "register after the read-only attempt", IORING_REGISTER_RING_FDS, u, 1, 1);
	if (!tc_failed(s->tc) && u[0].offset != 0)
		tc_fail(s->tc, "register after the read-only attempt: offset %u, expected 0, the "
			"slot the attempt must have given back", u[0].offset);
	/* A batch stops at its first bad entry and counts what it did. */
	u[0] = UPD(-1U, fd);
	u[1] = UPD(-1U, s->pipe[0]);
	u[2] = UPD(-1U, fd);
	ringfds(s, "a batch whose second entry is a pipe", IORING_REGISTER_RING_FDS, u, 3, 1);
	/* Taken so far: 3, 0 and 1. Fill up. */
	for (unsigned i = 0; i < RINGFD_MAX - 3; i++)
		u[i] = UPD(-1U, fd);
	ringfds(s, "fill the table", IORING_REGISTER_RING_FDS, u, RINGFD_MAX - 3, RINGFD_MAX - 3);
	ringfds(s, "register into a full table", IORING_REGISTER_RING_FDS, u, 1, -EBUSY);
	/* Unregistering. */
	u[0] = UPD(RINGFD_MAX, 0);
	ringfds(s, "unregister past the table", IORING_UNREGISTER_RING_FDS, u, 1, -EINVAL);
	u[0] = UPD(0, fd);
	ringfds(s, "unregister with data set", IORING_UNREGISTER_RING_FDS, u, 1, -EINVAL);
	ringfds(s, "unregister no entry", IORING_UNREGISTER_RING_FDS, u, 0, -EINVAL);
	ringfds(s, "unregister from an unmapped array", IORING_UNREGISTER_RING_FDS, s->unmapped,
		1, -EFAULT);
	for (unsigned i = 0; i < RINGFD_MAX; i++)
		u[i] = UPD(i, 0);
	ringfds(s, "unregister all 16", IORING_UNREGISTER_RING_FDS, u, RINGFD_MAX, RINGFD_MAX);
	u[0] = UPD(-1U, fd);
	ringfds(s, "register after unregistering all", IORING_REGISTER_RING_FDS, u, 1, 1);
	if (!tc_failed(s->tc) && u[0].offset != 0)
		tc_fail(s->tc, "register after unregistering all: offset %u, expected the first (0)",
			u[0].offset);
	u[0] = UPD(0, 0);
	ringfds(s, "unregister it", IORING_UNREGISTER_RING_FDS, u, 1, 1);
}

/* A thread that never used io_uring has no task context to unregister from. */
static void *fresh_unregister(struct tw_thread *t)
{
	struct state *s = t->arg;
	struct io_uring_rsrc_update u = UPD(0, 0);

	int ret = reg_call(tring_fd(&s->plain), IORING_UNREGISTER_RING_FDS, &u, 1);

	if (ret != 0)
		tc_fail(s->tc, "IORING_UNREGISTER_RING_FDS in a thread that never used io_uring: "
			"%d (%s), expected 0", ret, ret < 0 ? strerror(-ret) : "ok");
	return NULL;
}

/*
 * Another task submits to the ring: with limits set on the ring, its new
 * io-wq must have them (asked with zeros, the register call answers the
 * caller's limits); a SINGLE_ISSUER ring refuses it.
 */
static void *other_task(struct tw_thread *t)
{
	struct state *s = t->arg;
	struct io_uring_sqe *sqe = tring_sqe(&s->r);
	struct deadline dl = tc_deadline(s->tc);
	unsigned lim[2] = { 0, 0 };
	bool single = s->r.prof->props & PROF_SINGLE_ISSUER;
	int ret;

	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, 0x0de7);
	ret = io_uring_submit(&s->r.ring);
	if (single) {
		if (ret != -EEXIST)
			tc_fail(s->tc, "submit from a second thread to a SINGLE_ISSUER ring: %d, "
				"expected -EEXIST", ret);
		return NULL;
	}
	if (ret != 1) {
		tc_fail(s->tc, "submit from a second thread: %d, expected 1", ret);
		return NULL;
	}
	if (tring_await(s->tc, &s->r, 1, &dl, "the second thread's NOP") != V_PASS)
		return NULL;
	io_uring_cq_advance(&s->r.ring, 1);
	ret = reg_call(tring_fd(&s->r), IORING_REGISTER_IOWQ_MAX_WORKERS, lim, 2);
	if (ret || lim[0] != 3 || lim[1] != 5)
		tc_fail(s->tc, "io-wq limits of a task new to the ring: %d (%s), bounded %u, "
			"unbounded %u; expected 0 and the ring's 3 and 5", ret,
			ret ? strerror(-ret) : "ok", lim[0], lim[1]);
	return NULL;
}

static void new_task_on_ring(struct state *s)
{
	unsigned lim[2] = { 3, 5 };
	struct tw_thread t;
	int ret;

	if (tw_thread_start(s->tc, &t, "fresh", 1, fresh_unregister, s) == 0)
		tw_threads_join(s->tc, &t, 1, NULL, &s->r);
	/* SQPOLL: the SQ thread submits, the other task never enters. */
	if (s->r.prof->props & PROF_SQPOLL)
		return;
	ret = reg_call(tring_fd(&s->r), IORING_REGISTER_IOWQ_MAX_WORKERS, lim, 2);
	if (ret) {
		tc_refused(s->tc, NEED_IOWQ_MAX_WORKERS, ret, "IORING_REGISTER_IOWQ_MAX_WORKERS");
		return;
	}
	if (tw_thread_start(s->tc, &t, "other", 0, other_task, s) == 0)
		tw_threads_join(s->tc, &t, 1, NULL, &s->r);
}

/* A thread registers the ring's fd and exits without unregistering it. */
static void *register_and_exit(struct tw_thread *t)
{
	struct state *s = t->arg;
	struct io_uring_rsrc_update u = UPD(-1U, tring_fd(&s->plain));
	int ret = reg_call(tring_fd(&s->plain), IORING_REGISTER_RING_FDS, &u, 1);

	if (ret != 1)
		tc_fail(s->tc, "register in a thread that then exits: %d (%s), expected 1", ret,
			ret < 0 ? strerror(-ret) : "ok");
	return NULL;
}

/*
 * The registered ring fds of an exiting task are put (io_uring_unreg_ringfd):
 * with its fd closed, the ring's teardown must then finish (a probe).
 */
static void registered_at_exit(struct state *s)
{
	struct tw_thread t;

	if (tw_thread_start(s->tc, &t, "reg-exit", 2, register_and_exit, s) == 0)
		tw_threads_join(s->tc, &t, 1, NULL, &s->plain);
	if (!tc_failed(s->tc))
		tring_exit_proven(s->tc, &s->plain, 1, 0x9e0be);
}

/* Set up a REGISTERED_FD_ONLY ring of one entry in pages of our own. */
static int setup_fd_only(struct state *s, void *mem)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	p.flags = TW_SETUP_NO_MMAP | TW_SETUP_REGISTERED_FD_ONLY | s->r.prof->setup_flags;
	/* user_addr (6.5) is resv2 in liburing 2.3: the SQEs, then the rings. */
	p.sq_off.resv2 = (uint64_t)(uintptr_t)mem;
	p.cq_off.resv2 = (uint64_t)(uintptr_t)mem + 4096;
	if (s->r.prof->props & PROF_SQPOLL)
		p.sq_thread_idle = 10;
	return io_uring_setup(1, &p);
}

static void fd_only(struct state *s)
{
	struct io_uring_rsrc_update u[RINGFD_MAX];
	void *mem;
	int ret;

	if (tc_part_predated(s->tc, NEED_REGISTERED_FD_ONLY, "IORING_SETUP_REGISTERED_FD_ONLY"))
		return;
	mem = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		tc_fail(s->tc, "two pages for a NO_MMAP ring: %s", strerror(errno));
		return;
	}
	u[0] = UPD(0, tring_fd(&s->r));
	ringfds(s, "register at offset 0 for the REGISTERED_FD_ONLY ring",
		IORING_REGISTER_RING_FDS, u, 1, 1);
	ret = setup_fd_only(s, mem);
	if (ret < 0 && tc_refused_part(s->tc, NEED_REGISTERED_FD_ONLY, ret,
				       "IORING_SETUP_REGISTERED_FD_ONLY") == V_SKIP)
		goto out;
	if (ret != 1)
		tc_fail(s->tc, "a REGISTERED_FD_ONLY ring with index 0 taken: %d, expected index 1",
			ret);
	/* The rest of the table, then a ring that finds no index left. */
	for (unsigned i = 0; i < RINGFD_MAX - 2; i++)
		u[i] = UPD(-1U, tring_fd(&s->r));
	ringfds(s, "fill the table", IORING_REGISTER_RING_FDS, u, RINGFD_MAX - 2, RINGFD_MAX - 2);
	ret = setup_fd_only(s, mem);
	if (ret != -EBUSY)
		tc_fail(s->tc, "a REGISTERED_FD_ONLY ring with all 16 indexes taken: %d (%s), "
			"expected -EBUSY", ret, ret < 0 ? strerror(-ret) : "an index");
	for (unsigned i = 0; i < RINGFD_MAX; i++)
		u[i] = UPD(i, 0);
	ringfds(s, "unregister all 16", IORING_UNREGISTER_RING_FDS, u, RINGFD_MAX, RINGFD_MAX);
out:
	munmap(mem, 2 * 4096);
}

static enum verdict run(struct tcase *tc)
{
	struct state s = { .tc = tc };
	enum verdict v;

	if (pipe(s.pipe))
		return tc_fail(tc, "pipe: %s", strerror(errno));
	v = tring_init(tc, &s.r, "ring", tc->prof, NULL);
	if (v != V_PASS)
		return v;
	v = tring_init(tc, &s.plain, "plain", &profiles[P_DEFAULT], NULL);
	if (v != V_PASS)
		return v;
	/* After the rings: their mappings must not take the unmapped page. */
	s.unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	s.readonly = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.unmapped == MAP_FAILED || s.readonly == MAP_FAILED || munmap(s.unmapped, 4096))
		return tc_fail(tc, "mmap: %s", strerror(errno));
	*(struct io_uring_rsrc_update *)s.readonly = UPD(-1U, tring_fd(&s.r));
	if (mprotect(s.readonly, 4096, PROT_READ))
		return tc_fail(tc, "mprotect: %s", strerror(errno));
	ringfd_table(&s);
	if (!tc_failed(tc))
		fd_only(&s);
	if (!tc_failed(tc))
		new_task_on_ring(&s);
	if (!tc_failed(tc))
		registered_at_exit(&s);
	tring_exit(&s.plain);
	tring_exit(&s.r);
	return tc_verdict(tc);
}

static const struct scenario task_context = {
	.name = "task_context",
	.summary = "registered ring fds and their refusals, put at exit, REGISTERED_FD_ONLY "
		   "rings, io-wq limits and submit rights of a task new to a ring",
	.profiles = PROFILES_ALL,
	.run = run,
	.needs = NEED(RING_FD) | NEED(IOWQ_MAX_WORKERS),
	.part_needs = NEED(REGISTERED_FD_ONLY),
	.min_threads = 1,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &task_context);
}
