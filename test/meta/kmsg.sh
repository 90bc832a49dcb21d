#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of the kernel log and taint beyond one case: nothing from the
# run's start to its end goes unjudged. On a canned kernel log (TW_KMSG_FILE:
# the supervisor reads it instead of /dev/kmsg; nothing here writes the real
# log), a fake sysctl directory and a fake /proc for the kworkers:
#   - a WARNING or a taint between two programs, or after the last one, fails
#     the run's own result (kernel.log, kernel.taint), once;
#   - a ring's deferred teardown: the supervisor waits for io_uring to settle
#     (a busy "+iou_exit" kworker), so what it logs fails the last case; a
#     teardown that does not settle is reported, with what it waited for;
#   - records lost (overwritten, over the limit) fail the case they were in;
#   - a program whose log was not read, in a run whose log is, fails;
#   - runner/kmsg-patterns knows the forms the kernel prints (SLUB's
#     "BUG kmalloc-64 (Not tainted): ...", KASAN, UBSAN, ...) and not
#     ordinary messages.
# The programs are test/meta/fake_verdicts.t (TW_FAKE) under two names.
#
#   test/meta/kmsg.sh                  prints TAP, exit 0 if all passed
#   TW_BUSYBOX=1 test/meta/kmsg.sh     only busybox applets on the runner's PATH
#   TW_CHECKS="between" test/meta/kmsg.sh   only these checks
# Needs `make` first (the fake program and runner/supervise).

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/runner-lib.sh
. "$top/test/meta/runner-lib.sh"

# Two programs, run in this order: fake_verdicts, fake_verdicts2.
mkdir "$work/two" "$work/proc" "$work/proc/4242"
ln -s "$fake" "$work/two/fake_verdicts.t"
ln -s "$fake" "$work/two/fake_verdicts2.t"
# The report hook runs between programs: after fake_verdicts it does
# $HOOK_DO - a WARNING in the log, W in the taint, or the log gone.
cat >"$work/hook" <<'EOF'
#!/bin/sh
case " $* " in
*/fake_verdicts.log\ *) ;;
*) exit 0 ;;
esac
case $HOOK_DO in
splat) printf '4,-,0,-;%s\n' "WARNING: CPU: 1 PID: 2 at io_uring/io_uring.c:1 io_ring_exit_work+0x0/0x0 (fake)" \
	>>"$TW_KMSG_FILE" ;;
taint) echo 512 >"$TW_SYSCTL_DIR/tainted" ;;
nolog) rm -f "$TW_KMSG_FILE" ;;
esac
EOF
chmod +x "$work/hook"
warning='WARNING: CPU: 1 PID: 2 at io_uring/io_uring\.c:1 io_ring_exit_work'
tab=$(printf '\t')

# Every check: an empty canned log, no taint, no kworker busy.
before_check() {
	: >"$work/kmsg"
	echo 0 >"$work/sys/tainted"
	echo 'kworker/u8:1-iou_exit' >"$work/proc/4242/comm"
	rm -f "$work/proc/4242/stack"
}
export TW_KMSG_FILE="$work/kmsg" TW_SYSCTL_DIR="$work/sys" TW_PROC_DIR="$work/proc"

check_between() {
	export TW_TESTDIR="$work/two" TW_REPORT_HOOK="$work/hook" HOOK_DO=splat
	run fake_verdicts fake_verdicts2
	expect_status 1
	expect_line '^fake_verdicts\.coop +pass '
	expect_line '^fake_verdicts2\.default +pass '
	expect_line "^kernel\\.log +FAIL +0\\.00s  kernel: $warning.* \\(logged between fake_verdicts and fake_verdicts2\\)\$"
	expect_line "^    kernel: \\[ *[0-9.]+\\] $warning"
	expect_line '^    log: .*/run\.kmsg$'
	valid_reports
	expect_json kernel.log fail '"program": "kernel", "profile": "log"'
	expect_junit kernel.log failure
	grep -q "$warning" "$res/run.kmsg" || fail "run.kmsg lacks the WARNING"
}

check_after_last() {
	export TW_REPORT_HOOK="$work/hook" HOOK_DO=splat
	run
	expect_status 1
	expect_line "^kernel\\.log +FAIL +0\\.00s  kernel: $warning.* \\(logged after fake_verdicts, up to the end of the run\\)\$"
	valid_reports
}

# Taint between programs: no case's, so the run's; a case's taint only once.
check_taint() {
	export TW_TESTDIR="$work/two" TW_REPORT_HOOK="$work/hook" HOOK_DO=taint
	run fake_verdicts fake_verdicts2
	expect_status 1
	expect_line '^fake_verdicts2\.default +pass '
	expect_line '^kernel\.taint +FAIL +0\.00s  kernel tainted during the run, in no case: W \(0x0 at the start, 0x200 at the end'
	valid_reports
	expect_json kernel.taint fail
	grep -q '^# between taint 0x0 new 0x200 W$' "$res/run.kmsg" || fail "run.kmsg does not say where"
	echo 0 >"$work/sys/tainted"
	export TW_FAKE='*.default=taint' HOOK_DO=
	run fake_verdicts
	expect_line '^fake_verdicts\.default +FAIL +[0-9.]+s  kernel tainted: W$'
	no_line '^kernel\.'
}

check_teardown() {
	echo 'kworker/u8:1+iou_exit' >"$work/proc/4242/comm"
	export TW_FAKE='*.coop=teardown' TW_FAKE_KWORKER="$work/proc/4242/comm"
	run
	expect_status 1
	expect_line '^fake_verdicts\.default +pass '
	expect_line "^fake_verdicts\\.coop +FAIL +[0-9.]+s  kernel: WARNING: CPU: 1 PID: 2 at io_uring/io_uring\\.c:1 "
	no_line '^kernel\.'
	grep -q '^# settle: io_uring teardown settled in [0-9.]* s: .*no kworker in one$' \
		"$res/fake_verdicts.kmsg" || fail "the excerpt does not say io_uring settled"
}

# A teardown that never ends: reported, with the kworker; no verdict (other
# users' rings may be what it waits for).
check_not_settled() {
	echo 'kworker/u8:1+iou_exit' >"$work/proc/4242/comm"
	export TW_SETTLE_SECONDS=0.3
	run
	expect_status 0
	expect_line '^runtests\.sh: after fake_verdicts: io_uring teardown not settled after 0\.3 s: .*1 kworker still in a teardown: 4242 \(kworker/u8:1\+iou_exit\)$'
	expect_line '^runtests\.sh: at the end of the run: io_uring teardown not settled'
	expect_line '^# supervise: io_uring teardown not settled' "$res/fake_verdicts.log"
	# 6.1: io_uring's exit work on events_unbound, told by its stack (root).
	echo 'kworker/u8:1+events_unbound' >"$work/proc/4242/comm"
	printf '[<0>] __schedule+0x1/0x2\n[<0>] io_ring_exit_work+0x1/0x2\n' >"$work/proc/4242/stack"
	run
	expect_line 'not settled after 0\.3 s: .*4242 \(kworker/u8:1\+events_unbound\)$'
	printf '[<0>] process_one_work+0x1/0x2\n' >"$work/proc/4242/stack"
	run
	no_line 'not settled'
}

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

# The log gone after the first program: the second was not read.
check_log_lost() {
	export TW_TESTDIR="$work/two" TW_REPORT_HOOK="$work/hook" HOOK_DO=nolog
	run fake_verdicts fake_verdicts2
	expect_status 1
	expect_line '^kernel\.log +FAIL +0\.00s  kernel log incomplete: not read during fake_verdicts2 \(cannot read '
}

# Each form in a case of its own; the last case holds ordinary messages.
check_patterns() {
	cat >"$work/excerpt" <<'EOF'
# start taint 0x0 new 0x0 -
# case t.slub taint 0x0 new 0x0 -
[    1.000001] =============================================================================
[    1.000002] BUG kmalloc-64 (Not tainted): Poison overwritten
# case t.slub_tainted taint 0x0 new 0x0 -
[    1.000003] BUG io_kiocb (Tainted: G    B             ): Object already free
# case t.kasan taint 0x0 new 0x0 -
[    1.000004] BUG: KASAN: slab-use-after-free in io_req_task_work_add+0x1c/0x1a0
# case t.ubsan taint 0x0 new 0x0 -
[    1.000005] UBSAN: array-index-out-of-bounds in io_uring/io_uring.c:123:4
# case t.refcount taint 0x0 new 0x0 -
[    1.000006] refcount_t: underflow; use-after-free.
# case t.list taint 0x0 new 0x0 -
[    1.000007] list_add corruption. next->prev should be prev (ffff8880), but was 0000. (next=ffff8881).
# case t.warning taint 0x0 new 0x0 -
[    1.000008] WARNING: CPU: 1 PID: 123 at io_uring/io_uring.c:2900 io_ring_exit_work+0x2a5/0x2c0
# case t.hung taint 0x0 new 0x0 -
[    1.000009] INFO: task kworker/u8:1:123 blocked for more than 120 seconds.
# case t.lockup taint 0x0 new 0x0 -
[    1.000010] watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [iou-sqp-123:124]
# case t.rcu taint 0x0 new 0x0 -
[    1.000011] rcu: INFO: rcu_sched detected stalls on CPUs/tasks:
# case t.rcu_self taint 0x0 new 0x0 -
[    1.000012] rcu: INFO: rcu_preempt self-detected stall on CPU
# case t.ordinary taint 0x0 new 0x0 -
[    1.000013] systemd[1]: Started BUG tracker (fake).
[    1.000014] traps: x[12] trap invalid opcode ip:4011 sp:7ffd error:0 in x[401000+1000]
[    1.000015] EXT4-fs (vda): mounted filesystem with ordered data mode
[    1.000016] tw-runtests[1.2]: case t.ordinary
EOF
	env PATH="$runner_path" awk -v patterns="$top/runner/kmsg-patterns" \
		-f "$top/runner/kmsg-regex.awk" -f "$top/runner/kmsg-scan.awk" "$work/excerpt" \
		>"$work/out" 2>&1 || fail "kmsg-scan.awk failed"
	for c in slub slub_tainted kasan ubsan refcount list warning hung lockup rcu rcu_self; do
		grep -q "^section${tab}t\\.$c${tab}[^$tab]" "$work/out" || fail "t.$c: no pattern matched"
	done
	grep -q "^section${tab}t\\.ordinary$tab$tab\$" "$work/out" || fail "an ordinary message matched"
}

run_runner_checks "between after_last taint teardown not_settled overrun limit log_lost patterns"
