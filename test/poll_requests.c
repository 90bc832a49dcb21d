// SPDX-License-Identifier: MIT
/*
 * IORING_OP_POLL_ADD and IORING_OP_POLL_REMOVE beyond a plain wake-up, on
 * a ring of the case's profile (io_uring/poll.c). Each step arms, updates
 * or removes polls and names every CQE it must see, with its res and
 * flags; a NOP after the step must be the next CQE. The steps:
 *  - refusals at prep (io_poll_add_prep, io_poll_remove_prep): -EINVAL
 *    for addr set, an unknown or internal flag (IORING_POLL_ADD_LEVEL),
 *    a multishot poll with IOSQE_CQE_SKIP_SUCCESS, a remove with only
 *    IORING_POLL_ADD_MULTI, a new user_data or events without the update
 *    flag that asks for it;
 *  - POLL_REMOVE of nothing and of a timeout's user_data (-ENOENT), of an
 *    armed poll (0; the poll -ECANCELED); a multishot poll armed on a
 *    ready file reports at once (IORING_CQE_F_MORE) and stays armed;
 *  - updates (io_poll_remove -> io_poll_add again): a new user_data, the
 *    wake-up then reports under it and never under the old one; new
 *    events that are ready at once (POLLOUT on a pipe's write end), the
 *    poll completes with them as part of the update; a multishot poll
 *    updated stays multishot (IORING_CQE_F_MORE) until removed;
 *  - a file with two wait queues (a pipe opened O_RDWR through
 *    /proc/self/fd: its poll waits on both, a second io_poll entry,
 *    __io_queue_proc): polls removed, woken on the first queue (POLLIN)
 *    and on the second (POLLOUT once a full pipe is read); a READ there
 *    waits by an internal poll, which POLL_REMOVE does not take (-ENOENT);
 *  - a regular file (no wait queue: done at arm, __io_arm_poll_handler);
 *  - POLLFREE: a child process polls its signalfd through the ring and
 *    exits; freeing its signal handlers frees the wait queue and the poll
 *    ends with -ECANCELED (io_pollfree_wake);
 *  - on DEFER_TASKRUN rings, a POLL_REMOVE while the wake-up's task_work
 *    is pending (-EALREADY), and that wake-up's event gone before it runs:
 *    vfs_poll finds nothing and the one-shot poll is armed again
 *    (IOU_POLL_REISSUE), it completes on the next write.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "harness.h"
#include "lib/cqexpect.h"

struct state {
	struct tcase *tc;
	struct tring r;
	int p[2], q[2];			/* two pipes */
};

static void expect(struct state *s, const char *step, const struct cqe_want *w, int n)
{
	cqe_expect(s->tc, &s->r, step, w, n);
}

static struct io_uring_sqe *poll_add(struct state *s, int fd, unsigned events, unsigned flags,
				     uint64_t ud)
{
	struct io_uring_sqe *sqe = tring_sqe(&s->r);

	io_uring_prep_poll_add(sqe, fd, events);
	sqe->len = flags;
	io_uring_sqe_set_data64(sqe, ud);
	return sqe;
}

static struct io_uring_sqe *poll_remove(struct state *s, uint64_t old, uint64_t new_ud,
					unsigned events, unsigned flags, uint64_t ud)
{
	struct io_uring_sqe *sqe = tring_sqe(&s->r);

	io_uring_prep_poll_update(sqe, old, new_ud, events, flags);
	io_uring_sqe_set_data64(sqe, ud);
	return sqe;
}

static void put(struct state *s, int fd, const char *what)
{
	if (write(fd, "x", 1) != 1)
		tc_fail(s->tc, "write into %s: %s", what, strerror(errno));
}

static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf))
		;
}

static void refusals(struct state *s)
{
	const int32_t E = -EINVAL;

	poll_add(s, s->p[0], POLLIN, 0, 1)->addr = 1;
	poll_add(s, s->p[0], POLLIN, 1u << 3, 2);	/* IORING_POLL_ADD_LEVEL */
	poll_add(s, s->p[0], POLLIN, IORING_POLL_ADD_MULTI, 3)->flags |= IOSQE_CQE_SKIP_SUCCESS;
	expect(s, "POLL_ADD refusals", (struct cqe_want[]){ { 1, E, 0 }, { 2, E, 0 }, { 3, E, 0 } }, 3);
	poll_remove(s, 9, 0, 0, IORING_POLL_ADD_MULTI, 4);
	poll_remove(s, 9, 7, 0, 0, 5);			/* new user_data, no UPDATE_USER_DATA */
	poll_remove(s, 9, 0, POLLIN, 0, 6);		/* events, no UPDATE_EVENTS */
	poll_remove(s, 9, 0, 0, 1u << 6, 7);
	expect(s, "POLL_REMOVE refusals",
	       (struct cqe_want[]){ { 4, E, 0 }, { 5, E, 0 }, { 6, E, 0 }, { 7, E, 0 } }, 4);
}

static void remove_and_update(struct state *s)
{
	struct __kernel_timespec ts = { .tv_sec = 600 };
	struct io_uring_sqe *sqe;

	/* Nothing by that user_data; a timeout is not a poll. */
	sqe = tring_sqe(&s->r);
	io_uring_prep_timeout(sqe, &ts, 0, 0);
	io_uring_sqe_set_data64(sqe, 0x70);
	poll_remove(s, 0x99, 0, 0, 0, 0x10);
	poll_remove(s, 0x70, 0, 0, 0, 0x11);
	expect(s, "POLL_REMOVE of nothing, of a timeout", (struct cqe_want[]){ { 0x10, -ENOENT, 0 },
	       { 0x11, -ENOENT, 0 } }, 2);
	sqe = tring_sqe(&s->r);
	io_uring_prep_timeout_remove(sqe, 0x70, 0);
	io_uring_sqe_set_data64(sqe, 0x71);
	expect(s, "removing the timeout", (struct cqe_want[]){ { 0x70, -ECANCELED, 0 },
	       { 0x71, 0, 0 } }, 2);
	/* An armed poll removed. */
	poll_add(s, s->p[0], POLLIN, 0, 0x20);
	poll_remove(s, 0x20, 0, 0, 0, 0x21);
	expect(s, "POLL_REMOVE of an armed poll", (struct cqe_want[]){ { 0x20, -ECANCELED, 0 },
	       { 0x21, 0, 0 } }, 2);
	/* A new user_data: the wake-up reports under it. */
	poll_add(s, s->p[0], POLLIN, 0, 0x30);
	poll_remove(s, 0x30, 0x31, 0, IORING_POLL_UPDATE_USER_DATA, 0x32);
	expect(s, "update of the user_data", (struct cqe_want[]){ { 0x32, 0, 0 } }, 1);
	put(s, s->p[1], "the pipe");
	expect(s, "the wake-up after the update", (struct cqe_want[]){ { 0x31, POLLIN, 0 } }, 1);
	drain(s->p[0]);
	/* New events, ready now: the update completes the poll. */
	poll_add(s, s->q[1], POLLIN, 0, 0x40);
	poll_remove(s, 0x40, 0, POLLOUT, IORING_POLL_UPDATE_EVENTS, 0x41);
	expect(s, "update of the events to ready ones", (struct cqe_want[]){ { 0x41, 0, 0 },
	       { 0x40, POLLOUT, 0 } }, 2);
	/* A multishot poll armed on a ready pipe reports at once, and stays. */
	put(s, s->p[1], "the pipe");
	poll_add(s, s->p[0], POLLIN, IORING_POLL_ADD_MULTI, 0x45);
	expect(s, "a multishot poll armed on a ready pipe",
	       (struct cqe_want[]){ { 0x45, POLLIN, IORING_CQE_F_MORE } }, 1);
	drain(s->p[0]);
	poll_remove(s, 0x45, 0, 0, 0, 0x46);
	expect(s, "POLL_REMOVE of it", (struct cqe_want[]){ { 0x45, -ECANCELED, 0 },
	       { 0x46, 0, 0 } }, 2);
	/* A multishot poll stays multishot through an update. */
	poll_add(s, s->q[0], POLLOUT, IORING_POLL_ADD_MULTI, 0x50);
	poll_remove(s, 0x50, 0, POLLIN, IORING_POLL_UPDATE_EVENTS | IORING_POLL_ADD_MULTI, 0x51);
	expect(s, "update of a multishot poll", (struct cqe_want[]){ { 0x51, 0, 0 } }, 1);
	put(s, s->q[1], "the second pipe");
	expect(s, "a wake-up of the updated multishot poll",
	       (struct cqe_want[]){ { 0x50, POLLIN, IORING_CQE_F_MORE } }, 1);
	drain(s->q[0]);
	poll_remove(s, 0x50, 0, 0, 0, 0x52);
	expect(s, "POLL_REMOVE of the multishot poll", (struct cqe_want[]){ { 0x50, -ECANCELED, 0 },
	       { 0x52, 0, 0 } }, 2);
}

/* Fill the first pipe up, by its non-blocking write end. */
static void fill(struct state *s)
{
	static const char page[4096];
	ssize_t n;

	while ((n = write(s->p[1], page, sizeof(page))) > 0)
		;
	if (errno != EAGAIN)
		tc_fail(s->tc, "filling the pipe: %s", strerror(errno));
}

static void odd_files(struct state *s)
{
	struct io_uring_sqe *sqe;
	char path[64], c;
	int rw, reg;

	/* Two wait queues: a pipe opened for reading and writing. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->p[0]);
	rw = open(path, O_RDWR);
	reg = open("/proc/self/exe", O_RDONLY);
	if (rw < 0 || reg < 0) {
		tc_fail(s->tc, "open of %s or /proc/self/exe: %s", path, strerror(errno));
		return;
	}
	poll_add(s, rw, POLLIN, 0, 0x60);
	poll_add(s, rw, POLLIN, 0, 0x61);
	poll_remove(s, 0x61, 0, 0, 0, 0x62);
	expect(s, "two polls on a pipe opened O_RDWR, one removed", (struct cqe_want[]){
	       { 0x61, -ECANCELED, 0 }, { 0x62, 0, 0 } }, 2);
	put(s, s->p[1], "the pipe");
	expect(s, "a wake-up of a poll on two wait queues", (struct cqe_want[]){
	       { 0x60, POLLIN, 0 } }, 1);
	drain(s->p[0]);
	/* A READ there waits by an internal poll (apoll) on both queues; a
	 * POLL_REMOVE does not take it, it is no POLL_ADD (io_poll_find). */
	sqe = tring_sqe(&s->r);
	io_uring_prep_read(sqe, rw, &c, 1, 0);
	io_uring_sqe_set_data64(sqe, 0x63);
	poll_remove(s, 0x63, 0, 0, 0, 0x64);
	expect(s, "POLL_REMOVE of a READ waiting by an internal poll",
	       (struct cqe_want[]){ { 0x64, -ENOENT, 0 } }, 1);
	put(s, s->p[1], "the pipe");
	expect(s, "the READ woken on its first wait queue", (struct cqe_want[]){ { 0x63, 1, 0 } }, 1);
	/* POLLOUT on a full pipe: the wake-up comes on the second queue. */
	fill(s);
	poll_add(s, rw, POLLOUT, 0, 0x65);
	expect(s, "POLLOUT on a full pipe opened O_RDWR", NULL, 0);
	drain(s->p[0]);
	expect(s, "its wake-up on the second wait queue", (struct cqe_want[]){ { 0x65, POLLOUT, 0 } }, 1);
	/* No wait queue at all: done at arm with what the file has. */
	poll_add(s, reg, POLLIN | POLLOUT, 0, 0x70);
	expect(s, "a poll on a regular file", (struct cqe_want[]){ { 0x70, POLLIN | POLLOUT, 0 } }, 1);
	close(rw);
	close(reg);
}

/* The child polls its own signalfd through the ring, then exits. */
static int signalfd_child(void *arg)
{
	struct state *s = arg;
	sigset_t m;
	int sfd;

	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sfd = signalfd(-1, &m, SFD_CLOEXEC);
	if (sfd < 0)
		return 2;
	poll_add(s, sfd, POLLIN, 0, 0x80);
	return io_uring_submit(&s->r.ring) == 1 ? 0 : 3;
}

static void pollfree(struct state *s)
{
	struct child c;

	/* A child may submit only to rings without a single issuer. */
	if (s->r.prof->props & (PROF_SINGLE_ISSUER | PROF_SQPOLL))
		return;
	if (proc_spawn(&c, signalfd_child, s)) {
		tc_fail(s->tc, "fork of the signalfd child failed");
		return;
	}
	if (proc_reap_or_kill(s->tc, &c, "signalfd child"))
		return;
	/* The child moved the SQ tail in the shared ring, not in our copy of
	 * liburing's state: take it over. */
	s->r.ring.sq.sqe_head = s->r.ring.sq.sqe_tail = io_uring_smp_load_acquire(s->r.ring.sq.ktail);
	expect(s, "a poll on a signalfd whose process exited",
	       (struct cqe_want[]){ { 0x80, -ECANCELED, 0 } }, 1);
}

/*
 * DEFER_TASKRUN: the wake-up's task_work runs only when the ring is waited
 * on. Before that, the byte is read back and a POLL_REMOVE finds the poll
 * owned by that task_work (-EALREADY, io_poll_disarm); the task_work then
 * sees two references, polls the file again, finds nothing and arms the
 * one-shot poll again (IOU_POLL_REISSUE). The next write completes it.
 */
static void reissue(struct state *s)
{
	char buf[1];

	if (!(s->r.prof->props & PROF_LOCAL_TW))
		return;
	poll_add(s, s->p[0], POLLIN, 0, 0x90);
	if (io_uring_submit(&s->r.ring) != 1) {
		tc_fail(s->tc, "submit of the poll to be re-armed failed");
		return;
	}
	put(s, s->p[1], "the pipe");
	if (read(s->p[0], buf, 1) != 1)
		tc_fail(s->tc, "read of the byte back: %s", strerror(errno));
	poll_remove(s, 0x90, 0, 0, 0, 0x91);
	expect(s, "POLL_REMOVE of a poll whose wake-up is pending",
	       (struct cqe_want[]){ { 0x91, -EALREADY, 0 } }, 1);
	put(s, s->p[1], "the pipe");
	expect(s, "the poll armed again, woken", (struct cqe_want[]){ { 0x90, POLLIN, 0 } }, 1);
	drain(s->p[0]);
}

static enum verdict run(struct tcase *tc)
{
	struct state s = { .tc = tc };
	enum verdict v;

	if (pipe(s.p) || pipe(s.q) || fcntl(s.p[0], F_SETFL, O_NONBLOCK) ||
	    fcntl(s.p[1], F_SETFL, O_NONBLOCK) ||
	    fcntl(s.q[0], F_SETFL, O_NONBLOCK))
		return tc_fail(tc, "pipes: %s", strerror(errno));
	v = tring_init(tc, &s.r, "ring", tc->prof, NULL);
	if (v != V_PASS)
		return v;
	refusals(&s);
	if (!tc_failed(tc))
		remove_and_update(&s);
	if (!tc_failed(tc))
		odd_files(&s);
	if (!tc_failed(tc))
		pollfree(&s);
	if (!tc_failed(tc))
		reissue(&s);
	tring_exit(&s.r);
	return tc_verdict(tc);
}

static const struct scenario poll_requests = {
	.name = "poll_requests",
	.summary = "POLL_ADD and POLL_REMOVE: refusals, removal, updates of user_data and events, "
		   "two wait queues, POLLFREE, a re-armed one-shot poll: every CQE exact",
	.profiles = PROFILES_ALL,
	.run = run,
	.min_threads = 1,
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &poll_requests);
}
