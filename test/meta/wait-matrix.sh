#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of test/wait_matrix.t: the cells it lists (-L) and filters
# (-C), bad filters refused; and each of its checks shown to fire on a
# seeded fault of its own ($TW_WM_FAULT: the test misbehaves on purpose),
# with the same cells passing without the fault: a sleep past the bound is
# a lost wake-up, one CQE too few an early wake-up, an event not fired a
# lost CQE, a CQE no event made an unexpected CQE, events out of order an
# order failure. Last, test/known-issues' entry for the multishot lost
# wake-up matches a reason whose failed cells are all multishot, and not
# one where another cell failed too. Cells run on the default profile with
# -t 2 (a 0.1 s bound). Prints TAP; exits 0 when every check passed.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"

wm=$top/test/wait_matrix.t

# run TW_WM_FAULT=NAME ARGS...: the matrix, output in $work/out, status in $rc.
run() {
	run_fault=$1
	shift
	env "$run_fault" "$wm" "$@" >"$work/out" 2>&1 </dev/null
	rc=$?
}

# cells FAULT FILTER: the filtered cells of the default profile, once.
cells() {
	run TW_WM_FAULT="$1" -p default -C "$2" -d 0 -t 2
	[ "$rc" != 77 ] || { say "the kernel cannot run $2"; exit 77; }
}

before_check() {
	[ -x "$wm" ] || { say "no $wm: run make"; exit 77; }
}

check_list() {
	run TW_WM_FAULT= -L -p defer -C cell=recv_ms_dgram/2/plain/b2b
	expect 0 '^wait_matrix\.defer	recv_ms_dgram/2/plain/b2b	core'
	[ "$(wc -l <"$work/out")" = 1 ] || fail "one cell asked for, more listed"
	run TW_WM_FAULT= -L -p defer
	no_line '/second/|/sq_asleep/' 	# DEFER_TASKRUN: one waiter, no SQ thread
	expect_line '/minwait_reg/'
	run TW_WM_FAULT= -L -p sqpoll -C wait=sq_asleep,wait=second,n=40
	expect_line '/40/sq_asleep/'
	expect_line '/40/second/'
	no_line '/(1|2|3|8)/'
	run TW_WM_FAULT= -L -C producer=recv_ms_dgram,n=40
	[ ! -s "$work/out" ] || fail "recv_ms_dgram listed with N = 40 (max_n 8)"
	run TW_WM_FAULT= -L -C colour=blue
	expect 2 'bad filter term'
	run TW_WM_FAULT=nosuch -L
	expect 2 'no fault'
}

check_no_fault() {
	cells "" producer=pipe_read,producer=recv_ms_stream,n=3,wait=plain,timing=b2b
	expect 0 '^ok 1 wait_matrix\.default'
}

# fires FAULT FILTER ERE: with the seeded fault the cells fail, saying so.
fires() {
	cells "$1" "$2"
	expect 1 "$3"
}

check_lost_wake() {
	fires lostwake producer=pipe_read,n=3,wait=plain,timing=b2b \
		'cell pipe_read/3/plain/b2b: FAIL: lost wake-up: wait for 3 CQEs slept'
	expect_line '^# replay: .*wait_matrix\.t -p default -C cell=pipe_read/3/plain/b2b -s 0x'
}

check_early() {
	fires early producer=pipe_read,n=3,wait=plain,timing=after \
		'FAIL: early wake-up: wait for 3 CQEs returned 0 after .* with 2 ready'
}

check_lost_cqe() {
	fires drop producer=pipe_read,n=3,wait=timeout,timing=after \
		'FAIL: lost CQE: wait for 3 CQEs: still 2 ready'
}

check_unexpected() {
	fires extra producer=pipe_read,n=2,wait=plain,timing=before \
		'FAIL: unexpected CQE: user_data 0x0 '
}

check_order() {
	fires reorder producer=msg_data,n=3,wait=plain,timing=b2b \
		'FAIL: out of order: the CQE of event 2 came before event 0'
	cells "" producer=msg_data,n=3,wait=plain,timing=b2b
	expect 0
}

# The entry's ERE against the reason of a "not ok" line.
reason_matches() {
	ere=$(sed -n 's|^wait_matrix\.defer\*  *[^ ]*  *[^ ]*  *FAIL:/\([^/]*\)/ .*|\1|p' \
		"$top/test/known-issues")
	[ -n "$ere" ] || fail "no FAIL:/ERE/ entry for wait_matrix.defer* in test/known-issues"
	sed -n 's/^not ok [0-9]* [^ ]* # FAIL //p' "$work/out" | awk -v ere="$ere" '$0 ~ ere { m = 1 } END { exit !m }'
}

check_known_issue() {
	cells lostwake producer=recv_ms_stream,n=2,wait=plain,timing=b2b
	expect 1 'FAIL lost wake-up: 1 of 1 cells, all multishot: recv_ms_stream/2/plain/b2b'
	reason_matches || fail "the known issue's ERE does not match a multishot lost wake-up"
	cells lostwake producer=recv_ms_stream,producer=pipe_read,n=2,wait=plain,timing=b2b
	expect 1 'FAIL lost wake-up: wait for 2 CQEs .*cells failed'
	! reason_matches || fail "the known issue's ERE matches when a one-shot cell failed too"
}

# A kernel that predates registered wait regions (6.12, played with TW_KVER
# and a shim refusing IORING_REGISTER_MEM_REGION): those cells are one
# skipped part per reason, and the case goes on to pass (it crashed on 6.12
# when the skips of one reason were counted as new reasons).
check_predated_region() {
	shim=$top/test/meta/preload/refuse.so
	[ -f "$shim" ] || { say "no $shim: make"; exit 77; }
	# Each check runs in a subshell: the exports end with it.
	export LD_PRELOAD="$shim" TW_REFUSE_REGISTER=34:22
	run TW_KVER=6.12.117 -p default -C wait=minwait_reg,wait=plain -d 0
	expect 0
	[ "$(grep -c '^# SKIP-PART wait_matrix.default: ' "$work/out")" = 1 ] ||
		fail "not one SKIP-PART line for the one reason"
	expect_line '^# SKIP-PART wait_matrix.default: .*predates IORING_REGISTER_MEM_REGION'
}

run_checks list no_fault lost_wake early lost_cqe unexpected order known_issue predated_region
