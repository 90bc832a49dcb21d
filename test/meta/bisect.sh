#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of kernels/bisect-run and kernels/bisect-demo, without building
# a kernel: bisect-run on a small git history with fake build-kernel and
# vm-run (TW_BUILD_KERNEL, TW_VM_RUN), bisect-demo on a fake source tree.
# Checked: usage and input errors and their exit statuses, the runner told
# to stop at its first failure (runtests.sh -x) unless --full-run, each
# verdict mapping of bisect-run, a whole `git bisect run` that skips an
# unbuildable commit and names the bad one, and the demo tree's eight
# commits. Prints TAP; exits 0 when every check passed. KEEP=1 keeps the
# scratch directory; TW_CHECKS="..." runs only those checks.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
br=$top/kernels/bisect-run
bd=$top/kernels/bisect-demo

# run CMD...: stdout in $work/stdout, stderr in $work/stderr, both in
# $work/out (stdout first), status in $rc.
run() {
	TW_KBUILD_TOOLS=${TW_KBUILD_TOOLS-make} "$@" >"$work/stdout" 2>"$work/stderr" </dev/null
	rc=$?
	cat "$work/stdout" "$work/stderr" >"$work/out"
}

# What bisect-run passes on to build-kernel (their content does not matter).
say 'CONFIG_IO_URING=y' >"$work/io_uring.config"
printf -- '--- a/io_uring/tw.c\n+++ b/io_uring/tw.c\n' >"$work/tw.patch"

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
	run "$bd" "$demo_src" "$work/demo"
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

checks=${TW_CHECKS:-"br_usage br_arguments br_verdicts git_bisect_run bisect_demo"}
# shellcheck disable=SC2086 # the list is words
run_checks $checks
