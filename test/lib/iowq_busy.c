// SPDX-License-Identifier: MIT
/* An io-wq worker busy in a request (see iowq_busy.h). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "iowq_busy.h"

/* Is the worker in io-wq's wait for work, by its wchan? (The worker's
 * function is io_wq_worker, io_wqe_worker before 6.5.) */
static bool worker_idle(pid_t tid)
{
	char path[64], wchan[64] = "";
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", (int)tid);
	if ((fd = open(path, O_RDONLY)) >= 0) {
		n = read(fd, wchan, sizeof(wchan) - 1);
		close(fd);
	}
	return n > 0 && (!strncmp(wchan, "io_wq_worker", 12) || !strncmp(wchan, "io_wqe_worker", 13));
}

pid_t iowq_worker_busy(pid_t tid, const struct deadline *dl)
{
	char name[16] = "iou-wrk-";
	pid_t wrk;

	if (tid)
		snprintf(name, sizeof(name), "iou-wrk-%d", (int)tid);
	for (;;) {
		wrk = proc_find_thread(getpid(), name);
		if (wrk >= 0 && proc_task_state(wrk) == 'S' && !worker_idle(wrk))
			return wrk;
		if (deadline_passed(dl))
			return -ETIMEDOUT;
		sched_yield();
	}
}
