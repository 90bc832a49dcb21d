// SPDX-License-Identifier: MIT
/*
 * pingpong: two threads, each waiting on a ring of its own, bounce one
 * message with IORING_OP_MSG_RING. The latency is the round trip (two
 * hops); ops are round trips.
 *   defer:   both rings DEFER_TASKRUN: each hop is local task_work queued
 *            by the other thread, and a wake of a single waiter with
 *            cq_wait_nr 1 - the series' latency path.
 *   default: each hop posts the CQE directly and wakes the waiter.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "bench.h"
#include "ring.h"

#define WAIT_SLICE_MS	50

struct side {
	struct pingpong *pp;
	int id;				/* 0 serves, 1 returns */
	struct io_uring ring;
	int setup_err;
	char why[160];
} __attribute__((aligned(64)));

struct pingpong {
	struct measurement *meas;
	struct side side[2];
	struct tw_barrier set_up;	/* both rings exist, fds known (+ the driver) */
	struct tw_barrier done;		/* neither uses the other's fd any more */
};

static const char *pingpong_path(const char *mode)
{
	if (!strcmp(mode, "defer"))
		return "MSG_RING round trip between two DEFER_TASKRUN rings (local task_work)";
	return "MSG_RING round trip, CQEs posted directly (no task_work; control)";
}

static int send_to(struct side *s, int fd, uint64_t data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

	io_uring_prep_msg_ring(sqe, fd, BENCH_MSG_RES, data, 0);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	return io_uring_submit(&s->ring) == 1 ? 0 : -EIO;
}

/* The next message for this side, or 0 when stopping or broken: up to
 * --hang seconds in slices, so that a stop is seen. */
static bool receive(struct side *s, uint64_t *data)
{
	struct measurement *meas = s->pp->meas;
	struct deadline dl = bench_wait_deadline(meas);
	struct io_uring_cqe *cqe;

	for (;;) {
		int ret = bench_ring_wait(&s->ring, 1, WAIT_SLICE_MS);

		if (ret) {
			bench_error(meas, "side %d: wait: %s", s->id, strerror(-ret));
			return false;
		}
		if (!io_uring_peek_cqe(&s->ring, &cqe)) {
			int res = cqe->res;

			*data = cqe->user_data;
			io_uring_cqe_seen(&s->ring, cqe);
			if (res == BENCH_MSG_RES)
				return true;
			bench_error(meas, "side %d: a CQE with res %d (MSG_RING failed?)",
				    s->id, res);
			return false;
		}
		/* Side 0 sends only while not stopping and always waits for the
		 * answer: once stopping, a quiet slice means nothing is in flight. */
		if (bench_stopping(meas) && s->id == 1)
			return false;
		if (deadline_passed(&dl)) {
			bench_error(meas, "side %d: no message for %d s: lost", s->id,
				    meas->o->hang_s);
			return false;
		}
	}
}

static void *side_main(void *arg)
{
	struct side *s = arg;
	struct pingpong *pp = s->pp;
	struct measurement *meas = pp->meas;
	struct side *other = &pp->side[!s->id];
	struct hist *lat = hist_new();
	struct deadline dl = bench_wait_deadline(meas);
	uint64_t ops = 0, data;
	struct sleep_meter sm = { 0 };

	s->setup_err = bench_ring_init(&s->ring, meas->mode, 8, s->why, sizeof(s->why));
	tw_barrier_wait(&pp->set_up, &dl);
	if (s->setup_err || other->setup_err)
		goto out;
	bench_worker_ready(meas, s->id == 0 ? BENCH_CONSUMER : 0);
	if (s->id == 0) {
		while (!bench_stopping(meas)) {
			int64_t t = now_ns();

			sleep_meter_tick(&sm, bench_measuring(meas));
			if (send_to(s, other->ring.ring_fd, (uint64_t)t)) {
				bench_error(meas, "side 0: MSG_RING submit failed");
				break;
			}
			if (!receive(s, &data))
				break;
			if (bench_measuring(meas)) {
				hist_record(lat, now_ns() - t);
				ops++;
			}
		}
	} else {
		while (receive(s, &data)) {
			if (bench_fault_now(FAULT_LOST_REPLY))
				continue;
			if (send_to(s, other->ring.ring_fd, data)) {
				bench_error(meas, "side 1: MSG_RING submit failed");
				break;
			}
			if (bench_stopping(meas))
				break;
		}
	}
	bench_add_tally(meas, ops, lat, s->id == 0 ? &sm : NULL);
out:
	/* Neither ring goes before both sides are done with the other's fd. */
	dl = bench_wait_deadline(meas);
	tw_barrier_wait(&pp->done, &dl);
	if (!s->setup_err)
		io_uring_queue_exit(&s->ring);
	hist_free(lat);
	return NULL;
}

static enum bench_status pingpong_measure(struct measurement *meas, char *why, size_t whylen)
{
	struct pingpong pp = { .meas = meas };
	struct deadline dl = bench_wait_deadline(meas);
	pthread_t t[2];
	int bad;

	tw_barrier_init(&pp.set_up, 3);
	tw_barrier_init(&pp.done, 2);
	tw_barrier_init(&meas->ready, 3);
	for (int i = 0; i < 2; i++)
		pp.side[i] = (struct side){ .pp = &pp, .id = i };
	if (bench_threads_start(t, 2, side_main, pp.side, sizeof(pp.side[0]))) {
		snprintf(why, whylen, "cannot start two threads");
		return BENCH_ERROR;
	}
	if (tw_barrier_wait(&pp.set_up, &dl))
		bench_error(meas, "the two sides never set up their rings");
	bad = pp.side[0].setup_err ? 0 : pp.side[1].setup_err ? 1 : -1;
	if (bad < 0 && !meas->errors)
		bench_drive(meas);
	bench_threads_join(t, 2);
	if (bad >= 0) {
		snprintf(why, whylen, "%s", pp.side[bad].why);
		return BENCH_SKIP;
	}
	return meas->errors ? BENCH_ERROR : BENCH_OK;
}

const struct workload wl_pingpong = {
	.name = "pingpong",
	.modes = { "defer", "default", NULL },
	.fan_in = false,
	.path = pingpong_path,
	.measure = pingpong_measure,
};
