# SPDX-License-Identifier: MIT
#
# What the runner's meta tests (test/meta/runner.sh: the verdicts;
# test/meta/runner-judge.sh: a program's end, known issues, TAP and JUnit
# consumers; test/meta/runner-options.sh: the options and the selection;
# test/meta/runner-stop.sh: --stop-at-first-failure;
# test/meta/runner-inputs.sh: bad input, results directories, progress) share:
# sourced, not run, right after they set $top. It brings test/meta/lib.sh
# (fail, expect_status, expect_line, no_line, run_checks, ...), a scratch
# directory $work with a test directory of one fake program, and:
#   run [ARGS...]        runtests.sh on the fake programs (below)
#   expect_json NAME RESULT [TEXT], expect_tap ERE, expect_junit NAME ELEMENT,
#   valid_reports        what the three reports of the last run hold
#   prove_says           what perl's prove makes of its results.tap
#   known_issue_file RANGE RELEASE [KINDS:/ERE/]   a known issue for
#                        fake_verdicts.coop
#   run_runner_checks LIST           the driver: the checks of LIST (or
#                        $TW_CHECKS), or a skip when nothing is built
#
# The program under test is test/meta/fake_verdicts.t, whose cases do what
# $TW_FAKE says. The runner runs under $TW_SH (default sh), or with
# TW_BUSYBOX=1 under busybox sh with only busybox applets on its PATH.

# shellcheck disable=SC2086 # $runner_sh is a command with arguments
# In a --sanitize build, ASan would turn the fake programs' SIGSEGV into an
# exit status of its own; the meta tests need the real signal.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:handle_abort=0
export ASAN_OPTIONS

# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
fake=$top/test/meta/fake_verdicts.t
# A command, may be two words ("busybox sh"): expanded unquoted on purpose.
runner_sh=${TW_SH:-sh}
xmllint=$(command -v xmllint || true)
runner_path=$PATH

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
# by the check (exported) pass through. The kernel log is a canned one
# ($TW_KMSG_FILE, default an empty $work/kmsg.run): a meta test never
# writes the real /dev/kmsg, whose records reach every concurrent root run.
res=$work/res
run() {
	rm -rf "$res"
	[ -n "${TW_KMSG_FILE:-}" ] || : >"$work/kmsg.run"
	env PATH="$runner_path" TW_TESTDIR="${TW_TESTDIR:-$work/tests}" TW_KILL_GRACE="${TW_KILL_GRACE:-0.5}" \
		TW_KMSG_FILE="${TW_KMSG_FILE:-$work/kmsg.run}" \
		TW_KILL_WAIT=5 TW_HANG_SECONDS="${TW_HANG_SECONDS:-0.3}" \
		TW_KNOWN_ISSUES="${TW_KNOWN_ISSUES:-/dev/null}" TW_EXCLUDE="${TW_EXCLUDE:-/dev/null}" \
		$runner_sh "$top/runtests.sh" --results-dir "$res" "$@" >"$work/out" 2>&1 </dev/null
	rc=$?
}

# ---- what the reports say ----------------------------------------------------

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

# expect_junit NAME ELEMENT: the testcase (PROGRAM.PROFILE: classname the
# program, name the profile) holds a <failure>, <error> or <skipped>
# (ELEMENT), or nothing ("pass").
expect_junit() {
	body=$(awk -v n="classname=\"${1%%.*}\" name=\"${1#*.}\"" '
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

# Well-formed reports: python3 (valid_json) and xmllint where present, else
# the basics.
valid_reports() {
	for f in results.json results.xml results.tap; do
		[ -s "$res/$f" ] || fail "no $f"
	done
	valid_json "$res/results.json"
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

# prove_says: perl's prove (TAP::Harness, as CI uses it) on results.tap:
# "pass", "fail", or "none" without perl's prove.
prove_says() {
	if ! command -v prove >/dev/null 2>&1; then
		say none
	elif prove --norc -e cat "$res/results.tap" >"$work/prove.out" 2>&1; then
		say pass
	else
		say fail
	fi
}

# known_issue_file RANGE RELEASE [KINDS:/ERE/]: test/known-issues lists
# fake_verdicts.coop as a bug of the kernels in RANGE, whose failure is the
# fake failure (or KINDS:/ERE/), and the kernel is RELEASE.
known_issue_file() {
	printf '# test\nfake_verdicts.coop  %s  0123456789ab  %s  io_uring: fix the fake bug\n' "$1" \
		"${3:-FAIL:/^fake failure: expected /}" >"$work/known-issues"
	export TW_KNOWN_ISSUES="$work/known-issues" TW_KERNEL_RELEASE="$2"
}

# ---- driver -----------------------------------------------------------------------

# run_runner_checks "CHECK...": each check_CHECK (or those of $TW_CHECKS)
# as TAP; a skip of them all when the fake program or the supervisor is
# not built.
run_runner_checks() {
	if [ ! -x "$fake" ] || [ ! -x "$top/runner/supervise" ]; then
		say "1..0 # SKIP not built: run make"
		exit 0
	fi
	checks_note="runtests.sh under '$runner_sh'${TW_BUSYBOX:+ with only busybox on its PATH}"
	# shellcheck disable=SC2086 # the list is words
	run_checks ${TW_CHECKS:-$1}
}
