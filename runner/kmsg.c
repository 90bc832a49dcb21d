// SPDX-License-Identifier: MIT
/*
 * The kernel's view of a test run. Before the program starts, a begin
 * marker is written into the kernel log; at each "# case NAME:" line a case
 * marker is written and the taint sampled; after the run (and after io_uring
 * teardown settled: settle.c), an end marker, then every record between
 * the markers is saved, split per case, with the taint bits each case
 * added. The shell judges the records (runner/kmsg-patterns) and the taint.
 *
 * The split is by time, as we read the program's output: what a case does in
 * its first microseconds (before we read its "# case" line) counts against
 * the case before it; what its rings' teardown logs after the program ended
 * counts against the last case.
 *
 * Nothing from the run's start to its end goes unread: given the number of
 * the previous reader's last record (-K, from the run's start marker or the
 * previous program's end), the records after it and before our begin marker
 * - the log between programs - go to a file of their own (-b), which the
 * shell judges as the run's (runner/kmsg.sh).
 *
 * Records are numbered; a jump means records were overwritten before we read
 * them (the ring buffer wrapped: read() said EPIPE). The section it happened
 * in gets a "# log incomplete:" line, as it does for records beyond the
 * limit, which are not saved: either fails the section, which cannot be
 * called clean.
 *
 * Reading the log needs CAP_SYSLOG (or dmesg_restrict=0) and the markers need
 * write access to /dev/kmsg - in practice root. Without both the log is not
 * checked (the excerpt says why) and only the taint, readable by anyone,
 * is: a weaker check, since taint bits are sticky. klog.c reads and writes
 * the log (or a canned one, for the meta tests). TW_KMSG_MAX_RECORDS: the
 * limit (meta tests).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervise.h"

#define KMSG_SAVE_MAX		20000	/* records kept in an excerpt */

/* /proc/sys/kernel/tainted bit order (Documentation/admin-guide/tainted-kernels.rst). */
static const char taint_chars[] = "PFSRMBUDAWCIOELKXTNJ";

unsigned long taint_read(void)
{
	const char *dir = getenv("TW_SYSCTL_DIR");	/* self-tests fake the sysctls */
	char path[512], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/tainted", dir && *dir ? dir : "/proc/sys/kernel");
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoul(buf, NULL, 0);
}

const char *taint_letters(unsigned long mask, char *buf, size_t len)
{
	size_t n = 0;

	for (unsigned bit = 0; bit < 8 * sizeof(mask) && n + 1 < len; bit++)
		if (mask & (1ul << bit))
			buf[n++] = bit < sizeof(taint_chars) - 1 ? taint_chars[bit] : '?';
	buf[n] = 0;
	return buf;
}

/* Records between the last one read and r that we never saw. */
static unsigned long long missed(struct kmsg *k, const struct klog_record *r)
{
	unsigned long long n = k->seq_known && r->seq > k->next_seq ? r->seq - k->next_seq : 0;

	k->next_seq = r->seq + 1;
	k->seq_known = true;
	return n;
}

/* ---- saving records ---------------------------------------------------------- */

static void save_record(struct kmsg *k, FILE *f, const struct klog_record *r)
{
	if (k->records >= k->save_max) {
		k->section_dropped++;
		return;
	}
	fprintf(f, "[%5llu.%06llu] %s\n", r->usec / 1000000, r->usec % 1000000, r->text);
	k->records++;
}

static void note_lost(struct kmsg *k, FILE *f, unsigned long long lost)
{
	if (!lost)
		return;
	k->lost += lost;
	fprintf(f, "# log incomplete: %llu records overwritten before they were read\n", lost);
}

/* The end of a section: the records it had beyond the limit. */
static void flush_dropped(struct kmsg *k, FILE *f)
{
	if (!k->section_dropped)
		return;
	fprintf(f, "# log incomplete: %u records over the limit of %u, not saved\n",
		k->section_dropped, k->save_max);
	k->dropped += k->section_dropped;
	k->section_dropped = 0;
}

/* Section header: the taint at its start and the bits added before the next. */
static void header(FILE *f, const char *what, unsigned long taint, unsigned long next)
{
	char letters[72];
	unsigned long added = next & ~taint;

	fprintf(f, "# %s taint 0x%lx new 0x%lx %s\n", what, taint, added,
		added ? taint_letters(added, letters, sizeof(letters)) : "-");
}

/*
 * From the reader's place to the marker we just wrote: the log since the
 * previous reader's last record (chained) into gap, or (not chained) older
 * records that are not ours. false: the marker never showed.
 */
static bool read_to_marker(struct kmsg *k, FILE *gap)
{
	char *rec = malloc(KMSG_RECORD_MAX);
	bool found = false;
	struct klog_record r;

	if (!rec)
		return false;
	for (;;) {
		ssize_t n = klog_read(k, rec, KMSG_RECORD_MAX);

		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		if (!klog_parse(rec, &r) || (k->seq_known && r.seq < k->next_seq))
			continue;
		if (gap)
			note_lost(k, gap, missed(k, &r));
		else
			missed(k, &r);
		if (klog_ours(k, r.text)) {
			found = true;
			break;
		}
		if (gap)
			save_record(k, gap, &r);
	}
	if (gap)
		flush_dropped(k, gap);
	free(rec);
	return found;
}

void kmsg_open(struct kmsg *k, const char *label, const char *what, const struct kmsg_chain *prev)
{
	const char *max = getenv("TW_KMSG_MAX_RECORDS");
	bool chained = prev && prev->has_seq;
	FILE *gap = NULL;
	struct timespec ts;

	memset(k, 0, sizeof(*k));
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(k->id, sizeof(k->id), "%d.%lx", (int)getpid(),
		 (unsigned long)(ts.tv_sec * 1000000 + ts.tv_nsec / 1000));
	snprintf(k->label, sizeof(k->label), "%s", label);
	k->save_max = max && *max ? (unsigned)strtoul(max, NULL, 10) : KMSG_SAVE_MAX;
	k->taint_start = taint_read();
	k->rfd = k->wfd = -1;
	klog_open(k, chained);
	if (chained) {
		k->next_seq = prev->seq + 1;
		k->seq_known = true;
	}
	if (prev && prev->gap_path) {
		gap = fopen(prev->gap_path, "w");
		if (!gap)
			fprintf(stderr, "supervise: %s: %s\n", prev->gap_path, strerror(errno));
	}
	if (gap && chained)
		fprintf(gap, "# kernel log before %s %s: the records after record %llu (where the "
			"previous reader stopped), up to marker tw-runtests[%s]\n", what, label,
			prev->seq, k->id);
	else if (gap)
		fprintf(gap, "# kernel log before %s %s: none kept (no previous reader)\n", what,
			label);
	if (gap)
		header(gap, "between", prev->has_taint ? prev->taint : k->taint_start,
		       k->taint_start);
	/* Without our markers records cannot be attributed: off. */
	if (k->rfd >= 0 && klog_mark(k, what, label))
		klog_off(k, "marker write failed: %s", strerror(errno));
	else if (k->rfd >= 0 && !read_to_marker(k, chained ? gap : NULL))
		klog_off(k, "our marker did not show in the log");
	k->records = 0;		/* the gap's were its own */
	if (gap && k->rfd < 0)
		fprintf(gap, "# kmsg: not checked (%s); only the taint is\n", k->off_reason);
	if (gap)
		fclose(gap);
}

void kmsg_case(struct kmsg *k, const char *name)
{
	if (k->ncases == k->cap) {
		unsigned cap = k->cap ? 2 * k->cap : 16;
		struct case_mark *c = realloc(k->cases, cap * sizeof(*c));

		if (!c)
			return;
		k->cases = c;
		k->cap = cap;
	}
	snprintf(k->cases[k->ncases].name, CASE_NAME_MAX, "%s", name);
	k->cases[k->ncases].taint = taint_read();
	k->ncases++;
	klog_mark(k, "case", name);
}

static void case_headers(struct kmsg *k, FILE *f, unsigned *next, unsigned upto)
{
	for (; *next < upto && *next < k->ncases; (*next)++) {
		char what[CASE_NAME_MAX + 8];
		unsigned i = *next;

		snprintf(what, sizeof(what), "case %s", k->cases[i].name);
		header(f, what, k->cases[i].taint,
		       i + 1 < k->ncases ? k->cases[i + 1].taint : k->taint_end);
	}
}

/* Which case does this case marker name? Index into k->cases, or ncases. */
static unsigned case_index(const struct kmsg *k, unsigned from, const char *name)
{
	for (unsigned i = from; i < k->ncases; i++)
		if (!strcmp(k->cases[i].name, name))
			return i;
	return k->ncases;
}

/* The records after our begin marker, up to our end marker. */
static void copy_records(struct kmsg *k, FILE *f)
{
	char *rec = malloc(KMSG_RECORD_MAX);
	unsigned next = 0;
	struct klog_record r;

	if (!rec)
		return;
	for (;;) {
		const char *mine;
		ssize_t n = klog_read(k, rec, KMSG_RECORD_MAX);

		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;		/* nothing more */
		if (!klog_parse(rec, &r) || r.seq < k->next_seq)
			continue;
		/* Lost before this record: in the section it ends. */
		note_lost(k, f, missed(k, &r));
		mine = klog_ours(k, r.text);
		if (mine && !strncmp(mine, "case ", 5)) {
			flush_dropped(k, f);
			case_headers(k, f, &next, case_index(k, next, mine + 5) + 1);
		} else if (mine && !strncmp(mine, "end ", 4)) {
			break;
		} else if (!mine) {
			save_record(k, f, &r);
		}
	}
	flush_dropped(k, f);
	case_headers(k, f, &next, k->ncases);
	free(rec);
}

void kmsg_free(struct kmsg *k)
{
	free(k->cases);
	k->cases = NULL;
	k->ncases = k->cap = 0;
	if (k->rfd >= 0)
		klog_off(k, "closed");
}

int kmsg_finish(struct kmsg *k, const char *path)
{
	FILE *f;

	k->taint_end = taint_read();
	klog_mark(k, "end", k->label);	/* without it: all there is */
	f = fopen(path ? path : "/dev/null", "w");
	if (!f)
		return -errno;
	fprintf(f, "# kernel log during %s: the records after marker tw-runtests[%s], "
		"per case with the taint bits it added\n", k->label, k->id);
	if (k->rfd < 0)
		fprintf(f, "# kmsg: not checked (%s); only the taint is\n", k->off_reason);
	header(f, "start", k->taint_start, k->ncases ? k->cases[0].taint : k->taint_end);
	if (k->rfd >= 0)
		copy_records(k, f);
	else
		case_headers(k, f, &(unsigned){ 0 }, k->ncases);
	if (k->settle[0])
		fprintf(f, "# settle: %s\n", k->settle);
	fprintf(f, "# end taint 0x%lx\n", k->taint_end);
	fclose(f);
	return 0;
}

void kmsg_result(const struct kmsg *k, FILE *f)
{
	char letters[72];

	fprintf(f, "taint_before=0x%lx\ntaint_after=0x%lx\n", k->taint_start, k->taint_end);
	fprintf(f, "taint_new=%s\n", taint_letters(k->taint_end & ~k->taint_start,
						   letters, sizeof(letters)));
	if (k->rfd >= 0)
		fprintf(f, "kmsg=checked\n");
	else
		fprintf(f, "kmsg=off: %s\n", k->off_reason);
	fprintf(f, "kmsg_records=%u\nkmsg_lost=%llu\nkmsg_dropped=%u\n", k->records, k->lost,
		k->dropped);
	/* Where the next reader starts (runtests.sh passes it on as -K). */
	if (k->rfd >= 0 && k->seq_known)
		fprintf(f, "kmsg_seq=%llu\n", k->next_seq - 1);
	else
		fprintf(f, "kmsg_seq=-\n");
	fprintf(f, "settled=%d\nsettle=%s\n", k->settled, k->settle);
}
