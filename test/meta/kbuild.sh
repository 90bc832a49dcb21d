#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of kernels/build-kernel, kernels/bisect-run and
# kernels/bisect-demo, without building a kernel: build-kernel runs on a fake
# kernel tree whose Makefile "configures" and "builds" in milliseconds
# (bzImage = the sources it depends on), bisect-run on a small git history
# with fake build-kernel and vm-run (TW_BUILD_KERNEL, TW_VM_RUN), and
# bisect-demo on a fake source tree. Checked: usage and input errors and
# their exit statuses, that SRC is never written (patches go to a hardlinked
# copy), a patch that does not apply, a fragment symbol that does not stick,
# a failing build, rebuilds after the patch set changes, the runner told
# to stop at its first failure (runtests.sh -x) unless --full-run, each verdict
# mapping of bisect-run, a whole `git bisect run` that skips an unbuildable
# commit and names the bad one, and the demo tree's eight commits. Prints
# TAP; exits 0 when every check passed. KEEP=1 keeps the scratch directory
# (for debugging a failing check); TW_CHECKS="..." runs only those checks.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
bk=$top/kernels/build-kernel
br=$top/kernels/bisect-run
bd=$top/kernels/bisect-demo

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

# Fake tools: build-kernel "builds" the tree's state file into an image,
# or fails when the tree has NOBUILD; vm-run says bad when the image says
# BAD. Both log their arguments. FAKE_BK / FAKE_VM force an exit status.
mkdir "$work/bin"
cat >"$work/bin/build-kernel" <<'EOF'
#!/bin/sh
printf '%s\n' "$@" >"$FAKE_LOG.bk"
for src; do :; done
[ -n "${FAKE_BK:-}" ] && exit "$FAKE_BK"
[ -e "$src/NOBUILD" ] && exit 1
mkdir -p "$FAKE_LOG.img" && cp "$src/state" "$FAKE_LOG.img/bzImage" && echo "$FAKE_LOG.img/bzImage"
EOF
cat >"$work/bin/vm-run" <<'EOF'
#!/bin/sh
printf '%s\n' "$@" >"$FAKE_LOG.vm"
[ -n "${FAKE_VM:-}" ] && exit "$FAKE_VM"
for a; do case $a in */bzImage) img=$a ;; esac; done
grep -q BAD "$img" && exit 1
exit 0
EOF
chmod +x "$work/bin/build-kernel" "$work/bin/vm-run"
TW_BUILD_KERNEL=$work/bin/build-kernel
TW_VM_RUN=$work/bin/vm-run
FAKE_LOG=$work/fake
export TW_BUILD_KERNEL TW_VM_RUN FAKE_LOG

tree=$work/tree
git init -q "$tree"
commit_tree() { # MESSAGE: commit the tree as it is
	git -C "$tree" add -A && git -C "$tree" -c user.name=t -c user.email=t@t commit -q -m "$1"
}
say good >"$tree/state" && commit_tree "c1 good"
good=$(git -C "$tree" rev-parse HEAD)
say 'good, comment' >"$tree/state" && commit_tree "c2 harmless"
say 'good, more' >"$tree/state" && commit_tree "c3 harmless"
: >"$tree/NOBUILD" && commit_tree "c4 breaks the build"
rm "$tree/NOBUILD" && commit_tree "c5 fixes the build"
say 'BAD' >"$tree/state" && commit_tree "c6 the regression"
first_bad=$(git -C "$tree" rev-parse HEAD)
say 'BAD, comment' >"$tree/state" && commit_tree "c7 harmless"
say 'BAD, more' >"$tree/state" && commit_tree "c8 harmless"

# A source tree for bisect-demo: the files its commits touch, and a patch.
demo_src=$work/demo-src
mkdir -p "$demo_src/io_uring" "$demo_src/Documentation/networking"
printf 'VERSION = 7\nPATCHLEVEL = 3\nSUBLEVEL = 4\n' >"$demo_src/Makefile"
printf 'static int __io_run_local_work_loop(void)\n{\n}\nvoid tctx_task_work(void)\n{\n}\n' >"$demo_src/io_uring/tw.c"
printf 'static int min_wait;\n' >"$demo_src/io_uring/wait.c"
printf 'void io_uring_free_tctx(void)\n{\n}\n' >"$demo_src/io_uring/tctx.c"
printf '#include <linux/llist.h>\n' >"$demo_src/io_uring/mpscq.h"
say 'zcrx' >"$demo_src/Documentation/networking/iou-zcrx.rst"
cp -a "$demo_src" "$work/demo-pristine"
printf -- '--- a/io_uring/wait.c\n+++ b/io_uring/wait.c\n@@ -1 +1,2 @@\n static int min_wait;\n+int seeded_bug;\n' >"$work/demo.patch"

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

# ---- bisect-run --------------------------------------------------------------

check_br_usage() {
	run "$br" --help
	expect 0 '^usage: kernels/bisect-run'
	# 128: git bisect run stops.
	run "$br" --frobnicate
	expect 128 'unknown option'
	run "$br" -C "$work"
	expect 128 'not a git tree'
	run "$br" -C "$tree" --patch "$work/none.patch"
	expect 128 'no such patch'
}

check_br_arguments() {
	# HEAD is c8 (bad); relative paths are made absolute before the tree
	# is entered.
	cd "$work" || exit 1
	run "$br" -C "$tree" -j 3 --fragment io_uring.config --fragment debug \
		--patch tw.patch --kernel-out kout --smp 4 --mem 2G -- --repeat 2 fanin_local
	expect 1 'bad \(exit 1\)'
	got=$(tr '\n' ' ' <"$FAKE_LOG.bk")
	[ "$got" = "-j 3 --fragment $work/io_uring.config --fragment debug --patch $work/tw.patch --out $work/kout $tree " ] ||
		fail "build-kernel arguments: $got"
	head=$(git -C "$tree" rev-parse --short=12 HEAD)
	got=$(tr '\n' ' ' <"$FAKE_LOG.vm")
	[ "$got" = "--smp 4 --mem 2G --results-dir $tree/.git/tw-bisect/results/$head $FAKE_LOG.img/bzImage -- --stop-at-first-failure --repeat 2 fanin_local " ] ||
		fail "vm-run arguments: $got"
	expect_line "$head bad .*c8 harmless" "$tree/.git/tw-bisect/log"
	# --full-run: the whole run, the arguments as given.
	run "$br" -C "$tree" --full-run --smp 4 fanin_local
	expect 1 'bad \(exit 1\)'
	got=$(tr '\n' ' ' <"$FAKE_LOG.vm")
	[ "$got" = "--smp 4 --results-dir $tree/.git/tw-bisect/results/$head $FAKE_LOG.img/bzImage -- fanin_local " ] ||
		fail "vm-run arguments with --full-run: $got"
}

# Each exit status of the fake build-kernel (FAKE_BK) or vm-run (FAKE_VM),
# and bisect-run's answer to git.
check_br_verdicts() {
	while IFS='|' read -r fake_bk fake_vm want ere; do
		run env FAKE_BK="$fake_bk" FAKE_VM="$fake_vm" "$br" -C "$tree" fanin_local
		expect "$want" "$ere"
	done <<'EOF'
|0|0|good \(exit 0\)
|1|1|bad \(exit 1\)
|3|125|skip \(exit 125\): the guest never reached
|5|125|skip \(exit 125\): this kernel has no io_uring
|2|128|vm-run refused its input
|4|128|vm-run refused its input
|130|128|vm-run ended with exit status 130
1||125|skip \(exit 125\): the build failed
6||125|skip \(exit 125\): a patch does not apply
5||125|skip \(exit 125\): the configuration lost
4||128|build-kernel refused its input
EOF
}

# A whole bisection: c4 does not build (skipped when git picks it), c6 is
# the first bad one.
check_git_bisect_run() {
	(
		cd "$tree" && git bisect start HEAD "$good" >/dev/null &&
			git bisect run "$br" fanin_local
	) >"$work/out" 2>&1
	rc=$?
	git -C "$tree" bisect reset -q >/dev/null 2>&1
	expect 0 "^$first_bad is the first bad commit"
}

# ---- bisect-demo -------------------------------------------------------------

check_bisect_demo() {
	run "$bd" --help
	expect 0 '^usage: kernels/bisect-demo'
	run "$bd" "$ksrc" "$work/demo"
	expect 2 'try .*--help'
	# No io_uring/tw.c, no such patch, DIR exists: bad input.
	run "$bd" "$work" "$work/demo" "$work/demo.patch"
	expect 2 'no io_uring/tw.c'
	run "$bd" "$demo_src" "$work/demo" "$work/none.patch"
	expect 2 'no such patch'
	run "$bd" "$demo_src" "$work" "$work/demo.patch"
	expect 2 'exists'
	run "$bd" "$demo_src" "$work/demo" "$work/demo.patch"
	expect 0 '^good: [0-9a-f]{40}$'
	expect_line '^bad:  [0-9a-f]{40}$'
	[ "$(git -C "$work/demo" rev-list --count HEAD)" = 9 ] || fail "not nine commits"
	# The 4th commit breaks the build, the 6th is the seeded bug.
	git -C "$work/demo" show HEAD~4 | grep -q '^+static void io_tctx_tidy' || fail "HEAD~4 does not break the build"
	git -C "$work/demo" show HEAD~2 | grep -q '^+int seeded_bug;' || fail "HEAD~2 is not the patch"
	diff -r "$demo_src" "$work/demo-pristine" >/dev/null || fail "LINUX-SRC was written"
}

# ---- driver ------------------------------------------------------------------

checks=${TW_CHECKS:-"bk_usage bk_bad_input build progress fragments patches failing_build
	br_usage br_arguments br_verdicts git_bisect_run bisect_demo"}
# shellcheck disable=SC2086 # the list is words
run_checks $checks
