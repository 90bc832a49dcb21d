// SPDX-License-Identifier: MIT
/*
 * Teardown probes. A ring's context is freed at the very end of its
 * teardown (io_ring_exit_work -> io_ring_ctx_free), and only then does it
 * drop its fixed-file table. So: register the read end of a pipe as the
 * ring's fixed file 0, leave a read on it pending (teardown must cancel it),
 * close every other reference to that read end, and watch the write end.
 * poll() on a pipe's write end reports POLLERR once no reader is left:
 * proof that teardown finished. If it never comes, teardown hung.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* The pending read never gets data; teardown cancels it. */
static char probe_sink[8];

int probe_create(struct teardown_probe *p, const char *what)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	p->rfd = fds[0];
	p->wfd = fds[1];
	snprintf(p->what, sizeof(p->what), "%s", what);
	return 0;
}

int probe_arm(struct teardown_probe *p, struct tring *r, uint64_t ud)
{
	struct io_uring_sqe *sqe;
	int ret;

	ret = io_uring_register_files(&r->ring, &p->rfd, 1);
	if (ret < 0)
		return ret;
	sqe = tring_sqe(r);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, 0, probe_sink, sizeof(probe_sink), 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, ud);
	ret = io_uring_submit(&r->ring);
	if (ret < 0)
		return ret;
	close(p->rfd);
	p->rfd = -1;
	return 0;
}

void probe_drop_reader(struct teardown_probe *p)
{
	if (p->rfd >= 0)
		close(p->rfd);
	p->rfd = -1;
}

void probe_drop_writer(struct teardown_probe *p)
{
	if (p->wfd >= 0)
		close(p->wfd);
	p->wfd = -1;
}

int probe_wait(struct teardown_probe *p, const struct deadline *dl)
{
	/* No events requested: only POLLERR (no readers left) wakes us. */
	struct pollfd pfd = { .fd = p->wfd, .events = 0 };

	for (;;) {
		int64_t left = deadline_left(dl);
		int ret = poll(&pfd, 1, (int)((left + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC));

		if (ret > 0 && (pfd.revents & POLLERR))
			return 0;
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (deadline_passed(dl))
			return -ETIMEDOUT;
	}
}

void probe_close(struct teardown_probe *p)
{
	probe_drop_reader(p);
	probe_drop_writer(p);
}

void tring_exit_proven(struct tcase *tc, struct tring *rings, unsigned n, uint64_t probe_ud)
{
	struct teardown_probe probes[n];
	unsigned armed = 0;

	for (; armed < n; armed++) {
		if (probe_create(&probes[armed], rings[armed].name))
			break;
		if (probe_arm(&probes[armed], &rings[armed], probe_ud)) {
			probe_close(&probes[armed]);
			break;
		}
	}
	if (armed < n)
		tc_fail(tc, "ring %s: cannot arm its teardown probe", rings[armed].name);
	for (unsigned i = 0; i < n; i++)
		tring_exit(&rings[i]);
	for (unsigned i = 0; i < armed; i++) {
		struct deadline dl = tc_deadline(tc);

		if (probe_wait(&probes[i], &dl))
			tc_hang(tc, NULL, NULL, "teardown of ring %s (%s) did not finish", probes[i].what,
				rings[i].prof->name);
		probe_close(&probes[i]);
	}
}
