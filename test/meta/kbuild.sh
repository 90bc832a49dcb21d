#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of kernels/build-kernel and kernels/bisect-run, without building a
# kernel: build-kernel runs on a fake kernel tree whose Makefile "configures"
# and "builds" in milliseconds (bzImage = the sources it depends on), and
# bisect-run on a small git history with fake build-kernel and vm-run
# (TW_BUILD_KERNEL, TW_VM_RUN). Checked: usage and input errors and their
# exit statuses, that SRC is never written (patches go to a hardlinked copy),
# a patch that does not apply, a fragment symbol that does not stick, a
# failing build, rebuilds after the patch set changes, each verdict mapping
# of bisect-run, and a whole `git bisect run` that skips an unbuildable
# commit and names the bad one. Prints TAP; exits 0 when every check passed.
# KEEP=1 keeps the scratch directory (for debugging a failing check).

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
bk=$top/kernels/build-kernel
br=$top/kernels/bisect-run

work=$(mktemp -d "${TMPDIR:-/tmp}/kbuild-selftest.XXXXXX") || exit 1
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); say "ok $n - $*"; }
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	say "not ok $n - $1"
	shift
	for line in "$@"; do say "# $line"; done
	[ -f "$work/out" ] && sed 's/^/# | /' "$work/out"
}

# run CMD...: output in $work/out (stdout) and $work/err, status in $rc.
run() {
	"$@" >"$work/out" 2>"$work/err" </dev/null
	rc=$?
	cat "$work/err" >>"$work/out"
}
# check NAME STATUS [ERE]: the last run exited STATUS and printed ERE.
check() {
	if [ "$rc" != "$2" ]; then
		not_ok "$1" "exit status $rc, expected $2"
	elif [ $# -ge 3 ] && ! grep -Eq -- "$3" "$work/out"; then
		not_ok "$1" "no output line matching: $3"
	else
		ok "$1"
	fi
}
# assert NAME COMMAND...: the command succeeds.
assert() {
	name=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name" "failed: $*"; fi
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

untouched() { diff -r "$work/pristine" "$ksrc" >/dev/null; }

# ---- build-kernel: usage and input errors ----------------------------------------

run "$bk" --help
check "build-kernel --help" 0 '^usage: kernels/build-kernel'
run "$bk"
check "build-kernel without SRC: usage error" 2 'one kernel source tree expected'
run "$bk" --frobnicate "$ksrc"
check "build-kernel unknown option: usage error" 2 'unknown option: --frobnicate'
run "$bk" -j zero "$ksrc"
check "build-kernel -j zero: usage error" 2 '-j needs a positive number'
run "$bk" --out "$work/o" "$work/nonexistent"
check "missing SRC: bad input" 3 'no such kernel source tree'
run "$bk" --out "$work/o" "$work"
check "SRC not a kernel tree: bad input" 3 'not an x86 kernel source tree'
run "$bk" --fragment no-such-fragment --out "$work/o" "$ksrc"
check "missing fragment: bad input" 3 'no such config fragment: no-such-fragment'
run "$bk" --patch "$work/none.patch" --out "$work/o" "$ksrc"
check "missing patch: bad input" 3 'no such patch'
run "$bk" --out "$ksrc/build" "$ksrc"
check "output inside SRC: bad input" 3 'may not be inside the source tree'
assert "output inside SRC: nothing created in SRC" untouched
: >"$ksrc/.config"
run "$bk" --fragment "$frag" --out "$work/o" "$ksrc"
check "SRC with a .config: not clean" 3 'not clean'
rm -f "$ksrc/.config"

# ---- build-kernel: builds ----------------------------------------------------------

out=$work/out1
run "$bk" -j 1 --fragment "$frag" --out "$out" "$ksrc"
check "build: exit 0" 0
if [ "$(cat "$work/err" >/dev/null; head -n 1 "$work/out")" = "$out/arch/x86/boot/bzImage" ] &&
	[ "$(grep -vc '^build-kernel: ' "$work/out")" = 1 ]; then
	ok "build: the bzImage path is the only line on stdout"
else
	not_ok "build: the bzImage path is the only line on stdout"
fi
assert "build: fragment symbol in .config" grep -qx CONFIG_IO_URING=y "$out/.config"
assert "build: fragment kept in tw-build/fragments" cmp "$frag" "$out/tw-build/fragments/1-io_uring.config"
assert "build: build.log kept" grep -q 'cat io_uring/tw.c' "$out/build.log"
assert "build: SRC untouched" untouched

say 'CONFIG_NO_SUCH_SYMBOL=y' >"$work/unknown.config"
run "$bk" --fragment "$frag" --fragment "$work/unknown.config" --out "$out" "$ksrc"
check "symbol that does not stick: exit 5, named" 5 \
	'CONFIG_NO_SUCH_SYMBOL \(unknown.config\): want "CONFIG_NO_SUCH_SYMBOL=y", have "<no such symbol'
say '# CONFIG_IO_URING is not set' >"$work/off.config"
run "$bk" --fragment "$frag" --fragment "$work/off.config" --out "$out" "$ksrc"
check "later fragment overrides an earlier one" 0
assert "later fragment: IO_URING off" grep -qx '# CONFIG_IO_URING is not set' "$out/.config"

run "$bk" --fragment "$frag" --patch "$work/tw.patch" --out "$out" "$ksrc"
check "patched build: exit 0" 0
assert "patched build: bzImage has the patched source" grep -q 'tw.c PATCHED' "$out/arch/x86/boot/bzImage"
assert "patched build: SRC untouched" untouched
assert "patched build: patch kept in tw-build/patches" cmp "$work/tw.patch" "$out/tw-build/patches/1-tw.patch"
links() { find "$1" -links "$2" | grep -q .; }
assert "patched build: the scratch copy is made of hard links" links "$ksrc/README" 2
assert "patched build: the patched file is not linked to SRC" links "$ksrc/io_uring/tw.c" 1

# Another patch set, which does not touch tw.c: the copy of tw.c is SRC's
# again, older than the bzImage built from the patched one; it must still
# be rebuilt.
run "$bk" --fragment "$frag" --patch "$work/readme.patch" --out "$out" "$ksrc"
check "patch set changed: exit 0" 0
if grep -q 'tw.c version 1' "$out/arch/x86/boot/bzImage"; then
	ok "patch set changed: files of the old patches rebuilt"
else
	not_ok "patch set changed: files of the old patches rebuilt" "bzImage: $(cat "$out/arch/x86/boot/bzImage")"
fi

run "$bk" --fragment "$frag" --patch "$work/tw.patch" --out "$out" "$ksrc"
run "$bk" --fragment "$frag" --out "$out" "$ksrc"
check "patches dropped: exit 0" 0
if grep -q 'tw.c version 1' "$out/arch/x86/boot/bzImage"; then
	ok "patches dropped: patched files rebuilt from SRC"
else
	not_ok "patches dropped: patched files rebuilt from SRC" "bzImage: $(cat "$out/arch/x86/boot/bzImage")"
fi

run "$bk" --fragment "$frag" --patch "$work/tw.patch" --patch "$work/bad.patch" --out "$out" "$ksrc"
check "patch that does not apply: exit 4, named" 4 'patch does not apply: .*bad.patch'
assert "patch that does not apply: SRC untouched" untouched

run "$bk" --fragment "$frag" --patch "$work/broken.patch" --out "$out" "$ksrc"
check "failing build: exit 1 with the log's last lines" 1 'last lines of the log'
check "failing build: the compiler's error is shown" 1 '^  io_uring/tw.c:1: error: broken on purpose'
assert "failing build: SRC untouched" untouched

mkdir "$out/tw-build/lock"
run "$bk" --fragment "$frag" --out "$out" "$ksrc"
check "output directory busy: bad input" 3 'busy with another build'
rmdir "$out/tw-build/lock"

# ---- bisect-run ----------------------------------------------------------------------

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
commit() { # MESSAGE: commit the tree as it is
	git -C "$tree" add -A && git -C "$tree" -c user.name=t -c user.email=t@t commit -q -m "$1"
}
say good >"$tree/state" && commit "c1 good"
good=$(git -C "$tree" rev-parse HEAD)
say 'good, comment' >"$tree/state" && commit "c2 harmless"
say 'good, more' >"$tree/state" && commit "c3 harmless"
: >"$tree/NOBUILD" && commit "c4 breaks the build"
rm "$tree/NOBUILD" && commit "c5 fixes the build"
say 'BAD' >"$tree/state" && commit "c6 the regression"
first_bad=$(git -C "$tree" rev-parse HEAD)
say 'BAD, comment' >"$tree/state" && commit "c7 harmless"
say 'BAD, more' >"$tree/state" && commit "c8 harmless"

run "$br" --help
check "bisect-run --help" 0 '^usage: kernels/bisect-run'
run "$br" --frobnicate
check "bisect-run unknown option: stops the bisection" 128 'unknown option'
run "$br" -C "$work"
check "bisect-run outside a git tree: stops the bisection" 128 'not a git tree'
run "$br" -C "$tree" --patch "$work/none.patch"
check "bisect-run missing patch: stops the bisection" 128 'no such patch'
# HEAD is c8 (bad); relative paths are made absolute before the tree is
# entered.
cd "$work" || exit 1
run "$br" -C "$tree" -j 3 --fragment io_uring.config --fragment debug \
	--patch tw.patch --kernel-out kout --smp 4 --mem 2G -- --repeat 2 fanin_local
cd "$top" || exit 1
check "bisect-run: a bad commit" 1 'bad \(exit 1\)'
if [ "$(tr '\n' ' ' <"$FAKE_LOG.bk")" = "-j 3 --fragment $work/io_uring.config --fragment debug --patch $work/tw.patch --out $work/kout $tree " ]; then
	ok "bisect-run: build-kernel arguments (paths made absolute)"
else
	not_ok "bisect-run: build-kernel arguments (paths made absolute)" "got: $(tr '\n' ' ' <"$FAKE_LOG.bk")"
fi
head=$(git -C "$tree" rev-parse --short=12 HEAD)
res=$tree/.git/tw-bisect/results/$head
if [ "$(tr '\n' ' ' <"$FAKE_LOG.vm")" = "--smp 4 --mem 2G --results-dir $res $FAKE_LOG.img/bzImage -- --repeat 2 fanin_local " ]; then
	ok "bisect-run: vm-run arguments"
else
	not_ok "bisect-run: vm-run arguments" "got: $(tr '\n' ' ' <"$FAKE_LOG.vm")"
fi
assert "bisect-run: a line in GIT_DIR/tw-bisect/log" grep -q "$head bad .*c8 harmless" "$tree/.git/tw-bisect/log"

verdict() { # NAME FAKE_BK FAKE_VM EXPECTED ERE
	run env FAKE_BK="$2" FAKE_VM="$3" "$br" -C "$tree" fanin_local
	check "$1" "$4" "$5"
}
verdict "vm-run pass: good" "" 0 0 'good \(exit 0\)'
verdict "vm-run fail/hang/panic: bad" "" 1 1 'bad \(exit 1\)'
verdict "vm-run never reached the suite: skip" "" 3 125 'skip \(exit 125\): the guest never reached'
verdict "kernel without io_uring: skip" "" 5 125 'skip \(exit 125\): this kernel has no io_uring'
verdict "vm-run usage error: stop" "" 2 128 'vm-run refused its input'
verdict "vm-run bad input: stop" "" 4 128 'vm-run refused its input'
verdict "vm-run interrupted: stop" "" 130 128 'vm-run ended with exit status 130'
verdict "build fails: skip" 1 "" 125 'skip \(exit 125\): the build failed'
verdict "patch does not apply: skip" 4 "" 125 'skip \(exit 125\): a patch does not apply'
verdict "fragment symbol lost: skip" 5 "" 125 'skip \(exit 125\): the configuration lost'
verdict "build-kernel bad input: stop" 3 "" 128 'build-kernel refused its input'

# A whole bisection: c4 does not build (skipped when git picks it), c6 is
# the first bad one.
(
	cd "$tree" && git bisect start HEAD "$good" >/dev/null &&
		git bisect run "$br" fanin_local
) >"$work/out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "^$first_bad is the first bad commit" "$work/out"; then
	ok "git bisect run names the first bad commit"
else
	not_ok "git bisect run names the first bad commit" "exit status $rc, expected the first bad commit $first_bad"
fi
git -C "$tree" bisect reset -q >/dev/null 2>&1

say "1..$n"
[ "$failed" = 0 ]
