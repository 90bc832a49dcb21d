// SPDX-License-Identifier: MIT
/* Multishot streams (see mstream.h). */
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mstream.h"

#define BGID	7

static bool is_poll(unsigned s)
{
	return s < MSTREAMS / 2;
}

static void arm(struct mstreams *m, unsigned s)
{
	struct io_uring_sqe *sqe = tring_sqe(m->ring);

	if (is_poll(s)) {
		io_uring_prep_poll_multishot(sqe, m->s[s].rfd, POLLIN);
	} else {
		io_uring_prep_recv_multishot(sqe, m->s[s].rfd, NULL, 0, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = BGID;
	}
	io_uring_sqe_set_data64(sqe, mstreams_ud(s));
	m->s[s].armed = true;
}

static void record(struct mstreams *m, unsigned s, uint64_t rec)
{
	ledger_cqe(m->records, ledger_ud(m->records, s, 0, (uint32_t)rec), 0, 0);
	m->s[s].consumed++;
	m->consumed(m->arg, s);
}

void mstreams_cqe(struct mstreams *m, const struct io_uring_cqe *cqe)
{
	unsigned s = cqe->user_data & 0xff;
	bool more = cqe->flags & IORING_CQE_F_MORE, poll = is_poll(s), data;
	const char *name = m->tc->prof->name;
	struct mstream *st = &m->s[s];

	if (s >= MSTREAMS || !st->armed) {
		tc_fail(m->tc, "multishot stream %u [%s]: CQE after its last one (res %d, "
			"flags 0x%x)", s, name, cqe->res, cqe->flags);
		return;
	}
	data = poll ? cqe->res > 0 && (cqe->res & POLLIN) :
	       cqe->res == 8 && (cqe->flags & IORING_CQE_F_BUFFER);
	if (data && poll) {
		uint64_t recs[16];
		ssize_t got;

		while ((got = read(st->rfd, recs, sizeof(recs))) > 0)
			for (ssize_t i = 0; i < got / 8; i++)
				record(m, s, recs[i]);
	} else if (data) {
		unsigned bid = (cqe->flags >> IORING_CQE_BUFFER_SHIFT) % MSTREAM_BUFS;

		record(m, s, m->bufs[bid]);
		io_uring_buf_ring_add(m->br, &m->bufs[bid], 8, (unsigned short)bid,
				      io_uring_buf_ring_mask(MSTREAM_BUFS), 0);
		io_uring_buf_ring_advance(m->br, 1);
	}
	if (more && !data)
		tc_fail(m->tc, "bad result: multishot %s stream %u [%s]: res %d flags 0x%x, "
			"expected %s with F_MORE", poll ? "poll" : "recv", s, name, cqe->res,
			cqe->flags, poll ? "POLLIN" : "8 bytes in a provided buffer");
	if (more)
		return;
	st->armed = false;
	if (st->ended && cqe->res == -ECANCELED)
		return;
	if (!st->ended && (data || (!poll && cqe->res == -ENOBUFS)))
		arm(m, s);
	else
		tc_fail(m->tc, "bad result: multishot %s stream %u [%s]: last CQE res %d "
			"flags 0x%x, expected -ECANCELED after the cancel", poll ? "poll" : "recv",
			s, name, cqe->res, cqe->flags);
}

bool mstreams_settled(const struct mstreams *m)
{
	for (unsigned s = 0; s < MSTREAMS; s++)
		if (m->s[s].active && (m->s[s].consumed < m->target ||
				       (m->s[s].ended && m->s[s].armed)))
			return false;
	return true;
}

void mstreams_start(struct mstreams *m, uint32_t target)
{
	m->target = target;
	for (unsigned s = 0; s < m->n; s++) {
		m->s[s] = (struct mstream){ .rfd = m->s[s].rfd, .wfd = m->s[s].wfd,
					    .active = true };
		arm(m, s);
	}
}

void mstreams_stop(struct mstreams *m)
{
	for (unsigned s = 0; s < m->n; s++)
		m->s[s].ended = true;
}

void mstreams_end(struct mstreams *m)
{
	for (unsigned s = 0; s < m->n; s++)
		m->s[s].active = false;
}

enum verdict mstreams_setup(struct mstreams *m)
{
	struct io_uring_buf_reg reg = { .ring_entries = MSTREAM_BUFS, .bgid = BGID };
	int fds[2], ret;

	for (unsigned s = 0; s < MSTREAMS; s++) {
		if (is_poll(s) ? pipe2(fds, O_CLOEXEC | O_NONBLOCK) :
		    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds))
			return tc_fail(m->tc, "multishot stream %u: pipe/socketpair: %m", s);
		m->s[s].rfd = fds[0];
		m->s[s].wfd = fds[1];
	}
	m->n = MSTREAMS / 2;
	m->br = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->br == MAP_FAILED)
		return tc_fail(m->tc, "mmap: %m");
	/* The recv streams are a part a kernel before 6.0 does not have. */
	if (tc_part_predated(m->tc, NEED_RECV_MULTISHOT, MSTREAM_RECV_PART))
		return V_PASS;
	reg.ring_addr = (uintptr_t)m->br;
	ret = io_uring_register_buf_ring(&m->ring->ring, &reg, 0);
	if (ret)	/* a failure on a kernel that has them */
		return tc_refused_part(m->tc, NEED_RECV_MULTISHOT, ret, MSTREAM_RECV_PART) ==
		       V_FAIL ? V_FAIL : V_PASS;
	io_uring_buf_ring_init(m->br);
	for (unsigned i = 0; i < MSTREAM_BUFS; i++)
		io_uring_buf_ring_add(m->br, &m->bufs[i], 8, (unsigned short)i,
				      io_uring_buf_ring_mask(MSTREAM_BUFS), (int)i);
	io_uring_buf_ring_advance(m->br, MSTREAM_BUFS);
	m->n = MSTREAMS;
	return V_PASS;
}

void mstreams_teardown(struct mstreams *m)
{
	if (m->n == MSTREAMS)
		io_uring_unregister_buf_ring(&m->ring->ring, BGID);
	for (unsigned s = 0; s < MSTREAMS; s++) {
		close(m->s[s].rfd);
		close(m->s[s].wfd);
	}
	munmap(m->br, 4096);
}
