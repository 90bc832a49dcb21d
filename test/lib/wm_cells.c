// SPDX-License-Identifier: MIT
/*
 * The matrix's axes and the cells they make (see wm.h): producers x N x
 * wait forms x timings, minus what the tables say a profile or a producer
 * cannot express; names, filters (-C), the listing (-L) and the order a
 * case runs its cells in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kver.h"
#include "wm.h"

/* The producers of completions, each in its wm_prod_*.c. */
const struct wm_producer *const wm_producers[] = {
	&wm_msg_data, &wm_msg_fd, &wm_pipe_read, &wm_pipe_write, &wm_sock_recv, &wm_sock_send,
	&wm_poll, &wm_poll_ms, &wm_poll_excl, &wm_recv_ms_dgram, &wm_recv_ms_stream,
	&wm_accept_ms, &wm_read_ms, &wm_link, &wm_link_timeout, &wm_timeout, &wm_futex,
	&wm_waitid, &wm_async, &wm_cancel,
};
const unsigned wm_nproducers = sizeof(wm_producers) / sizeof(wm_producers[0]);

/* N: one, the smallest batches, a batch, and more than one run of local
 * work (IO_LOCAL_TW_DEFAULT_MAX 20) or of the SQ thread's task_work (32). */
static const unsigned ns[] = { 1, 2, 3, 8, WM_MAX_N };
#define NNS (sizeof(ns) / sizeof(ns[0]))

const char *const wm_form_names[WF_COUNT] = {
	[WF_PLAIN] = "plain",		/* GETEVENTS, no timeout */
	[WF_TIMEOUT] = "timeout",	/* EXT_ARG with a long timeout */
	[WF_SHORT] = "short",		/* more than will come, a short timeout */
	[WF_MINWAIT] = "minwait",	/* more than will come, min_wait (EXT_ARG) */
	[WF_MINWAIT_REG] = "minwait_reg",	/* ... through a registered wait region */
	[WF_SQ_ASLEEP] = "sq_asleep",	/* SQPOLL: the SQ thread asleep (NEED_WAKEUP) */
	[WF_SQ_AWAKE] = "sq_awake",	/* SQPOLL: the SQ thread polling */
	[WF_SECOND] = "second",		/* a second thread waits too */
};

const char *const wm_timing_names[WT_COUNT] = {
	[WT_BEFORE] = "before",		/* every event before the wait begins */
	[WT_AFTER] = "after",		/* each event once the waiter is seen asleep */
	[WT_SPREAD] = "spread",		/* seeded gaps, racing the wait's start */
	[WT_B2B] = "b2b",		/* the waiter seen asleep, then all at once */
};

/* What a cell needs beyond its profile, with the first mainline kernel
 * that has it. Until src/needs.h (helper "needs") lands, this one table and
 * kver_at_least() decide: refused before that version is a skip, from it
 * on a failure. */
static const struct {
	const char *what;
	unsigned major, minor;
	int op;				/* probed opcode, or -1 */
} wm_needs[WN_COUNT] = {
	[WN_NONE] = { "nothing", 0, 0, -1 },
	[WN_EXT_ARG] = { "IORING_ENTER_EXT_ARG", 5, 11, -1 },
	[WN_MSG_RING] = { "IORING_OP_MSG_RING", 5, 18, IORING_OP_MSG_RING },
	[WN_MSG_FD] = { "IORING_MSG_SEND_FD", 6, 0, IORING_OP_MSG_RING },
	[WN_POLL_MS] = { "IORING_POLL_ADD_MULTI", 5, 13, -1 },
	[WN_SPLICE] = { "IORING_OP_SPLICE", 5, 7, IORING_OP_SPLICE },
	[WN_ACCEPT_MS] = { "IORING_ACCEPT_MULTISHOT", 5, 19, -1 },
	[WN_RECV_MS] = { "IORING_RECV_MULTISHOT", 6, 0, -1 },
	[WN_READ_MS] = { "IORING_OP_READ_MULTISHOT", 6, 7, 49 },
	[WN_FUTEX] = { "IORING_OP_FUTEX_WAIT", 6, 7, 51 },
	[WN_WAITID] = { "IORING_OP_WAITID", 6, 7, 50 },
	[WN_MIN_WAIT] = { "min_wait (IORING_FEAT_MIN_TIMEOUT)", 6, 12, -1 },
	[WN_WAIT_REG] = { "IORING_REGISTER_MEM_REGION wait regions", 6, 13, -1 },
};

enum wm_need wm_form_need(enum wm_form f)
{
	switch (f) {
	case WF_TIMEOUT:
	case WF_SHORT:
		return WN_EXT_ARG;
	case WF_MINWAIT:
		return WN_MIN_WAIT;
	case WF_MINWAIT_REG:
		return WN_WAIT_REG;
	default:
		return WN_NONE;
	}
}

static const char *predates(enum wm_need need)
{
	static char buf[200];

	snprintf(buf, sizeof(buf), "kernel %u.%u predates %s (first in %u.%u)",
		 kver_running() >> 16, (kver_running() >> 8) & 0xff, wm_needs[need].what,
		 wm_needs[need].major, wm_needs[need].minor);
	return buf;
}

/* Is OP in the kernel's probe? A kernel that will not list its opcodes
 * (5.6+ should) answers "yes": the cell then runs, and the op's own
 * refusal is judged by wm_refused(). */
static bool has_op(int op)
{
	struct io_uring_probe *probe = io_uring_get_probe();
	bool has = true;

	if (probe) {
		has = io_uring_opcode_supported(probe, op);
		io_uring_free_probe(probe);
	}
	return has;
}

const char *wm_need_missing(enum wm_need need)
{
	bool lacks = false;

	if (wm_needs[need].op >= 0)
		lacks = !has_op(wm_needs[need].op);
	else if (need == WN_MIN_WAIT)
		lacks = !(kernel_features() & IORING_FEAT_MIN_TIMEOUT);
	else if (need == WN_EXT_ARG)
		lacks = !(kernel_features() & IORING_FEAT_EXT_ARG);
	/* A kernel that should have it runs the cell: its refusal fails it. */
	if (!lacks || kver_at_least(wm_needs[need].major, wm_needs[need].minor))
		return NULL;
	return predates(need);
}

const char *wm_refused(struct wm_run *r, enum wm_need need, int err, const char *what)
{
	if (err != -ENOMEM && !kver_at_least(wm_needs[need].major, wm_needs[need].minor))
		return predates(need);
	wm_fail(r, WK_OTHER, "%s refused: %s (%s is in mainline since %u.%u)", what,
		strerror(-err), wm_needs[need].what, wm_needs[need].major, wm_needs[need].minor);
	return NULL;
}

/* ---- the cells ------------------------------------------------------------ */

static bool form_fits(enum wm_form f, enum profile_id prof, const struct wm_producer *p)
{
	/* "More CQEs than will come" cannot be asked where each CQE ends a wait. */
	if ((p->flags & WP_ENDS_WAITS) && (f == WF_SHORT || f == WF_MINWAIT || f == WF_MINWAIT_REG))
		return false;
	if (f == WF_SQ_ASLEEP || f == WF_SQ_AWAKE)
		return prof == P_SQPOLL;
	if (f == WF_SECOND)	/* DEFER_TASKRUN: only the submitter may wait */
		return !(profiles[prof].props & PROF_LOCAL_TW);
	return true;
}

/* The default run's fixed part: every producer in the shape of the known
 * lost wake-up (two CQEs, no timeout, events back to back on a sleeping
 * waiter), and every wait form with one-shot pipe reads. */
static bool is_core(const struct wm_cell *c)
{
	unsigned first = __builtin_ctz(c->p->timings);
	enum wm_timing t = c->p->timings & (1u << WT_B2B) ? WT_B2B : (enum wm_timing)first;

	if (c->n == 2 && c->form == WF_PLAIN && c->timing == t)
		return true;
	return c->p == &wm_pipe_read && c->n == 3 && c->timing == WT_AFTER;
}

/* ---- seeded faults ---- */

enum wm_fault wm_fault;

int wm_fault_parse(const char *name)
{
	static const char *const names[] = { "", "lostwake", "early", "drop", "extra", "reorder" };

	for (unsigned i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i])) {
			wm_fault = (enum wm_fault)i;
			return 0;
		}
	fprintf(stderr, "TW_WM_FAULT: no fault '%s' (lostwake, early, drop, extra, reorder)\n",
		name);
	return -1;
}

/* ---- filters -------------------------------------------------------------- */

#define MAX_TERMS 32
enum key { K_PRODUCER, K_N, K_WAIT, K_TIMING, K_CELL, K_SET, K_COUNT };
static const char *const key_names[K_COUNT] = { "producer", "n", "wait", "timing", "cell", "set" };
static struct { enum key key; char val[64]; } terms[MAX_TERMS];
static unsigned nterms;

int wm_filter_parse(const char *spec)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	int ret = 0;

	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		unsigned k = 0;

		if (eq)
			for (*eq = 0; k < K_COUNT && strcmp(key_names[k], tok); k++)
				;
		if (!eq || k == K_COUNT || nterms == MAX_TERMS || strlen(eq + 1) >= 64) {
			fprintf(stderr, "bad filter term '%s' (keys: producer, n, wait, timing, cell, "
				"set=core)\n", tok);
			ret = -1;
			break;
		}
		terms[nterms].key = (enum key)k;
		snprintf(terms[nterms++].val, 64, "%s", eq + 1);
	}
	free(copy);
	return ret;
}

bool wm_filtering(void)
{
	return nterms > 0;
}

static const char *cell_value(const struct wm_cell *c, enum key k, char *buf)
{
	switch (k) {
	case K_PRODUCER:
		return c->p->name;
	case K_N:
		snprintf(buf, 16, "%u", c->n);
		return buf;
	case K_WAIT:
		return wm_form_names[c->form];
	case K_TIMING:
		return wm_timing_names[c->timing];
	case K_CELL:
		return c->name;
	default:
		return c->core ? "core" : "-";
	}
}

/* Every key given matches one of its values. */
static bool cell_matches(const struct wm_cell *c)
{
	for (unsigned k = 0; k < K_COUNT; k++) {
		bool given = false, hit = false;
		char buf[16];

		for (unsigned i = 0; i < nterms; i++)
			if (terms[i].key == k) {
				given = true;
				hit |= !strcmp(terms[i].val, cell_value(c, (enum key)k, buf));
			}
		if (given && !hit)
			return false;
	}
	return true;
}

struct wm_cell *wm_cells(enum profile_id prof, unsigned *n)
{
	unsigned cap = wm_nproducers * NNS * WF_COUNT * WT_COUNT, idx = 0;
	struct wm_cell *cells = calloc(cap, sizeof(*cells));

	*n = 0;
	if (!cells)
		return NULL;
	for (unsigned p = 0; p < wm_nproducers; p++)
		for (unsigned i = 0; i < NNS; i++)
			for (unsigned f = 0; f < WF_COUNT; f++)
				for (unsigned t = 0; t < WT_COUNT; t++) {
					struct wm_cell *c = &cells[*n];

					if (!(wm_producers[p]->profiles & PMASK(prof)) ||
					    (wm_producers[p]->max_n &&
					     ns[i] > wm_producers[p]->max_n) ||
					    !form_fits((enum wm_form)f, prof, wm_producers[p]) ||
					    !(wm_producers[p]->timings & (1u << t)))
						continue;
					*c = (struct wm_cell){ .idx = idx++, .p = wm_producers[p],
						.n = ns[i], .form = (enum wm_form)f,
						.timing = (enum wm_timing)t };
					snprintf(c->name, sizeof(c->name), "%s/%u/%s/%s",
						 c->p->name, c->n, wm_form_names[f],
						 wm_timing_names[t]);
					c->core = is_core(c);
					if (cell_matches(c))
						(*n)++;
				}
	return cells;
}

void wm_list(unsigned mask)
{
	for (int prof = 0; prof < P_COUNT; prof++) {
		struct wm_cell *cells;
		unsigned n;

		if (!(mask & PMASK(prof)))
			continue;
		cells = wm_cells((enum profile_id)prof, &n);
		for (unsigned i = 0; cells && i < n; i++) {
			enum wm_need need = cells[i].p->need, fneed = wm_form_need(cells[i].form);

			printf("wait_matrix.%s\t%s\t%s", profiles[prof].name, cells[i].name,
			       cells[i].core ? "core" : "-");
			if (need || fneed)
				printf("\tneeds %s%s%s", need ? wm_needs[need].what : "",
				       need && fneed ? ", " : "", fneed ? wm_needs[fneed].what : "");
			printf("\n");
		}
		free(cells);
	}
}

unsigned wm_order(struct wm_cell *cells, unsigned n, uint64_t seed, unsigned *order)
{
	unsigned must = 0, rest;
	struct rng rng;

	rng_seed(&rng, seed, 1);
	for (unsigned i = 0; i < n; i++)
		if (wm_filtering() || cells[i].core)
			order[must++] = i;
	rest = must;
	for (unsigned i = 0; i < n; i++)
		if (!wm_filtering() && !cells[i].core)
			order[rest++] = i;
	/* Fisher-Yates over the sampled part: which of them a short run
	 * reaches is the seed's choice. */
	for (unsigned i = n; i > must + 1; i--) {
		unsigned j = must + (unsigned)rng_below(&rng, i - must), tmp = order[i - 1];

		order[i - 1] = order[j];
		order[j] = tmp;
	}
	return must;
}
