// SPDX-License-Identifier: MIT
/*
 * guest/watch's state, shared by its parts: watch.c (options, the command,
 * timers, the result) and watch-console.c (the console's lines: log, echo,
 * marks, end and heartbeat texts).
 */
#ifndef TW_WATCH_H
#define TW_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "timeutil.h"

#define LINE_MAX_LEN	4096
#define TEXTS_MAX	16

struct opts {
	const char *log_path, *result_path, *marks_path, *prefix, *heartbeat;
	const char *hide[TEXTS_MAX], *end[TEXTS_MAX];
	unsigned nhide, nend;
	bool quiet;
	double deadline_s, silence_s, boot_silence_s, grace_s;
	char **argv;
};

struct watch {
	const struct opts *o;
	FILE *log, *marks;
	pid_t pid;
	int out_fd, sig_fd;
	int64_t start_ns, last_output_ns, last_beat_ns, stop_at_ns, kill_at_ns;
	bool beat_seen;			/* a -H line came: silence counts from it */
	const char *reason;		/* why we stop COMMAND, NULL while we don't */
	bool output, reaped, term_sent, kill_sent;
	int status;
	char line[LINE_MAX_LEN];
	size_t len;
	size_t echoed;			/* bytes of this line on stdout already */
};

static inline int64_t secs_ns(double s)
{
	return s > 0 ? (int64_t)(s * NSEC_PER_SEC) : INT64_MAX;
}

/* Seconds from the start to t. */
static inline double since(const struct watch *w, int64_t t)
{
	return (double)(t - w->start_ns) / NSEC_PER_SEC;
}

/* watch.c: stop COMMAND for reason at time at (ns). */
void watch_stop(struct watch *w, const char *reason, int64_t at);

/* watch-console.c: bytes from the console; the line so far when it ends
 * without a newline; a line without its newline shown after a while. */
void console_bytes(struct watch *w, const char *buf, size_t n);
void console_line_done(struct watch *w);
void console_echo_partial(struct watch *w);

#endif
