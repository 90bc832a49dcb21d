// SPDX-License-Identifier: MIT
/*
 * request_kinds' links phase: a chain completes in link order; a link
 * timeout is beaten by its read (-ECANCELED), fires on an idle read from its
 * hrtimer (-ETIME, the read -ECANCELED), or races a helper's write; a
 * failing head (-EBADF) fails its link (-ECANCELED).
 */
#include "kinds.h"

/*
 * The race (io_req_task_link_timeout): a cancelled read means the timer won
 * outright (-ETIME). A read that completed disarmed the timer (-ECANCELED),
 * or the timer fired too late to find it (-ETIME: already unlinked;
 * -ENOENT, -EALREADY: io_try_cancel()).
 */
static void check_race(struct kinds *k)
{
	int32_t read = k->res[ROLE_RACING_READ], timeout = k->res[ROLE_RACING_READ_TIMEOUT];

	if (read == -ECANCELED)
		kinds_expect(k, "read->link timeout (race)", ROLE_RACING_READ_TIMEOUT, -ETIME);
	else if (read != 1 || (timeout != -ECANCELED && timeout != -ETIME &&
			       timeout != -EALREADY && timeout != -ENOENT))
		tc_fail(k->tc, "bad result: read->link timeout (race) [%s]: read %d, timeout %d",
			k->tc->prof->name, read, timeout);
}

void kinds_links(struct kinds *k)
{
	struct __kernel_timespec long_ts = { .tv_sec = 10 },
		short_ts = { .tv_nsec = (long)rng_range(&k->rng, 50, 1000) * 1000 },
		race_ts = { .tv_nsec = (long)rng_range(&k->rng, 1, 100) * 1000 };
	struct kinds_helper *h;
	int idle_wfd;
	char buf;

	kinds_begin(k, &k->rings[0]);
	kinds_prep(k, ROLE_CHAIN_HEAD, IOSQE_IO_LINK);		/* chain: CQEs in link order */
	kinds_prep_fed_read(k, ROLE_CHAIN_READ, IOSQE_IO_LINK);
	kinds_prep(k, ROLE_CHAIN_TAIL, 0);
	/* completion beats the timer */
	kinds_prep_fed_read(k, ROLE_PROMPT_READ, IOSQE_IO_LINK);
	kinds_prep_link_timeout(k, ROLE_PROMPT_READ_TIMEOUT, &long_ts);
	/* nobody writes: the timer fires */
	idle_wfd = kinds_prep_idle_read(k, ROLE_IDLE_READ, IOSQE_IO_LINK);
	kinds_prep_link_timeout(k, ROLE_IDLE_READ_TIMEOUT, &short_ts);
	/* a write end: -EBADF fails the link */
	kinds_prep_read(k, ROLE_BAD_READ, idle_wfd, IOSQE_IO_LINK, &buf, 1, 0);
	kinds_prep(k, ROLE_BAD_READ_NOP, 0);
	/* a write races the timer */
	kinds_prep_fed_read(k, ROLE_RACING_READ, IOSQE_IO_LINK);
	kinds_prep_link_timeout(k, ROLE_RACING_READ_TIMEOUT, &race_ts);
	h = kinds_feed(k, 20000);
	if (!kinds_collect(k, "links")) {
		kinds_expect(k, "nop->read->nop", ROLE_CHAIN_HEAD, 0);
		kinds_expect(k, "nop->read->nop", ROLE_CHAIN_READ, 1);
		kinds_expect(k, "nop->read->nop", ROLE_CHAIN_TAIL, 0);
		kinds_expect_before(k, "nop->read->nop", ROLE_CHAIN_HEAD, ROLE_CHAIN_READ);
		kinds_expect_before(k, "nop->read->nop", ROLE_CHAIN_READ, ROLE_CHAIN_TAIL);
		kinds_expect(k, "read->link timeout (completes)", ROLE_PROMPT_READ, 1);
		kinds_expect(k, "read->link timeout (completes)", ROLE_PROMPT_READ_TIMEOUT,
			     -ECANCELED);
		kinds_expect(k, "idle read->link timeout (fires)", ROLE_IDLE_READ, -ECANCELED);
		kinds_expect(k, "idle read->link timeout (fires)", ROLE_IDLE_READ_TIMEOUT, -ETIME);
		kinds_expect(k, "bad read->nop", ROLE_BAD_READ, -EBADF);
		kinds_expect(k, "bad read->nop", ROLE_BAD_READ_NOP, -ECANCELED);
		check_race(k);
	}
	kinds_finish(k, h);
}
