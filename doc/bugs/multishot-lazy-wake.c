// SPDX-License-Identifier: MIT
/*
 * cc -O2 -Wall -o /tmp/multishot-lazy-wake doc/bugs/multishot-lazy-wake.c -luring -lpthread
 * Suite: test/regress_multishot_lazy_wake.t -p defer
 * Says: lost wake-up
 *
 * io_uring: a DEFER_TASKRUN ring's owner waiting for 2 CQEs of one multishot
 * request is never woken, although both CQEs can be posted.
 *
 * The owner of an IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN
 * ring has one multishot request armed and sleeps in io_uring_enter(
 * GETEVENTS, min_complete = 2). Once it is seen asleep (/proc: state S and a
 * voluntary context switch since it entered), another thread makes the
 * request's socket ready for two CQEs:
 *
 *   dgram   multishot recv on an AF_UNIX SOCK_DGRAM socketpair, buffers from
 *           IORING_OP_PROVIDE_BUFFERS; two datagrams sent back to back
 *           (two poll wake-ups, the second finds the request still owned)
 *   stream  multishot recv on an AF_UNIX SOCK_STREAM socketpair, 64-byte
 *           buffers; one write of 128 bytes (one wake-up, two CQEs)
 *   accept  multishot accept on an AF_UNIX listener; two connect()s. Accept
 *           polls with EPOLLEXCLUSIVE, which has had no lazy wake since
 *           595e52284d24: woken on every kernel, a control.
 *
 * Each poll wake-up queues the request's task_work with IOU_F_TWQ_LAZY_WAKE,
 * which counts task_work items down from min_complete; a multishot request
 * has one item queued at most, which posts all its CQEs, so the count stops
 * at 1 and the owner sleeps until its timeout (1.5 s here; without a
 * timeout, forever). A fixed kernel wakes it at once.
 *
 * Usage: multishot-lazy-wake [dgram|stream|accept]...  (default: all three)
 * Exit status: 0 every shape woken in time (fixed), 1 a lost wake-up shown,
 * 77 cannot tell (no DEFER_TASKRUN, an unexpected error, a slow wake-up).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BOUND_NS	1000000000LL	/* a wake-up takes microseconds: 1 s is plenty */
#define TIMEOUT_NS	1500000000LL	/* the wait's rescue timeout */
#define BUF_LEN		64
#define NR_BUFS		8
#define BGID		7
#define REQ_UD		42

enum shape { DGRAM, STREAM, ACCEPT };
static const char *const shape_name[] = { "dgram", "stream", "accept" };

struct trigger {
	enum shape shape;
	int fd;				/* the peer socket, or the listener */
	pid_t waiter;			/* the ring owner's thread id */
	atomic_int entering;		/* the owner is about to enter the kernel */
	long nvcsw;			/* its voluntary context switches then */
	long long sent_ns;		/* when the trigger's last step returned */
	int err;			/* 0, or what went wrong (errno) */
	int conns[2];			/* accept: the connected clients */
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * The thread has gone to sleep in the kernel: state S, and it switched out
 * voluntarily since it took `since` (its RUSAGE_THREAD ru_nvcsw). State S
 * alone shows from set_current_state() on, before the wait's last checks:
 * an event then is found by those checks, not delivered by a wake-up.
 */
static bool asleep(pid_t tid, long since)
{
	char path[64], line[256];
	long nvcsw = -1;
	char state = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "State: %c", &state);
		sscanf(line, "voluntary_ctxt_switches: %ld", &nvcsw);
	}
	fclose(f);
	return state == 'S' && nvcsw > since;
}

/* Once the owner sleeps in io_uring_enter(), only a wake-up can end its wait. */
static void *trigger_fn(void *arg)
{
	struct trigger *t = arg;
	long long deadline = now_ns() + 5000000000LL;
	char data[2 * BUF_LEN];
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);

	while (!atomic_load(&t->entering) || !asleep(t->waiter, t->nvcsw)) {
		if (now_ns() > deadline) {
			t->err = ETIMEDOUT;
			return NULL;
		}
		sched_yield();
	}
	memset(data, 'x', sizeof(data));
	switch (t->shape) {
	case DGRAM:	/* two datagrams, two wake-ups */
		if (send(t->fd, data, 32, 0) != 32 || send(t->fd, data, 32, 0) != 32)
			t->err = errno ? errno : EIO;
		break;
	case STREAM:	/* one write, one wake-up, two buffers' worth */
		if (write(t->fd, data, sizeof(data)) != (ssize_t)sizeof(data))
			t->err = errno ? errno : EIO;
		break;
	case ACCEPT:	/* two connections, two wake-ups */
		if (getsockname(t->fd, (struct sockaddr *)&sun, &len)) {
			t->err = errno;
			break;
		}
		for (int i = 0; i < 2 && !t->err; i++) {
			t->conns[i] = socket(AF_UNIX, SOCK_STREAM, 0);
			if (t->conns[i] < 0 || connect(t->conns[i], (struct sockaddr *)&sun, len))
				t->err = errno;
		}
		break;
	}
	t->sent_ns = now_ns();
	return NULL;
}

/* Submit one SQE and wait for its CQE: the buffers' PROVIDE_BUFFERS. */
static int provide_buffers(struct io_uring *ring, void *bufs)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret;

	io_uring_prep_provide_buffers(sqe, bufs, BUF_LEN, NR_BUFS, BGID, 0);
	ret = io_uring_submit_and_wait(ring, 1);
	if (ret < 0)
		return ret;
	ret = io_uring_peek_cqe(ring, &cqe);
	if (ret)
		return ret;
	ret = cqe->res < 0 ? cqe->res : 0;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

/* The shape's sockets: fds[0] the request's, fds[1] the trigger's. */
static int make_sockets(enum shape shape, int fds[2])
{
	sa_family_t autobind = AF_UNIX;

	if (shape != ACCEPT)
		return socketpair(AF_UNIX, shape == DGRAM ? SOCK_DGRAM : SOCK_STREAM, 0, fds);
	fds[0] = socket(AF_UNIX, SOCK_STREAM, 0);
	fds[1] = fds[0];
	if (fds[0] < 0)
		return -1;
	/* An address of just the family: the kernel picks an abstract name. */
	if (bind(fds[0], (struct sockaddr *)&autobind, sizeof(autobind)) || listen(fds[0], 8))
		return -1;
	return 0;
}

/* 0 woken in time, 1 lost wake-up, 77 cannot tell. */
static int run_shape(enum shape shape)
{
	static char bufs[NR_BUFS][BUF_LEN];
	const char *name = shape_name[shape];
	struct io_uring_params p = {
		.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	};
	struct __kernel_timespec ts = { TIMEOUT_NS / 1000000000LL, TIMEOUT_NS % 1000000000LL };
	struct io_uring_getevents_arg arg = { .ts = (unsigned long)&ts };
	struct trigger t = { .shape = shape, .waiter = gettid(), .conns = { -1, -1 } };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	unsigned head, ours = 0, others = 0;
	long long late_ns, slept_ns;
	int fds[2] = { -1, -1 }, ret, verdict = 77;
	struct rusage ru;
	pthread_t th;

	ret = io_uring_queue_init_params(8, &ring, &p);
	if (ret) {
		printf("%s: cannot tell: DEFER_TASKRUN ring setup: %s\n", name, strerror(-ret));
		return 77;
	}
	if (make_sockets(shape, fds)) {
		printf("%s: cannot tell: sockets: %s\n", name, strerror(errno));
		goto out;
	}
	t.fd = fds[1];
	if (shape == ACCEPT) {
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_multishot_accept(sqe, fds[0], NULL, NULL, 0);
	} else {
		ret = provide_buffers(&ring, bufs);
		if (ret) {
			printf("%s: cannot tell: PROVIDE_BUFFERS: %s\n", name, strerror(-ret));
			goto out;
		}
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_recv_multishot(sqe, fds[0], NULL, 0, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = BGID;
	}
	sqe->user_data = REQ_UD;
	/* Nothing to receive or accept yet: the request arms its poll. */
	if (io_uring_submit(&ring) != 1) {
		printf("%s: cannot tell: submit failed\n", name);
		goto out;
	}
	if (pthread_create(&th, NULL, trigger_fn, &t)) {
		printf("%s: cannot tell: pthread_create failed\n", name);
		goto out;
	}
	getrusage(RUSAGE_THREAD, &ru);
	t.nvcsw = ru.ru_nvcsw;
	atomic_store(&t.entering, 1);
	slept_ns = now_ns();
	ret = io_uring_enter2(ring.ring_fd, 0, 2, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
			      (sigset_t *)&arg, sizeof(arg));
	late_ns = now_ns();
	slept_ns = late_ns - slept_ns;
	pthread_join(th, NULL);
	late_ns -= t.sent_ns;
	if (t.err) {
		printf("%s: cannot tell: the trigger failed: %s\n", name, strerror(t.err));
		goto out;
	}
	io_uring_get_events(&ring);		/* run what the wait left queued */
	io_uring_for_each_cqe(&ring, head, cqe) {
		if (cqe->user_data == REQ_UD && (cqe->flags & IORING_CQE_F_MORE) &&
		    (shape == ACCEPT ? cqe->res >= 0 : cqe->res == (shape == DGRAM ? 32 : BUF_LEN)))
			ours++;
		else
			others++;
		if (shape == ACCEPT && cqe->res >= 0)
			close(cqe->res);	/* the accepted connection */
	}
	if (others || ours != 2) {
		printf("%s: cannot tell: expected the multishot request's 2 CQEs (F_MORE, the "
		       "bytes sent or a socket), found %u (and %u others)\n", name, ours, others);
	} else if (ret == 0 && late_ns <= BOUND_NS) {
		printf("%s: woken %.3f ms after the trigger\n", name, late_ns / 1e6);
		verdict = 0;
	} else if ((ret == 0 || ret == -ETIME) && slept_ns >= TIMEOUT_NS) {
		/* The timeout ran the queued task_work, which posted both CQEs. */
		printf("%s: lost wake-up: io_uring_enter(min_complete=2) slept to its %.1f s "
		       "timeout, %.3f s after the trigger; then 2 CQEs were there\n",
		       name, TIMEOUT_NS / 1e9, late_ns / 1e9);
		verdict = 1;
	} else {
		printf("%s: cannot tell: the wait returned %d, %.3f s after the trigger\n", name,
		       ret, late_ns / 1e9);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (t.conns[i] >= 0)
			close(t.conns[i]);
		if (fds[i] >= 0 && (i == 0 || fds[1] != fds[0]))
			close(fds[i]);
	}
	io_uring_queue_exit(&ring);
	return verdict;
}

int main(int argc, char **argv)
{
	enum shape shapes[8] = { DGRAM, STREAM, ACCEPT };
	int n = argc > 1 ? argc - 1 : 3, worst = 0, nlost = 0;
	const char *lost[8];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (n > 8)
		n = 8;
	for (int i = 0; argc > 1 && i < n; i++) {
		int k = 0;

		while (k < 3 && strcmp(argv[i + 1], shape_name[k]))
			k++;
		if (k == 3) {
			fprintf(stderr, "usage: %s [dgram|stream|accept]...\n", argv[0]);
			return 2;
		}
		shapes[i] = k;
	}
	/* A process per shape: an earlier ring's exit work would queue task_work
	 * to this task (io_tctx_exit_cb, TWA_SIGNAL), a wake-up of its own. */
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		int status, v = 77;

		if (pid == 0)
			_exit(run_shape(shapes[i]));
		if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
			v = WEXITSTATUS(status);
		if (v == 1)
			lost[nlost++] = shape_name[shapes[i]];
		if (v == 1 || (v == 77 && worst == 0))
			worst = v;
	}
	if (worst == 1) {
		printf("bug: lost wake-up in");
		for (int i = 0; i < nlost; i++)
			printf(" %s", lost[i]);
		printf("\n");
	} else {
		printf("%s\n", worst ? "cannot tell" : "fixed: every wait was woken in time");
	}
	return worst;
}
