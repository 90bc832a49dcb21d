// SPDX-License-Identifier: MIT
/*
 * /proc/PID/fdinfo of a ring lists the CQEs waiting in its CQ
 * (io_uring_show_fdinfo(), fdinfo.c), which is what a person reads when a
 * program seems stuck. On a ring set up with IORING_SETUP_CQE32 every CQE
 * takes two 16-byte slots of rings->cqes[]. Kernels with mixed CQE sizes
 * (6.18) but before 7.3 indexed the array as if the slots were 16 bytes
 * and skipped an extra entry after each CQE as if it had been a 32-byte CQE
 * of a mixed ring: they listed only the first half of the CQEs, under the
 * indices 0, 2, 4, ... 7.3 reads the CQE at (head & mask) << 1.
 * Checks: with NR_CQES NOPs completed and not reaped, fdinfo says "CQEs:
 * NR_CQES" and lists each of them once, in order, under its index in the
 * CQ, with the user_data it was submitted with.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define NR_CQES		4		/* the CQ is full: each slot listed once */
#define UD_BASE		101		/* user_data of NOP i: UD_BASE + i */
#define FDINFO_MAX	16384		/* a ring's fdinfo with 4 CQEs: < 2 KiB */
#define READ_TRIES	100		/* fdinfo prints nothing while uring_lock is held */

/* The CQ part of the ring's fdinfo: from its "CQEs:" line on. NULL if the
 * kernel printed no ring state this time (uring_lock busy). */
static const char *read_cq_part(struct tcase *tc, struct tring *r, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", tring_fd(r));
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		tc_fail(tc, "open %s: %s", path, strerror(errno));
		return NULL;
	}
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return strstr(buf, "\nCQEs:");
}

/* Each line after "CQEs:\tN" up to the next section is "%5u: user_data:%llu, ...". */
static void check_listing(struct tcase *tc, const char *cq)
{
	const char *line = strchr(cq + 1, '\n');
	char seen[256] = "", want[256] = "";
	unsigned listed = 0, n = 0;
	bool right = true;
	unsigned long long ud;
	unsigned idx;
	size_t off = 0;

	if (sscanf(cq, "\nCQEs:\t%u", &n) != 1 || n != NR_CQES)
		tc_fail(tc, "fdinfo: \"CQEs:\" says %u, expected %u", n, NR_CQES);
	/* One CQE a line; some kernels print a blank line after each. */
	for (; line && off < 200; line = strchr(line + 1, '\n')) {
		if (line[1] == '\n')
			continue;
		if (sscanf(line + 1, "%u: user_data:%llu,", &idx, &ud) != 2)
			break;
		right &= idx == listed && ud == UD_BASE + listed;
		off += snprintf(seen + off, sizeof(seen) - off, "%s%u: %llu", listed ? ", " : "",
				idx, ud);
		listed++;
	}
	if (right && listed == NR_CQES)
		return;
	off = 0;
	for (unsigned i = 0; i < NR_CQES; i++)
		off += snprintf(want + off, sizeof(want) - off, "%s%u: %u", i ? ", " : "", i,
				UD_BASE + i);
	tc_fail(tc, "fdinfo of a CQE32 ring lists %u of its %u CQEs as [%s] (index: "
		"user_data), expected [%s]", listed, NR_CQES, seen, want);
}

static enum verdict run(struct tcase *tc)
{
	const struct tring_opts o = { .sq_entries = NR_CQES, .cq_entries = NR_CQES,
				      .extra_flags = IORING_SETUP_CQE32, .attach_wq_fd = -1 };
	struct deadline dl = tc_deadline(tc);
	const char *cq = NULL;
	struct tring r;
	enum verdict v;
	char *buf;

	v = tring_init(tc, &r, "ring", tc->prof, &o);
	if (v != V_PASS)
		return v;
	for (unsigned i = 0; i < NR_CQES; i++) {
		struct io_uring_sqe *sqe = tring_sqe(&r);

		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, UD_BASE + i + harness_seeded("wrong-ud"));
	}
	if (tring_submit_await(tc, &r, NR_CQES, NR_CQES, &dl, "%u NOPs", NR_CQES) != V_PASS)
		goto out;
	buf = malloc(FDINFO_MAX);
	for (unsigned i = 0; buf && !cq && i < READ_TRIES && !tc_failed(tc); i++)
		cq = read_cq_part(tc, &r, buf, FDINFO_MAX);
	if (!buf)
		tc_fail(tc, "out of memory");
	else if (cq)
		check_listing(tc, cq);
	else if (!tc_failed(tc))
		tc_fail(tc, "fdinfo of the ring printed no ring state in %u reads", READ_TRIES);
	free(buf);
out:
	tring_exit(&r);
	return tc_verdict(tc);
}

static const struct scenario regress_fdinfo_cqe32 = {
	.name = "regress_fdinfo_cqe32",
	.summary = "fdinfo of an IORING_SETUP_CQE32 ring lists every CQE in its CQ, in order",
	/* fdinfo reads the CQ the same way for every profile: one of each kind of task_work */
	.profiles = PMASK(P_DEFAULT) | PMASK(P_DEFER),
	.run = run,
	.needs = NEED(CQE32),
	.fix_commit = "-",
	.fix_subject = "io_uring/fdinfo: read the CQEs of a CQE32 ring at twice the index "
		       "(Linux 7.3)",
	.seeded_faults = "  wrong-ud  the NOPs carry user_data 1 off the one checked for\n",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_fdinfo_cqe32);
}
