/* SPDX-License-Identifier: MIT */
/*
 * What newer kernels and liburing releases define and Debian 12's liburing
 * 2.3 does not. configure probes the installed headers (config-host.h);
 * every value here is the kernel ABI, so defining it ourselves is safe. A
 * kernel that does not know a flag answers EINVAL: a skip where it predates
 * the flag, else a failure (the needs table, needs.h).
 */
#ifndef TW_COMPAT_H
#define TW_COMPAT_H

#include <linux/types.h>
#include "config-host.h"

#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER	(1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN	(1U << 13)
#endif
#ifndef IORING_FEAT_MIN_TIMEOUT
#define IORING_FEAT_MIN_TIMEOUT		(1U << 15)
#endif
#ifndef IORING_FEAT_NODROP
#define IORING_FEAT_NODROP		(1U << 1)
#endif
#ifndef IORING_FEAT_EXT_ARG
#define IORING_FEAT_EXT_ARG		(1U << 8)
#endif
#ifndef IORING_ENTER_REGISTERED_RING
#define IORING_ENTER_REGISTERED_RING	(1U << 4)
#endif
#ifndef IORING_ASYNC_CANCEL_ALL
#define IORING_ASYNC_CANCEL_ALL		(1U << 0)
#endif
#ifndef IORING_ASYNC_CANCEL_FD
#define IORING_ASYNC_CANCEL_FD		(1U << 1)
#endif
#ifndef IORING_ASYNC_CANCEL_ANY
#define IORING_ASYNC_CANCEL_ANY		(1U << 2)
#endif

/*
 * io_uring_getevents_arg as of 6.12: the old 'pad' became min_wait_usec
 * (IORING_FEAT_MIN_TIMEOUT). Same layout, so we always use our own copy.
 */
struct tw_getevents_arg {
	__u64 sigmask;
	__u32 sigmask_sz;
	__u32 min_wait_usec;
	__u64 ts;
};

#endif
