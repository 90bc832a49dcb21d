// SPDX-License-Identifier: MIT
/*
 * The wait forms and the judged wait of a cell (see wm.h). A waiter enters
 * io_uring_enter(GETEVENTS) in its cell's form; the firer (wm_fire.c)
 * watches it, and a waiter still asleep a bound after its CQEs became
 * postable is kicked with a signal. What the wait returns then says what
 * happened:
 *  - kicked, and the CQEs it asked for are there once the kernel ran its
 *    task_work: nobody woke it (a lost wake-up), even where a timeout or
 *    min_wait would have ended the wait later;
 *  - returned by itself with fewer CQEs than asked for, before its timeout
 *    or min_wait: an early return;
 *  - a short timeout (more CQEs asked for than will come) that ends before
 *    it expires, or not within the bound after: the timeout broken.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procfs.h"
#include "wm.h"

#define REG_SLOT		1	/* a non-zero offset into the region */

static struct tw_reg_wait *region;	/* one page, registered with every cell's ring */

int wm_region_setup(struct wm_run *r)
{
	struct tw_region_desc rd = { .size = 4096, .flags = TW_MEM_REGION_TYPE_USER };
	struct tw_mem_region_reg mr = { .region_uptr = (uintptr_t)&rd,
					.flags = TW_MEM_REGION_REG_WAIT_ARG };

	if (!region) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED)
			return -ENOMEM;
		region = p;
	}
	rd.user_addr = (uintptr_t)region;
	if (syscall(__NR_io_uring_register, tring_fd(r->ring), TW_REGISTER_MEM_REGION, &mr, 1) < 0)
		return -errno;
	return 0;
}

void wm_region_free(void)
{
	if (region)
		munmap(region, 4096);
	region = NULL;
}

bool wm_asleep_in_enter(pid_t tid)
{
	char path[64], buf[64];

	if (proc_task_state(tid) != 'S')
		return false;
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	return !procfs_read(path, buf, sizeof(buf)) && atoi(buf) == __NR_io_uring_enter &&
	       proc_task_state(tid) == 'S';
}

/* liburing 2.3 has no public flush: make queued SQEs visible to the kernel. */
static void flush_sq(struct io_uring *ring)
{
	struct io_uring_sq *sq = &ring->sq;

	if (sq->sqe_head != sq->sqe_tail) {
		sq->sqe_head = sq->sqe_tail;
		io_uring_smp_store_release(sq->ktail, sq->sqe_tail);
	}
}

/* One io_uring_enter() in form f; to_submit SQEs go in with it. */
static int enter(struct wm_run *r, enum wm_form f, unsigned want, unsigned to_submit,
		 int64_t timeout_ns, unsigned min_us)
{
	struct __kernel_timespec ts = { timeout_ns / NSEC_PER_SEC, timeout_ns % NSEC_PER_SEC };
	struct tw_getevents_arg arg = { .sigmask_sz = _NSIG / 8, .min_wait_usec = min_us,
					.ts = (uintptr_t)&ts };
	struct io_uring *ring = &r->ring->ring;
	unsigned flags = IORING_ENTER_GETEVENTS;
	int ret;

	if (to_submit) {
		flush_sq(ring);
		if (io_uring_smp_load_acquire(ring->sq.kflags) & IORING_SQ_NEED_WAKEUP)
			flags |= IORING_ENTER_SQ_WAKEUP;
	}
	switch (f) {
	case WF_TIMEOUT:
	case WF_SHORT:
	case WF_MINWAIT:
		ret = io_uring_enter2(ring->ring_fd, to_submit, want, flags | IORING_ENTER_EXT_ARG,
				      (sigset_t *)&arg, sizeof(arg));
		break;
	case WF_MINWAIT_REG:
		region[REG_SLOT] = (struct tw_reg_wait){ .ts = ts, .min_wait_usec = min_us,
							 .flags = TW_REG_WAIT_TS };
		ret = io_uring_enter2(ring->ring_fd, to_submit, want,
				      flags | IORING_ENTER_EXT_ARG | TW_ENTER_EXT_ARG_REG,
				      (void *)(uintptr_t)(REG_SLOT * sizeof(*region)),
				      sizeof(*region));
		break;
	default:
		ret = io_uring_enter2(ring->ring_fd, to_submit, want, flags, NULL, _NSIG / 8);
		break;
	}
	/* With SQEs, a successful enter returns how many it submitted. */
	return to_submit && ret == (int)to_submit ? 0 : ret;
}

/* Once a kick ended the wait: are the CQEs it asked for there? */
static void judge_kick(struct wm_run *r, unsigned w, enum wm_form f, unsigned ready,
		       int64_t el)
{
	const char *who = w ? "second waiter: " : "";
	double past = ns_to_s(now_ns() - __atomic_load_n(&r->t_post, __ATOMIC_ACQUIRE));

	if (f == WF_SHORT)
		wm_fail(r, WK_OTHER, "%swait for %u CQEs with a %.3f s timeout still asleep %.2f s "
			"after it began (kicked by a signal): the timeout did not end it", who,
			r->want, ns_to_s(__atomic_load_n(&r->t_floor[w], __ATOMIC_ACQUIRE) -
					 __atomic_load_n(&r->t_enter[w], __ATOMIC_ACQUIRE)),
			ns_to_s(el));
	else if (f == WF_MINWAIT || f == WF_MINWAIT_REG)
		wm_fail(r, WK_LOST_WAKE, "lost wake-up: %swait for %u CQEs with min_wait slept %.2f "
			"s, %.2f s past its min_wait and the last event, until a signal ended it; "
			"%u CQEs ready then", who, r->want, ns_to_s(el), past, ready);
	else
		wm_fail(r, WK_LOST_WAKE, "lost wake-up: %swait for %u CQEs slept %.2f s, %.2f s "
			"past the last event, until a signal ended it; %u CQEs ready then (%u "
			"events, %s)", who, r->want, ns_to_s(el), past, ready, r->events,
			r->local ? "local task_work" : "normal task_work");
}

void wm_judged_wait(struct wm_run *r, unsigned w, unsigned to_submit)
{
	struct wm_case *c = r->c;
	enum wm_form f = w ? WF_PLAIN : r->cell->form;
	bool bounded = f == WF_SHORT || f == WF_MINWAIT || f == WF_MINWAIT_REG;
	unsigned min_us = 0, need = bounded ? 1 : r->want;
	int64_t timeout = c->long_ns, floor = 0, t0;
	const char *who = w ? "second waiter: " : "";

	if (f == WF_SHORT)
		floor = timeout = (int64_t)rng_range(&r->rng, 5, 30) * NSEC_PER_MSEC;
	if (f == WF_MINWAIT || f == WF_MINWAIT_REG) {
		min_us = (unsigned)rng_range(&r->rng, 1000, 5000);
		floor = min_us * NSEC_PER_USEC;
	}
	t0 = now_ns();
	__atomic_store_n(&r->t_floor[w], t0 + floor, __ATOMIC_RELEASE);
	__atomic_store_n(&r->t_enter[w], t0, __ATOMIC_RELEASE);
	for (;;) {
		/* The seeded faults ask the kernel for one CQE more, or fewer. */
		unsigned ask = r->want + (wm_fault == WM_LOSTWAKE) -
			       (wm_fault == WM_EARLY && r->want > 1);
		int ret = enter(r, f, ask, to_submit, timeout, min_us);
		int64_t el = now_ns() - t0;
		unsigned ready = io_uring_cq_ready(&r->ring->ring);

		to_submit = 0;
		tc_log(c->tc, "cell %s: waiter %u: enter(%u) = %d after %.4f s, %u ready, kicked %u",
		       r->cell->name, w, r->want, ret, ns_to_s(el), ready,
		       __atomic_load_n(&r->kicked[w], __ATOMIC_ACQUIRE));
		if (__atomic_load_n(&r->expired[w], __ATOMIC_ACQUIRE)) {
			wm_fail(r, WK_OTHER, "lost CQE: %swait for %u CQEs: still %u ready %.2f s after "
				"the last event, even after entering the kernel again", who, need,
				ready, ns_to_s(now_ns() - r->t_post));
			return;
		}
		if (__atomic_exchange_n(&r->kicked[w], 0, __ATOMIC_ACQ_REL)) {
			if (f == WF_SHORT || ready >= need) {
				judge_kick(r, w, f, ready, el);
				return;
			}
			continue;	/* not there yet: the producer is slow, wait on */
		}
		if (ret < 0 && ret != -ETIME) {
			wm_fail(r, WK_OTHER, "%sio_uring_enter(GETEVENTS, %u, %s): %s", who, r->want,
				wm_form_names[f], strerror(-ret));
			return;
		}
		/* A timeout's CQE ends a wait whatever its count: wait on. */
		if (!ret && ready && ready < need && (r->cell->p->flags & WP_ENDS_WAITS))
			continue;
		if (f == WF_SHORT && el < timeout)
			wm_fail(r, WK_OTHER, "early wake-up: %swait for %u CQEs (%u coming) returned %d "
				"after %.4f s, before its %.4f s timeout", who, r->want, r->total,
				ret, ns_to_s(el), ns_to_s(timeout));
		else if (f == WF_SHORT)
			return;
		else if (ret == -ETIME)
			wm_fail(r, WK_OTHER, "%swait for %u CQEs slept to its %.1f s timeout (%u ready) "
				"and no kick ended it earlier", who, need, ns_to_s(timeout), ready);
		else if (ready < need || (bounded && ready < r->want && el < floor))
			wm_fail(r, WK_OTHER, "early wake-up: %swait for %u CQEs%s returned 0 after "
				"%.4f s with %u ready", who, r->want, bounded ? " with min_wait" : "",
				ns_to_s(el), ready);
		return;
	}
}
