#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of runtests.sh --stop-at-first-failure (-x): the run ends at
# the first fail, hang, crash or xpass, that case reported in full (its
# line, diagnostics, log; its TAP, JUnit and JSON entries), every case
# after it a skip "not run: stopped at the first failure (CASE)" in all
# three reports, exit status 1; an xfail does not stop it, an xpass does;
# within a program too (the harness's -x); the default run in the order
# of test/order (the cheap, sharp programs first); no wait for io_uring
# teardown at the end of a run that stopped. The programs under test are
# three copies of test/meta/fake_verdicts.t (aa, bb, cc: a fake program is
# named after its link), whose cases do what $TW_FAKE says; the runner
# meta tests' helpers are test/meta/runner-lib.sh's.
#
#   test/meta/runner-stop.sh           the runner under sh
#   TW_BUSYBOX=1 test/meta/runner-stop.sh   busybox sh, only busybox applets
#   TW_CHECKS="xfail_goes_on" test/meta/runner-stop.sh   only these checks
# Needs `make` first (the fake program and runner/supervise).

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/runner-lib.sh
. "$top/test/meta/runner-lib.sh"

rm "$work/tests/fake_verdicts.t"
for p in aa bb cc; do
	ln -s "$fake" "$work/tests/$p.t"
done
notrun='not run: stopped at the first failure'

# listed_issue CASE: test/known-issues lists the fake failure of CASE on
# every kernel.
listed_issue() {
	printf '%s  *  -  FAIL:/^fake failure: expected /  io_uring: fix the fake bug\n' "$1" \
		>"$work/known-issues"
	export TW_KNOWN_ISSUES="$work/known-issues"
}

# not_run CASE STOPPED: CASE is a skip "not run: ... (STOPPED)" in the
# three reports.
not_run() {
	expect_json "$1" skip "\"reason\": \"$notrun ($2)\""
	expect_tap "^ok [0-9]+ - $1 # SKIP $notrun \\($2\\)$"
	expect_junit "$1" skipped
}

# ---- the checks ---------------------------------------------------------------

# Without the option every case runs, whatever fails.
check_full_run() {
	export TW_FAKE='bb.default=fail'
	run
	expect_status 1
	expect_line '^bb\.coop +pass '
	expect_line '^cc\.coop +pass '
	expect_line '^6 cases: 5 pass, 1 fail \('
	grep -qF '"stop_at_first_failure": false' "$res/results.json" || fail "results.json: option not false"
	grep -qF '"stopped_at": null' "$res/results.json" || fail "results.json: stopped_at not null"
}

# A failure mid-program: the rest of that program (the harness's -x) and
# every later program are not run; the failing case's report is whole.
check_stops() {
	export TW_FAKE='bb.default=fail'
	run --stop-at-first-failure
	expect_status 1
	expect_line '^aa\.default +pass '
	expect_line '^aa\.coop +pass '
	expect_line '^bb\.default +FAIL +[0-9.]+s  fake failure: expected "1" <one> & seen 2 \\ done$'
	expect_line '^    # FAIL bb\.default \[default\]: fake failure'
	expect_line '^    # reproduce: .*bb\.t -s 0x[0-9a-f]+ -p default$'
	expect_line '^    log: .*/bb\.log$'
	expect_line "^bb\\.coop +skip +[0-9.]+s  $notrun \\(bb\\.default\\)$"
	expect_line '^stopped at the first failure, bb\.default: 3 cases not run$'
	expect_line '^6 cases: 2 pass, 1 fail, 3 skip; 3 not run after the first failure \('
	no_line '^cc\.'
	grep -q '^# case bb\.coop' "$res/bb.log" && fail "bb.coop ran"
	[ -e "$res/cc.log" ] && fail "cc ran"
	valid_reports
	expect_json bb.default fail '"log": "bb.log", "kmsg": "bb.kmsg"'
	expect_tap '^not ok 3 - bb\.default$'
	expect_tap '^  reason: "fake failure: expected '
	expect_junit bb.default failure
	grep -q 'FAIL bb.default \[default\]: fake failure' "$res/results.xml" ||
		fail "results.xml: the failure lacks the case's log"
	for c in bb.coop cc.default cc.coop; do
		not_run "$c" bb.default
	done
	expect_tap '^1\.\.6$'
	expect_tap '^# stopped at the first failure, bb\.default '
	grep -qF '"stop_at_first_failure": true' "$res/results.json" || fail "results.json: option not true"
	grep -qF '"stopped_at": "bb.default"' "$res/results.json" || fail "results.json: no stopped_at"
	grep -qF '"complete": true' "$res/results.json" || fail "results.json: not complete"
	grep -qF '<property name="stopped_at" value="bb.default"/>' "$res/results.xml" ||
		fail "results.xml: no stopped_at property"
	[ "$(prove_says)" != pass ] || fail "prove passed a run that failed"
}

# A hang and a crash stop it as a failure does; so does -x.
check_hang_crash() {
	for b in hang crash; do
		export TW_FAKE="aa.coop=$b"
		run -x
		expect_status 1
		expect_line "^aa\\.coop +$(say "$b" | tr a-z A-Z) "
		expect_line '^stopped at the first failure, aa\.coop: 4 cases not run$'
		not_run bb.default aa.coop
		not_run cc.coop aa.coop
	done
}

# A known issue's failure (xfail) does not stop the run, a later
# failure of the same program does.
check_xfail_goes_on() {
	listed_issue bb.default
	export TW_FAKE='bb.*=fail'
	run --stop-at-first-failure
	expect_status 1
	expect_line '^bb\.default +xfail '
	expect_line '^bb\.coop +FAIL '
	expect_line '^stopped at the first failure, bb\.coop: 2 cases not run$'
	not_run cc.default bb.coop
	export TW_FAKE='bb.default=fail'
	run --stop-at-first-failure
	expect_status 0
	expect_line '^bb\.default +xfail '
	expect_line '^cc\.coop +pass '
	no_line '^stopped at'
	grep -qF '"stopped_at": null' "$res/results.json" || fail "results.json: stopped_at not null"
}

# An xpass (a known issue that passed) stops the run.
check_xpass_stops() {
	listed_issue aa.coop
	run -x
	expect_status 1
	expect_line '^aa\.coop +XPASS '
	expect_line '^stopped at the first failure, aa\.coop: 4 cases not run$'
	not_run bb.default aa.coop
}

# --repeat: the iterations after the failure are not run either; --bisect:
# exit status 1 (bad).
check_repeat_bisect() {
	export TW_FAKE='aa.coop=fail'
	run -x --repeat 2 aa cc
	expect_status 1
	expect_line '^stopped at the first failure, aa\.coop#1: 6 cases not run$'
	expect_json cc.default skip "$notrun (aa.coop#1)"
	grep -q '"name": "aa.default".*"iteration": 2' "$res/results.json" ||
		fail "results.json: no not-run aa.default of iteration 2"
	run -x --bisect
	expect_status 1
	expect_line '^stopped at the first failure, aa\.coop: 4 cases not run$'
	run --stop-at-first-failure=yes
	expect_status 2
}

# The default run goes in the order of the test directory's order file
# (test/order), the programs it does not list after them, in name order;
# NAMEs keep their own order.
check_default_order() {
	printf '# the order\ncc  # cheap\n\nnosuch\n  # indented\naa\n' >"$work/tests/order"
	export TW_FAKE='aa.coop=fail'
	run -x
	rm -f "$work/tests/order"
	expect_status 1
	sed -n 's/^    {"name": "\([^"]*\)".*/\1/p' "$res/results.json" | tr '\n' ' ' >"$work/order.seen"
	[ "$(cat "$work/order.seen")" = "cc.default cc.coop aa.default aa.coop bb.default bb.coop " ] ||
		fail "default order: $(cat "$work/order.seen")"
	not_run bb.coop aa.coop
	expect_tap '^ok 1 - cc\.default$'
	run bb aa
	sed -n 's/^    {"name": "\([^"]*\)".*/\1/p' "$res/results.json" | tr '\n' ' ' >"$work/order.seen"
	[ "$(cat "$work/order.seen")" = "bb.default bb.coop aa.default aa.coop " ] ||
		fail "NAMEs' order: $(cat "$work/order.seen")"
}

# After a stop the run does not wait for io_uring teardown to settle at its
# end (a kernel that broke teardown never settles); after the failing
# program it still does. A fake kworker in a teardown (TW_PROC_DIR) never
# settles.
check_no_end_settle() {
	mkdir -p "$work/proc/4242" "$work/sys"
	echo 'kworker/u8:1+iou_exit' >"$work/proc/4242/comm"
	echo 0 >"$work/sys/tainted"
	export TW_PROC_DIR="$work/proc" TW_SYSCTL_DIR="$work/sys" TW_SETTLE_SECONDS=0.5
	export TW_FAKE='aa.coop=fail'
	run -x
	expect_status 1
	expect_line '^runtests\.sh: after aa: io_uring teardown not settled after 0\.5 s'
	no_line 'at the end of the run: io_uring teardown not settled'
	run aa
	expect_status 1
	expect_line 'at the end of the run: io_uring teardown not settled after 0\.5 s'
}

# ---- driver -----------------------------------------------------------------------

run_runner_checks "full_run stops hang_crash xfail_goes_on xpass_stops repeat_bisect default_order
	no_end_settle"
