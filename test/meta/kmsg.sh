#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of the kernel log and taint beyond one case: nothing from the
# run's start to its end goes unjudged. On a canned kernel log (TW_KMSG_FILE:
# the supervisor reads it instead of /dev/kmsg; nothing here writes the real
# log):
#   - records lost (overwritten, over the limit) fail the case they were in.
# The program is test/meta/fake_verdicts.t (TW_FAKE).
#
#   test/meta/kmsg.sh                  prints TAP, exit 0 if all passed
#   TW_BUSYBOX=1 test/meta/kmsg.sh     only busybox applets on the runner's PATH
#   TW_CHECKS="overrun" test/meta/kmsg.sh   only these checks
# Needs `make` first (the fake program and runner/supervise).

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/runner-lib.sh
. "$top/test/meta/runner-lib.sh"

# Every check: an empty canned log, no taint.
before_check() {
	: >"$work/kmsg"
	echo 0 >"$work/sys/tainted"
}
export TW_KMSG_FILE="$work/kmsg" TW_SYSCTL_DIR="$work/sys"

check_overrun() {
	export TW_FAKE='*.default=overrun'
	run
	expect_status 1
	expect_line '^fake_verdicts\.default +FAIL +[0-9.]+s  kernel: log incomplete: 3 records overwritten before they were read$'
	expect_line '^    kernel: log incomplete: 3 records'
	expect_line '^fake_verdicts\.coop +pass '
	valid_reports
}

# (The first case, as with every record a case logs: the runner marks the
# log when it reads the "# case" line, so what a case does in its first
# microseconds may count against the case before it.)
check_limit() {
	export TW_FAKE='*.default=chatter' TW_KMSG_MAX_RECORDS=1
	run
	expect_status 1
	expect_line '^fake_verdicts\.default +FAIL +[0-9.]+s  kernel: log incomplete: 2 records over the limit of 1, not saved$'
	expect_line '^fake_verdicts\.coop +pass '
}

run_runner_checks "overrun limit"
