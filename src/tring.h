/* SPDX-License-Identifier: MIT */
/*
 * Rings for a case (tring.c): set up from a profile, SQEs, raw waits with
 * deadlines, and a submit and its wait judged as a test needs them judged.
 * Part of the harness: harness.h includes this at its rings section (it
 * needs struct tcase and enum verdict from there); include harness.h.
 */
#ifndef TW_TRING_H
#define TW_TRING_H

struct tring {
	struct io_uring ring;
	const struct profile *prof;
	char name[32];
	bool registered;		/* entered through a registered ring fd */
	bool live;
};

struct tring_opts {
	unsigned sq_entries;		/* default 64 */
	unsigned cq_entries;		/* 0: kernel default (2 x sq) */
	unsigned extra_flags;		/* OR'ed into the profile's setup flags */
	bool register_fd;		/* io_uring_register_ring_fd() after setup */
	int attach_wq_fd;		/* -1, or the ring to attach to (SQPOLL) */
	unsigned sq_idle_ms;		/* SQPOLL: sq_thread_idle (0: 10 ms) */
};

/* Set up a ring for the case's profile. Returns V_PASS, or V_SKIP with the
 * reason recorded (kernel or permissions refuse the profile), or V_FAIL. */
enum verdict tring_init(struct tcase *tc, struct tring *r, const char *name,
			const struct profile *prof, const struct tring_opts *o);
void tring_exit(struct tring *r);
/* Enable an R_DISABLED ring; the caller becomes its submitter. 0 or -errno. */
int tring_enable(struct tring *r);
int tring_fd(const struct tring *r);
/* Next free SQE, submitting what is queued when the SQ is full. */
struct io_uring_sqe *tring_sqe(struct tring *r);
/*
 * Wait for min_complete CQEs with a timeout (timeout_ns < 0: none, where
 * something else ends the wait), optionally with min_wait (usec, 0 = none)
 * and a signal mask. Returns io_uring_enter()'s result (0, -ETIME, -EINTR,
 * ...). No submission happens here.
 */
int tring_wait(struct tring *r, unsigned min_complete, int64_t timeout_ns,
	       unsigned min_wait_usec, const sigset_t *mask);
/* Wait until at least n CQEs are ready in the CQ: 0, -ETIMEDOUT or -errno. */
int tring_wait_ready(struct tring *r, unsigned n, const struct deadline *dl);
/* Enter with GETEVENTS and min_complete 0: runs pending task_work. */
int tring_get_events(struct tring *r);
unsigned tring_sq_flags(const struct tring *r);
/* Features the kernel reported at setup of the first ring. */
unsigned kernel_features(void);

/*
 * The judged forms of the two steps most tests take. tring_await(): wait
 * until n CQEs are ready, by dl; the deadline passing is a HANG ("waiting
 * for: <what>"), any other error of the wait a FAIL naming it (a wait that
 * fails at once is no hang). tring_submit_await(): first submit what is
 * queued, expecting nsub SQEs taken; a short or failed submit is a FAIL
 * with what it returned. Both return V_PASS, or the verdict they reported.
 */
enum verdict tring_submit_await(struct tcase *tc, struct tring *r, unsigned nsub, unsigned n,
				const struct deadline *dl, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* tring_await(), and its hang report dumps the ledger l too (what is
 * pending). tring_await() is this with no ledger. */
enum verdict tring_await_ledger(struct tcase *tc, const struct ledger *l, struct tring *r,
				unsigned n, const struct deadline *dl, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
#define tring_await(tc, r, n, dl, ...) tring_await_ledger(tc, NULL, r, n, dl, __VA_ARGS__)

#endif
