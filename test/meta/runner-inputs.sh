#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of what a new user types wrong, and of what a run leaves:
# every bad value of runtests.sh is one line naming the option and the
# value, exit 2 (128 with --bisect), before anything runs; the seeds taken
# are those the test programs take; --known-issues and --exclude files
# must exist; a results directory that cannot be written (root's, after a
# run with sudo) is one line; each run keeps its own results directory
# (and make distclean keeps them all); --check-args and vm-run check the
# runner's arguments on the host, before a build; the progress line while
# a program runs, and none where stderr is not a terminal.
# The program under test is test/meta/fake_verdicts.t (test/meta/runner-lib.sh).
#
#   test/meta/runner-inputs.sh                 prints TAP, exit 0 if all passed
#   TW_SH="busybox sh" test/meta/runner-inputs.sh
#   TW_CHECKS="seeds progress" test/meta/runner-inputs.sh   only these checks
# Needs `make` first.

# shellcheck disable=SC2086 # $runner_sh is a command with arguments
# shellcheck disable=SC2030,SC2031 # a ( subshell ) keeps a variable to one run
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/runner-lib.sh
. "$top/test/meta/runner-lib.sh"

# bad ERE ARGS...: the runner refuses ARGS with exit 2 and one line matching
# ERE (then where help is), runs nothing and makes no results directory;
# with --bisect the same, exit 128.
bad() {
	bad_ere=$1
	shift
	run "$@"
	expect_status 2
	head -n 1 "$work/out" | grep -Eq -- "^runtests\.sh: $bad_ere" ||
		fail "args $*: the first line does not match: $bad_ere"
	[ "$(grep -vc '^runtests\.sh: try .* --help$' "$work/out")" = 1 ] ||
		fail "args $*: more than one line"
	[ ! -e "$res" ] || fail "args $*: a results directory was made"
	run --bisect "$@"
	expect_status 128
}

# ---- the checks ---------------------------------------------------------------

check_bad_values() {
	for v in xx ff 0x 1x2 -1 '' 08 18446744073709551616 0x10000000000000000 02000000000000000000000 \
		99999999999999999999999; do
		bad "bad --seed '$v' " --seed "$v"
	done
	for v in 0 -1 x '' 1.5 99999999999999999999; do
		bad "bad --repeat '$v' " --repeat "$v"
	done
	for v in x -1 '' . 1e3 86401; do
		bad "bad --duration '$v' " --duration "$v"
	done
	for v in x -5 '' 1000001 10000000000; do
		bad "bad --timeout '$v' " --timeout "$v"
	done
	(export TW_TIMEOUT=soon; bad "bad TW_TIMEOUT 'soon' ") || exit 1
	(export TW_TIMEOUT=''; run --timeout '' fake_verdicts.default; expect 2 "bad --timeout ''") || exit 1
	bad "--list takes no value: '--list=3'" --list=3
	bad "bad --results-dir '' " --results-dir=
	bad "unknown option '--sed'" --sed 1
	bad "--seed needs a value" --seed
	bad "no test 'fake_verdict' " fake_verdict
	bad "fake_verdicts has no case 'fake_verdicts\.cop' " fake_verdicts.cop
	# The supervisor on its own: more seconds than int64 nanoseconds hold
	# were a deadline already passed, a timeout at once.
	"$top/runner/supervise" -t 10000000000 -r "$work/result" -- true >"$work/out" 2>&1
	rc=$?
	expect_status 2
}

# The seeds the runner takes are the programs' own: each good one gives a
# program the same seed as by hand, each bad one the program refuses too
# (but a sign, blanks and more than 64 bits, which strtoull takes quietly).
check_seeds() {
	for s in 0 010 0XfF 12345 18446744073709551615 0xffffffffffffffff 01777777777777777777777 \
		0000000000000000000000000001; do
		want=$("$fake" -s "$s" -p default 2>&1 | sed -n 's/^# seed \(0x[0-9a-f]*\),.*/\1/p')
		[ -n "$want" ] || fail "the program refuses the seed $s"
		run --seed "$s" fake_verdicts.default
		expect_status 0
		grep -q "^# seed $want," "$res/fake_verdicts.default.log" ||
			fail "--seed $s: the program did not get $want"
	done
	for s in xx ff 0x 1x2 08 0x1g; do
		"$fake" -s "$s" -l >/dev/null 2>&1 && fail "the program takes '$s', the runner refuses it"
	done
	:
}

check_list_files() {
	bad "--known-issues '$work/known-isues': no such file" --known-issues "$work/known-isues"
	bad "--exclude '$work/exclud': no such file" --exclude "$work/exclud"
	bad "--exclude '$work': a directory, not a file" --exclude "$work"
	(export TW_EXCLUDE="$work/nothing"; bad "TW_EXCLUDE '$work/nothing': no such file") || exit 1
	(export TW_KNOWN_ISSUES="$work/nothing"; bad "TW_KNOWN_ISSUES '$work/nothing': no such file") ||
		exit 1
	printf 'fake_verdicts.coop  # not today\n' >"$work/exclude"
	run --exclude "$work/exclude"
	expect 0 '^fake_verdicts\.coop +skip .*excluded: not today$'
}

# as_other CMD...: CMD as another user than the owner of $work (uid 65534
# through guest/runas when we are root), output in $work/out, status in $rc.
as_other() {
	if [ "$(id -u)" = 0 ]; then
		env PATH="$runner_path" "$top/guest/runas" 65534 65534 "$(command -v env)" "$@" \
			>"$work/out" 2>&1 </dev/null
	else
		env PATH="$runner_path" "$@" >"$work/out" 2>&1 </dev/null
	fi
	rc=$?
}

# The results of a run with sudo are root's: the next run says so in one
# line, exit 2 (128 with --bisect), and runs nothing.
check_unwritable_results() {
	if [ "$(id -u)" = 0 ]; then
		[ -x "$top/guest/runas" ] || { say "guest/runas not built"; exit 77; }
		chmod 755 "$work"
		"$top/guest/runas" 65534 65534 /bin/sh -c "test -r '$top/runtests.sh'" ||
			{ say "uid 65534 cannot read $top"; exit 77; }
	fi
	mkdir -p "$work/theirs/results/9.9.9" "$work/theirs/dir"
	echo '{}' >"$work/theirs/dir/results.json"
	[ "$(id -u)" = 0 ] || chmod 555 "$work/theirs/results/9.9.9" "$work/theirs/dir"
	for how in "--results-dir $work/theirs/dir" "" "--bisect"; do
		as_other TW_TESTDIR="$work/tests" TW_KNOWN_ISSUES=/dev/null TW_EXCLUDE=/dev/null \
			TW_RESULTS="$work/theirs/results" TW_KERNEL_RELEASE=9.9.9 $runner_sh \
			"$top/runtests.sh" $how
		case $how in
		--bisect) expect_status 128 ;;
		*) expect_status 2 ;;
		esac
		expect_line '^runtests\.sh: cannot write the results: .*(belongs to .*an earlier run with sudo|may not write)'
		[ "$(grep -c . "$work/out")" = 1 ] || fail "not one line"
	done
	[ "$(ls "$work/theirs/results/9.9.9")" = "" ] || fail "something was written"
}

# No --results-dir: each run its own results/<release>/<time>/, latest the
# newest, an earlier run untouched; make distclean keeps them.
check_results_kept() {
	export TW_RESULTS="$work/results" TW_KERNEL_RELEASE=9.9.9
	for i in 1 2; do
		env PATH="$runner_path" TW_TESTDIR="$work/tests" TW_KNOWN_ISSUES=/dev/null \
			TW_EXCLUDE=/dev/null $runner_sh "$top/runtests.sh" >"$work/out.$i" 2>&1 </dev/null ||
			fail "run $i failed: $(cat "$work/out.$i")"
	done
	expect_two_runs "$work/results/9.9.9" results.json
	expect_line "^2 cases: 2 pass \\(results in $run1\\)$" "$work/out.1"
	expect_line "^2 cases: 2 pass \\(results in $run2\\)$" "$work/out.2"
	# --results-dir DIR is used as it is: an earlier run there is replaced, said so.
	run
	env PATH="$runner_path" TW_TESTDIR="$work/tests" TW_KNOWN_ISSUES=/dev/null TW_EXCLUDE=/dev/null \
		$runner_sh "$top/runtests.sh" --results-dir "$res" fake_verdicts.coop >"$work/out" 2>&1 </dev/null
	rc=$?
	expect 0 "^replacing the earlier run in $res$"
	[ ! -f "$res/fake_verdicts.log" ] || fail "the earlier run's files are still there"
	make -n -C "$top" distclean >"$work/out" 2>&1 || fail "make -n distclean failed"
	no_line '^[[:space:]]*rm .*results'
}

# --check-args: the runner's checks, nothing run; vm-run uses it on the
# host before it builds or boots anything.
check_check_args() {
	run --check-args --seed 0x5 fake_verdicts.coop
	expect_status 0
	[ ! -s "$work/out" ] || fail "--check-args printed something"
	[ ! -e "$res" ] || fail "--check-args made a results directory"
	run --check-args fake_verdicts.cop
	expect 2 "has no case 'fake_verdicts\.cop'"
	printf 'fake_verdicts.coop  7.2\n' >"$work/known-issues"
	run --check-args --known-issues "$work/known-issues"
	expect 2 "entries the runner cannot read"
	# Before a build: a program is known by its source.
	mkdir "$work/src"
	ln -s "$fake" "$work/src/fake_verdicts.t"
	: >"$work/src/unbuilt.c"
	export TW_TESTDIR="$work/src"
	run --check-args unbuilt.defer
	expect_status 0
	run unbuilt
	expect 2 "no test 'unbuilt'"
	unset TW_TESTDIR
	# vm-run, and runtests.sh --kernel: a typo is one line, before the
	# build (TW_QEMU missing would stop a run that got past the check).
	for cmd in "$top/guest/vm-run $work/bzImage --" "$top/runtests.sh --kernel $work/bzImage"; do
		env TW_QEMU="$work/no-qemu" TW_VM_BUILD_DIR="$work/build" $cmd fanin_locl \
			>"$work/out" 2>&1 </dev/null
		rc=$?
		expect 2 "^runtests\.sh: no test 'fanin_locl' "
		env TW_QEMU="$work/no-qemu" TW_VM_BUILD_DIR="$work/build" $cmd --repeat 0 --bisect \
			>"$work/out" 2>&1 </dev/null
		rc=$?
		expect 128 "bad --repeat '0'"
		env TW_QEMU="$work/no-qemu" TW_VM_BUILD_DIR="$work/build" $cmd --exclude "$work/nothing" \
			>"$work/out" 2>&1 </dev/null
		rc=$?
		expect 2 "--exclude '$work/nothing': no such file"
	done
	[ ! -e "$work/build" ] || fail "vm-run built before it checked the arguments"
}

# The progress line on stderr: [N/TOTAL] and the case running, redrawn
# each second and cleared at the end; none where stderr is no terminal,
# or with -v; on a terminal by itself (where script(1) makes one).
check_progress() {
	mkdir "$work/two"
	ln -s "$fake" "$work/two/fake_a.t"
	ln -s "$fake" "$work/two/fake_b.t"
	(
		export TW_PROGRESS=1 TW_TESTDIR="$work/two" TW_FAKE='fake_b.coop=block'
		run --timeout 3.5
		expect 1 '^fake_b\.coop +HANG '
		cp "$work/out" "$work/progress.out"
	) || exit 1
	cp "$work/progress.out" "$work/out"
	tr '\r' '\n' <"$work/out" >"$work/lines"
	esc=$(printf '\033')
	expect_line "^\\[1/2\\] fake_a 0s$esc\\[K" "$work/lines"
	expect_line "^\\[1/2\\] fake_a\\.coop 0s$esc\\[K" "$work/lines"
	expect_line "^\\[2/2\\] fake_b\\.coop 2s$esc\\[K" "$work/lines"
	expect_line "^$esc\\[K" "$work/lines"
	run
	expect_status 0
	! grep -q "$(printf '\r')" "$work/out" || fail "a progress line though stderr is a file"
	(export TW_PROGRESS=1; run -v; ! grep -q "$(printf '\r')" "$work/out") ||
		fail "a progress line with -v"
	command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1 </dev/null ||
		return 0
	script -qec "env PATH='$runner_path' TERM=xterm TW_TESTDIR='$work/tests' TW_KNOWN_ISSUES=/dev/null \
		TW_EXCLUDE=/dev/null $runner_sh '$top/runtests.sh' --results-dir '$res.tty'" /dev/null \
		>"$work/out" 2>&1 </dev/null
	grep -q "$(printf '\r')\\[1/1\\] fake_verdicts" "$work/out" || fail "no progress line on a terminal"
}

# ---- driver -----------------------------------------------------------------------

run_runner_checks "bad_values seeds list_files unwritable_results results_kept check_args progress"
