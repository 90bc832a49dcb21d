#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of the console verdicts of guest/vm-run (guest/verdict.awk) on
# canned consoles: pass, fail, panic and fatal oops mid-case, panic at
# boot, no init, silence, deadline, a reset, no io_uring, qemu failing;
# --bench's verdicts, which speak of twbench and pass its exit status on;
# and the case a dead kernel took down, added to results.json
# (guest/lost-case.awk). Seconds, no qemu.
#
#   test/meta/guest-verdicts.sh               prints TAP, exit 0 if all passed
#   TW_CHECKS="verdicts" test/meta/guest-verdicts.sh   only these checks

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/guest-lib.sh
. "$top/test/meta/guest-lib.sh"

# verdict WATCH_RESULT: guest/verdict.awk on $work/console, as vm-run
# runs it; its key=value lines in $work/verdict.
verdict() {
	# shellcheck disable=SC2086 # "status code stopped": three words
	set -- $1
	awk -v status="$1" -v code="${2:-0}" -v stopped="${3:-}" -v silent=61.2 -v seconds=1860 \
		-v heartbeat="${heartbeat:-0}" \
		-v qemu_error="${qemu_error:-}" -f "$guest/verdict.awk" "$work/console" >"$work/verdict"
	cp "$work/verdict" "$work/out"
}

expect_verdict() {
	v=$(sed -n 's/^verdict=//p' "$work/verdict")
	s=$(sed -n 's/^status=//p' "$work/verdict")
	t=$(sed -n 's/^test=//p' "$work/verdict")
	[ "$v $s" = "$1 $2" ] || fail "verdict '$v $s', expected '$1 $2'"
	[ "$t" = "${3:-}" ] || fail "test '$t', expected '${3:-}'"
	if [ $# -ge 4 ]; then
		grep -Eq "^reason=.*$4" "$work/verdict" || fail "reason does not match: $4"
	fi
}

boot_lines() {
	cat <<'EOF'
[    0.000000][    T0] Linux version 7.3.4 (root@vm) #2 SMP PREEMPT_DYNAMIC
TW-GUEST-BOOTED release=7.3.4 uptime=2.76 cpus=2
TW-GUEST-SUITE-START uptime=2.96
kernel 7.3.4, seed 0x540e97815d51080b, timeout 180s per program
[    4.904795][  T103] tw-runtests[103.66139938f6fcc]: begin /suite/test/fanin_local.t
[    4.944154][  T103] tw-runtests[103.66139938f6fcc]: case fanin_local.defer
[    5.506606][  T103] tw-runtests[103.66139938f6fcc]: end /suite/test/fanin_local.t
fanin_local.defer                    pass     0.53s
TW-HB uptime=10.01
[    6.286716][  T142] tw-runtests[142.6613993a49b70]: begin /suite/test/wakeup.t
[    6.339484][  T142] tw-runtests[142.6613993a49b70]: case wakeup.default
[    6.839484][  T142] tw-runtests[142.6613993a49b70]: case wakeup.coop
EOF
}

check_verdicts() {
	{
		boot_lines
		cat <<'EOF'
[    7.506606][  T142] tw-runtests[142.6613993a49b70]: end /suite/test/wakeup.t
wakeup.default                       pass     0.50s
wakeup.coop                          pass     0.50s
3 cases: 3 pass (results in /tmp/results)
TW-GUEST-SUITE-DONE status=0 uptime=8.95
TW-GUEST-SHIPPED uptime=9.10
TW-GUEST-EXIT 0
[    9.109581][  T157] reboot: Power down
EOF
	} >"$work/console"
	verdict "exited 0"
	expect_verdict pass 0 "" "3 cases: 3 pass$"
	grep -qx 'release=7.3.4' "$work/verdict" || fail "no release"

	sed 's/status=0/status=1/; s/TW-GUEST-EXIT 0/TW-GUEST-EXIT 1/; s/3 pass/2 pass, 1 fail/' \
		"$work/console" >"$work/c2" && mv "$work/c2" "$work/console"
	verdict "exited 0"
	expect_verdict fail 1 "" "2 pass, 1 fail"

	sed 's/status=1/status=2/; s/TW-GUEST-EXIT 1/TW-GUEST-EXIT 2/' "$work/console" >"$work/c2" &&
		mv "$work/c2" "$work/console"
	verdict "exited 0"
	expect_verdict usage 2

	# A panic in the middle of wakeup.coop: qemu exits by itself (panic=-1).
	{
		boot_lines
		cat <<'EOF'
[    6.348259][  T144] sysrq: Trigger a crash
[    6.348686][  T144] Kernel panic - not syncing: sysrq triggered crash
[    6.350831][  T144] CPU: 1 UID: 0 PID: 144 Comm: wakeup.t Not tainted 7.3.4 #2
[    6.370265][  T144] Kernel Offset: disabled
[    6.370265][  T144] ---[ end Kernel panic - not syncing: sysrq triggered crash ]---
EOF
	} >"$work/console"
	verdict "exited 0"
	expect_verdict panic 1 wakeup.coop "kernel panic during wakeup.coop: sysrq triggered crash"

	# A fatal oops: the panic only says "Fatal exception"; the reason has the BUG.
	{
		boot_lines
		cat <<'EOF'
[    7.1][  T150] BUG: kernel NULL pointer dereference, address: 0000000000000008
[    7.1][  T150] #PF: supervisor read access in kernel mode
[    7.1][  T150] Oops: Oops: 0000 [#1] SMP
[    7.2][  T150] RIP: 0010:io_req_local_work_add+0x42/0x120
[    7.3][  T150] Kernel panic - not syncing: Fatal exception in interrupt
EOF
	} >"$work/console"
	verdict "exited 0"
	expect_verdict panic 1 wakeup.coop "Fatal exception in interrupt \(first: BUG: kernel NULL pointer"

	# Silence mid-case: vm-watch killed qemu.
	boot_lines >"$work/console"
	verdict "killed 0 silence"
	expect_verdict hang 1 wakeup.coop "stopped answering during wakeup.coop: no output for 61.2 s"
	# ... or its heartbeat stopped while the kernel kept printing (a soft lockup).
	{
		boot_lines
		echo '[   72.6] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [ring4:2772]'
	} >"$work/console"
	heartbeat=1 verdict "killed 0 silence"
	expect_verdict hang 1 wakeup.coop "during wakeup.coop: no heartbeat from /init for 61.2 s; first kernel report: watchdog: BUG: soft lockup"
	verdict "killed 0 deadline"
	expect_verdict hang 1 wakeup.coop "deadline of 1860 s passed"

	# Between two programs.
	{
		boot_lines
		say '[    7.506606][  T142] tw-runtests[142.6613993a49b70]: end /suite/test/wakeup.t'
	} >"$work/console"
	verdict "killed 0 silence"
	expect_verdict hang 1 "" "after wakeup \(between programs\)"

	# The machine reset itself (a triple fault; -no-reboot makes qemu exit).
	boot_lines >"$work/console"
	verdict "exited 0"
	expect_verdict stopped 1 wakeup.coop "stopped without finishing during wakeup.coop"

	# Panic at boot: no init.
	cat >"$work/console" <<'EOF'
[    1.4][    T1] Run /init as init process
[    1.5][    T1] Failed to execute /init (error -8)
[    1.5][    T1] Kernel panic - not syncing: No working init found.  Try passing init= option to kernel.
EOF
	verdict "exited 0"
	expect_verdict no-boot 3 "" "before the suite started: No working init found"

	# Silent from the start (a kernel that never prints).
	: >"$work/console"
	verdict "killed 0 silence"
	expect_verdict no-boot 3 "" "never reached the suite: no output"

	# qemu refused to start.
	qemu_error="qemu-system-x86_64: Error loading uncompressed kernel without PVH ELF Note"
	verdict "exited 1"
	expect_verdict qemu-error 4 "" "qemu failed \(exit 1\): .*PVH ELF Note"
	qemu_error=

	cat >"$work/console" <<'EOF'
TW-GUEST-BOOTED release=6.1.0-noring uptime=2.1 cpus=2
TW-GUEST-NO-IO-URING io_uring_setup: ENOSYS (a kernel built without CONFIG_IO_URING)
TW-GUEST-EXIT 5
EOF
	verdict "exited 0"
	expect_verdict no-io_uring 5 "" "no io_uring: io_uring_setup: ENOSYS"

	boot_lines >"$work/console"
	verdict "killed 0 interrupted"
	expect_verdict interrupted 130
}

# A --bench guest: no cases, twbench's exit status is the verdict.
bench_console() {
	cat <<EOF
TW-GUEST-BOOTED release=7.3.4 uptime=2.76 cpus=2
TW-GUEST-SUITE-START uptime=2.96 mode=bench
TW-GUEST-BENCH 12 results: 9 ok, 2 skip, 1 error
TW-GUEST-SUITE-DONE status=$1 uptime=80.1
TW-GUEST-SHIPPED uptime=80.2
TW-GUEST-EXIT $1
EOF
}

check_bench_verdicts() {
	bench_console 0 >"$work/console"
	verdict "exited 0"
	expect_verdict pass 0 "" "twbench finished \\(12 results: 9 ok, 2 skip, 1 error\\)$"
	bench_console 1 >"$work/console"
	verdict "exited 0"
	expect_verdict fail 1 "" "twbench: a workload saw errors"
	bench_console 2 >"$work/console"
	verdict "exited 0"
	expect_verdict usage 2 "" "twbench in the guest refused"
	bench_console 77 >"$work/console"
	verdict "exited 0"
	expect_verdict skip 77 "" "twbench: nothing could run"
	grep -q case "$work/verdict" && fail "a benchmark verdict speaks of cases"
	# Stopped mid-run: a hang during twbench, not "before the first program".
	bench_console 0 | sed '/BENCH\|DONE\|SHIPPED\|EXIT/d' >"$work/console"
	verdict "killed 0 deadline"
	expect_verdict hang 1 "" "did not finish in time during twbench: the deadline"
}

# The case a panic took down is added to the results.json that came back
# (guest/lost-case.awk): one more count and test entry, still JSON.
check_lost_case() {
	{
		printf '{\n  "schema": 1,\n  "counts": {"pass": 2, "fail": 0, "hang": 0, "crash": 0},\n'
		printf '  "tests": [\n'
		printf '    {"name": "wakeup.default", "result": "pass"},\n'
		printf '    {"name": "wakeup.coop", "result": "pass"}\n  ]\n}\n'
	} >"$work/results.json"
	TW_LOST_REASON='panic during wakeup.single: "x" \ y' awk -v name=wakeup.single -v result=crash \
		-f "$guest/lost-case.awk" "$work/results.json" >"$work/r.json" || fail "awk failed"
	grep -q '"counts": {"pass": 2, "fail": 0, "hang": 0, "crash": 1}' "$work/r.json" ||
		fail "counts not updated: $(cat "$work/r.json")"
	grep -q '"name": "wakeup.coop", "result": "pass"},$' "$work/r.json" ||
		fail "the last entry before it lost its comma: $(cat "$work/r.json")"
	grep -q '{"name": "wakeup.single", "program": "wakeup", "profile": "single", "result": "crash", "seconds": null, "reason": "panic during wakeup.single: \\"x\\" \\\\ y",' "$work/r.json" ||
		fail "no entry for the lost case: $(cat "$work/r.json")"
	if command -v python3 >/dev/null 2>&1; then
		python3 -m json.tool "$work/r.json" >/dev/null 2>"$work/err" ||
			fail "not JSON: $(cat "$work/err")"
	fi
	# An empty tests array: the entry and no stray comma.
	printf '{\n  "counts": {"pass": 0, "hang": 0},\n  "tests": [\n  ]\n}\n' >"$work/results.json"
	TW_LOST_REASON=silence awk -v name=orphans.defer -v result=hang \
		-f "$guest/lost-case.awk" "$work/results.json" >"$work/r.json" || fail "awk failed"
	[ "$(grep -c ',$' "$work/r.json")" = 1 ] && grep -q '"hang": 1' "$work/r.json" ||
		fail "empty tests array: $(cat "$work/r.json")"
}

checks=${TW_CHECKS:-"verdicts bench_verdicts lost_case"}
# shellcheck disable=SC2086 # the list is words
run_checks $checks
