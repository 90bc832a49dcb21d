#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of runtests.sh: every verdict it can give (pass, fail, skip,
# xfail, xpass, hang, crash, kernel splat, kernel taint), its timeout
# (SIGINT, then SIGKILL), a program dying mid-case, exclusions, known-issue
# kernel ranges, --repeat, single cases, --bisect, io_uring_disabled, Ctrl-C
# and usage errors. The program under test is test/meta/fake_verdicts.t, whose
# cases do what $TW_FAKE says. Each check asserts the terminal line, the exit
# status and the TAP, JUnit and JSON entries, and that JSON and XML are
# well-formed. Prints TAP; exits 0 when every check passed.
#
#   test/meta/runner.sh                the runner under sh
#   TW_SH="busybox sh" test/meta/runner.sh
#   TW_BUSYBOX=1 test/meta/runner.sh   busybox sh, and only busybox
#                                             applets on the runner's PATH
#   TW_CHECKS="fail xfail" scripts/...        only these checks
# Needs `make` first (the fake program and runner/supervise).

# shellcheck disable=SC2086 # $runner_sh is a command with arguments
set -u
# In a --sanitize build, ASan would turn the fake programs' SIGSEGV into an
# exit status of its own; the meta tests need the real signal.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:handle_abort=0
export ASAN_OPTIONS

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
fake=$top/test/meta/fake_verdicts.t
# A command, may be two words ("busybox sh"): expanded unquoted on purpose.
runner_sh=${TW_SH:-sh}
python=$(command -v python3 || true)
xmllint=$(command -v xmllint || true)
runner_path=$PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/runner-selftest.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/tests" "$work/sys"
ln -s "$fake" "$work/tests/fake_verdicts.t"

if [ "${TW_BUSYBOX:-0}" = 1 ]; then
	# Only what a minimal guest has: busybox applets, nothing from GNU.
	mkdir "$work/bin"
	for applet in $(busybox --list); do
		ln -s "$(command -v busybox)" "$work/bin/$applet"
	done
	runner_sh="busybox sh"
	runner_path=$work/bin
fi

# ---- running the runner -------------------------------------------------------

# run [ARGS...]: the runner on the fake test dir, with fresh results in
# $res, its terminal output in $work/out and its status in $rc. TW_* set
# by the check (exported) pass through.
res=$work/res
run() {
	rm -rf "$res"
	env PATH="$runner_path" TW_TESTDIR="${TW_TESTDIR:-$work/tests}" TW_KILL_GRACE=0.5 \
		TW_KILL_WAIT=5 TW_HANG_SECONDS="${TW_HANG_SECONDS:-0.3}" \
		TW_KNOWN_ISSUES="${TW_KNOWN_ISSUES:-/dev/null}" TW_EXCLUDE="${TW_EXCLUDE:-/dev/null}" \
		$runner_sh "$top/runtests.sh" --results-dir "$res" "$@" >"$work/out" 2>&1 </dev/null
	rc=$?
}




# expect_json NAME RESULT [TEXT]: the entry of NAME has this result (and TEXT
# somewhere in it). The writer puts each test on one line.
expect_json() {
	entry=$(grep -F "{\"name\": \"$1\"," "$res/results.json") ||
		fail "results.json: no entry for $1"
	case $entry in
	*"\"result\": \"$2\""*) ;;
	*) fail "results.json: $1 is not $2: $entry" ;;
	esac
	case $entry in
	*"${3:-}"*) ;;
	*) fail "results.json: $1 lacks '$3': $entry" ;;
	esac
}

# expect_tap LINE-ERE: results.tap has a matching test point.
expect_tap() {
	grep -Eq -- "$1" "$res/results.tap" || {
		sed 's/^/  tap| /' "$res/results.tap"
		fail "results.tap: no line matching: $1"
	}
}

# expect_junit NAME ELEMENT: the testcase holds a <failure>, <error> or
# <skipped> (ELEMENT), or nothing ("pass").
expect_junit() {
	body=$(awk -v n="name=\"$1\"" '
		index($0, "<testcase ") && index($0, n) { on = 1 }
		on { print }
		on && (/<\/testcase>/ || /\/>$/) { exit }' "$res/results.xml")
	[ -n "$body" ] || fail "results.xml: no testcase $1"
	case $2:$body in
	pass:*'<failure'* | pass:*'<error'* | pass:*'<skipped'*)
		fail "results.xml: $1 should have passed: $body" ;;
	pass:*) ;;
	*"<$2 "*) ;;
	*) fail "results.xml: $1 has no <$2>: $body" ;;
	esac
}

# Well-formed reports: python3 and xmllint where present, else the basics.
valid_reports() {
	for f in results.json results.xml results.tap; do
		[ -s "$res/$f" ] || fail "no $f"
	done
	if [ -n "$python" ]; then
		"$python" -m json.tool "$res/results.json" >/dev/null 2>"$work/err" ||
			fail "results.json is not JSON: $(cat "$work/err")"
	else
		if ! head -n 1 "$res/results.json" | grep -qx '{' ||
			! tail -n 1 "$res/results.json" | grep -qx '}'; then
			fail "results.json is not one object"
		fi
	fi
	if [ -n "$xmllint" ]; then
		"$xmllint" --noout "$res/results.xml" 2>"$work/err" ||
			fail "results.xml is not XML: $(cat "$work/err")"
	else
		tail -n 1 "$res/results.xml" | grep -qx '</testsuites>' || fail "results.xml is cut short"
	fi
	for key in '"schema": 1' '"kernel": ' '"seed": ' '"tests": ['; do
		grep -qF "$key" "$res/results.json" || fail "results.json lacks $key"
	done
	head -n 1 "$res/results.tap" | grep -qx 'TAP version 13' || fail "results.tap: no TAP 13 header"
}

# ---- the checks ---------------------------------------------------------------

check_usage_errors() {
	for args in --bogus '--repeat 0' '--timeout x' '--seed zz' no_such_test fake_verdicts.nosuch \
		'--duration'; do
		# shellcheck disable=SC2086
		run $args
		expect_status 2
	done
	run --bisect --bogus
	expect_status 128	# git bisect run stops instead of calling it bad
	run --help
	expect_status 0
	expect_line '^usage: '
}

check_list() {
	printf 'fake_verdicts.coop  # not today\n' >"$work/exclude"
	export TW_EXCLUDE="$work/exclude"
	run --list
	expect_status 0
	expect_line '^fake_verdicts\.default$'
	expect_line '^fake_verdicts\.coop  \(excluded: not today\)$'
}

check_pass() {
	run --seed 0x1234 --duration 0
	expect_status 0
	expect_line '^fake_verdicts\.default +pass +[0-9.]+s$'
	expect_line '^fake_verdicts\.coop +pass +[0-9.]+s$'
	expect_line '^2 cases: 2 pass'
	valid_reports
	expect_json fake_verdicts.default pass '"program": "fake_verdicts", "profile": "default"'
	expect_json fake_verdicts.coop pass
	grep -qF '"seed": "0x1234"' "$res/results.json" || fail "seed not in results.json"
	grep -qF '"complete": true' "$res/results.json" || fail "run not complete"
	expect_tap '^ok 1 - fake_verdicts\.default$'
	expect_junit fake_verdicts.coop pass
	grep -q 'seed 0x0000000000001234, duration 0.00 s' "$res/fake_verdicts.log" ||
		fail "--seed and --duration did not reach the program"
	[ -f "$res/fake_verdicts.kmsg" ] || fail "no kernel log excerpt"
}

check_fail() {
	export TW_FAKE='*.coop=fail'
	run
	expect_status 1
	expect_line '^fake_verdicts\.default +pass '
	expect_line '^fake_verdicts\.coop +FAIL +[0-9.]+s  fake failure: expected "1" <one> & seen 2 \\ done$'
	expect_line '^    # FAIL fake_verdicts\.coop \[coop\]: fake failure'
	expect_line '^    # reproduce: .*-p coop$'
	expect_line '^    log: .*/fake_verdicts\.log$'
	valid_reports
	expect_json fake_verdicts.coop fail '"reason": "fake failure: expected \"1\" <one> & seen 2 \\ done"'
	expect_tap '^not ok 2 - fake_verdicts\.coop$'
	expect_junit fake_verdicts.coop failure
	grep -qF 'message="fake failure: expected &quot;1&quot; &lt;one&gt; &amp; seen 2' "$res/results.xml" ||
		fail "results.xml: the failure message is not escaped"
}

check_skip() {
	export TW_FAKE=skip
	run
	expect_status 0
	expect_line '^fake_verdicts\.coop +skip +[0-9.]+s  fake skip: the kernel lacks "it"$'
	valid_reports
	expect_json fake_verdicts.default skip 'the kernel lacks \"it\"'
	expect_tap '^ok 1 - fake_verdicts\.default # SKIP fake skip'
	expect_junit fake_verdicts.default skipped
}

check_hang_in_case() {
	export TW_FAKE='*.default=hang'
	run
	expect_status 1
	expect_line '^fake_verdicts\.default +HANG +[0-9.]+s  fake: waited for an event nobody sets$'
	expect_line '^    # HANG fake_verdicts\.default \[default\]: '
	expect_line '^fake_verdicts\.coop +pass '
	valid_reports
	expect_json fake_verdicts.default hang
	expect_tap '^not ok 1 - fake_verdicts\.default$'
	expect_junit fake_verdicts.default error
}

# A case blocked in a syscall: only the harness's watchdog ends it (its
# deadline is 3 x the hang time + 10 s, the slow check here).
check_hang_watchdog() {
	export TW_FAKE='*.coop=stuck' TW_HANG_SECONDS=0.1
	run --duration 0 fake_verdicts.coop
	expect_status 1
	expect_line '^fake_verdicts\.coop +HANG +[0-9.]+s  no verdict within [0-9.]+ s; watchdog killed it'
	expect_line '^    # HANG fake_verdicts\.coop: case did not finish'
	valid_reports
	expect_json fake_verdicts.coop hang
}

# The whole program stops: the runner's timeout, SIGINT ends it.
check_timeout_sigint() {
	export TW_FAKE='*.default=block'
	run --timeout 0.5
	expect_status 1
	expect_line '^fake_verdicts\.default +HANG +[0-9.]+s  no result: the program timed out after 0.5 s \(stopped by SIGINT\)$'
	expect_line '^    # supervise: timeout: still running after 0.5 s'
	expect_line '^    # supervise: SIGINT to process group'
	no_line 'SIGKILL'
	expect_line '^fake_verdicts\.coop +FAIL +0\.00s  not run: the program timed out .* during fake_verdicts\.default$'
	valid_reports
	expect_json fake_verdicts.default hang
	expect_json fake_verdicts.coop fail 'not run:'
	expect_junit fake_verdicts.default error
	grep -q '^# supervise:   process .* wchan ' "$res/fake_verdicts.log" ||
		fail "the log does not show the tasks at the timeout"
}

# The program ignores SIGINT: SIGKILL after the grace time.
check_timeout_sigkill() {
	export TW_FAKE='*.default=block_noint'
	run --timeout 0.5
	expect_status 1
	expect_line '^fake_verdicts\.default +HANG .*\(stopped by SIGKILL\)$'
	expect_line '^    # supervise: still running 0.5 s after SIGINT: SIGKILL to process group'
	valid_reports
	expect_json fake_verdicts.default hang 'stopped by SIGKILL'
}

check_crash() {
	export TW_FAKE='*.default=crash'
	run
	expect_status 1
	expect_line '^fake_verdicts\.default +CRASH +[0-9.]+s  killed by signal 11'
	expect_line '^fake_verdicts\.coop +pass '
	valid_reports
	expect_json fake_verdicts.default crash
	expect_junit fake_verdicts.default error
}

# The test program itself dies mid-case: that case crashed, the rest never ran.
check_program_crash() {
	export TW_FAKE='*.default=kill_program'
	run
	expect_status 1
	expect_line '^fake_verdicts\.default +CRASH +[0-9.]+s  no result: the program was killed by SIGSEGV during this case$'
	expect_line '^fake_verdicts\.coop +FAIL +0\.00s  not run: the program was killed by SIGSEGV during fake_verdicts\.default$'
	valid_reports
	expect_json fake_verdicts.default crash
	expect_json fake_verdicts.coop fail
}

# A kernel WARNING during a case fails that case, and not the next one.
# (The first case: the runner marks the log when it reads a "# case" line,
# so what a case does in its first microseconds may count against the case
# before it - never against the one after.)
check_kernel_splat() {
	if [ "$(id -u)" != 0 ] || [ ! -w /dev/kmsg ]; then
		say "needs root: writes a fake WARNING to /dev/kmsg"
		exit 77
	fi
	export TW_FAKE='*.default=splat'
	run
	expect_status 1
	expect_line '^fake_verdicts\.default +FAIL +[0-9.]+s  kernel: WARNING: CPU: 0 PID: 1 at fake/selftest\.c:1 '
	expect_line '^    kernel: \[ *[0-9.]+\] WARNING: CPU: 0 PID: 1 at fake/selftest\.c:1'
	expect_line '^fake_verdicts\.coop +pass '
	valid_reports
	expect_json fake_verdicts.default fail 'kernel: WARNING: CPU: 0 PID: 1 at fake/selftest.c:1'
	expect_junit fake_verdicts.default failure
	grep -q '<system-err>.*WARNING: CPU: 0 PID: 1 at fake/selftest.c:1' "$res/results.xml" ||
		fail "results.xml: no kernel log in the failing case"
	grep -q 'WARNING: CPU: 0 PID: 1 at fake/selftest.c:1' "$res/fake_verdicts.kmsg" ||
		fail "the kernel log excerpt lacks the WARNING"
	grep -q '^# case fake_verdicts.coop taint ' "$res/fake_verdicts.kmsg" ||
		fail "the kernel log excerpt is not split per case"
}

# A taint bit set during a case fails it, and not the next one (a fake
# sysctl directory; the first case, as above).
check_taint() {
	echo 0 >"$work/sys/tainted"
	export TW_SYSCTL_DIR="$work/sys" TW_FAKE='*.default=taint'
	run
	expect_status 1
	expect_line '^fake_verdicts\.default +FAIL +[0-9.]+s  kernel tainted: W$'
	expect_line '^fake_verdicts\.coop +pass '
	valid_reports
	expect_json fake_verdicts.default fail 'kernel tainted: W'
	grep -q '^# case fake_verdicts.coop taint 0x200 new 0x0 -$' "$res/fake_verdicts.kmsg" ||
		fail "the taint is not sampled per case"
}

known_issue_file() {
	printf '# test\nfake_verdicts.coop  %s  0123456789ab  io_uring: fix the fake bug\n' "$1" \
		>"$work/known-issues"
	export TW_KNOWN_ISSUES="$work/known-issues" TW_KERNEL_RELEASE="$2"
}

check_xfail() {
	known_issue_file '<7.3' 7.2.5
	export TW_FAKE='*.coop=fail'
	run
	expect_status 0
	expect_line '^fake_verdicts\.coop +xfail +[0-9.]+s  known issue on <7.3, fixed by 0123456789ab \("io_uring: fix the fake bug"\); fake failure'
	valid_reports
	expect_json fake_verdicts.coop xfail '"known_issue": "known issue on <7.3, fixed by 0123456789ab'
	expect_tap '^not ok 2 - fake_verdicts\.coop # TODO known issue'
	expect_junit fake_verdicts.coop skipped
	# --bisect: a known bug is still a bug.
	run --bisect
	expect_status 1
	expect_line '^fake_verdicts\.coop +FAIL '
}

check_xpass() {
	known_issue_file '7.2.*' 7.2.5
	run
	expect_status 1
	expect_line '^fake_verdicts\.coop +XPASS +[0-9.]+s  passed, but listed as a known issue on 7\.2\.\*'
	valid_reports
	expect_json fake_verdicts.coop xpass
	expect_tap '^ok 2 - fake_verdicts\.coop # TODO passed'
	expect_junit fake_verdicts.coop failure
}

# ~RANGE, an intermittent bug: its failure is xfail, its pass stays pass.
check_sometimes() {
	known_issue_file '~7.2.*' 7.2.5
	run
	expect_status 0
	expect_line '^fake_verdicts\.coop +pass '
	export TW_FAKE='*.coop=fail'
	run
	expect_status 0
	expect_line '^fake_verdicts\.coop +xfail +[0-9.]+s  known issue on 7\.2\.\*, fixed by 0123456789ab'
	valid_reports
}

# Kernel ranges: RELEASE RANGE in-range?
check_kernel_ranges() {
	export TW_FAKE='*.coop=fail'
	while read -r release range want; do
		known_issue_file "$range" "$release"
		run fake_verdicts.coop
		if [ "$want" = yes ]; then
			expect_line '^fake_verdicts\.coop +xfail '
		else
			expect_line '^fake_verdicts\.coop +FAIL '
		fi
	done <<EOF
7.2.5 <7.3 yes
7.3.0 <7.3 no
7.3.0-rc1 <7.3 no
7.3.0-rc1 <7.3-rc4 yes
6.12.40 6.1-6.12 yes
6.13.0 6.1-6.12 no
6.0.9 6.1-6.12 no
7.2.5 7.2.* yes
7.3.1 7.2 no
6.18.44-fc-v782 >=6.10 yes
6.9.2 >=6.10 no
6.1.0-13-amd64 <=6.1 yes
6.12.117+deb13-cloud-amd64 6.12.* yes
7.3.4+deb13-cloud-amd64 <7.3 no
7.2.13+deb14-cloud-amd64 7.2 yes
6.2.0 >6.1 yes
6.1.99 >6.1 no
5.15.0 * yes
EOF
}

check_exclude() {
	printf '# why\nfake_verdicts.coop   # flaky "here" & there\n' >"$work/exclude"
	export TW_EXCLUDE="$work/exclude" TW_FAKE='*.coop=fail'
	run
	expect_status 0
	expect_line '^fake_verdicts\.coop +skip +0\.00s  excluded: flaky "here" & there$'
	expect_line '^fake_verdicts\.default +pass '
	valid_reports
	expect_json fake_verdicts.coop skip 'excluded: flaky \"here\" & there'
	! grep -q '^# case fake_verdicts.coop' "$res/fake_verdicts.log" || fail "the excluded case ran"
	printf 'fake_*  # the whole program\n' >"$work/exclude"
	run
	expect_status 0
	expect_line '^fake_verdicts\.default +skip .*excluded: the whole program$'
	[ ! -f "$res/fake_verdicts.log" ] || fail "the excluded program ran"
	# A kernel range: excluded on those kernels only.
	printf 'fake_verdicts.coop  7.2.*  # locks the machine up on 7.2\n' >"$work/exclude"
	TW_KERNEL_RELEASE=7.2.5 run
	expect_line '^fake_verdicts\.coop +skip +[0-9.]+s  excluded: locks the machine up on 7\.2$'
	TW_KERNEL_RELEASE=7.3.4 run
	expect_line '^fake_verdicts\.coop +FAIL '
}

check_repeat_and_single_case() {
	run --repeat 2 fake_verdicts.coop
	expect_status 0
	expect_line '^fake_verdicts\.coop#1 +pass '
	expect_line '^fake_verdicts\.coop#2 +pass '
	no_line '^fake_verdicts\.default'
	valid_reports
	grep -c '"name": "fake_verdicts.coop"' "$res/results.json" | grep -qx 2 ||
		fail "results.json: not two entries"
	grep -qF '"iteration": 2' "$res/results.json" || fail "results.json: no iteration 2"
	[ -f "$res/fake_verdicts.coop.r2.log" ] || fail "no log of the second run"
}

# Without NAMEs: every program of the test directory.
check_everything() {
	mkdir "$work/two"
	ln -s "$fake" "$work/two/fake_verdicts.t"
	ln -s "$fake" "$work/two/fake_other.t"
	export TW_TESTDIR="$work/two"
	run
	expect_status 0
	expect_line '^fake_other\.coop +pass '
	expect_line '^fake_verdicts\.default +pass '
	expect_line '^4 cases: 4 pass'
	valid_reports
}

check_bisect() {
	run --bisect
	expect_status 0
	export TW_FAKE='*.default=crash'
	run --bisect
	expect_status 1
	export TW_FAKE=skip
	run --bisect
	expect_status 125
}

check_io_uring_disabled() {
	echo 2 >"$work/sys/io_uring_disabled"
	export TW_SYSCTL_DIR="$work/sys"
	run
	expect_status 0
	expect_line '^fake_verdicts\.coop +skip +0\.00s  io_uring is disabled \(.*io_uring_disabled is 2\)$'
	[ ! -f "$res/fake_verdicts.log" ] || fail "ran with io_uring disabled"
	valid_reports
	echo 1 >"$work/sys/io_uring_disabled"
	echo -1 >"$work/sys/io_uring_group"
	run
	expect_status 0
	if [ "$(id -u)" = 0 ]; then
		expect_line '^fake_verdicts\.coop +pass '
	else
		expect_line '^fake_verdicts\.coop +skip .*io_uring is restricted to root and group -1'
	fi
}

check_verbose() {
	run -v fake_verdicts.coop
	expect_status 0
	expect_line '^TAP version 13$'
	expect_line '^ok 1 fake_verdicts\.coop$'
}

check_results_dir_safety() {
	rm -rf "$res"
	mkdir -p "$res"
	echo precious >"$res/notes.log"
	env PATH="$runner_path" TW_TESTDIR="$work/tests" $runner_sh "$top/runtests.sh" \
		--results-dir "$res" >"$work/out" 2>&1 </dev/null
	rc=$?
	expect_status 2
	[ -f "$res/notes.log" ] || fail "a foreign directory was cleaned"
}

# Ctrl-C (SIGTERM to the runner's process group here: a background job
# ignores SIGINT): the test is stopped, the reports are written, status 130.
check_interrupt() {
	command -v setsid >/dev/null || { say "no setsid"; exit 77; }
	export TW_FAKE='*.default=block'
	rm -rf "$res"
	env PATH="$runner_path" TW_TESTDIR="$work/tests" TW_KILL_GRACE=0.5 TW_KNOWN_ISSUES=/dev/null \
		TW_EXCLUDE=/dev/null setsid $runner_sh "$top/runtests.sh" --results-dir "$res" \
		--timeout 30 >"$work/out" 2>&1 </dev/null &
	pid=$!
	# The case is blocked once its line is in the log (polling: this is
	# the outside of the runner, with nothing to wait on).
	tries=0
	until grep -q '^# case fake_verdicts.default' "$res/fake_verdicts.log" 2>/dev/null; do
		tries=$((tries + 1))
		[ "$tries" -lt 200 ] || { kill -KILL "-$pid"; fail "the case never started"; }
		sleep 0.05
	done
	kill -TERM "-$pid"
	wait "$pid"
	rc=$?
	expect_status 130
	expect_line '^fake_verdicts\.default +skip .*interrupted'
	expect_line '^interrupted by SIGTERM$'
	valid_reports
	grep -qF '"complete": false' "$res/results.json" || fail "an interrupted run is complete"
}

# ---- driver -----------------------------------------------------------------------

if [ ! -x "$fake" ] || [ ! -x "$top/runner/supervise" ]; then
	say "1..0 # SKIP not built: run make"
	exit 0
fi

checks=${TW_CHECKS:-"usage_errors list pass fail skip hang_in_case hang_watchdog timeout_sigint
	timeout_sigkill crash program_crash kernel_splat taint xfail xpass sometimes kernel_ranges
	exclude repeat_and_single_case everything bisect io_uring_disabled verbose
	results_dir_safety interrupt"}
checks_note="runtests.sh under '$runner_sh'${TW_BUSYBOX:+ with only busybox on its PATH}"
# shellcheck disable=SC2086 # the list is words
run_checks $checks
