#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of runtests.sh's options and selection: usage errors, --list,
# exclusions and the kernel ranges of test/known-issues and test/exclude,
# --repeat, single cases, every program of the test directory, --bisect,
# io_uring_disabled, -v, a results directory that is not ours, and Ctrl-C.
# The program under test is test/meta/fake_verdicts.t, as in
# test/meta/runner.sh (the verdicts); both share test/meta/runner-lib.sh.
# Prints TAP; exits 0 when every check passed.
#
#   test/meta/runner-options.sh        the runner under sh
#   TW_SH="busybox sh" test/meta/runner-options.sh
#   TW_BUSYBOX=1 test/meta/runner-options.sh   busybox sh, and only
#                                      busybox applets on the runner's PATH
#   TW_CHECKS="list bisect" test/meta/runner-options.sh   only these checks
# Needs `make` first (the fake program and runner/supervise).

# shellcheck disable=SC2086 # $runner_sh is a command with arguments
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/runner-lib.sh
. "$top/test/meta/runner-lib.sh"

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
	tail -n 1 "$res/results.tap" | grep -qx 'Bail out! interrupted by SIGTERM' ||
		fail "results.tap does not end in 'Bail out! interrupted by SIGTERM'"
	[ "$(prove_says)" != pass ] || fail "prove calls an interrupted run a pass"
}

# ---- driver -----------------------------------------------------------------------

run_runner_checks "usage_errors list kernel_ranges exclude repeat_and_single_case everything bisect
	io_uring_disabled verbose results_dir_safety interrupt"
