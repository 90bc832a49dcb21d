// SPDX-License-Identifier: MIT
/*
 * guest/watch's console: the bytes COMMAND writes, cut into lines, to the
 * log (-l), echoed with the prefix (-p) unless hidden (-x, -q), "TW-" lines
 * to the marks file (-m) with their time, end (-E) and heartbeat (-H) texts
 * noticed. watch.c has the rest.
 */
#include <string.h>

#include "watch.h"

static bool holds_any(const char *line, const char *const *texts, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (strstr(line, texts[i]))
			return true;
	return false;
}

/* The line from byte 'from' on; the prefix if the line is new on stdout. */
static void echo(struct watch *w, size_t from, bool newline)
{
	if (w->o->quiet)
		return;
	if (!from)
		fputs(w->o->prefix, stdout);
	fwrite(w->line + from, 1, w->len - from, stdout);
	if (newline)
		fputc('\n', stdout);
	fflush(stdout);
}

/* A whole line (without its newline) has arrived. */
void console_line_done(struct watch *w)
{
	int64_t now = now_ns();

	w->line[w->len] = 0;
	if (w->marks && !strncmp(w->line, "TW-", 3)) {
		fprintf(w->marks, "%.3f %s\n", since(w, now), w->line);
		fflush(w->marks);
	}
	if (w->echoed || !holds_any(w->line, w->o->hide, w->o->nhide))
		echo(w, w->echoed, true);
	if (holds_any(w->line, w->o->end, w->o->nend))
		watch_stop(w, "end", now + secs_ns(w->o->grace_s));
	if (w->o->heartbeat && strstr(w->line, w->o->heartbeat)) {
		w->beat_seen = true;
		w->last_beat_ns = now;
	}
	w->len = 0;
	w->echoed = 0;
}

void console_bytes(struct watch *w, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];

		if (c == '\r')
			continue;
		if (w->log)
			fputc(c, w->log);
		if (c == '\n') {
			console_line_done(w);
			continue;
		}
		if (w->len == sizeof(w->line) - 1)
			console_line_done(w);		/* an endless line: cut it */
		w->line[w->len++] = c;
	}
	if (w->log)
		fflush(w->log);
}

/* A line that stays without its newline (a prompt, a half-printed panic) is
 * shown anyway; the rest of it will follow without a prefix. */
void console_echo_partial(struct watch *w)
{
	if (w->len == w->echoed)
		return;
	echo(w, w->echoed, false);
	w->echoed = w->len;
}
