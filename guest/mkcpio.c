// SPDX-License-Identifier: MIT
/*
 * mkcpio LIST > ARCHIVE
 *
 * Writes an initramfs: a cpio archive in the kernel's "newc" format
 * (Documentation/driver-api/early-userspace/buffer-format.rst), built from a
 * list of entries, one per line:
 *
 *   dir   PATH MODE [UID GID]
 *   file  PATH SOURCE MODE [UID GID]     the contents of the host file SOURCE
 *   slink PATH TARGET
 *   nod   PATH MODE c|b MAJOR MINOR      a device node
 *
 * MODE is octal; owners default to root. Blank lines and '#' comments are
 * ignored; fields are separated by blanks, so no name may contain one.
 *
 * Why our own writer: the kernel's usr/gen_init_cpio is not installed on
 * users' machines, and cpio(1) run by an ordinary user cannot put device
 * nodes or root-owned files into an archive. /dev/console must be in it: the
 * kernel opens it for init's stdin/stdout/stderr before /init runs, so
 * without it our init would start with no console at all.
 *
 * Every mtime is 0 and inode numbers count from 1, so the same list gives
 * the same bytes. The archive is not compressed: any kernel that has
 * CONFIG_BLK_DEV_INITRD unpacks it, whatever decompressors it was built
 * with, and unpacking it costs a guest nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FIELDS_MAX	8

static unsigned long next_ino = 1;
static unsigned long offset;		/* bytes written so far, for padding */
static const char *list_name;
static unsigned lineno;

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mkcpio: %s:%u: ", list_name, lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void put(const void *buf, size_t len)
{
	if (fwrite(buf, 1, len, stdout) != len) {
		fprintf(stderr, "mkcpio: write: %s\n", strerror(errno));
		exit(1);
	}
	offset += len;
}

/* newc pads the header+name and the data each to a multiple of 4. */
static void pad4(void)
{
	static const char zeros[4];

	put(zeros, (4 - offset % 4) % 4);
}

struct entry {
	const char *name;		/* without the leading '/' */
	unsigned long mode, uid, gid, size, rmajor, rminor;
};

static void header(const struct entry *e)
{
	/* magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	 * devminor, rdevmajor, rdevminor, namesize, check: 8 hex digits each */
	unsigned long field[13] = { next_ino++, e->mode, e->uid, e->gid, 1, 0, e->size, 0, 0,
				    e->rmajor, e->rminor, strlen(e->name) + 1, 0 };
	char hex[8 + 1];

	put("070701", 6);
	for (int i = 0; i < 13; i++) {
		if (field[i] > 0xffffffff)
			die("'%s': a header field is over 32 bits", e->name);
		snprintf(hex, sizeof(hex), "%08lX", field[i]);
		put(hex, 8);
	}
	put(e->name, field[11]);
	pad4();
}

static unsigned long number(const char *s, int base, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || end == s || *end)
		die("bad %s '%s'", what, s);
	return v;
}

static const char *archive_name(const char *path)
{
	if (path[0] != '/' || !path[1])
		die("path '%s' must be absolute and not /", path);
	return path + 1;
}

static void owners(struct entry *e, char **f, int n, int at)
{
	if (n == at)
		return;
	if (n != at + 2)
		die("expected UID GID after field %d", at);
	e->uid = number(f[at], 10, "uid");
	e->gid = number(f[at + 1], 10, "gid");
}

static void add_file(struct entry *e, const char *source)
{
	char buf[65536];
	struct stat st;
	size_t n, left;
	FILE *in = fopen(source, "rb");

	if (!in || fstat(fileno(in), &st))
		die("%s: %s", source, strerror(errno));
	if (!S_ISREG(st.st_mode))
		die("%s: not a regular file", source);
	e->size = (unsigned long)st.st_size;
	header(e);
	for (left = e->size; left; left -= n) {
		n = fread(buf, 1, left < sizeof(buf) ? left : sizeof(buf), in);
		if (!n)
			die("%s: shorter than its size (changed while read?)", source);
		put(buf, n);
	}
	fclose(in);
	pad4();
}

static void add(char **f, int n)
{
	struct entry e = { 0 };

	if (n < 2)
		die("missing fields");
	e.name = archive_name(f[1]);
	if (!strcmp(f[0], "dir") && n >= 3) {
		e.mode = S_IFDIR | number(f[2], 8, "mode");
		owners(&e, f, n, 3);
		header(&e);
	} else if (!strcmp(f[0], "file") && n >= 4) {
		e.mode = S_IFREG | number(f[3], 8, "mode");
		owners(&e, f, n, 4);
		add_file(&e, f[2]);
	} else if (!strcmp(f[0], "slink") && n == 3) {
		/* A symlink's data is its target. */
		e.mode = S_IFLNK | 0777;
		e.size = strlen(f[2]);
		header(&e);
		put(f[2], e.size);
		pad4();
	} else if (!strcmp(f[0], "nod") && n == 6) {
		if (strcmp(f[3], "c") && strcmp(f[3], "b"))
			die("device type must be c or b, not '%s'", f[3]);
		e.mode = (f[3][0] == 'c' ? S_IFCHR : S_IFBLK) | number(f[2], 8, "mode");
		e.rmajor = number(f[4], 10, "major");
		e.rminor = number(f[5], 10, "minor");
		header(&e);
	} else {
		die("bad entry '%s' with %d fields (see mkcpio.c)", f[0], n);
	}
}

int main(int argc, char **argv)
{
	char line[4096], *f[FIELDS_MAX], *save;
	FILE *list;
	int n;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: mkcpio LIST > ARCHIVE (entries: see guest/mkcpio.c)\n");
		return 2;
	}
	list_name = argv[1];
	list = fopen(list_name, "r");
	if (!list) {
		fprintf(stderr, "mkcpio: %s: %s\n", list_name, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), list)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(list))
			die("line too long");
		n = 0;
		for (char *t = strtok_r(line, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
			if (n == FIELDS_MAX)
				die("too many fields");
			f[n++] = t;
		}
		if (n && f[0][0] != '#')
			add(f, n);
	}
	fclose(list);
	header(&(struct entry){ .name = "TRAILER!!!" });	/* the end of the archive */
	if (fflush(stdout)) {
		fprintf(stderr, "mkcpio: write: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
