// SPDX-License-Identifier: MIT
/*
 * request_kinds' drain phase: reads a helper completes, then an
 * IOSQE_IO_DRAIN nop, then a nop: the drain completes after every earlier
 * request, the nop after the drain (io_drain_req's defer list).
 */
#include "kinds.h"

/*
 * On a ring of its own. After a drain the kernel keeps its drain state until
 * a later request finds the defer list empty (6.18, 7.3): the next requests
 * go through the defer list and task_work, so a cancel submitted after an
 * armed multishot may not find it yet (DEFER: -ENOENT, the multishot stays
 * armed), and on the host's SQPOLL a cancel once waited forever behind an
 * armed multishot. Kept apart so the other phases test their own paths.
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
