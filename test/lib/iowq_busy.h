/* SPDX-License-Identifier: MIT */
/*
 * An io-wq worker busy in a request: for cancels of work that is running
 * (sync_cancel, async_cancel). A splice from an empty pipe is issued by a
 * worker (always, unhashed) and blocks it; the test waits until a worker
 * of the task sleeps, and not in io-wq's own idle wait, before cancelling.
 */
#ifndef TW_IOWQ_BUSY_H
#define TW_IOWQ_BUSY_H

#include "harness.h"

/*
 * Wait until an io-wq worker of thread tid (iou-wrk-<tid>), or with tid 0
 * any worker of this process, sleeps in something other than io-wq's wait
 * for work (its wchan, where the kernel shows one). The worker's thread id,
 * or -ETIMEDOUT at the deadline.
 */
pid_t iowq_worker_busy(pid_t tid, const struct deadline *dl);

#endif
