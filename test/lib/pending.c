// SPDX-License-Identifier: MIT
/* Work left pending on a ring (see pending.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pending.h"

const char *const pending_channel_names[PC_COUNT] = {
	[PC_READ] = "pipe read", [PC_POLL] = "eventfd poll", [PC_TRACKED] = "io_uring-fd poll",
	[PC_TIMEOUT] = "timeout", [PC_SYNC] = "nop", [PC_MSG] = "MSG_RING",
};

int pending_setup(struct pending *w, struct rng *rng, int tracked_fd, unsigned timeout_max_ms)
{
	w->nread = (unsigned)rng_range(rng, 1, PENDING_MAX_READS);
	w->npoll = (unsigned)rng_range(rng, 1, PENDING_MAX_POLLS);
	w->ntimeout = (unsigned)rng_range(rng, 0, PENDING_MAX_TIMEOUTS);
	w->tracked_fd = tracked_fd;
	w->polls_fired = false;
	for (unsigned i = 0; i < PENDING_MAX_READS; i++)
		w->pipe_r[i] = w->pipe_w[i] = -1;
	for (unsigned i = 0; i < w->ntimeout; i++) {
		int64_t ns = (int64_t)rng_below(rng, (uint64_t)timeout_max_ms * NSEC_PER_MSEC + 1);

		w->ts[i].tv_sec = ns / NSEC_PER_SEC;
		w->ts[i].tv_nsec = ns % NSEC_PER_SEC;
	}
	w->poll_efd = eventfd(0, EFD_CLOEXEC);
	if (w->poll_efd < 0)
		return -errno;
	for (unsigned i = 0; i < w->nread; i++) {
		int fds[2];

		if (pipe2(fds, O_CLOEXEC) < 0)
			return -errno;
		w->pipe_r[i] = fds[0];
		w->pipe_w[i] = fds[1];
		w->read_fired[i] = false;
	}
	return 0;
}

void pending_close(struct pending *w)
{
	for (unsigned i = 0; i < PENDING_MAX_READS; i++) {
		if (w->pipe_r[i] >= 0)
			close(w->pipe_r[i]);
		if (w->pipe_w[i] >= 0)
			close(w->pipe_w[i]);
		w->pipe_r[i] = w->pipe_w[i] = -1;
	}
	if (w->poll_efd >= 0)
		close(w->poll_efd);
	w->poll_efd = -1;
}

static struct io_uring_sqe *sqe_for(struct pending *w, struct tring *r, enum pending_channel c,
				    uint32_t seq)
{
	struct io_uring_sqe *sqe = tring_sqe(r);

	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, ledger_ud(w->led[c], w->producer, c, seq));
	return sqe;
}

unsigned pending_prep(struct pending *w, struct tring *r)
{
	/* An empty pipe: the read is poll-armed, and completes by task_work
	 * once the survivor writes (or is cancelled). */
	for (unsigned i = 0; i < w->nread; i++)
		io_uring_prep_read(sqe_for(w, r, PC_READ, i), w->pipe_r[i], w->buf[i],
				   sizeof(w->buf[i]), 0);
	/* One eventfd write wakes all of them at once: a burst of task_work. */
	for (unsigned i = 0; i < w->npoll; i++)
		io_uring_prep_poll_add(sqe_for(w, r, PC_POLL, i), w->poll_efd, POLLIN);
	/* io_file_get_normal() marks a request on an io_uring file
	 * REQ_F_INFLIGHT: the only kind io_uring_files_cancel() (exit)
	 * cancels; exec's io_uring_task_cancel() cancels everything. */
	io_uring_prep_poll_add(sqe_for(w, r, PC_TRACKED, 0), w->tracked_fd, POLLIN);
	for (unsigned i = 0; i < w->ntimeout; i++)
		io_uring_prep_timeout(sqe_for(w, r, PC_TIMEOUT, i), &w->ts[i], 0, 0);
	sqe_for(w, r, PC_SYNC, 0);
	return w->nread + w->npoll + 1 + w->ntimeout + 1;
}

void pending_sent(struct pending *w)
{
	ledger_sent(w->led[PC_READ], w->producer, PC_READ, w->nread);
	ledger_sent(w->led[PC_POLL], w->producer, PC_POLL, w->npoll);
	ledger_sent(w->led[PC_TRACKED], w->producer, PC_TRACKED, 1);
	if (w->ntimeout)
		ledger_sent(w->led[PC_TIMEOUT], w->producer, PC_TIMEOUT, w->ntimeout);
	ledger_sent(w->led[PC_SYNC], w->producer, PC_SYNC, 1);
}

void pending_fire_reads(struct pending *w, struct rng *rng, unsigned pct)
{
	for (unsigned i = 0; i < w->nread; i++) {
		if (w->read_fired[i] || !rng_chance(rng, pct))
			continue;
		if (write(w->pipe_w[i], "x", 1) == 1)
			w->read_fired[i] = true;
	}
}

void pending_fire_polls(struct pending *w, struct rng *rng, unsigned pct)
{
	if (!w->polls_fired && rng_chance(rng, pct) && eventfd_write(w->poll_efd, 1) == 0)
		w->polls_fired = true;
}

unsigned pending_reap(struct pending *w, struct tring *r, bool *synced)
{
	uint64_t sync_ud = ledger_ud(w->led[PC_SYNC], w->producer, PC_SYNC, 0);
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&r->ring, head, cqe) {
		struct ledger *l = w->led[0];

		for (int c = 0; c < PC_COUNT; c++)
			if (ledger_owns(w->led[c], cqe->user_data))
				l = w->led[c];
		ledger_cqe(l, cqe->user_data, cqe->res, cqe->flags);
		if (synced && cqe->user_data == sync_ud)
			*synced = true;
		n++;
	}
	io_uring_cq_advance(&r->ring, n);
	return n;
}

int pending_reap_until_sync(struct pending *w, struct tring *r, const struct deadline *dl,
			    unsigned *reaped)
{
	bool synced = false;

	for (;;) {
		int ret;

		*reaped += pending_reap(w, r, &synced);
		if (synced)
			return 0;
		if (deadline_passed(dl))
			return -ETIMEDOUT;
		ret = tring_wait(r, 1, deadline_left(dl), 0, NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN)
			return ret;
	}
}

int pending_collect(struct pending *w, struct tring *r, int efd, const struct ledger *l,
		    const struct deadline *dl)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t v;

	for (;;) {
		/* Reset first: a CQE posted after the reap signals it again. */
		if (read(efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -errno;
		pending_reap(w, r, NULL);
		if (ledger_outstanding(l) <= 0)
			return 0;
		if (deadline_passed(dl))
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(deadline_left(dl) / NSEC_PER_MSEC) + 1) < 0 &&
		    errno != EINTR)
			return -errno;
	}
}
