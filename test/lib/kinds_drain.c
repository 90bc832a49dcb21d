// SPDX-License-Identifier: MIT
/*
 * request_kinds' drain phase: reads a helper completes, then an
 * IOSQE_IO_DRAIN nop, then a nop: the drain completes after every earlier
 * request, the nop after the drain (io_drain_req's defer list).
 */
#include "kinds.h"

/*
 * On a ring of its own: a kernel bug (6.16 to 7.2; 7.3 for a drained link).
 * The drain state outlives the drain: once the drained request completed,
 * a later request still goes through io_drain_req() and waits until nothing
 * else of the ring is in flight - a cancel of an armed multishot waits for
 * the multishot, forever (first seen on the host's SQPOLL ring). And the
 * first request that finds the defer list empty is issued from task_work,
 * so a cancel right behind it may not find it (-ENOENT). The other phases
 * test their own paths, not this one; test/regress_drain_outlives.c
 * reports it (doc/bugs/drain-outlives-drain.md).
 */
void kinds_drain(struct kinds *k)
{
	struct kinds_helper *h;

	kinds_begin(k, &k->rings[1]);
	for (unsigned i = 0; i < KINDS_DRAINED_READS; i++)
		kinds_prep_fed_read(k, ROLE_DRAINED_READ + i, 0);
	kinds_prep(k, ROLE_DRAIN_NOP, IOSQE_IO_DRAIN);
	kinds_prep(k, ROLE_NOP_AFTER_DRAIN, 0);
	h = kinds_feed(k, 5000);
	if (!kinds_collect(k, "drain")) {
		for (unsigned i = 0; i < KINDS_DRAINED_READS; i++) {
			kinds_expect(k, "drain", ROLE_DRAINED_READ + i, 1);
			kinds_expect_before(k, "drain", ROLE_DRAINED_READ + i, ROLE_DRAIN_NOP);
		}
		kinds_expect(k, "drain", ROLE_DRAIN_NOP, 0);
		kinds_expect(k, "drain", ROLE_NOP_AFTER_DRAIN, 0);
		kinds_expect_before(k, "drain", ROLE_DRAIN_NOP, ROLE_NOP_AFTER_DRAIN);
	}
	kinds_finish(k, h);
}
