#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of what runtests.sh makes of a program's end and of the known
# issues, and of what a TAP or JUnit consumer sees (test/meta/runner.sh has
# the verdicts one by one):
#   - a program that printed every case's result and then hung, crashed or
#     left a process that cannot be killed fails its last case;
#   - a program that exits 2 before any case refused its arguments: a usage
#     error of the run (2; 128 with --bisect), never a FAIL;
#   - a known issue accounts only for the failure its entry expects (kinds
#     and reason): another kind, another reason, a kernel splat or a case
#     not run after a crash stays a failure; an entry the runner cannot read
#     is refused;
#   - results.tap: an xpass is "not ok", a repeated case's '#' is escaped
#     (perl's prove, where present, judges the file as a CI would); results.xml
#     names a case by its profile under its program. (An interrupted run's
#     "Bail out!": check_interrupt of test/meta/runner-options.sh.)
# The program under test is test/meta/fake_verdicts.t ($TW_FAKE: what its
# cases do; $TW_FAKE_EXIT: how it ends; $TW_FAKE_USAGE: it refuses its
# arguments). Prints TAP; exits 0 when every check passed.
#
#   test/meta/runner-judge.sh            TW_SH, TW_BUSYBOX, TW_CHECKS as for
#                                        test/meta/runner.sh
# Needs `make` first (the fake program and runner/supervise).

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/runner-lib.sh
. "$top/test/meta/runner-lib.sh"

# ---- how a program ended, after its last case -------------------------------------

# Every result printed, then the program hangs (its rings' teardown, say):
# the runner's timeout stops it, and its last case is a hang.
check_end_hang() {
	export TW_FAKE_EXIT=hang
	# SIGINT ends the fake at once; a loaded machine may take longer
	# than the usual 0.5 s grace to run its handler.
	export TW_KILL_GRACE=5
	# Started with SIGINT ignored (nohup, a script's background job): the
	# supervisor must still stop the program with it.
	trap '' INT
	run --duration 0 --timeout 2
	expect_status 1
	expect_line '^fake_verdicts\.default +pass '
	expect_line '^fake_verdicts\.coop +HANG +[0-9.]+s  the case passed; then the program timed out after 2 s \(stopped by SIGINT\) after its last case$'
	expect_line '^    # supervise: timeout: still running after 2 s'
	valid_reports
	expect_json fake_verdicts.coop hang 'then the program timed out'
	expect_junit fake_verdicts.coop error
}

# ... or dies of a signal: the last case crashed, and keeps its own failure.
check_end_crash() {
	export TW_FAKE_EXIT=crash
	run --duration 0
	expect_status 1
	expect_line '^fake_verdicts\.coop +CRASH +[0-9.]+s  the case passed; then the program was killed by SIGSEGV after its last case$'
	export TW_FAKE='*.coop=fail'
	run --duration 0
	expect_status 1
	expect_line '^fake_verdicts\.coop +CRASH +[0-9.]+s  fake failure: .*; then the program was killed by SIGSEGV after its last case$'
	valid_reports
	expect_json fake_verdicts.coop crash
	# A known issue that expects the failure does not cover the crash.
	known_issue_file '*' 7.2.5
	run --duration 0
	expect_status 1
	expect_line '^fake_verdicts\.coop +CRASH .*; not the known issue on \* \(FAIL:/\^fake failure: expected /\)$'
}

# ... or leaves a process nobody can kill (a canned result: the supervisor's
# says so, as it does for a task stuck in the kernel).
check_end_unkillable() {
	cat >"$work/supervise" <<EOF
#!/bin/sh
# runner/supervise, whose result then says a process of the group could not
# be killed after the program exited by itself.
"$top/runner/supervise" "\$@"
rc=\$?
while [ \$# -gt 1 ] && [ "\$1" != -r ]; do shift; done
awk '/^status=/ { \$0 = "status=unkillable" } { print } END { print "unkillable_pid=4242" }' \\
	"\$2" >"\$2.canned" && mv "\$2.canned" "\$2"
exit \$rc
EOF
	chmod +x "$work/supervise"
	export TW_SUPERVISE="$work/supervise"
	run --duration 0
	expect_status 1
	expect_line '^fake_verdicts\.default +pass '
	expect_line '^fake_verdicts\.coop +HANG +[0-9.]+s  the case passed; then the program left processes that cannot be killed: stuck in the kernel \(stacks in the log\) after its last case$'
	valid_reports
	expect_json fake_verdicts.coop hang 'cannot be killed'
}

# An exit status of 2 after the cases is a failure, not a usage error.
check_end_exit2() {
	export TW_FAKE_EXIT=exit2
	run --duration 0
	expect_status 1
	expect_line '^fake_verdicts +FAIL +0\.00s  the program exited with 2 though no case failed$'
}

# ---- a program that refuses its arguments --------------------------------------

check_refused_arguments() {
	export TW_FAKE_USAGE="bad seed 'xx'"
	run
	expect_status 2
	expect_line "^runtests\\.sh: fake_verdicts\\.t refused its arguments \\(exit 2 before any case\\): bad seed 'xx' \\(log: .*/fake_verdicts\\.log\\)$"
	no_line 'FAIL|not run'
	# What ran before stays, the run marked as cut short (and the results
	# directory is still the runner's: the next run may use it).
	valid_reports
	expect_tap '^1\.\.0$'
	tail -n 1 "$res/results.tap" | grep -q '^Bail out! ' || fail "results.tap: no Bail out!"
	run --bisect
	expect_status 128
	no_line 'FAIL|not run'
}

# ---- known issues: the failure each entry expects --------------------------------

check_known_kinds() {
	known_issue_file '7.2.*' 7.2.5
	export TW_FAKE='*.coop=fail'
	run
	expect_status 0
	expect_line '^fake_verdicts\.coop +xfail '
	# Another kind of failure in the listed case: a hang is not the bug.
	export TW_FAKE='*.coop=hang'
	run
	expect_status 1
	expect_line '^fake_verdicts\.coop +HANG +[0-9.]+s  fake: waited for an event nobody sets; not the known issue on 7\.2\.\* \(FAIL:/\^fake failure: expected /\)$'
	expect_json fake_verdicts.coop hang '"known_issue": null'
	# Another reason.
	known_issue_file '7.2.*' 7.2.5 'FAIL:/^lost wake-up: /'
	export TW_FAKE='*.coop=fail'
	run
	expect_status 1
	expect_line '^fake_verdicts\.coop +FAIL +[0-9.]+s  fake failure: .*; not the known issue on 7\.2\.\*'
	# A kernel splat (here: a new taint) is not the bug, unless it is listed.
	echo 0 >"$work/sys/tainted"
	export TW_SYSCTL_DIR="$work/sys" TW_FAKE='*.coop=taint'
	known_issue_file '7.2.*' 7.2.5
	run
	expect_status 1
	expect_line '^fake_verdicts\.coop +FAIL +[0-9.]+s  kernel tainted: W; not the known issue'
	echo 0 >"$work/sys/tainted"
	known_issue_file '7.2.*' 7.2.5 'FAIL|SPLAT:/^kernel tainted: W$/'
	run
	expect_status 0
	expect_line '^fake_verdicts\.coop +xfail +[0-9.]+s  known issue on 7\.2\.\*.*; kernel tainted: W$'
}

# A program-wide entry for a crash: the crash is xfail, the case it kept
# from running is not.
check_known_not_run() {
	printf 'fake_verdicts  *  -  CRASH:/^no result: the program was killed by SIGSEGV /  the fake crash\n' \
		>"$work/known-issues"
	export TW_KNOWN_ISSUES="$work/known-issues" TW_FAKE='*.default=kill_program'
	run
	expect_status 1
	expect_line '^fake_verdicts\.default +xfail +[0-9.]+s  known issue on \*, not fixed yet: the fake crash; no result'
	expect_line '^fake_verdicts\.coop +FAIL +0\.00s  not run: the program was killed by SIGSEGV during fake_verdicts\.default; not the known issue'
}

# An entry the runner cannot read (the format before KINDS:/ERE/, an unknown
# kind, a bad range) is refused before anything runs.
check_known_unreadable() {
	printf '# old\nfake_verdicts.coop  7.2.*  0123456789ab  io_uring: fix the fake bug\n' \
		>"$work/known-issues"
	printf 'fake_verdicts.default  7.x  -  FAIL|OOPS:/x/  bad\n' >>"$work/known-issues"
	export TW_KNOWN_ISSUES="$work/known-issues"
	run
	expect_status 2
	expect_line '^runtests\.sh: .*/known-issues:2: no KINDS:/ERE/ after the commit'
	expect_line "^runtests\\.sh: .*/known-issues:3: unknown kind 'OOPS' .*; bad kernel range '7\\.x'"
	[ ! -f "$res/fake_verdicts.log" ] || fail "a program ran"
	# --bisect ignores the file, and so its errors.
	run --bisect
	expect_status 0
}

# ---- what TAP and JUnit consumers see -----------------------------------------------

check_tap_xpass() {
	known_issue_file '7.2.*' 7.2.5
	run
	expect_status 1
	expect_tap '^not ok 2 - fake_verdicts\.coop$'
	expect_tap '^  result: xpass$'
	[ "$(prove_says)" != pass ] || fail "prove calls a run with an xpass a pass"
	# An xfail is no failure of the run, for prove either.
	export TW_FAKE='*.coop=fail'
	run
	expect_status 0
	expect_tap '^not ok 2 - fake_verdicts\.coop # TODO known issue'
	[ "$(prove_says)" != fail ] || fail "prove calls a run with an xfail a failure: $(cat "$work/prove.out")"
}

check_tap_repeat_junit() {
	run --repeat 2 fake_verdicts.coop
	expect_status 0
	expect_tap '^ok 1 - fake_verdicts\.coop\\#1$'
	expect_tap '^ok 2 - fake_verdicts\.coop\\#2$'
	! grep -Eq '^(not )?ok [0-9]+ - [^ ]*[^\\]#' "$res/results.tap" || fail "a bare # in a description"
	grep -q '<testcase classname="fake_verdicts" name="coop#2" ' "$res/results.xml" ||
		fail "results.xml: no testcase coop#2 of fake_verdicts"
	run
	expect_junit fake_verdicts.default pass
	! grep -q 'name="fake_verdicts\.' "$res/results.xml" || fail "results.xml repeats the program's name"
	[ "$(prove_says)" != fail ] || fail "prove calls a passing run a failure: $(cat "$work/prove.out")"
}

# ---- driver -----------------------------------------------------------------------

run_runner_checks "end_hang end_crash end_unkillable end_exit2 refused_arguments known_kinds
	known_not_run known_unreadable tap_xpass tap_repeat_junit"
