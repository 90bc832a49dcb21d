// SPDX-License-Identifier: MIT
/*
 * A fake test that takes a guest down, for the meta tests of guest/vm-run:
 * a kernel that dies or stops answering mid-run must be reported with the
 * case that was running, and qemu stopped. It is a fixture, not a
 * self-test: test/selftest.sh does not run fake_*.t, and vm-run puts it
 * into a guest only with TW_VM_FIXTURES=1, under two names:
 *
 *   fake_vm_panic  its case crashes the kernel (sysrq 'c': a NULL dereference
 *                  in the sysrq handler, then panic)
 *   fake_vm_hang   its case silences the guest for good: SIGSTOP to every
 *                  process but init (which the kernel shields) and itself -
 *                  the heartbeat, the runner, the supervisor and its timeout
 *                  - then waits forever. From the host this is a kernel that
 *                  stopped answering. (Starving the CPUs with SCHED_FIFO
 *                  spinners does not do it on 6.12+: the fair deadline server
 *                  still gives the heartbeat its time.)
 *
 * Any other name passes. It does nothing unless it runs as root in a
 * guest/vm-run guest ($TW_VM_GUEST=1 and host name tw-guest, both set by
 * guest/init): run by accident anywhere else, it skips.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static bool in_vm_guest(void)
{
	const char *guest = getenv("TW_VM_GUEST");
	char host[64] = "";

	gethostname(host, sizeof(host) - 1);
	return guest && !strcmp(guest, "1") && !strcmp(host, "tw-guest");
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static enum verdict panic_now(struct tcase *tc)
{
	sync();
	if (write_file("/proc/sysrq-trigger", "c"))
		return tc_fail(tc, "cannot write /proc/sysrq-trigger: %s", strerror(errno));
	return tc_fail(tc, "sysrq 'c' did not crash the kernel");
}

static enum verdict silence_guest(struct tcase *tc)
{
	if (kill(-1, SIGSTOP))
		return tc_fail(tc, "kill(-1, SIGSTOP): %s", strerror(errno));
	for (;;)
		pause();
}

static enum verdict run(struct tcase *tc)
{
	if (!in_vm_guest())
		return tc_skip(tc, "only in a guest/vm-run guest (TW_VM_FIXTURES=1)");
	if (!is_root())
		return tc_skip(tc, "needs root in the guest");
	if (strstr(tc->sc->name, "panic"))
		return panic_now(tc);
	if (strstr(tc->sc->name, "hang"))
		return silence_guest(tc);
	return V_PASS;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	char name[48];
	struct scenario sc = {
		.name = name,
		.summary = "takes a vm-run guest down: panic or starve (by program name)",
		.profiles = PMASK(P_DEFAULT),
		.run = run,
		.min_threads = 1,
	};

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(base, "."), base);
	return harness_main(argc, argv, &sc);
}
