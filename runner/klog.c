// SPDX-License-Identifier: MIT
/*
 * The kernel log itself, for kmsg.c: /dev/kmsg, or a canned log. Opening
 * it, reading one record, writing our marker.
 *
 * TW_KMSG_FILE (the meta tests): a canned log, a file of records one a line
 * in /dev/kmsg's read format ("PRIO,SEQ,USEC,FLAGS;TEXT"), read instead of
 * /dev/kmsg; our markers are appended to it in that format. A record's SEQ
 * may be "-" (the previous one's plus 1) or "+N" (plus N: N-1 records were
 * lost, as when the ring buffer wraps), so that a test program can append
 * records without knowing their numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervise.h"

void klog_off(struct kmsg *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(k->off_reason, sizeof(k->off_reason), fmt, ap);
	va_end(ap);
	if (k->fake)
		fclose(k->fake);
	if (k->rfd >= 0 && !k->fake)
		close(k->rfd);
	if (k->wfd >= 0)
		close(k->wfd);
	k->fake = NULL;
	k->rfd = k->wfd = -1;
}

/* A canned record: its number made explicit, as /dev/kmsg gives it. */
static ssize_t read_fake(struct kmsg *k, char *rec, size_t len)
{
	char line[KMSG_RECORD_MAX], seq[32];
	unsigned prio;
	int off = 0, n;
	long pos;

	do {
		pos = ftell(k->fake);
		clearerr(k->fake);
		if (!fgets(line, sizeof(line), k->fake))
			return 0;
		if (!strchr(line, '\n')) {	/* still being written: later */
			fseek(k->fake, pos, SEEK_SET);
			return 0;
		}
	} while (line[0] == ' ');		/* a dictionary line */
	if (sscanf(line, "%u,%31[^,],%n", &prio, seq, &off) != 2 || !off)
		return snprintf(rec, len, "%s", line) < (int)len ? (ssize_t)strlen(rec) : 0;
	if (seq[0] == '-')
		k->fake_seq++;
	else if (seq[0] == '+')
		k->fake_seq += strtoull(seq + 1, NULL, 10);
	else
		k->fake_seq = strtoull(seq, NULL, 10);
	n = snprintf(rec, len, "%u,%llu,%s", prio, k->fake_seq, line + off);
	return n < (int)len ? n : (ssize_t)len - 1;
}

/* One record, NUL-terminated: its length; 0 when none is left; -1 with
 * errno (EPIPE: records were overwritten, the next one's number says how
 * many). */
ssize_t klog_read(struct kmsg *k, char *rec, size_t len)
{
	ssize_t n;

	if (k->fake)
		return read_fake(k, rec, len);
	do
		n = read(k->rfd, rec, len - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n >= 0)
		rec[n] = 0;
	return n;
}

/* "PRIO,SEQ,USEC,FLAGS;TEXT\n KEY=value..." into r (rec is cut after TEXT). */
bool klog_parse(char *rec, struct klog_record *r)
{
	char *semi = strchr(rec, ';'), *nl;
	unsigned prio;

	if (!semi || sscanf(rec, "%u,%llu,%llu", &prio, &r->seq, &r->usec) != 3)
		return false;
	r->text = semi + 1;
	nl = strchr(semi, '\n');
	if (nl)
		*nl = 0;
	return true;
}

/* Our marker: one write() is one record. Returns 0, or -1 with errno. */
int klog_mark(struct kmsg *k, const char *what, const char *name)
{
	char rec[512];
	long long usec = now_ns() / NSEC_PER_USEC;
	int n;

	if (k->wfd < 0)
		return -1;
	if (k->fake)	/* as the reader sees records: it numbers it */
		n = snprintf(rec, sizeof(rec), "5,-,%lld,-;tw-runtests[%s]: %s %s\n", usec, k->id,
			     what, name);
	else		/* <5>: notice */
		n = snprintf(rec, sizeof(rec), "<5>tw-runtests[%s]: %s %s\n", k->id, what, name);
	return n > 0 && write(k->wfd, rec, (size_t)n) == n ? 0 : -1;
}

/* Our marker? Returns its text after the tag, or NULL. */
const char *klog_ours(const struct kmsg *k, const char *msg)
{
	char tag[80];
	size_t n = (size_t)snprintf(tag, sizeof(tag), "tw-runtests[%s]: ", k->id);

	return strncmp(msg, tag, n) ? NULL : msg + n;
}

void klog_open(struct kmsg *k, bool from_start)
{
	const char *fake = getenv("TW_KMSG_FILE");
	char skip[KMSG_RECORD_MAX];

	if (fake && *fake) {
		k->fake = fopen(fake, "r");
		if (!k->fake) {
			klog_off(k, "cannot read %s: %s", fake, strerror(errno));
			return;
		}
		k->rfd = fileno(k->fake);
		if (!from_start)	/* the records there now are older */
			while (read_fake(k, skip, sizeof(skip)) > 0)
				;
		k->wfd = open(fake, O_WRONLY | O_APPEND | O_CLOEXEC);
	} else {
		k->rfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (k->rfd < 0) {
			klog_off(k, "cannot read /dev/kmsg: %s", strerror(errno));
			return;
		}
		/* From the oldest record kept, or only what comes from now on. */
		lseek(k->rfd, 0, from_start ? SEEK_SET : SEEK_END);
		k->wfd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	}
	/* Without markers records cannot be attributed: off. */
	if (k->wfd < 0)
		klog_off(k, "cannot write %s: %s", fake && *fake ? fake : "/dev/kmsg",
			 strerror(errno));
}
