#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of the test programs' own checks: each program is run with a
# fault seeded into it ($TW_SEED_FAULT, listed by its -h; off in every real
# run) and must fail with the line of the check that catches it. A check
# that cannot fire is a defect. The programs run on this kernel: one that
# skips here (no io_uring, a feature missing) makes its check a SKIP.
# Prints TAP; exits 0 when every check passed.
#
#   test/meta/seeded-faults.sh
#   TW_CHECKS="tw_resched" test/meta/seeded-faults.sh     only these checks

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"

# kver_below MAJOR MINOR: the running kernel (uname -r) is older.
kver_below() {
	kb_v=$(uname -r | sed 's/[^0-9.].*//')
	kb_maj=${kb_v%%.*} kb_min=${kb_v#*.}
	kb_min=${kb_min%%.*}
	[ "$kb_maj" -lt "$1" ] || { [ "$kb_maj" -eq "$1" ] && [ "$kb_min" -lt "$2" ]; }
}

# seeded PROGRAM FAULT PROFILE [OPTION...]: test/PROGRAM.t, one short case
# with FAULT.
seeded() {
	sd_prog=$1 sd_fault=$2 sd_prof=$3
	shift 3
	TW_SEED_FAULT=$sd_fault "$top/test/$sd_prog.t" -d 0.2 -p "$sd_prof" "$@" \
		>"$work/out" 2>&1 </dev/null
	rc=$?
	if [ "$rc" = 77 ]; then
		say "test/$sd_prog.t skips here: $(grep -m1 '# SKIP' "$work/out")"
		exit 77
	fi
	expect_line "^# seeded fault: $sd_fault "
}

# The children's exit status (issue 12, item 8).
check_tw_resched() {
	seeded tw_resched child-exit default
	expect 1 '^# FAIL tw_resched\.default .*: the owner [0-9]+ ended with exit status 3, want exit status 0'
}

check_sqpoll_stopped() {
	seeded regress_sqpoll_stopped child-exit sqpoll
	expect 1 "^# FAIL .*: the ring's owner \(pid [0-9]+\) ended with exit status 3, want exit status 0"
}

check_exec_local_tw() {
	seeded regress_exec_local_tw child-exit defer
	expect 1 "^# FAIL .*: the exec'd submitter \(pid [0-9]+\) ended with exit status 3"
}

check_exec_local_tw_no_exec() {
	seeded regress_exec_local_tw no-exec defer
	expect 1 "^# FAIL .*: the submitter did not exec: its ready pipe closed without"
}

# Bounds and results a broken kernel would have to forge (item 8).
check_wait_timeout_early() {
	seeded regress_wait_timeout early-wait default
	expect 1 '^# FAIL .*: early return: a wait for 16 CQEs with a 0\.200 s timeout returned'
}

check_wait_timeout_dup() {
	seeded regress_wait_timeout dup-cqe default
	expect 1 '^# FAIL .*: ledger polls: duplicate CQE: producer 0 channel 0 seq 3'
}

check_ringfd_poll() {
	seeded regress_ringfd_poll wrong-msg defer
	expect 1 '^# FAIL .*: A: the message: 1 CQEs, the first with user_data 0x56 res 6 flags 0x0; want one, with user_data 0x55 and res 5'
}

check_msg_disabled() {
	seeded regress_msg_disabled wrong-msg default
	expect 1 '^# FAIL .*: the message sent after enabling arrived with res 23 flags 0x0, want the payload sent \(22\)'
}

# A retry that spins (6.1's re-arm loop) is told from one that returns.
check_apoll_rearm() {
	seeded regress_apoll_rearm user-spin defer
	expect 1 "^# FAIL .*: spin: the owner's last retry ran [0-9.]+ s without returning \\(running in [0-9]+ of [0-9]+ looks, no voluntary context switch\\)"
}

# The ledger and the kernel's contracts (items 4 and 5).
check_many_rings_cancel() {
	seeded many_rings cancel-read default
	expect 1 '^# FAIL .*: read cancelled: ring [a-z_]+ pipe 0: read res -125'
}

check_many_rings_drop() {
	seeded many_rings drop-read default
	expect 1 '^# FAIL .*: ledger reads: lost CQE: producer [0-9]+ channel [0-9]+: 1 of [0-9]+ requests never completed'
}

check_cq_overflow_defer() {
	seeded cq_overflow eoverflow defer
	if kver_below 6 11; then
		say "Linux $(uname -r): a DEFER_TASKRUN target may refuse with -EOVERFLOW"
		exit 77
	fi
	expect 1 '^# FAIL .*: MSG_RING seq [0-9]+ into the full CQ of a DEFER_TASKRUN ring: -EOVERFLOW, expected 0'
}

check_cq_overflow_delivered() {
	seeded cq_overflow eoverflow default
	expect 1 '^# FAIL .*: ledger overflow: (CQE for a withdrawn request|withdrawn request had completed): producer [0-9]+ channel 0 seq'
}

check_orphans() {
	seeded orphans cancel-live default
	expect 1 '^# FAIL .* pipe read fired before the exit: want 1 \(the byte written\) \[seeded'
}

# Fault injection that injected nothing is no test (root and a kernel with
# fault injection: a SKIP elsewhere).
check_fault_inject() {
	seeded fault_inject no-faults default -F -t 2
	expect 1 '^# FAIL .*: fault injection had no effect: no allocation of the producers or the consumer failed'
}

# The 7.2-to-7.3 regression tests (issue 14, item 1; doc/diff-7.2-7.3.md).
check_fdinfo_cqe32() {
	seeded regress_fdinfo_cqe32 wrong-ud default
	expect 1 '^# FAIL .*: fdinfo of a CQE32 ring lists [0-9]+ of its 4 CQEs as \[0: 102, '
}

check_futex_private_hash() {
	seeded regress_futex_private_hash child-exit default
	expect 1 '^# FAIL .*: the waiting process \(pid [0-9]+\) ended with exit status 3'
}

check_bpf_filter_cow() {
	seeded regress_bpf_filter_cow allow-all default
	expect 1 '^# FAIL .*: NOP on a ring made after the task.s deny filter on NOP: res 0, expected -EACCES'
}

checks=${TW_CHECKS:-"tw_resched sqpoll_stopped exec_local_tw exec_local_tw_no_exec
	wait_timeout_early wait_timeout_dup ringfd_poll msg_disabled many_rings_cancel
	many_rings_drop cq_overflow_defer cq_overflow_delivered orphans fault_inject
	fdinfo_cqe32 futex_private_hash bpf_filter_cow apoll_rearm"}
# shellcheck disable=SC2086 # a list of names
run_checks $checks
