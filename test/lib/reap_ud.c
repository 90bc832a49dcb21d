// SPDX-License-Identifier: MIT
/* CQEs told apart by their user_data (see reap_ud.h). */
#include "reap_ud.h"

void reap_ud_init(int *res, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		res[i] = REAP_NONE;
}

bool reap_ud(struct tcase *tc, struct tring *r, const uint64_t *uds, int *res, unsigned n)
{
	struct io_uring_cqe *cqe;
	bool ok = true;

	while (!io_uring_peek_cqe(&r->ring, &cqe)) {
		unsigned i = 0;

		while (i < n && uds[i] != cqe->user_data)
			i++;
		if (i == n || res[i] != REAP_NONE) {
			tc_fail(tc, "%s CQE: user_data 0x%llx res %d", i == n ? "unexpected" :
				"second", (unsigned long long)cqe->user_data, cqe->res);
			ok = false;
		} else {
			res[i] = cqe->res;
		}
		io_uring_cqe_seen(&r->ring, cqe);
	}
	return ok;
}
