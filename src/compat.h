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

#include <linux/time_types.h>
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

/*
 * Registered wait regions (6.13): a user memory region registered with
 * IORING_REGISTER_MEM_REGION holds struct io_uring_reg_wait entries; a wait
 * names one by its offset, with IORING_ENTER_EXT_ARG_REG. TW_ names: newer
 * headers have these as enum values, which #ifndef cannot see.
 */
#define TW_REGISTER_MEM_REGION		34	/* IORING_REGISTER_MEM_REGION */
#define TW_MEM_REGION_TYPE_USER		1u	/* IORING_MEM_REGION_TYPE_USER */
#define TW_MEM_REGION_REG_WAIT_ARG	1u	/* IORING_MEM_REGION_REG_WAIT_ARG */
#define TW_ENTER_EXT_ARG_REG		(1u << 6)	/* IORING_ENTER_EXT_ARG_REG */
#define TW_REG_WAIT_TS			1u	/* IORING_REG_WAIT_TS */

struct tw_reg_wait {			/* struct io_uring_reg_wait */
	struct __kernel_timespec ts;
	__u32 min_wait_usec, flags;
	__u64 sigmask;
	__u32 sigmask_sz, pad[3];
	__u64 pad2[2];
};
struct tw_region_desc {			/* struct io_uring_region_desc */
	__u64 user_addr, size;
	__u32 flags, id;
	__u64 mmap_offset, resv[4];
};
struct tw_mem_region_reg {		/* struct io_uring_mem_region_reg */
	__u64 region_uptr, flags, resv[2];
};

#endif
