// SPDX-License-Identifier: MIT
/*
 * request_kinds' completions from other contexts. async: IOSQE_ASYNC nops,
 * memfd reads and pipe reads, completed from io-wq workers (and io-wq's
 * poll), each once with its expected res and data. timeouts: fired from
 * hrtimer context, -ETIME once, never early. Both judged per CQE (kinds.c).
 */
#include "kinds.h"

void kinds_async(struct kinds *k)
{
	struct kinds_helper *h;

	kinds_begin(k, &k->rings[0]);
	for (unsigned i = 0; i < KINDS_ASYNC; i++) {
		unsigned slot = k->seq[ROLE_ASYNC_MEMFD_READ] % KINDS_ASYNC;

		switch (rng_below(&k->rng, 3)) {
		case 0:
			kinds_prep(k, ROLE_ASYNC_NOP, IOSQE_ASYNC);
			break;
		case 1:	/* memfd page i holds bytes of value i; slot = seq % KINDS_ASYNC */
			kinds_prep_read(k, ROLE_ASYNC_MEMFD_READ, k->memfd, IOSQE_ASYNC,
					&k->areads[slot], 8, slot * 4096);
			break;
		default:	/* io-wq finds the pipe empty, arms poll: the write's wake-up */
			kinds_prep_fed_read(k, ROLE_ASYNC_PIPE_READ, IOSQE_ASYNC);
		}
	}
	h = kinds_feed(k, 0);
	kinds_collect(k, "IOSQE_ASYNC requests");
	kinds_finish(k, h);
}

void kinds_timeouts(struct kinds *k)
{
	struct __kernel_timespec ts[KINDS_TIMERS];

	kinds_begin(k, &k->rings[0]);
	for (unsigned i = 0; i < KINDS_TIMERS; i++) {
		int64_t ns = (int64_t)rng_range(&k->rng, 20, 1500) * NSEC_PER_USEC;

		ts[i] = (struct __kernel_timespec){ .tv_nsec = ns };
		/* Due no earlier than now + ns: the hrtimer never fires early. */
		k->timer_due[k->seq[ROLE_TIMEOUT] % KINDS_TIMERS] = now_ns() + ns;
		io_uring_prep_timeout(kinds_prep(k, ROLE_TIMEOUT, 0), &ts[i], 0, 0);
	}
	kinds_collect(k, "timeouts");
	kinds_finish(k, NULL);
}
