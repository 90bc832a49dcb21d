/* SPDX-License-Identifier: MIT */
/*
 * Handing a file descriptor to another process: SCM_RIGHTS over a unix
 * socket, or pidfd_getfd() for files the kernel will not pass that way
 * (io_uring files since Linux 6.7: scm_fp_copy() refuses them with EINVAL).
 */
#ifndef TW_FDPASS_H
#define TW_FDPASS_H

#include <sys/types.h>
#include "timeutil.h"

/* Send fd over a connected unix socket: 0 or -errno (-EINVAL: not passable). */
int fdpass_send(int sock, int fd);
/* Receive one fd by the deadline: the new fd, -ETIMEDOUT or -errno. */
int fdpass_recv(int sock, const struct deadline *dl);
/* Duplicate fd number targetfd of the process behind pidfd (Linux 5.6+,
 * needs ptrace access to it): the new fd (O_CLOEXEC) or -errno. */
int fdpass_take(int pidfd, int targetfd);

#endif
