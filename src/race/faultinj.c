// SPDX-License-Identifier: MIT
/*
 * Fault injection aimed at the test's own tasks (faultinj.h): debugfs
 * fault attributes set for a case and restored after it, per-task
 * make-it-fail and what the kernel must offer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faultinj.h"

#define DEBUGFS		"/sys/kernel/debug"
/* "times" while armed: the kernel counts it down per failure injected. */
#define FAULTS_TIMES	1000000000L

static const char *const fault_dirs[] = { "failslab", "fail_page_alloc" };

/* A setting changed for the case, and its value before. */
struct knob {
	char path[96], old[32];
};

static struct knob knobs[16];
static unsigned nknobs;

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	return 0;
}

static int knob_set(const char *dir, const char *name, const char *val)
{
	struct knob *k = &knobs[nknobs];
	int ret;

	snprintf(k->path, sizeof(k->path), DEBUGFS "/%s/%s", dir, name);
	if ((ret = read_str(k->path, k->old, sizeof(k->old))))
		return ret;
	nknobs++;
	return write_str(k->path, val);
}

/* Put back every value changed, newest first, and check that it stuck. */
void faults_restore(struct tcase *tc)
{
	char now[sizeof(knobs[0].old)];

	/* Our own writes below allocate: they must not be failed. */
	if (fault_task_disarm())
		tc_fail(tc, "make-it-fail of thread %d stays set", gettid());

	while (nknobs--) {
		struct knob *k = &knobs[nknobs];

		if (write_str(k->path, k->old) || read_str(k->path, now, sizeof(now)) ||
		    strcmp(now, k->old))
			tc_fail(tc, "%s: could not restore it to %.*s", k->path,
				(int)strcspn(k->old, "\n"), k->old);
	}
	nknobs = 0;
}

int fault_task_knob(const char *name, const char *val)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/%s", gettid(), name);
	return write_str(path, val);
}

/*
 * Clearing make-it-fail opens and writes a /proc file: allocations that are
 * failed like any other while the flag is still set (a write that failed
 * once left a thread failing its allocations, then debugfs restores that
 * failed, then a fault attribute left armed for every task, and the
 * guest's init died of it). So until it sticks: each try fails with the
 * armed probability at most (20 %).
 */
int fault_task_disarm(void)
{
	int ret = -EIO;

	for (int i = 0; i < 100 && ret; i++)
		ret = fault_task_knob("make-it-fail", "0");
	return ret;
}

/* Is what the test needs there? NULL, or why not. */
const char *faults_missing(const struct tcase *tc)
{
	char path[64];

	if (!tc->fault_inject)
		return "fault injection not asked for (-F, TW_FAULT_INJECT=1, runtests.sh "
		       "--fault-inject; on by default in guest/vm-run guests)";
	if (!is_root())
		return "needs root (debugfs fault attributes, make-it-fail)";
	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", gettid());
	if (access(path, W_OK))
		return "the kernel has no fault injection (CONFIG_FAULT_INJECTION: no "
		       "/proc/self/task/TID/fail-nth)";
	if (access(DEBUGFS "/failslab/task-filter", W_OK) ||
	    access(DEBUGFS "/fail_page_alloc/task-filter", W_OK))
		return "no " DEBUGFS "/failslab or fail_page_alloc (CONFIG_FAILSLAB, "
		       "CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS; debugfs mounted?)";
	return NULL;
}

/*
 * Fail allocations of make-it-fail tasks only (task-filter), pct of them,
 * quietly (verbose 0: no stack per failure). failslab and fail_page_alloc
 * ignore allocations that may sleep (GFP_KERNEL, most of io_uring's) unless
 * told otherwise; user pages (highmem flag) stay exempt, or our own page
 * faults would fail. fail-nth obeys these filters too.
 */
int faults_arm(unsigned pct)
{
	char prob[16], times[16];
	int ret = 0;

	snprintf(prob, sizeof(prob), "%u", pct);
	snprintf(times, sizeof(times), "%ld", FAULTS_TIMES);
	for (unsigned i = 0; i < 2 && !ret; i++) {
		const char *d = fault_dirs[i];

		if (!(ret = knob_set(d, "task-filter", "Y")) && !(ret = knob_set(d, "verbose", "0")) &&
		    !(ret = knob_set(d, "interval", "1")) && !(ret = knob_set(d, "times", times)) &&
		    !(ret = knob_set(d, "space", "0")) && !(ret = knob_set(d, "ignore-gfp-wait", "N")))
			ret = knob_set(d, "probability", prob);
	}
	if (!ret)
		ret = knob_set("fail_page_alloc", "min-order", "0");
	return ret;
}

/* should_fail_ex() counts "times" down at every failure it injects (those
 * of fail-nth included), from FAULTS_TIMES as faults_arm() set it. */
long faults_injected(void)
{
	long sum = 0;

	for (unsigned i = 0; i < 2; i++) {
		char path[96], val[32];
		int ret;

		snprintf(path, sizeof(path), DEBUGFS "/%s/times", fault_dirs[i]);
		if ((ret = read_str(path, val, sizeof(val))))
			return ret;
		sum += FAULTS_TIMES - strtol(val, NULL, 10);
	}
	return sum;
}
