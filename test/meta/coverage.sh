#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of kernels/coverage without a kernel: a small program laid out
# like io_uring/ (tw.c, mpscq.h, io_uring.c with an exit-path function and
# another, poll.c, net.c with a multishot function and another) is built
# with --coverage and run, and its .gcno/.gcda stand in
# for the kernel's. kernels/build-kernel and guest/vm-run are stand-ins: the
# fake build records how it was asked to profile io_uring/ (the tree's
# CONFIG_GCOV_PROFILE_URING, else a generated Makefile patch); the fake
# vm-run checks tw_gcov reached the kernel command line and returns the
# .gcda files as the guest does (run/gcov/<build dir>/io_uring/). Checks the
# summary (per-file numbers, io_uring.c limited to its exit paths, net.c to
# its multishot paths, a row for every listed file, the functions, lines and
# branches never executed), coverage.json, the HTML,
# --report, and usage errors. Needs gcc and lcov: skips (77) without them.
# Prints TAP; exits 0 when every check passed.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
cov=$top/kernels/coverage

for t in gcc lcov genhtml gcov; do
	command -v "$t" >/dev/null 2>&1 || { say "1..0 # SKIP $t not installed (scripts/install-deps.sh --coverage)"; exit 77; }
done

# ---- the stand-in "kernel": sources, .gcno and a run's .gcda --------------------

src=$work/linux
kout=$work/kout
mkdir -p "$src/io_uring" "$src/init" "$kout/io_uring" "$work/gcda"
printf 'obj-y += tw.o\n' >"$src/io_uring/Makefile"
cat >"$src/io_uring/mpscq.h" <<'EOF'
static inline int mpscq_pop(int x)
{
	if (x > 100)
		return -1;
	return x + 1;
}
EOF
cat >"$src/io_uring/tw.c" <<'EOF'
#include "mpscq.h"
static int io_fallback_tw(int x)
{
	return x * 2;
}
int tctx_task_work_run(int n)
{
	int s = 0;
	for (int i = 0; i < n; i++)
		s += mpscq_pop(i);
	if (s < 0)
		s = io_fallback_tw(s);
	return s;
}
EOF
cat >"$src/io_uring/io_uring.c" <<'EOF'
int tctx_task_work_run(int n);
int io_poll_wake(int n);
int io_recv(int n);
int io_submit_sqes(int n)
{
	if (n > 1000)
		return 0;
	return n;
}
int io_uring_release(int n)
{
	if (n < 0)
		return -1;
	return tctx_task_work_run(n);
}
int main(int argc, char **argv)
{
	(void)argv;
	io_poll_wake(argc);
	io_recv(argc);
	return io_uring_release(argc + 3) == 0 && io_submit_sqes(argc) == 0;
}
EOF
cat >"$src/io_uring/poll.c" <<'EOF'
int io_poll_wake(int n)
{
	if (n > 7)
		return 1;
	return n - 1;
}
EOF
# io_recv and io_mshot_prep_retry are multishot functions, io_connect is
# not: only they count. io_mshot_prep_retry is always inlined, gcov has no
# function record of it: its lines must not count as io_connect's.
cat >"$src/io_uring/net.c" <<'EOF'
int io_connect(int n)
{
	return n * 3;
}
static inline __attribute__((always_inline)) int io_mshot_prep_retry(int n)
{
	if (n > 7)
		return 0;
	return n;
}
int io_recv(int n)
{
	if (n < 0)
		return -1;
	if (n > 9)
		return io_connect(n);
	return io_mshot_prep_retry(n);
}
EOF
(
	cd "$kout" &&
		gcc --coverage -O0 -c -o io_uring/tw.o "$src/io_uring/tw.c" &&
		gcc --coverage -O0 -c -o io_uring/io_uring.o "$src/io_uring/io_uring.c" &&
		gcc --coverage -O0 -c -o io_uring/poll.o "$src/io_uring/poll.c" &&
		gcc --coverage -O0 -c -o io_uring/net.o "$src/io_uring/net.c" &&
		gcc --coverage -o io_uring/prog io_uring/tw.o io_uring/io_uring.o \
			io_uring/poll.o io_uring/net.o &&
		./io_uring/prog &&
		mv io_uring/*.gcda "$work/gcda/"
) >"$work/prep.out" 2>&1 || {
	sed 's/^/# /' "$work/prep.out"
	say "1..0 # SKIP cannot build a --coverage program here"
	exit 77
}

cat >"$work/fake-build-kernel" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$work/build.args"
for a in "\$@"; do case \$a in *.patch) cp "\$a" "$work/build.patch" ;; esac; done
[ -n "\${FAKE_BUILD_FAIL:-}" ] && { echo "build-kernel: the build failed" >&2; exit 1; }
: >"$kout/bzImage"; echo "$kout/bzImage"
EOF
cat >"$work/fake-vm-run" <<EOF
#!/bin/sh
res=
gcov=
while [ \$# -gt 0 ]; do
	case \$1 in
	--results-dir) res=\$2; shift ;;
	--append) [ "\$2" = tw_gcov ] && gcov=1; shift ;;
	--) shift; break ;;
	esac
	shift
done
printf '%s\n' "\$*" >"$work/vm.args"
mkdir -p "\$res"
printf '{\n  "release": "7.3.4+",\n  "exit_status": %s,\n}\n' "\${FAKE_VM_STATUS:-0}" >"\$res/vm.json"
if [ -n "\$gcov" ]; then
	mkdir -p "\$res/gcov$kout/io_uring"
	cp "$work/gcda"/*.gcda "\$res/gcov$kout/io_uring/"
fi
exit "\${FAKE_VM_STATUS:-0}"
EOF
chmod +x "$work/fake-build-kernel" "$work/fake-vm-run"

run() { # ARGS...: the output in $work/out, the status in $rc
	TW_BUILD_KERNEL=$work/fake-build-kernel TW_VM_RUN=$work/fake-vm-run \
		sh "$cov" "$@" >"$work/out" 2>&1
	rc=$?
}

# ---- checks -------------------------------------------------------------------

check_usage_errors() {
	run
	expect_status 2
	expect_line '^coverage: no kernel source tree given$'
	run --bogus
	expect_status 2
	run "$work/nope"
	expect_status 4
	expect_line '^coverage: no such kernel source tree: '
	run --report "$work"
	expect_status 2
	expect_line 'not a kernels/coverage directory'
}

check_report() {
	run --kernel-out "$kout" -o "$work/r" "$src" -- fanin_local
	expect_status 0
	# No CONFIG_GCOV_PROFILE_URING in this tree: a patch puts GCOV_PROFILE into the Makefile.
	expect_line '^\+GCOV_PROFILE := y$' "$work/build.patch"
	expect_line '^gcov$' "$work/build.args"
	expect_line 'fanin_local' "$work/vm.args"
	# tw.c: 9 lines (io_fallback_tw never runs); mpscq.h's x > 100 never true.
	expect_line '^  tw.c +6/9 +66\.7% +3/4 +75\.0% +1/2$'
	expect_line '^  mpscq.h +3/4 +75\.0% +1/2 +50\.0% +1/1$'
	# io_uring.c: only io_uring_release counts, not io_submit_sqes or main.
	expect_line '^  io_uring.c:exit-paths +3/4 +75\.0% +1/2 +50\.0% +1/1$'
	# net.c: io_recv and the inlined io_mshot_prep_retry count (not as a
	# function), io_connect does not.
	expect_line '^  net.c:multishot +6/9 +66\.7% +3/6 +50\.0% +1/1$'
	expect_line '^  poll.c +3/4 +75\.0% +1/2 +50\.0% +1/1$'
	# Listed files the build has no data of still have their row.
	expect_line '^  io-wq.c +0/0 +- +0/0 +- +0/0$'
	expect_line '^  timeout.c +0/0 +- +0/0 +- +0/0$'
	expect_line '^  tw.c: io_fallback_tw$'
	expect_line '^    tw.c:2-4 \(io_fallback_tw\): static int io_fallback_tw\(int x\)$'
	expect_line '^    tw.c:12 \(tctx_task_work_run\): s = io_fallback_tw\(s\);$'
	expect_line '^    tw.c:11 \(tctx_task_work_run\): branch 1 of 2 never taken: if \(s < 0\)$'
	expect_line '^    mpscq.h:4 \(mpscq_pop\): return -1;$'
	no_line 'io_submit_sqes' "$work/r/summary.txt"
	expect_line 'io_uring.c:13 \(io_uring_release\): return -1;' "$work/r/uncovered.txt"
	no_line 'io_submit_sqes' "$work/r/uncovered.txt"
	expect_line '^  net.c:multishot$' "$work/r/uncovered.txt"
	expect_line 'net.c:14 \(io_recv\): return -1;' "$work/r/uncovered.txt"
	expect_line 'net.c:16 \(io_recv\): return io_connect\(n\);' "$work/r/uncovered.txt"
	expect_line 'net.c:8 \(io_mshot_prep_retry\): return 0;' "$work/r/uncovered.txt"
	no_line 'io_connect\)' "$work/r/uncovered.txt"
	no_line 'io_mshot_prep_retry' "$work/r/summary.txt"
	expect_line 'poll.c:4 \(io_poll_wake\): return 1;' "$work/r/uncovered.txt"
	expect_line '"file": "net.c:multishot", "lines_found": 9, "lines_hit": 6,' "$work/r/coverage.json"
	[ -f "$work/r/html/index.html" ] || fail "no HTML report"
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); assert d["files"][0] == {"file": "tw.c", "lines_found": 9, "lines_hit": 6, "branches_found": 4, "branches_hit": 3, "functions_found": 2, "functions_hit": 1, "never_executed": ["io_fallback_tw"]}, d["files"][0]' \
			"$work/r/coverage.json" || fail "coverage.json"
	fi
	# --report: the same summary again.
	cp "$work/r/summary.txt" "$work/summary.1"
	run --report "$work/r"
	expect_status 0
	expect_same "$work/summary.1" "$work/r/summary.txt" "--report wrote another summary"
}

check_tree_switch() {
	printf 'config GCOV_PROFILE_URING\n\tbool "x"\n' >"$src/init/Kconfig"
	rm -f "$work/build.patch"
	run --kernel-out "$kout" -o "$work/r" "$src"
	expect_status 0
	expect_line '^gcov-uring$' "$work/build.args"
	[ ! -f "$work/build.patch" ] || fail "a patch although the tree has CONFIG_GCOV_PROFILE_URING"
	rm -f "$src/init/Kconfig"
}

check_failures() {
	FAKE_BUILD_FAIL=1 run --kernel-out "$kout" -o "$work/r" "$src"
	expect_status 3
	expect_line '^coverage: the gcov kernel does not build \(build-kernel exit 1: '
	rm -rf "$work/r"
	FAKE_VM_STATUS=1 run --kernel-out "$kout" -o "$work/r" "$src"
	expect_status 1
	expect_line 'a test failed on the gcov kernel'
	expect_line '^  tw.c '
	rm -rf "$work/r"
	FAKE_VM_STATUS=3 run --kernel-out "$kout" -o "$work/r" "$src"
	expect_status 3
	expect_line 'never ran the suite \(vm-run exit 3'
}

# ---- driver -------------------------------------------------------------------

checks=${TW_CHECKS:-"usage_errors report tree_switch failures"}
before_check() {
	rm -rf "$work/r"
}
# shellcheck disable=SC2086 # the list is words
run_checks $checks
