// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "token.h"

#define ACK_SLICE_MS	50

int token_fan_init(struct token_fan *f, struct measurement *meas)
{
	memset(f, 0, sizeof(*f));
	f->meas = meas;
	for (int i = 0; i < meas->producers; i++) {
		int sv[2];

		/* A socket, not a pipe: sockets take io_uring's nonblocking
		 * attempt then poll on every kernel (6.1's pipes went to io-wq). */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
			int err = -errno;

			token_fan_exit(f);
			return err;
		}
		f->slot[i] = (struct token_slot){ .fan = f, .id = i, .tx = sv[0], .rx = sv[1] };
	}
	return 0;
}

void token_fan_exit(struct token_fan *f)
{
	for (int i = 0; i < BENCH_MAX_PRODUCERS; i++) {
		if (f->slot[i].fan) {
			close(f->slot[i].tx);
			close(f->slot[i].rx);
			f->slot[i].fan = NULL;
		}
	}
}

/* Until the consumer acked token seq: -ETIMEDOUT after --hang seconds. */
static int wait_ack(struct token_slot *s, uint32_t seq, const struct deadline *dl)
{
	for (;;) {
		uint32_t seen = __atomic_load_n(&s->ack, __ATOMIC_ACQUIRE);
		struct deadline slice = deadline_in(ACK_SLICE_MS * NSEC_PER_MSEC);

		if (seen == seq)
			return 0;
		if (deadline_passed(dl))
			return -ETIMEDOUT;
		/* Announce the sleep before re-checking: the consumer wakes
		 * only sleepers, which keeps a futex call off its fast path. */
		__atomic_store_n(&s->waiting, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&s->ack, __ATOMIC_SEQ_CST) == seen)
			futex_wait_until(&s->ack, seen, &slice);
		__atomic_store_n(&s->waiting, 0, __ATOMIC_SEQ_CST);
	}
}

static void *producer_main(void *arg)
{
	struct token_slot *s = arg;
	struct measurement *meas = s->fan->meas;
	uint32_t seq = 0;

	bench_worker_ready(meas, s->id);
	while (!bench_stopping(meas)) {
		struct deadline dl = bench_wait_deadline(meas);

		__atomic_store_n(&s->t_sent, now_ns(), __ATOMIC_RELEASE);
		__atomic_store_n(&s->sent, ++seq, __ATOMIC_RELEASE);
		if (write(s->tx, "t", 1) != 1) {
			bench_error(meas, "producer %d: write: %s", s->id, strerror(errno));
			break;
		}
		if (wait_ack(s, seq, &dl)) {
			bench_error(meas, "producer %d: token %u not seen in %d s: its wake-up was lost",
				    s->id, seq, meas->o->hang_s);
			break;
		}
	}
	__atomic_add_fetch(&s->fan->producers_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

int token_producers_start(struct token_fan *f, pthread_t *t)
{
	return bench_threads_start(t, f->meas->producers, producer_main, f->slot,
				   sizeof(f->slot[0]));
}

bool token_producers_done(const struct token_fan *f)
{
	return __atomic_load_n(&f->producers_done, __ATOMIC_ACQUIRE) == f->meas->producers;
}

bool token_seen(struct token_slot *s, int64_t now, struct hist *lat, bool counting)
{
	if (__atomic_load_n(&s->sent, __ATOMIC_ACQUIRE) == s->ack)
		return false;
	if (bench_fault_now(FAULT_LOST_TOKEN))
		return false;
	if (counting)
		hist_record(lat, now - __atomic_load_n(&s->t_sent, __ATOMIC_ACQUIRE));
	if (++s->undrained >= TOKEN_DRAIN_EVERY) {
		char buf[4096];

		while (recv(s->rx, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
		s->undrained = 0;
	}
	__atomic_add_fetch(&s->ack, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->waiting, __ATOMIC_SEQ_CST))
		futex_wake_all(&s->ack);
	return true;
}
