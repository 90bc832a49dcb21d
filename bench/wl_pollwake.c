// SPDX-License-Identifier: MIT
/*
 * pollwake: M writer threads wake one owner task through io_uring. The
 * owner keeps a multishot IORING_OP_POLL_ADD armed on each socket; a
 * write wakes the poll (io_poll_wake(), in the writer's context, on its
 * CPU), which queues task_work for the owner; the task_work posts the
 * CQE. So every token is one task_work item pushed by another thread:
 *   default: normal task_work (tctx->task_list), notified with TWA_SIGNAL;
 *   coop:    the same with COOP_TASKRUN | TASKRUN_FLAG (no IPI);
 *   defer:   local task_work on ctx->work_list, run when the owner waits;
 *   sqpoll:  normal task_work of the SQ thread, which runs it in its loop.
 * epoll_wake is the same writers and sockets with the owner in
 * epoll_wait() instead: the wake-up without io_uring, for comparison.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "ring.h"
#include "token.h"

#define WAIT_SLICE_MS	50

static const char *pollwake_path(const char *mode)
{
	if (!strcmp(mode, "defer"))
		return "socket write -> poll wake -> local task_work (DEFER_TASKRUN)";
	if (!strcmp(mode, "sqpoll"))
		return "socket write -> poll wake -> normal task_work run by the SQ thread";
	if (!strcmp(mode, "coop"))
		return "socket write -> poll wake -> normal task_work (COOP_TASKRUN, no IPI)";
	return "socket write -> poll wake -> normal task_work (TWA_SIGNAL)";
}

static const char *epoll_path(const char *mode)
{
	(void)mode;
	return "socket write -> epoll_wait wake-up (no io_uring: comparison)";
}

static int arm(struct io_uring *ring, struct token_slot *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_multishot(sqe, s->rx, POLLIN);
	io_uring_sqe_set_data64(sqe, (uint64_t)s->id);
	return 0;
}

/* One reaped CQE: a token, or the end of a multishot poll to re-arm. */
static void on_cqe(struct token_fan *f, struct io_uring *ring, struct io_uring_cqe *cqe,
		   int64_t now, struct hist *lat, bool counting, uint64_t *ops)
{
	struct token_slot *s = &f->slot[cqe->user_data];

	if (cqe->res > 0) {
		if (token_seen(s, now, lat, counting))
			*ops += counting;
	} else if (cqe->res != -ECANCELED) {
		bench_error(f->meas, "owner: poll on socket %d: %s", s->id, strerror(-cqe->res));
	}
	/* Without F_MORE the poll is gone (a CQ overflow, a kernel limit):
	 * arm it again or that writer starves. */
	if (!(cqe->flags & IORING_CQE_F_MORE) && cqe->res >= 0 && arm(ring, s))
		bench_error(f->meas, "owner: cannot re-arm the poll of socket %d", s->id);
}

static void own(struct token_fan *f, struct io_uring *ring)
{
	struct measurement *meas = f->meas;
	struct io_uring_cqe *cqes[BENCH_MAX_PRODUCERS];
	struct hist *lat = hist_new();
	uint64_t ops = 0;
	struct sleep_meter sm = { 0 };

	while (!(bench_stopping(meas) && token_producers_done(f))) {
		int ret;
		unsigned n;

		sleep_meter_tick(&sm, bench_measuring(meas));
		ret = bench_ring_wait(ring, 1, WAIT_SLICE_MS);
		if (ret) {
			bench_error(meas, "owner: wait: %s", strerror(-ret));
			break;
		}
		n = io_uring_peek_batch_cqe(ring, cqes, BENCH_MAX_PRODUCERS);
		if (n) {
			bool counting = bench_measuring(meas);
			int64_t now = now_ns();

			for (unsigned i = 0; i < n; i++)
				on_cqe(f, ring, cqes[i], now, lat, counting, &ops);
			io_uring_cq_advance(ring, n);
			if (io_uring_sq_ready(ring) && io_uring_submit(ring) < 0)
				bench_error(meas, "owner: re-arm submit failed");
		}
	}
	bench_add_tally(meas, ops, lat, &sm);
	hist_free(lat);
}

struct owner {
	struct token_fan *f;
	int setup_err;
	bool refused;			/* the kernel refused the mode: a skip */
	char why[160];
	struct tw_event setup_done;
};

static void *owner_main(void *arg)
{
	struct owner *o = arg;
	struct measurement *meas = o->f->meas;
	struct io_uring ring;
	int ret;

	o->setup_err = bench_ring_init(&ring, meas->mode, BENCH_MAX_PRODUCERS, o->why,
				       sizeof(o->why));
	o->refused = o->setup_err != 0;
	if (!o->setup_err) {
		for (int i = 0; i < meas->producers; i++)
			arm(&ring, &o->f->slot[i]);
		ret = io_uring_submit(&ring);
		if (ret != meas->producers) {
			snprintf(o->why, sizeof(o->why), "arming %d multishot polls: %d",
				 meas->producers, ret);
			o->setup_err = ret < 0 ? ret : -EIO;
			io_uring_queue_exit(&ring);
		}
	}
	tw_event_set(&o->setup_done);
	if (o->setup_err)
		return NULL;
	bench_worker_ready(meas, BENCH_CONSUMER);
	own(o->f, &ring);
	io_uring_queue_exit(&ring);
	return NULL;
}

/* The same for both consumers: owner thread, producers, drive, join. */
static enum bench_status fan_measure(struct measurement *meas, void *(*owner_fn)(void *),
				     char *why, size_t whylen)
{
	pthread_t pt[BENCH_MAX_PRODUCERS], ot;
	struct token_fan f;
	struct owner o = { .f = &f };
	struct deadline dl = bench_wait_deadline(meas);
	int ret = token_fan_init(&f, meas);

	if (ret) {
		snprintf(why, whylen, "socketpair: %s", strerror(-ret));
		return BENCH_ERROR;
	}
	tw_barrier_init(&meas->ready, (uint32_t)meas->producers + 2);
	if (pthread_create(&ot, NULL, owner_fn, &o)) {
		token_fan_exit(&f);
		snprintf(why, whylen, "cannot start the owner thread");
		return BENCH_ERROR;
	}
	if (tw_event_wait(&o.setup_done, &dl) || o.setup_err) {
		pthread_join(ot, NULL);
		token_fan_exit(&f);
		snprintf(why, whylen, "%s", o.setup_err ? o.why : "the owner never set up");
		/* A mode the kernel refuses is a skip; a broken arming or epoll is not. */
		return o.refused ? BENCH_SKIP : BENCH_ERROR;
	}
	if (token_producers_start(&f, pt)) {
		bench_error(meas, "cannot start %d producer threads", meas->producers);
		__atomic_store_n(&meas->phase, PH_STOP, __ATOMIC_RELEASE);
		__atomic_store_n(&f.producers_done, meas->producers, __ATOMIC_RELEASE);
	} else {
		bench_drive(meas);
		bench_threads_join(pt, meas->producers);
	}
	pthread_join(ot, NULL);
	token_fan_exit(&f);
	return meas->errors ? BENCH_ERROR : BENCH_OK;
}

static enum bench_status pollwake_measure(struct measurement *meas, char *why, size_t whylen)
{
	return fan_measure(meas, owner_main, why, whylen);
}

static void *epoll_owner_main(void *arg)
{
	struct owner *o = arg;
	struct token_fan *f = o->f;
	struct measurement *meas = f->meas;
	struct epoll_event ev[BENCH_MAX_PRODUCERS];
	struct hist *lat;
	uint64_t ops = 0;
	struct sleep_meter sm = { 0 };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	for (int i = 0; ep >= 0 && i < meas->producers; i++) {
		struct epoll_event e = { .events = EPOLLIN | EPOLLET, .data.u32 = (uint32_t)i };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, f->slot[i].rx, &e)) {
			close(ep);
			ep = -1;
		}
	}
	if (ep < 0) {
		o->setup_err = -errno;
		snprintf(o->why, sizeof(o->why), "epoll: %s", strerror(errno));
	}
	tw_event_set(&o->setup_done);
	if (o->setup_err)
		return NULL;
	bench_worker_ready(meas, BENCH_CONSUMER);
	lat = hist_new();
	while (!(bench_stopping(meas) && token_producers_done(f))) {
		int n;
		bool counting;
		int64_t now;

		sleep_meter_tick(&sm, bench_measuring(meas));
		n = epoll_wait(ep, ev, BENCH_MAX_PRODUCERS, WAIT_SLICE_MS);
		counting = bench_measuring(meas);
		now = now_ns();

		for (int i = 0; i < n; i++)
			if (token_seen(&f->slot[ev[i].data.u32], now, lat, counting))
				ops += counting;
	}
	bench_add_tally(meas, ops, lat, &sm);
	hist_free(lat);
	close(ep);
	return NULL;
}

static enum bench_status epoll_measure(struct measurement *meas, char *why, size_t whylen)
{
	return fan_measure(meas, epoll_owner_main, why, whylen);
}

const struct workload wl_pollwake = {
	.name = "pollwake",
	.modes = { "default", "coop", "defer", "sqpoll", NULL },
	.fan_in = true,
	.path = pollwake_path,
	.measure = pollwake_measure,
};

const struct workload wl_epoll_wake = {
	.name = "epoll_wake",
	.modes = { "epoll", NULL },
	.fan_in = true,
	.path = epoll_path,
	.measure = epoll_measure,
};
