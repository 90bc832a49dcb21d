// SPDX-License-Identifier: MIT
/*
 * An IOSQE_ASYNC read of a pipe: io-wq arms poll for it. Each round a byte
 * is written (the poll fires) and taken back through another open file of
 * the pipe before the owner runs its task_work: the retry finds the pipe
 * empty and re-arms, one of the request's APOLL_MAX_RETRY (128) re-arms
 * used. After more rounds than that, a byte is left in the pipe.
 * 6.1.y (since 6.1.18, which took c16bda37594f's retry budget without
 * 6bb30855560e) retries an IOSQE_ASYNC request in the owner's task_work,
 * where a pipe read (no FMODE_NOWAIT on 6.1) only returns -EAGAIN. When
 * the budget runs out the read goes to io-wq, which re-arms it once more
 * with the budget at -1, never 0 again; then a byte left in the pipe makes
 * the retry loop for good: io_queue_async() -> io_arm_poll_handler() says
 * ready -> io_req_task_queue() -> run again. On a DEFER_TASKRUN ring that
 * is __io_run_local_work() inside io_uring_enter(), with no reschedule
 * point: a soft lockup, then an RCU stall, deaf to SIGKILL (kill_midflight
 * met it so); with normal task_work, tctx_task_work() on the way back to
 * user space. 6.3 and later send such a retry back to io-wq, which reads
 * (blocking) once poll gave up.
 * The owner (a child process) drives the rounds through vfork(): the
 * vfork child writes (and takes back) the byte while the owner sleeps where
 * task_work does not run; normal task_work then runs on the owner's return
 * from vfork(), local task_work in io_uring_get_events().
 * Checks: the owner's last retry returns, and the read completes with the
 * byte. A watcher on another CPU gives it a second; one that is then
 * running in every look for a second without a voluntary context switch
 * has spun: the watcher drains the pipe (the re-arm finds it empty, the
 * loop ends) and reports it. Not under SQPOLL (the SQ thread retries).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "race/fuzzy.h"
#include "harness.h"
#include "procfs.h"

#define ROUNDS		200			/* more than APOLL_MAX_RETRY (128) */
#define RETURN_NS	(1 * NSEC_PER_SEC)	/* a retry takes microseconds */
#define LOOK_NS		(1 * NSEC_PER_SEC)	/* the watcher's look at a late one */
#define LOOK_EVERY_NS	(10 * NSEC_PER_MSEC)
#define READ_UD		0x7eadull
#define OP_READ		22			/* IORING_OP_READ, as fdinfo prints it */

enum phase { IN_ROUNDS, IN_LAST_RETRY, RETURNED };

/* MAP_SHARED: the owner reports, the watcher judges. */
struct shared {
	int phase;			/* enum phase (atomic) */
	int drained;			/* the watcher took the byte (atomic) */
	int rounds;			/* wake-ups with the byte taken back */
	bool done;			/* the owner's outcome is in (atomic) */
	bool fixed;			/* ... the read completed with the byte */
	char how[200];			/* how it completed, or what went wrong */
};

struct ctx {
	struct tcase *tc;
	struct shared *sh;
	int rfd, wfd;			/* the pipe; the read's own end stays blocking */
	int drain_fd;			/* the pipe again, O_NONBLOCK, to take bytes back */
};

/* Armed: the ring's fdinfo lists the read under PollList. */
static bool read_armed(int ring_fd)
{
	char path[64], line[128];
	bool in_list = false, armed = false;
	FILE *f;
	int op;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ring_fd);
	if (!(f = fopen(path, "r")))
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "PollList:", 9))
			in_list = true;
		else if (in_list && sscanf(line, " op=%d,", &op) == 1)
			armed |= op == OP_READ;
		else
			in_list = false;
	}
	fclose(f);
	return armed;
}

/* Does an io-wq worker of ours wait in a pipe read (wchan *pipe_read)? */
static bool worker_reads_blocking(void)
{
	char path[300], buf[64];
	struct dirent *de;
	bool found = false;
	DIR *d = opendir("/proc/self/task");

	while (d && !found && (de = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		if (de->d_name[0] == '.' || procfs_read(path, buf, sizeof(buf)) ||
		    strncmp(buf, "iou-wrk-", 8))
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/wchan", de->d_name);
		found = !procfs_read(path, buf, sizeof(buf)) && strstr(buf, "pipe_read");
	}
	if (d)
		closedir(d);
	return found;
}

/* Wait until the read is armed again (by io-wq, after a wake-up it takes a
 * moment), or, poll given up, reads blocking in io-wq. Returns whether it
 * is armed; not armed by the deadline counts as reading blocking (where
 * wchan tells nothing). */
static bool settle(struct tring *r)
{
	struct deadline dl = deadline_in(RETURN_NS);

	while (!read_armed(tring_fd(r))) {
		if (worker_reads_blocking() || deadline_passed(&dl))
			return false;
		sleep_until_ns(now_ns() + 100 * NSEC_PER_USEC);
	}
	return true;
}

/* The owner sleeps in vfork() (no task_work runs there) while its child
 * writes the byte and, if take_back, reads it back; normal task_work runs
 * on the way out of vfork(). */
static __attribute__((noinline)) int feed(const struct ctx *c, bool take_back)
{
	char byte = 'x';
	pid_t pid = vfork();

	if (pid == 0) {
		if (write(c->wfd, &byte, 1) != 1 || (take_back && read(c->drain_fd, &byte, 1) != 1))
			_exit(1);
		_exit(0);
	}
	return pid > 0 ? 0 : -errno;
}

static void outcome(struct shared *sh, bool fixed, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void outcome(struct shared *sh, bool fixed, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sh->how, sizeof(sh->how), fmt, ap);
	va_end(ap);
	sh->fixed = fixed;
	__atomic_store_n(&sh->done, true, __ATOMIC_RELEASE);
}

/* Seeded: the owner spins in user space, as 6.1 does in the kernel, until
 * the watcher drains the pipe. */
static void seeded_spin(const struct ctx *c)
{
	struct deadline dl = tc_deadline(c->tc);

	__atomic_store_n(&c->sh->phase, IN_LAST_RETRY, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&c->sh->drained, __ATOMIC_SEQ_CST) && !deadline_passed(&dl))
		;
	__atomic_store_n(&c->sh->phase, RETURNED, __ATOMIC_SEQ_CST);
}

static int owner(void *arg)
{
	struct ctx *c = arg;
	struct shared *sh = c->sh;
	bool local = c->tc->prof->props & PROF_LOCAL_TW;
	static char buf[1];
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct deadline dl;
	struct tring r;
	int ret;

	fuzzy_pin(FUZZY_A, NULL);	/* a CPU of its own: the watcher's is another */
	if (tring_init(c->tc, &r, "owner", c->tc->prof, NULL) != V_PASS)
		return 0;	/* the verdict is recorded */
	sqe = tring_sqe(&r);
	io_uring_prep_read(sqe, c->rfd, buf, 1, 0);
	sqe->flags |= IOSQE_ASYNC;	/* io-wq arms poll for it */
	io_uring_sqe_set_data64(sqe, READ_UD);
	if (io_uring_submit(&r.ring) != 1)
		return outcome(sh, false, "submit of the read failed"), 0;
	for (sh->rounds = 0; !sh->done; sh->rounds++) {
		bool armed = settle(&r);

		if (io_uring_peek_cqe(&r.ring, &cqe) == 0) {
			outcome(sh, false, "round %d: the read completed (res %d) before the byte "
				"was written", sh->rounds, cqe->res);
		} else if (harness_seeded("user-spin")) {
			seeded_spin(c);
			return 0;
		} else if (!armed || sh->rounds == ROUNDS) {
			/* The byte stays: poll gave up and the read waits in io-wq, or the
			 * last retry reads it (6.1: does not return). */
			__atomic_store_n(&sh->phase, IN_LAST_RETRY, __ATOMIC_SEQ_CST);
			if (feed(c, false) == 0 && local)
				tring_get_events(&r);
			__atomic_store_n(&sh->phase, RETURNED, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&sh->drained, __ATOMIC_SEQ_CST))
				return 0;	/* the watcher reports */
			dl = tc_deadline(c->tc);
			if (tring_wait_ready(&r, 1, &dl))
				outcome(sh, false, "the byte stayed in the pipe after %d wake-ups "
					"and the read did not complete", sh->rounds);
			else if (io_uring_peek_cqe(&r.ring, &cqe), cqe->res != 1)
				outcome(sh, false, "the read completed with res %d, not the byte "
					"(1)", cqe->res);
			else
				outcome(sh, true, "the read completed with the byte after %d wake-ups "
					"%s", sh->rounds, armed ? "in the owner's task_work" :
					"in io-wq, poll given up");
		} else if (feed(c, true)) {
			outcome(sh, false, "vfork: %s", strerror(errno));
		} else if (local && (ret = tring_get_events(&r)) < 0) {
			outcome(sh, false, "io_uring_get_events: %s", strerror(-ret));
		} else if (io_uring_peek_cqe(&r.ring, &cqe) == 0) {
			outcome(sh, false, "round %d: the read completed (res %d) with the pipe "
				"empty", sh->rounds, cqe->res);
		}
	}
	tring_exit(&r);
	return 0;
}

/* The owner is in its last retry: give it RETURN_NS, then look at it. */
static void watch_last_retry(struct tcase *tc, const struct ctx *c, pid_t pid)
{
	struct shared *sh = c->sh;
	struct deadline dl = deadline_in(RETURN_NS);
	unsigned looks = 0, running = 0;
	long nvcsw0, nvcsw1;
	int64_t t0 = now_ns(), t_drain;
	char byte;

	while (__atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST) != RETURNED && !deadline_passed(&dl))
		sleep_until_ns(now_ns() + NSEC_PER_MSEC);
	if (__atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST) == RETURNED)
		return;
	nvcsw0 = proc_task_nvcsw(pid);
	for (dl = deadline_in(LOOK_NS); !deadline_passed(&dl); looks++) {
		running += proc_task_state(pid) == 'R';
		sleep_until_ns(now_ns() + LOOK_EVERY_NS);
	}
	nvcsw1 = proc_task_nvcsw(pid);
	/* A byte less: the retry, armed again, waits; a loop ends. */
	__atomic_store_n(&sh->drained, 1, __ATOMIC_SEQ_CST);
	t_drain = now_ns();
	if (read(c->drain_fd, &byte, 1) != 1)
		tc_log(tc, "drain: %s", strerror(errno));
	dl = tc_deadline(tc);
	while (__atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST) != RETURNED && !deadline_passed(&dl))
		sleep_until_ns(now_ns() + 100 * NSEC_PER_USEC);
	if (running < looks || nvcsw1 != nvcsw0 || nvcsw0 < 0) {
		tc_hang(tc, NULL, NULL, "the owner's last retry (%s) did not return in %.1f s, "
			"not spinning (running in %u of %u looks, %ld voluntary context switches)",
			c->tc->prof->props & PROF_LOCAL_TW ? "io_uring_get_events()" :
			"task_work on the way out of vfork()", ns_to_s(t_drain - t0), running, looks,
			nvcsw1 - nvcsw0);
	} else if (__atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST) != RETURNED) {
		tc_hang(tc, NULL, NULL, "spin: the owner's last retry ran %.1f s without returning "
			"(running in %u of %u looks, no voluntary context switch) and went on after "
			"the pipe was drained", ns_to_s(t_drain - t0), running, looks);
		diag_dump_tasks(pid, "#   ");
	} else {
		tc_fail(tc, "spin: the owner's last retry ran %.1f s without returning (running in "
			"%u of %u looks, no voluntary context switch) with a byte in the pipe of its "
			"IOSQE_ASYNC read, woken %d times before; it returned %.1f ms after the "
			"watcher drained the pipe", ns_to_s(t_drain - t0), running, looks, sh->rounds,
			(double)(now_ns() - t_drain) / NSEC_PER_MSEC);
	}
}

/* Has the owner exited (not reaped yet)? */
static bool exited(pid_t pid)
{
	siginfo_t si = { 0 };

	return !waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid == pid;
}

static enum verdict run(struct tcase *tc)
{
	struct ctx c = { .tc = tc, .sh = proc_shared_alloc(sizeof(struct shared)) };
	struct deadline dl = tc_deadline(tc);
	char path[64];
	struct child ch;
	int p[2];

	if (ncpus() < 2)
		return tc_skip(tc, "needs 2 CPUs: the owner may spin on one, the watcher drains "
			       "the pipe from another");
	if (!c.sh || pipe(p))
		return tc_fail(tc, "mmap/pipe: %s", strerror(errno));
	c.rfd = p[0];
	c.wfd = p[1];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	if ((c.drain_fd = open(path, O_RDONLY | O_NONBLOCK)) < 0)
		return tc_fail(tc, "%s: %s", path, strerror(errno));
	fuzzy_pin(FUZZY_B, NULL);
	if (proc_spawn(&ch, owner, &c))
		return tc_fail(tc, "fork: %s", strerror(errno));
	while (__atomic_load_n(&c.sh->phase, __ATOMIC_SEQ_CST) == IN_ROUNDS &&
	       !__atomic_load_n(&c.sh->done, __ATOMIC_ACQUIRE) &&
	       !exited(ch.pid) && !deadline_passed(&dl))
		sleep_until_ns(now_ns() + NSEC_PER_MSEC);
	if (__atomic_load_n(&c.sh->phase, __ATOMIC_SEQ_CST) != IN_ROUNDS)
		watch_last_retry(tc, &c, ch.pid);
	else if (!c.sh->done && !exited(ch.pid))
		tc_hang(tc, NULL, NULL, "the owner did not get through its rounds (%d of %d)",
			c.sh->rounds, ROUNDS);
	if (tc_verdict(tc) < V_HANG)
		proc_reap_or_kill(tc, &ch, "the owner");
	if (c.sh->done && !tc_failed(tc)) {
		if (c.sh->fixed)
			tc_log(tc, "%s", c.sh->how);
		else
			tc_fail(tc, "%s", c.sh->how);
	} else if (tc_verdict(tc) == V_PASS) {
		tc_fail(tc, "the owner ended without telling how the read ended");
	}
	close(c.drain_fd);
	close(p[0]);
	close(p[1]);
	munmap(c.sh, sizeof(*c.sh));
	return tc_verdict(tc);
}

static const struct scenario regress_apoll_rearm = {
	.name = "regress_apoll_rearm",
	.summary = "an IOSQE_ASYNC pipe read woken more often than its poll re-arm budget, "
		   "then left a byte: the owner's retry returns and reads it",
	.profiles = PROFILES_ALL & ~PMASK(P_SQPOLL),
	.run = run,
	.fix_commit = "6bb30855560e",
	.fix_subject = "io_uring: if a linked request has REQ_F_FORCE_ASYNC then run it async",
	.seeded_faults = "  user-spin  the owner's last retry spins in user space until the pipe "
			 "is drained\n",
};

int main(int argc, char **argv)
{
	return harness_main(argc, argv, &regress_apoll_rearm);
}
