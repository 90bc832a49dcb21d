/* SPDX-License-Identifier: MIT */
/*
 * The other tasks of test/exec_fork.c's rounds, and the reaping they share:
 * the MSG_RING sender threads, judged by the target's enable state; the
 * child that execs with reads pending and the image it execs; the owner
 * that creates a ring and hands it over; the clone(CLONE_FILES) child. Each
 * child's exit status says which step failed. Why each step is there:
 * test/exec_fork.c.
 */
#ifndef TW_EXEC_FORK_H
#define TW_EXEC_FORK_H

#include "harness.h"
#include "handover.h"

#define XF_EXEC_ARG		"--exec-image"	/* argv[1] of the re-exec'd image */
#define XF_NREADS		8
#define XF_NSENDERS		3	/* < XF_NREADS: the ledger has XF_NREADS producers */
#define XF_EXEC_NOP		1	/* ledger channels of the exec round */
#define XF_CLONE_NOP		1	/* ... and of the clone round */
#define XF_IMAGE_OWNERDEAD	10	/* exec'd image's exit: submit said -EOWNERDEAD */

struct xf {				/* MAP_SHARED: parent, children, threads */
	struct tcase *tc;
	struct ledger *led;
	struct tring ring;		/* the ring of the round (parent's view) */
	int target_fd;			/* what senders aim at */
	struct handover h;		/* the exec'd image's and the fd-passed ring's */
	int pipes[XF_NREADS][2];
	char buf[XF_NREADS];
	struct tw_event ready, taken, submitted;
	uint32_t enable_state;		/* 0 disabled, 1 enabling, 2 enabled */
	struct tw_counter refused;
	uint32_t quota;			/* messages each sender delivers */
	enum { R_EXEC, R_FDPASS, R_DISABLED, R_CLONE, ROUND_KINDS } kind;
	bool child_failed;
	int leftover_fd;
	char why[160];
};

/*
 * Start XF_NSENDERS threads, each with its own ring, sending x->quota
 * MSG_RINGs one at a time to x->target_fd: payload the attempt number,
 * user_data the ledger's (sender i is producer i, channel 0). Each result
 * is judged by x->enable_state before and after it: -EBADFD (counted in
 * x->refused) only while the ring may still be disabled and before any
 * message got through, 0 never while it is still disabled. Returns the
 * number started (fewer after a failure).
 */
unsigned xf_start_senders(struct xf *x, struct tw_thread *th);
/*
 * exec: enable x->ring (becoming its submitter), submit a read per pipe and
 * exec this program with XF_EXEC_ARG; exits 2 enable, 3 submit, 4 exec,
 * 7 SQ not consumed. The image (xf_exec_image(), from main()) maps the
 * inherited ring and submits a NOP: 0, or 5 mmap, 6 submit,
 * XF_IMAGE_OWNERDEAD, 100 + errno.
 */
int xf_exec_child(void *arg);
int xf_exec_image(char **argv);
/* fd-passed: create an R_DISABLED ring, hand it over (x->h) and die once it
 * is taken; x->why says what failed. */
int xf_fdpass_owner(void *arg);
/* clone: a CLONE_FILES child that MSG_RINGs x->target_fd from a ring of its
 * own (left in the shared fd table) and submits NOPs on x->ring unless it is
 * SINGLE_ISSUER; exits 2 ring set-up, 3 MSG_RING. 0, or -1 (errno set). */
int xf_clone_spawn(struct xf *x, struct child *c);
/*
 * Reap x->ring until the ledger has all that was sent, by a deadline that
 * every CQE renews (else a hang, reported as what). efd >= 0: an eventfd
 * registered on the ring says when (its submitter is another task, so we
 * may not wait in it); -1: wait in it.
 */
void xf_drain(struct xf *x, int efd, const char *what);

#endif
