// SPDX-License-Identifier: MIT
/*
 * msgring: M producer threads, each with a ring of its own, send
 * IORING_OP_MSG_RING to one consumer ring (-b per submit, 1 by default:
 * one io_uring_enter per message, as an event-driven sender does); the
 * consumer waits for -c (8) at a time and reaps what is there.
 *   defer:   the target is DEFER_TASKRUN, so each message is queued as
 *            local task_work on ctx->work_list (io_msg_remote_post(), a
 *            lazy wake) and posted when the consumer waits: the
 *            multi-producer push and the cq_wait_nr accounting of the series.
 *            A consumer faster than its producers sleeps once per -c
 *            messages when lazy wake-ups work, once per message when not:
 *            the sleeps per operation column shows it.
 *   default: a target without DEFER_TASKRUN takes the CQE directly under
 *            its completion lock, no task_work: the control.
 * (6.1's io_msg_ring_data posts directly into a DEFER target too: there
 * both modes are the control.)
 * Credits keep at most --window messages in flight, so the target CQ never
 * overflows (overflow is a different path). Every message carries its send
 * time as user_data: the latency is send to reap, batching included. At
 * the end every message sent must have arrived.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "bench.h"
#include "ring.h"

#define WAIT_SLICE_MS	50

struct msgring {
	struct measurement *meas;
	int target_fd;
	int setup_err;
	char why[160];
	struct tw_event setup_done;
	struct tw_credit credit;
	uint64_t sent;			/* atomic: every producer's, at its exit */
	int producers_done;		/* atomic */
};

struct producer {
	struct msgring *m;
	int id;
} __attribute__((aligned(64)));

static const char *msgring_path(const char *mode)
{
	if (!strcmp(mode, "defer"))
		return "MSG_RING -> local task_work of a DEFER_TASKRUN ring";
	return "MSG_RING -> CQE posted directly (no task_work; control)";
}

/* Error CQEs of our own sends (CQE_SKIP_SUCCESS hides the good ones). */
static void reap_send_errors(struct msgring *m, struct io_uring *ring, int id)
{
	struct io_uring_cqe *cqe;

	while (!io_uring_peek_cqe(ring, &cqe)) {
		if (cqe->res < 0)
			bench_error(m->meas, "producer %d: MSG_RING failed: %s", id,
				    strerror(-cqe->res));
		io_uring_cqe_seen(ring, cqe);
	}
}

static void *producer_main(void *arg)
{
	struct producer *p = arg;
	struct msgring *m = p->m;
	struct measurement *meas = m->meas;
	struct io_uring ring;
	uint64_t sent = 0;
	char why[160];
	int ret;

	ret = bench_ring_init(&ring, "default", (unsigned)meas->o->batch * 2, why, sizeof(why));
	if (ret)
		bench_error(meas, "producer %d: %s", p->id, why);
	bench_worker_ready(meas, p->id);
	while (!ret && !bench_stopping(meas)) {
		int n = bench_take_credits(meas, &m->credit, p->id);
		int64_t t;

		if (!n)
			break;
		t = now_ns();
		for (int i = 0; i < n; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_msg_ring(sqe, m->target_fd, BENCH_MSG_RES, (uint64_t)t, 0);
			sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		}
		ret = io_uring_submit(&ring);
		if (ret != n) {
			bench_error(meas, "producer %d: submit of %d MSG_RING: %d", p->id, n, ret);
			break;
		}
		ret = 0;
		sent += (uint64_t)n + bench_fault_now(FAULT_LOST_MESSAGE);
		reap_send_errors(m, &ring, p->id);
	}
	__atomic_add_fetch(&m->sent, sent, __ATOMIC_SEQ_CST);
	if (!ret) {
		reap_send_errors(m, &ring, p->id);
		io_uring_queue_exit(&ring);
	}
	return NULL;
}

/* Reaps until told to stop and every message sent has arrived. */
static void consume(struct msgring *m, struct io_uring *ring)
{
	struct measurement *meas = m->meas;
	struct io_uring_cqe *cqes[256];
	uint64_t received = 0, ops = 0;
	struct deadline progress = bench_wait_deadline(meas);
	struct hist *lat = hist_new();
	struct sleep_meter sm = { 0 };
	bool stalled = false;		/* FAULT_STALLED_CONSUMER */

	for (;;) {
		bool stopping = bench_stopping(meas);

		sleep_meter_tick(&sm, bench_measuring(meas));
		unsigned want = stopping ? 1 : (unsigned)meas->o->wait_nr;
		unsigned n;
		int ret;

		if (stopping && __atomic_load_n(&m->producers_done, __ATOMIC_ACQUIRE) &&
		    received == __atomic_load_n(&m->sent, __ATOMIC_ACQUIRE))
			break;
		ret = bench_ring_wait(ring, want, WAIT_SLICE_MS);
		if (ret) {
			bench_error(meas, "consumer: wait: %s", strerror(-ret));
			break;
		}
		n = io_uring_peek_batch_cqe(ring, cqes, 256);
		if (n) {
			bool counting = bench_measuring(meas);
			int64_t now = now_ns();

			for (unsigned i = 0; i < n; i++) {
				if (cqes[i]->res != BENCH_MSG_RES)
					bench_error(meas, "consumer: a CQE with res %d (expected the message's %d)",
						    cqes[i]->res, BENCH_MSG_RES);
				else if (counting)
					hist_record(lat, now - (int64_t)cqes[i]->user_data);
			}
			io_uring_cq_advance(ring, n);
			received += n;
			if (counting)
				ops += n;
			stalled = stalled || bench_fault_now(FAULT_STALLED_CONSUMER);
			if (!stalled)
				tw_credit_give(&m->credit, (int32_t)n);
			progress = bench_wait_deadline(meas);
		} else if (deadline_passed(&progress)) {
			uint64_t sent = __atomic_load_n(&m->sent, __ATOMIC_ACQUIRE);

			bench_error(meas, "consumer: nothing arrived for %d s; %llu received, %s%llu sent",
				    meas->o->hang_s, (unsigned long long)received,
				    __atomic_load_n(&m->producers_done, __ATOMIC_ACQUIRE) ? "" : "at least ",
				    (unsigned long long)sent);
			break;
		}
	}
	bench_add_tally(meas, ops, lat, &sm);
	hist_free(lat);
}

static void *consumer_main(void *arg)
{
	struct msgring *m = arg;
	struct measurement *meas = m->meas;
	struct io_uring ring;

	/* The consumer creates the ring: a DEFER_TASKRUN ring belongs to the
	 * task that set it up, the only one that may wait on it. */
	m->setup_err = bench_ring_init(&ring, meas->mode, (unsigned)meas->o->window, m->why,
				       sizeof(m->why));
	if (!m->setup_err)
		m->target_fd = ring.ring_fd;
	tw_event_set(&m->setup_done);
	if (m->setup_err)
		return NULL;
	bench_worker_ready(meas, BENCH_CONSUMER);
	consume(m, &ring);
	io_uring_queue_exit(&ring);
	return NULL;
}

static enum bench_status msgring_measure(struct measurement *meas, char *why, size_t whylen)
{
	struct producer p[BENCH_MAX_PRODUCERS];
	pthread_t pt[BENCH_MAX_PRODUCERS], ct;
	struct msgring m = { .meas = meas };
	struct deadline dl = bench_wait_deadline(meas);

	tw_credit_init(&m.credit, meas->o->window);
	tw_barrier_init(&meas->ready, (uint32_t)meas->producers + 2);
	if (pthread_create(&ct, NULL, consumer_main, &m)) {
		snprintf(why, whylen, "cannot start the consumer thread");
		return BENCH_ERROR;
	}
	if (tw_event_wait(&m.setup_done, &dl) || m.setup_err) {
		pthread_join(ct, NULL);
		snprintf(why, whylen, "%s", m.setup_err ? m.why : "the consumer never set up its ring");
		return m.setup_err ? BENCH_SKIP : BENCH_ERROR;
	}
	for (int i = 0; i < meas->producers; i++)
		p[i] = (struct producer){ .m = &m, .id = i };
	if (bench_threads_start(pt, meas->producers, producer_main, p, sizeof(p[0]))) {
		bench_error(meas, "cannot start %d producer threads", meas->producers);
		__atomic_store_n(&meas->phase, PH_STOP, __ATOMIC_RELEASE);
	} else {
		bench_drive(meas);
		/* Producers waiting for credit see the stop with these. */
		tw_credit_give(&m.credit, 1 << 24);
		bench_threads_join(pt, meas->producers);
	}
	__atomic_store_n(&m.producers_done, 1, __ATOMIC_RELEASE);
	pthread_join(ct, NULL);
	return meas->errors ? BENCH_ERROR : BENCH_OK;
}

const struct workload wl_msgring = {
	.name = "msgring",
	.modes = { "defer", "default", NULL },
	.fan_in = true,
	.path = msgring_path,
	.measure = msgring_measure,
};
