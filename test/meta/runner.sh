#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of runtests.sh's verdicts: every verdict it can give (pass,
# fail, skip, xfail, xpass, hang, crash, kernel splat, kernel taint), its
# timeout (SIGINT, then SIGKILL), a program dying mid-case, and the known
# issues (xfail, xpass, ~RANGE). The program under test is
# test/meta/fake_verdicts.t, whose cases do what $TW_FAKE says. Each check
# asserts the terminal line, the exit status and the TAP, JUnit and JSON
# entries, and that JSON and XML are well-formed. Prints TAP; exits 0 when
# every check passed. Its sibling test/meta/runner-options.sh checks the
# options, test/meta/kmsg.sh the kernel log beyond one case (between
# programs, teardown, overruns, patterns); they share test/meta/runner-lib.sh.
#
#   test/meta/runner.sh                the runner under sh
#   TW_SH="busybox sh" test/meta/runner.sh
#   TW_BUSYBOX=1 test/meta/runner.sh   busybox sh, and only busybox
#                                      applets on the runner's PATH
#   TW_CHECKS="fail xfail" test/meta/runner.sh   only these checks
# Needs `make` first (the fake program and runner/supervise).

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/runner-lib.sh
. "$top/test/meta/runner-lib.sh"

# ---- the checks ---------------------------------------------------------------

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
	# SIGINT ends the fake at once; a loaded machine may take longer
	# than the usual 0.5 s grace to run its handler.
	export TW_KILL_GRACE=5
	# Started with SIGINT ignored (nohup, a script's background job): the
	# supervisor must still stop the program with it.
	trap '' INT
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
# before it - never against the one after.) A canned log, never the real
# /dev/kmsg: a record written there reaches every concurrent root run.
check_kernel_splat() {
	: >"$work/kmsg"
	export TW_KMSG_FILE="$work/kmsg" TW_FAKE='*.default=splat'
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
	expect_tap '^not ok 2 - fake_verdicts\.coop$'
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

# A regression test's failing case carries its fix after the time: the time
# is still read (it was 0.00 when the line did not end in " s").
check_fix_hint_time() {
	cat >"$work/fix.log" <<'EOF'
# case regress_x.default: normal task_work
# regress_x.default: fail in 0.82 s: may be missing fix 0123456789ab ("io_uring: x")
not ok 1 regress_x.default # FAIL lost wake-up; may be missing fix 0123456789ab ("io_uring: x")
EOF
	awk -f "$top/runner/tap.awk" "$work/fix.log" >"$work/out" 2>&1 || fail "tap.awk failed"
	expect_line "^result	regress_x\\.default	fail	0\\.82	lost wake-up; may be missing"
}

# ---- driver -----------------------------------------------------------------------

run_runner_checks "pass fail skip hang_in_case hang_watchdog timeout_sigint timeout_sigkill crash
	program_crash kernel_splat taint xfail xpass sometimes fix_hint_time"
