// SPDX-License-Identifier: MIT
/*
 * A FIFO open for reading and writing polls on two queues, rd_wait and
 * wr_wait (pipe_poll()), so a POLL_ADD on it takes a second wait entry, kept in req->async_data
 * (REQ_F_DOUBLE_POLL, __io_queue_proc()). An IORING_POLL_UPDATE_EVENTS
 * disarms the request and arms it again (io_poll_remove() ->
 * io_poll_add()). Before 7.3 the re-arm found the second entry of the
 * round before still in async_data, unhooked (head NULL), and took it for
 * a third queue: the re-arm failed (-EINVAL) and the poll was completed
 * with -ECANCELED instead of updated. 7.3 frees the old entry and clears
 * the flags before arming again.
 * Checks: a POLL_ADD(POLLPRI, never ready) on a full FIFO open O_RDWR,
 * updated to POLLOUT (the update's CQE 0), stays armed and fires with
 * POLLOUT once data is read; one CQE each, with the user_data expected.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "lib/reap_ud.h"

#define UD_POLL		0x90
#define UD_UPDATE	0x91
#define PROMPT_NS	(2 * NSEC_PER_SEC)	/* a wake-up takes microseconds */

/* Fill the FIFO: no room to write is left (O_NONBLOCK until EAGAIN). */
static int fill(int fd)
{
	static char buf[4096];

	while (write(fd, buf, sizeof(buf)) > 0)
		;
	return errno == EAGAIN ? 0 : -1;
}

static enum verdict run(struct tcase *tc)
{
	char dir[] = "/tmp/tw-poll-update.XXXXXX", fifo[64], buf[65536];
	static const uint64_t uds[2] = { UD_POLL, UD_UPDATE };
	struct io_uring_sqe *sqe;
	int fd = -1, res[2];
	struct deadline dl;
	struct tring r;
	enum verdict v;

	if (!mkdtemp(dir))
		return tc_fail(tc, "mkdtemp: %s", strerror(errno));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	/* Both ends in one file: its poll waits on rd_wait and wr_wait. */
	if (mkfifo(fifo, 0600) || (fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    fill(fd)) {
		tc_fail(tc, "FIFO open O_RDWR, filled: %s", strerror(errno));
		goto out_fifo;
	}
	v = tring_init(tc, &r, "ring", tc->prof, NULL);
	if (v != V_PASS)
		goto out_fifo;
	/* POLLPRI: never ready on a FIFO, but armed on both queues. */
	sqe = tring_sqe(&r);
	io_uring_prep_poll_add(sqe, fd, POLLPRI);
	io_uring_sqe_set_data64(sqe, UD_POLL);
	sqe = tring_sqe(&r);
	io_uring_prep_poll_update(sqe, UD_POLL, 0, POLLOUT, IORING_POLL_UPDATE_EVENTS);
	io_uring_sqe_set_data64(sqe, UD_UPDATE);
	dl = tc_deadline(tc);
	if (tring_submit_await(tc, &r, 2, 1, &dl, "the POLL_UPDATE of a pending poll") != V_PASS)
		goto out;
	/* Room to write: pipe_read() wakes wr_wait with EPOLLOUT. */
	if (read(fd, buf, sizeof(buf)) <= 0) {
		tc_fail(tc, "read from the full FIFO: %s", strerror(errno));
		goto out;
	}
	dl = deadline_in(PROMPT_NS);
	tring_wait_ready(&r, 2, &dl);
	reap_ud_init(res, 2);
	if (!reap_ud(tc, &r, uds, res, 2))
		goto out;
	if (res[1] != 0)
		tc_fail(tc, "POLL_UPDATE (events to POLLOUT) of a pending poll: res %d, expected 0",
			res[1]);
	else if (res[0] == -ECANCELED)
		tc_fail(tc, "update lost the poll: a poll on a FIFO (two wait queues), updated to "
			"POLLOUT, completed with -ECANCELED instead of staying armed");
	else if (res[0] == REAP_NONE)
		tc_fail(tc, "lost wake-up: a poll on a FIFO updated to POLLOUT did not fire within "
			"%.1f s of a read making room", ns_to_s(PROMPT_NS));
	else if (res[0] < 0 || !(res[0] & POLLOUT))
		tc_fail(tc, "the updated poll completed with res %d, expected POLLOUT", res[0]);
out:
	tring_exit(&r);
out_fifo:
	if (fd >= 0)
		close(fd);
	unlink(fifo);
	rmdir(dir);
	return tc_verdict(tc);
}

static const struct scenario regress_poll_update_rearm = {
	.name = "regress_poll_update_rearm",
	.summary = "a poll on a FIFO (two wait queues) updated to POLLOUT stays armed and fires "
		   "when a read makes room",
	.profiles = PROFILES_ALL,
	.run = run,
	.fix_commit = "-",
	.fix_subject = "io_uring/poll: forget the wait entries of the previous round when a "
		       "poll is armed again (Linux 7.3)",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_poll_update_rearm);
}
