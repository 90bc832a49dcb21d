#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of kernels/build-kernel, without building a kernel: it runs on
# a fake kernel tree whose Makefile "configures" and "builds" in
# milliseconds (bzImage = the sources it depends on). Checked: usage and
# input errors and their exit statuses, that SRC is never written (patches
# go to a hardlinked copy), a patch that does not apply, a fragment symbol
# that does not stick, a failing build, rebuilds after the patch set
# changes, and the reuse of the copy and the configuration while SRC, the
# fragments and the Kconfig files stay as they were. (bisect-run and
# bisect-demo: test/meta/bisect.sh.) Prints TAP; exits 0 when every check
# passed. KEEP=1 keeps the scratch directory (for debugging a failing
# check); TW_CHECKS="..." runs only those checks.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
bk=$top/kernels/build-kernel

# run CMD...: stdout in $work/stdout, stderr in $work/stderr, both in
# $work/out (stdout first), status in $rc.
run() {
	TW_KBUILD_TOOLS=${TW_KBUILD_TOOLS-make} "$@" >"$work/stdout" 2>"$work/stderr" </dev/null
	rc=$?
	cat "$work/stdout" "$work/stderr" >"$work/out"
}

# ---- a fake kernel tree --------------------------------------------------------

ksrc=$work/linux
mkdir -p "$ksrc/scripts/kconfig" "$ksrc/arch/x86" "$ksrc/io_uring"
say 'tw.c version 1' >"$ksrc/io_uring/tw.c"
say 'wait.c version 1' >"$ksrc/io_uring/wait.c"
say 'readme' >"$ksrc/README"
printf 'config IO_URING\n\tbool\nconfig KASAN\n\tbool\n' >"$ksrc/Kconfig"
: >"$ksrc/arch/x86/Kconfig"
# merge_config.sh -m -O DIR BASE FRAGMENT...: append (kconfig keeps the last).
cat >"$ksrc/scripts/kconfig/merge_config.sh" <<'EOF'
#!/bin/sh
shift 3
base=$1
shift
cat "$@" >>"$base"
EOF
chmod +x "$ksrc/scripts/kconfig/merge_config.sh"
# olddefconfig: the last assignment of each symbol wins; symbols the Kconfig
# does not declare are dropped, as conf does.
cat >"$ksrc/olddefconfig.sh" <<'EOF'
#!/bin/sh
awk 'FNR == NR { if ($1 == "config") known["CONFIG_" $2] = 1; next }
	/^CONFIG_/ { s = $0; sub(/=.*/, "", s) }
	/^# CONFIG_.* is not set$/ { s = $2 }
	s != "" && (s in known) { if (!(s in v)) o[n++] = s; v[s] = $0 }
	{ s = "" }
	END { for (i = 0; i < n; i++) print v[o[i]] }' "$1" "$2/.config" >"$2/.config.new" &&
mv "$2/.config.new" "$2/.config"
EOF
chmod +x "$ksrc/olddefconfig.sh"
# A Makefile with real dependencies: bzImage is rebuilt only when a source
# is newer, as kbuild would. A file BROKEN in the tree breaks the build.
cat >"$ksrc/Makefile" <<'EOF'
O ?= .
all: check $(O)/arch/x86/boot/bzImage
check:
	@if [ -e BROKEN ]; then echo "io_uring/tw.c:1: error: broken on purpose"; exit 2; fi
	@if [ -e "$(O)/SLOW" ]; then echo "  CC io_uring/slow.o"; sleep 3; fi
$(O)/arch/x86/boot/bzImage: io_uring/tw.c io_uring/wait.c
	mkdir -p $(O)/arch/x86/boot $(O)/include/generated
	cat io_uring/tw.c io_uring/wait.c >$@
	echo '#define UTS_RELEASE "7.3.0-fake"' >$(O)/include/generated/utsrelease.h
tinyconfig:
	mkdir -p $(O) && printf '# CONFIG_IO_URING is not set\n' >$(O)/.config
olddefconfig:
	sh olddefconfig.sh Kconfig $(O)
EOF
cp -a "$ksrc" "$work/pristine"

frag=$work/io_uring.config
say 'CONFIG_IO_URING=y' >"$frag"
mkpatch() { # NAME FILE NEW-CONTENT
	mkdir -p "$work/p/a/$(dirname "$2")" "$work/p/b/$(dirname "$2")"
	cp "$work/pristine/$2" "$work/p/a/$2" 2>/dev/null || : >"$work/p/a/$2"
	say "$3" >"$work/p/b/$2"
	(cd "$work/p" && diff -u "a/$2" "b/$2") >"$work/$1.patch"
	rm -rf "$work/p"
}
mkpatch tw io_uring/tw.c 'tw.c PATCHED'
mkpatch readme README 'readme PATCHED'
mkpatch broken BROKEN 'yes'
printf -- '--- a/io_uring/tw.c\n+++ b/io_uring/tw.c\n@@ -1 +1 @@\n-no such line\n+x\n' >"$work/bad.patch"

# SRC is as it was made.
untouched() {
	diff -r "$work/pristine" "$ksrc" >"$work/src.diff" 2>&1 ||
		fail "SRC was written: $(head -n 5 "$work/src.diff")"
}
# inode FILE: its inode number (hard links share it).
inode() { stat -c %i "$1"; }

# ---- build-kernel ------------------------------------------------------------

check_bk_usage() {
	run "$bk" --help
	expect 0 '^usage: kernels/build-kernel'
	run "$bk"
	expect 2 'one kernel source tree expected'
	run "$bk" --frobnicate "$ksrc"
	expect 2 'unknown option: --frobnicate'
	run "$bk" -j zero "$ksrc"
	expect 2 '-j needs a positive number'
}

check_bk_bad_input() {
	run "$bk" --out "$work/o" "$work/nonexistent"
	expect 4 'no such kernel source tree'
	run "$bk" --out "$work/o" "$work"
	expect 4 'not an x86 kernel source tree'
	run "$bk" --fragment no-such-fragment --out "$work/o" "$ksrc"
	expect 4 'no such config fragment: no-such-fragment'
	run "$bk" --patch "$work/none.patch" --out "$work/o" "$ksrc"
	expect 4 'no such patch'
	run "$bk" --out "$ksrc/build" "$ksrc"
	expect 4 'may not be inside the source tree'
	untouched
	: >"$ksrc/.config"
	run "$bk" --fragment "$frag" --out "$work/o" "$ksrc"
	rm -f "$ksrc/.config"
	expect 4 'not clean'
	mkdir -p "$work/o/tw-build/lock"
	run "$bk" --fragment "$frag" --out "$work/o" "$ksrc"
	rmdir "$work/o/tw-build/lock"
	expect 4 'busy with another build'
	# A tool the build needs is missing: named, with the fix.
	TW_KBUILD_TOOLS="make no-such-tool-flex" run "$bk" --out "$work/o" "$ksrc"
	unset TW_KBUILD_TOOLS
	expect 4 'no-such-tool-flex not found: .*scripts/install-deps.sh --kernel-build'
}

check_build() {
	out=$work/build
	run "$bk" -j 1 --fragment "$frag" --out "$out" "$ksrc"
	expect_status 0
	# The bzImage path is the only line on stdout; messages go to stderr.
	[ "$(cat "$work/stdout")" = "$out/arch/x86/boot/bzImage" ] ||
		fail "stdout is not the bzImage path alone"
	[ "$(grep -vc '^build-kernel: ' "$work/out")" = 1 ] || fail "a message without 'build-kernel: '"
	expect_line '^CONFIG_IO_URING=y$' "$out/.config"
	cmp "$frag" "$out/tw-build/fragments/1-io_uring.config" || fail "fragment not kept in tw-build/fragments"
	expect_line 'cat io_uring/tw.c' "$out/build.log"
	untouched
}

# A long build shows progress on a terminal (forced here: TW_PROGRESS=1),
# nothing when not on one.
check_progress() {
	out=$work/progress
	mkdir -p "$out" && : >"$out/SLOW"
	TW_PROGRESS=1 TW_PROGRESS_EVERY=1 run "$bk" -j 1 --fragment "$frag" --out "$out" "$ksrc"
	expect_status 0
	grep -q "$(printf '\r')build-kernel: building 0m0[1-3]s: .*CC io_uring/slow.o" "$work/stderr" ||
		fail "no progress line while building"
	: >"$out/SLOW" && rm -f "$out/arch/x86/boot/bzImage"
	run "$bk" -j 1 --fragment "$frag" --out "$out" "$ksrc"
	expect_status 0
	! grep -q "$(printf '\r')" "$work/stderr" || fail "progress shown off a terminal"
}

check_fragments() {
	out=$work/fragments
	say 'CONFIG_NO_SUCH_SYMBOL=y' >"$work/unknown.config"
	run "$bk" --fragment "$frag" --fragment "$work/unknown.config" --out "$out" "$ksrc"
	expect 5 'CONFIG_NO_SUCH_SYMBOL \(unknown.config\): want "CONFIG_NO_SUCH_SYMBOL=y", have "<no such symbol'
	# A later fragment overrides an earlier one.
	say '# CONFIG_IO_URING is not set' >"$work/off.config"
	run "$bk" --fragment "$frag" --fragment "$work/off.config" --out "$out" "$ksrc"
	expect_status 0
	expect_line '^# CONFIG_IO_URING is not set$' "$out/.config"
	# "Not set" holds for a symbol this kernel lacks (SLUB_TINY on 6.1).
	say '# CONFIG_NOT_IN_THIS_KERNEL is not set' >"$work/lacks.config"
	run "$bk" --fragment "$frag" --fragment "$work/lacks.config" --out "$out" "$ksrc"
	expect_status 0
}

check_patches() {
	out=$work/patches
	image=$out/arch/x86/boot/bzImage
	run "$bk" --fragment "$frag" --patch "$work/tw.patch" --out "$out" "$ksrc"
	expect_status 0
	expect_line 'tw.c PATCHED' "$image"
	untouched
	cmp "$work/tw.patch" "$out/tw-build/patches/1-tw.patch" || fail "patch not kept in tw-build/patches"
	# The scratch copy is made of hard links; the patched file is not one.
	[ "$(inode "$out/tw-build/src/README")" = "$(inode "$ksrc/README")" ] ||
		fail "the scratch copy's README is not a hard link to SRC's"
	[ "$(inode "$out/tw-build/src/io_uring/tw.c")" != "$(inode "$ksrc/io_uring/tw.c")" ] ||
		fail "the patched tw.c is linked to SRC's"
	# Another patch set, which does not touch tw.c: the copy of tw.c is
	# SRC's again, older than the bzImage built from the patched one; it
	# must still be rebuilt.
	run "$bk" --fragment "$frag" --patch "$work/readme.patch" --out "$out" "$ksrc"
	expect_status 0
	expect_line 'tw.c version 1' "$image"
	# Patches dropped: the patched files are rebuilt from SRC.
	run "$bk" --fragment "$frag" --patch "$work/tw.patch" --out "$out" "$ksrc"
	run "$bk" --fragment "$frag" --out "$out" "$ksrc"
	expect_status 0
	expect_line 'tw.c version 1' "$image"
	# A patch that does not apply: exit 6, named.
	run "$bk" --fragment "$frag" --patch "$work/tw.patch" --patch "$work/bad.patch" --out "$out" "$ksrc"
	expect 6 'patch does not apply: .*bad.patch'
	untouched
}

check_failing_build() {
	run "$bk" --fragment "$frag" --patch "$work/broken.patch" --out "$work/failing" "$ksrc"
	expect 1 'last lines of the log'
	expect_line '^  io_uring/tw.c:1: error: broken on purpose'
	untouched
}

# A rebuild reuses the copy of SRC and the configuration while neither
# changes; a created file and the patched ones go back to SRC's; a change in
# SRC, a fragment or a patched Kconfig makes them again.
check_reuse() {
	out=$work/reuse
	image=$out/arch/x86/boot/bzImage
	run "$bk" --fragment "$frag" --patch "$work/tw.patch" --out "$out" "$ksrc"
	expect 0 'linking .* and applying 1 patch'
	expect_line 'configuring '
	run "$bk" --fragment "$frag" --patch "$work/broken.patch" --out "$out" "$ksrc"
	expect 1 'reusing the copy of .* \(unchanged\) and applying 1 patch'
	expect_line 'configuration unchanged'
	# The patched tw.c and the created BROKEN are SRC's again.
	run "$bk" --fragment "$frag" --out "$out" "$ksrc"
	expect 0 'reusing the copy of '
	expect_line 'tw.c version 1' "$image"
	[ ! -e "$out/tw-build/src/BROKEN" ] || fail "a file a patch created outlived it"
	untouched
	# An attempt cut short after patching and after make built from the
	# patched file (its list never merged) is undone too: the file, and
	# what was built from it.
	say 'tw.c CUT SHORT' >"$out/tw-build/src/io_uring/tw.c.new" &&
		mv "$out/tw-build/src/io_uring/tw.c.new" "$out/tw-build/src/io_uring/tw.c"
	cat "$out/tw-build/src/io_uring/tw.c" "$ksrc/io_uring/wait.c" >"$image"
	say 'io_uring/tw.c' >"$out/tw-build/patched-files.now"
	run "$bk" --fragment "$frag" --out "$out" "$ksrc"
	expect 0 'reusing the copy of '
	expect_line 'tw.c version 1' "$image"
	# Another fragment: configured again.
	say '# CONFIG_KASAN is not set' >"$work/nokasan.config"
	run "$bk" --fragment "$frag" --fragment "$work/nokasan.config" --out "$out" "$ksrc"
	expect 0 'configuring '
	# A patched Kconfig: configured again, this time and the next.
	mkpatch kconfig Kconfig 'config IO_URING'
	run "$bk" --fragment "$frag" --patch "$work/kconfig.patch" --out "$out" "$ksrc"
	expect 0 'configuring '
	run "$bk" --fragment "$frag" --out "$out" "$ksrc"
	expect 0 'configuring '
	run "$bk" --fragment "$frag" --out "$out" "$ksrc"
	expect 0 'configuration unchanged'
	# SRC changed (a new mtime): copied again, and the change is built.
	cp -a "$ksrc" "$work/ksrc-saved"
	say 'wait.c version 2' >"$ksrc/io_uring/wait.c"
	run "$bk" --fragment "$frag" --out "$out" "$ksrc"
	expect 0 'linking .* into '
	expect_line 'configuring '
	expect_line 'wait.c version 2' "$image"
	rm -rf "$ksrc" && mv "$work/ksrc-saved" "$ksrc"
}

checks=${TW_CHECKS:-"bk_usage bk_bad_input build progress fragments patches reuse failing_build"}
# shellcheck disable=SC2086 # the list is words
run_checks $checks
