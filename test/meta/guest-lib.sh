# SPDX-License-Identifier: MIT
# shellcheck shell=sh disable=SC2154,SC2034 # $top is the meta test's, $guest for it
#
# What the meta tests of the guest tools share (test/meta/guest.sh,
# guest-verdicts.sh, guest-suite.sh): sourced right after they set $top.
# It brings test/meta/lib.sh (fail, expect, run_checks, ...), $guest (the
# guest/ directory), $work (a scratch directory, removed at exit), vm (run
# guest/vm-run privately) and fake kernel images.

# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
guest=$top/guest

# vm ARGS...: guest/vm-run with a private static build (the user's
# build-static/ is left alone), output in $work/out, status in $rc.
vm() {
	env TW_VM_BUILD_DIR="$work/build" XDG_CACHE_HOME="$work/cache" "$@" >"$work/out" 2>&1 </dev/null
	rc=$?
}

# A file with just what identifies a bzImage: the boot sector's 0xAA55 at
# 0x1fe, "HdrS" at 0x202, kernel_version (0x20e) pointing at a string.
fake_bzimage() {
	{
		dd if=/dev/zero bs=510 count=1 2>/dev/null
		printf '\125\252'			# 0x1fe: 55 aa
		printf '\353\000HdrS\000\000'		# 0x200: jump, 0x202: magic
		dd if=/dev/zero bs=6 count=1 2>/dev/null	# to 0x20e
		printf '\000\001'			# kernel_version: 0x100 (+0x200)
		dd if=/dev/zero bs=240 count=1 2>/dev/null	# to 0x300
		printf '9.8.7-fake (tw@selftest) #1 SMP\000'
		dd if=/dev/zero bs=1024 count=1 2>/dev/null
	} >"$1"
}

# fake_vmlinux FILE [pvh]: a static ELF executable with the kernel's
# banner, and with PVH the Xen PHYS32_ENTRY note qemu looks for.
fake_vmlinux() {
	cc=${CC:-cc}
	command -v "$cc" >/dev/null 2>&1 || { say "no C compiler for a fake vmlinux"; return 1; }
	{
		say 'const char banner[] = "Linux version 9.8.6-fakevm (tw@selftest) #1";'
		if [ "${2:-}" = pvh ]; then
			say '__asm__(".pushsection .note.Xen, \"a\", @note\n.long 4\n.long 4\n.long 18\n'
			say '.asciz \"Xen\"\n.long 0x1000000\n.popsection");'
		fi
		say 'void _start(void) { for (;;) ; }'
	} >"$work/fake.c"
	$cc -static -nostdlib -no-pie -o "$1" "$work/fake.c" 2>"$work/cc.out" ||
		{ say "cannot build a fake vmlinux: $(head -n 1 "$work/cc.out")"; return 1; }
}
