// SPDX-License-Identifier: MIT
/*
 * kimage FILE
 *
 * Says what FILE is, for guest/vm-run, on one line: KIND RELEASE, RELEASE
 * being "-" when unknown.
 *
 *   bzimage RELEASE        an x86 boot image (arch/x86/boot/bzImage, a distro's
 *                          vmlinuz): "HdrS" at 0x202, the boot sector's 0xAA55;
 *                          the release is the first word of the header's
 *                          kernel_version string
 *   vmlinux-pvh RELEASE    an ELF vmlinux with the Xen PVH entry note, which is
 *                          what qemu -kernel needs to boot an ELF kernel
 *   vmlinux-nopvh RELEASE  an ELF vmlinux without it (CONFIG_PVH=n)
 *   elf-static -           an ELF executable without an interpreter
 *   elf-dynamic -          one with an interpreter (PT_INTERP)
 *   other -                anything else
 *
 * An ELF file is a vmlinux if it carries the kernel's banner ("Linux version
 * X ..."), whose X is the release. Exit status 0, or 1 if FILE cannot be read.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define RELEASE_MAX	128
#define XEN_ELFNOTE_PHYS32_ENTRY	18	/* the PVH entry point (xen/interface/elfnote.h) */

struct image {
	unsigned char *data;
	size_t size;
};

/* Mapped, not read: a vmlinux with debug info can be hundreds of MB. */
static int map_file(const char *path, struct image *img)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st)) {
		close(fd);
		return -1;
	}
	img->size = S_ISREG(st.st_mode) ? (size_t)st.st_size : 0;
	img->data = NULL;
	if (img->size) {
		img->data = mmap(NULL, img->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (img->data == MAP_FAILED) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static unsigned get16(const struct image *img, size_t off)
{
	return off + 2 <= img->size ? img->data[off] | img->data[off + 1] << 8 : 0;
}

/* The release: the first word of a NUL-terminated string at off. */
static void release_at(const struct image *img, size_t off, char *out)
{
	size_t n = 0;

	while (off + n < img->size && n + 1 < RELEASE_MAX && img->data[off + n] > ' ' &&
	       img->data[off + n] < 0x7f) {
		out[n] = (char)img->data[off + n];
		n++;
	}
	out[n] = 0;
	if (!n)
		strcpy(out, "-");
}

/* The x86 boot protocol (Documentation/arch/x86/boot.rst): the setup header
 * starts at 0x1f1; 0x1fe boot_flag, 0x202 header magic, 0x20e kernel_version
 * (an offset from 0x200). */
static int bzimage(const struct image *img, char *release)
{
	unsigned kv;

	if (img->size < 0x260 || get16(img, 0x1fe) != 0xaa55 || memcmp(img->data + 0x202, "HdrS", 4))
		return 0;
	kv = get16(img, 0x20e);
	if (kv)
		release_at(img, 0x200 + (size_t)kv, release);
	return 1;
}

static void banner_release(const struct image *img, char *release)
{
	static const char banner[] = "Linux version ";
	const unsigned char *p = img->data, *end = img->data + img->size;

	strcpy(release, "-");
	while ((p = memmem(p, (size_t)(end - p), banner, sizeof(banner) - 1))) {
		p += sizeof(banner) - 1;
		/* The banner itself is "Linux version %s (...", not a format string. */
		if (p < end && *p >= '0' && *p <= '9') {
			release_at(img, (size_t)(p - img->data), release);
			return;
		}
	}
}

/* Is there a "Xen" note of type PHYS32_ENTRY in [off, off + len)? */
static int pvh_note(const struct image *img, size_t off, size_t len)
{
	size_t end = off + len;

	if (end > img->size || end < off)
		return 0;
	while (off + sizeof(Elf64_Nhdr) <= end) {
		Elf64_Nhdr nh;
		size_t name, desc;

		memcpy(&nh, img->data + off, sizeof(nh));
		name = (nh.n_namesz + 3) & ~3ul;
		desc = (nh.n_descsz + 3) & ~3ul;
		if (nh.n_namesz == 4 && nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY &&
		    off + sizeof(nh) + 4 <= end && !memcmp(img->data + off + sizeof(nh), "Xen", 4))
			return 1;
		off += sizeof(nh) + name + desc;
	}
	return 0;
}

/* ELF64 little-endian x86-64 only: what qemu-system-x86_64 boots. */
static const char *elf(const struct image *img, char *release)
{
	Elf64_Ehdr eh;
	int interp = 0, pvh = 0;

	if (img->size < sizeof(eh) || memcmp(img->data, ELFMAG, SELFMAG))
		return NULL;
	memcpy(&eh, img->data, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(Elf64_Phdr))
		return NULL;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		size_t off = eh.e_phoff + (size_t)i * sizeof(Elf64_Phdr);
		Elf64_Phdr ph;

		if (off + sizeof(ph) > img->size)
			return NULL;
		memcpy(&ph, img->data + off, sizeof(ph));
		if (ph.p_type == PT_INTERP)
			interp = 1;
		else if (ph.p_type == PT_NOTE)
			pvh |= pvh_note(img, ph.p_offset, ph.p_filesz);
	}
	banner_release(img, release);
	if (strcmp(release, "-") && eh.e_type == ET_EXEC && !interp)
		return pvh ? "vmlinux-pvh" : "vmlinux-nopvh";
	strcpy(release, "-");
	return interp ? "elf-dynamic" : "elf-static";
}

int main(int argc, char **argv)
{
	struct image img;
	char release[RELEASE_MAX] = "-";
	const char *kind;

	if (argc != 2) {
		fprintf(stderr, "usage: kimage FILE\n");
		return 2;
	}
	if (map_file(argv[1], &img)) {
		fprintf(stderr, "kimage: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (bzimage(&img, release))
		kind = "bzimage";
	else if (!(kind = elf(&img, release)))
		kind = "other";
	printf("%s %s\n", kind, release);
	return 0;
}
