#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of guest/vm-run and its helpers, on the host, in seconds: the
# exit status and the one line of every bad input (missing or unreadable
# image, a file that is not a kernel, an ELF vmlinux qemu cannot boot, no
# qemu, no busybox-static, usage errors, --bisect's mapping, runtests.sh
# --kernel passing through); kernel image detection (guest/kimage); the
# initramfs writer (guest/mkcpio); the console watcher (guest/watch:
# silence, deadline, end marker, Ctrl-C, nothing left running); the results
# round trip over the serial port (guest/ship, guest/unpack: the last
# intact bundle wins); and the console verdicts (guest/verdict.awk) on
# canned consoles: pass, fail, panic and fatal oops mid-case, panic at boot,
# no init, silence, deadline, a reset, no io_uring, qemu failing; and
# --bench (the benchmark in the guest): its verdicts, which speak of twbench
# and pass its exit status on, and a run with a fake qemu (initramfs,
# kernel command line, results directory).
#
# Booting a kernel is opt-in (slow): TW_VM_SELFTEST_BOOT=1 with
# TW_VM_SELFTEST_KERNEL=IMAGE adds a pass, a panic and a hang in qemu.
#
#   test/meta/guest.sh                    prints TAP, exit 0 if all passed
#   TW_CHECKS="verdicts watch" scripts/...    only these checks
# Needs `make` first (guest/kimage, guest/mkcpio, guest/watch).

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
guest=$top/guest

work=$(mktemp -d "${TMPDIR:-/tmp}/vm-selftest.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# vm ARGS...: guest/vm-run with a private static build (the user's
# build-static/ is left alone), output in $work/out, status in $rc.
vm() {
	env TW_VM_BUILD_DIR="$work/build" XDG_CACHE_HOME="$work/cache" "$@" >"$work/out" 2>&1 </dev/null
	rc=$?
}


# ---- bad input and usage ----------------------------------------------------------

check_usage() {
	vm "$guest/vm-run"
	expect 2 'no kernel image given'
	vm "$guest/vm-run" --smp x /dev/null
	expect 2 "bad --smp 'x'"
	vm "$guest/vm-run" --accel fast /dev/null
	expect 2 "bad --accel 'fast'"
	vm "$guest/vm-run" --bisect-not-an-option /dev/null
	expect 2 "unknown option"
	vm "$guest/vm-run" /dev/null -- --results-dir x
	expect 2 "is vm-run's option here"
	# Under --bisect a usage error stops git bisect run (128), like the runner's.
	vm "$guest/vm-run" --smp 0 /dev/null -- --bisect
	expect 128 "bad --smp"
	vm "$top/runtests.sh" --smp 2
	expect 2 "goes with --kernel"
	vm "$guest/vm-run" --help
	expect 0 '^Exit status:'
}

check_bad_input() {
	vm "$guest/vm-run" "$work/no-such-image"
	expect 4 "no-such-image: no such file"
	[ "$(grep -c . "$work/out")" = 1 ] || fail "more than one line for a missing image"
	vm "$guest/vm-run" "$work/no-such-image" -- --bisect
	expect 125
	vm "$top/runtests.sh" --kernel "$work/no-such-image" fanin_local
	expect 4 "no such file"
	vm "$top/runtests.sh" --kernel "$work/no-such-image" --bisect
	expect 125
	vm "$guest/vm-run" "$work"
	expect 4 "not a regular file"
	: >"$work/unreadable"
	chmod 000 "$work/unreadable"
	if ! [ -r "$work/unreadable" ]; then	# root reads anything
		vm "$guest/vm-run" "$work/unreadable"
		expect 4 "cannot read it"
	fi
	vm env TW_QEMU=tw-no-such-qemu "$guest/vm-run" /etc/passwd
	expect 4 "tw-no-such-qemu not found: install qemu"
	vm env TW_QEMU=true TW_BUSYBOX="$work/no-busybox" "$guest/vm-run" /etc/passwd
	expect 4 "no-busybox not found: install busybox-static"
}

# Images qemu cannot boot: found by guest/kimage after the tools are built
# (before busybox is looked at: any existing file stands in for it, and
# `true` for qemu, so neither needs to be installed).
check_not_a_kernel() {
	vm env TW_QEMU=true TW_BUSYBOX=/bin/sh "$guest/vm-run" /etc/passwd
	if grep -q 'cannot build the suite statically' "$work/out"; then
		expect 4
		cat "$work/out"		# the reason for the skip
		exit 77
	fi
	expect 4 "/etc/passwd: not a kernel image"
	vm env TW_QEMU=true TW_BUSYBOX=/bin/sh "$guest/vm-run" /bin/sh
	expect 4 "an ELF program, not a kernel image"
	fake_vmlinux "$work/vmlinux-nopvh" || exit 77
	vm env TW_QEMU=true TW_BUSYBOX=/bin/sh "$guest/vm-run" "$work/vmlinux-nopvh"
	expect 4 "without the PVH note"
	fake_bzimage "$work/bzImage"
	vm env TW_QEMU=true TW_BUSYBOX=/bin/sh "$guest/vm-run" "$work/bzImage"
	expect 4 "/bin/sh is not statically linked: install busybox-static"
}

# ---- kernel images -----------------------------------------------------------------

# A file with just what identifies a bzImage: the boot sector's 0xAA55 at
# 0x1fe, "HdrS" at 0x202, kernel_version (0x20e) pointing at a string.
fake_bzimage() {
	{
		dd if=/dev/zero bs=510 count=1 2>/dev/null
		printf '\125\252'			# 0x1fe: 55 aa
		printf '\353\000HdrS\000\000'		# 0x200: jump, 0x202: magic
		dd if=/dev/zero bs=6 count=1 2>/dev/null	# to 0x20e
		printf '\000\001'			# kernel_version: 0x100 (+0x200)
		dd if=/dev/zero bs=240 count=1 2>/dev/null	# to 0x300
		printf '9.8.7-fake (tw@selftest) #1 SMP\000'
		dd if=/dev/zero bs=1024 count=1 2>/dev/null
	} >"$1"
}

# fake_vmlinux FILE [pvh]: a static ELF executable with the kernel's
# banner, and with PVH the Xen PHYS32_ENTRY note qemu looks for.
fake_vmlinux() {
	cc=${CC:-cc}
	command -v "$cc" >/dev/null 2>&1 || { say "no C compiler for a fake vmlinux"; return 1; }
	{
		say 'const char banner[] = "Linux version 9.8.6-fakevm (tw@selftest) #1";'
		if [ "${2:-}" = pvh ]; then
			say '__asm__(".pushsection .note.Xen, \"a\", @note\n.long 4\n.long 4\n.long 18\n'
			say '.asciz \"Xen\"\n.long 0x1000000\n.popsection");'
		fi
		say 'void _start(void) { for (;;) ; }'
	} >"$work/fake.c"
	$cc -static -nostdlib -no-pie -o "$1" "$work/fake.c" 2>"$work/cc.out" ||
		{ say "cannot build a fake vmlinux: $(head -n 1 "$work/cc.out")"; return 1; }
}

check_kimage() {
	[ -x "$guest/kimage" ] || { say "guest/kimage not built: run make"; exit 77; }
	fake_bzimage "$work/bzImage"
	[ "$("$guest/kimage" "$work/bzImage")" = "bzimage 9.8.7-fake" ] ||
		fail "bzImage: $("$guest/kimage" "$work/bzImage")"
	[ "$("$guest/kimage" /etc/passwd)" = "other -" ] || fail "/etc/passwd is not 'other'"
	[ "$("$guest/kimage" /bin/sh)" = "elf-dynamic -" ] || fail "/bin/sh is not 'elf-dynamic'"
	: >"$work/empty"
	[ "$("$guest/kimage" "$work/empty")" = "other -" ] || fail "an empty file is not 'other'"
	"$guest/kimage" "$work/no-such-file" >/dev/null 2>&1 && fail "a missing file gave status 0"
	if fake_vmlinux "$work/vmlinux-nopvh" && fake_vmlinux "$work/vmlinux-pvh" pvh; then
		[ "$("$guest/kimage" "$work/vmlinux-nopvh")" = "vmlinux-nopvh 9.8.6-fakevm" ] ||
			fail "vmlinux without PVH: $("$guest/kimage" "$work/vmlinux-nopvh")"
		[ "$("$guest/kimage" "$work/vmlinux-pvh")" = "vmlinux-pvh 9.8.6-fakevm" ] ||
			fail "vmlinux with PVH: $("$guest/kimage" "$work/vmlinux-pvh")"
	fi
}

# ---- the initramfs -----------------------------------------------------------------

check_mkcpio() {
	[ -x "$guest/mkcpio" ] || { say "guest/mkcpio not built: run make"; exit 77; }
	printf 'hello initramfs\n' >"$work/hello"
	cat >"$work/list" <<EOF
# a comment, then a blank line

dir /bin 0755
dir /home/user 0700 1000 1000
nod /dev/console 0600 c 5 1
file /bin/hello $work/hello 0644
slink /bin/sh busybox
EOF
	"$guest/mkcpio" "$work/list" >"$work/a.cpio" || fail "mkcpio failed"
	"$guest/mkcpio" "$work/list" >"$work/b.cpio" || fail "mkcpio failed"
	cmp -s "$work/a.cpio" "$work/b.cpio" || fail "the same list gave different archives"
	[ "$(head -c 6 "$work/a.cpio")" = 070701 ] || fail "not a newc archive"
	grep -q 'hello initramfs' "$work/a.cpio" || fail "the file's data is missing"
	grep -q 'TRAILER!!!' "$work/a.cpio" || fail "no trailer"
	[ $(($(wc -c <"$work/a.cpio") % 4)) = 0 ] || fail "the archive is not padded to 4 bytes"
	if command -v cpio >/dev/null 2>&1; then
		cpio -itvn <"$work/a.cpio" >"$work/out" 2>/dev/null || fail "cpio cannot read it"
		grep -Eq '^crw------- .* 5, +1 .* dev/console$' "$work/out" || fail "no /dev/console node"
		grep -Eq '^drwx------ .* 1000 +1000 .* home/user$' "$work/out" ||
			fail "owner of /home/user"
		grep -Eq '^lrwxrwxrwx .* bin/sh -> busybox$' "$work/out" || fail "no symlink"
	fi
	printf 'file /x %s/no-such-source 0644\n' "$work" >"$work/bad"
	"$guest/mkcpio" "$work/bad" >/dev/null 2>"$work/out" && fail "a missing source gave status 0"
	grep -q 'bad:1: .*no-such-source' "$work/out" || fail "the error does not name the line"
	printf 'nod /dev/x 0600 q 1 1\n' >"$work/bad"
	"$guest/mkcpio" "$work/bad" >/dev/null 2>&1 && fail "a bad device type gave status 0"
	:
}

# ---- the console watcher -------------------------------------------------------------

watch() {
	"$guest/watch" -r "$work/result" -l "$work/log" -m "$work/marks" "$@" >"$work/out" 2>&1
}

result() {
	sed -n "s/^$1=//p" "$work/result"
}

# alive PID: running, not a zombie (a killed child whose parent died first
# stays one until its new parent reaps it).
alive() {
	[ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]
}

check_watch() {
	[ -x "$guest/watch" ] || { say "guest/watch not built: run make"; exit 77; }
	watch -x HIDDEN -- sh -c 'echo one; echo "HIDDEN line"; printf "two\r\n"; echo TW-MARK x; exit 3'
	[ "$(result status) $(result exit)" = "exited 3" ] || fail "exit status not passed"
	[ -z "$(result reason)" ] || fail "a command that exited was 'stopped'"
	grep -qx '\[guest\] one' "$work/out" || fail "no prefixed line"
	grep -q HIDDEN "$work/out" && fail "a hidden line was echoed"
	grep -q HIDDEN "$work/log" || fail "a hidden line is missing from the log"
	grep -q "$(printf '\r')" "$work/log" && fail "carriage returns in the log"
	grep -Eq '^[0-9.]+ TW-MARK x$' "$work/marks" || fail "no mark with a time"

	watch -S 1 -- sh -c 'echo $$ >'"$work/pid"'; echo started; exec sleep 60'
	[ "$(result reason)" = silence ] || fail "no stop on silence: $(cat "$work/result")"
	[ "$(result status)" = killed ] || fail "not killed on silence"
	alive "$(cat "$work/pid")" && fail "the command still runs after silence"

	# -B: a quiet boot may stay silent longer than -S, but only until the
	# first output; then -S holds again.
	watch -S 0.5 -B 3 -- sh -c 'sleep 1; echo booted; exec sleep 60'
	[ "$(result reason)" = silence ] || fail "no stop on silence after boot: $(cat "$work/result")"
	grep -qx '\[guest\] booted' "$work/out" || fail "stopped before the first output (-B ignored)"
	awk '$1 == "seconds=" || /^seconds=/ { split($0, a, "="); exit !(a[2] < 2.5) }' "$work/result" ||
		fail "-S did not hold after the first output: $(cat "$work/result")"

	# -H: once a heartbeat came, other output (a kernel in a soft lockup
	# printing its reports) does not count as a sign of life.
	watch -S 1 -H TW-HB -D 20 -- sh -c 'echo TW-HB 1; while :; do echo "BUG: soft lockup"; sleep 0.2; done'
	[ "$(result reason) $(result heartbeat)" = "silence 1" ] ||
		fail "output without heartbeats kept the guest 'alive': $(cat "$work/result")"

	watch -D 1 -- sh -c 'while :; do echo tick; sleep 0.2; done'
	[ "$(result reason)" = deadline ] || fail "no stop at the deadline: $(cat "$work/result")"

	# After the end marker the guest gets the grace time, then it is killed
	# even if it ignores SIGTERM (a kernel that halts instead of powering off).
	watch -E TW-GUEST-EXIT -g 0.5 -- sh -c 'trap "" TERM; echo "TW-GUEST-EXIT 0"; sleep 60'
	[ "$(result reason) $(result signal)" = "end SIGKILL" ] ||
		fail "not killed after the end marker: $(cat "$work/result")"

	# Ctrl-C (SIGINT to the watcher): the command's whole group goes.
	"$guest/watch" -r "$work/result" -- sh -c \
		'sleep 60 & echo $! >'"$work/pid"'; echo up; wait' >"$work/out" 2>&1 &
	wpid=$!
	n=0
	while ! grep -q up "$work/out" && [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -INT "$wpid"
	wait "$wpid"
	[ "$(result reason)" = interrupted ] || fail "Ctrl-C not reported: $(cat "$work/result")"
	sleep 0.2
	alive "$(cat "$work/pid")" && fail "a child of the command survived Ctrl-C"
	:
}

# ---- results over the serial port --------------------------------------------------------

check_bundles() {
	mkdir -p "$work/res"
	printf 'first\n' >"$work/res/results.json"
	ship() {
		env TW_VM_SHIP_PORT="$work/ttyS1" TW_VM_SHIP_SEQ="$work/seq" TMPDIR="$work" \
			sh "$guest/ship" "$work/res"
	}
	ship || fail "vm-ship failed"
	printf 'second\n' >"$work/res/results.json"
	printf 'log\n' >"$work/res/a.log"
	ship
	n=$(sh "$guest/unpack" "$work/ttyS1" "$work/got") || fail "no bundle unpacked"
	[ "$n" = 2 ] || fail "bundle $n unpacked, expected 2"
	[ "$(cat "$work/got/results.json")" = second ] || fail "the last bundle's contents are wrong"
	[ -f "$work/got/a.log" ] || fail "a file of the last bundle is missing"

	# A guest that died while sending its third bundle: the second one wins.
	printf 'TW-BUNDLE-BEGIN 3 999 %s\nH4sIAAAA\n' "$(printf '%064d' 0)" >>"$work/ttyS1"
	n=$(sh "$guest/unpack" "$work/ttyS1" "$work/got") || fail "no bundle after a cut one"
	[ "$n" = 2 ] || fail "bundle $n unpacked after a cut one, expected 2"

	# A corrupted bundle (a byte changed): its checksum fails, the first wins.
	awk '/^TW-BUNDLE-BEGIN 2 / { b = 1 } b && !/^TW-/ && !done { $0 = "A" substr($0, 2); done = 1 } 1' \
		"$work/ttyS1" >"$work/ttyS1.bad"
	n=$(sh "$guest/unpack" "$work/ttyS1.bad" "$work/got") || fail "no bundle after a bad one"
	[ "$n $(cat "$work/got/results.json")" = "1 first" ] ||
		fail "bundle $n unpacked after a corrupted one, expected 1"
	: >"$work/empty"
	sh "$guest/unpack" "$work/empty" "$work/got" >/dev/null && fail "status 0 without bundles"
	:
}

# ---- console verdicts ------------------------------------------------------------------------

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

# vm-run --bench with a fake qemu that checks what a benchmark guest gets
# (twbench in the initramfs, tw_accel on the command line) and sends a
# bench.json back the way vm-ship does.
check_bench_fake_qemu() {
	[ -x "$guest/watch" ] || { say "guest/watch not built: run make"; exit 77; }
	fake_bzimage "$work/bzImage"
	cat >"$work/qemu" <<EOF
#!/bin/sh
port= initrd= append=
while [ \$# -gt 0 ]; do
	case \$1 in
	file:*) port=\${1#file:}; : >"\$port" ;;
	-initrd) initrd=\$2 ;;
	-append) append=\$2 ;;
	esac
	shift
done
echo "TW-GUEST-BOOTED release=9.8.7-fake uptime=1.0 cpus=2"
# A newc entry name ends with a NUL (vm-init's text names the path too).
tr '\\000' '\\n' <"\$initrd" | grep -aq 'suite/bench/twbench\$' || echo "FAKE: no twbench in the initramfs"
case " \$append " in *" tw_accel=tcg "*) ;; *) echo "FAKE: no tw_accel=tcg in: \$append" ;; esac
echo "TW-GUEST-SUITE-START uptime=1.1 mode=bench"
mkdir -p "$work/gb"
cp "$top/test/meta/bench-runs/a.json" "$work/gb/bench.json"
echo table >"$work/gb/bench.txt"
TW_VM_SHIP_PORT=\$port TW_VM_SHIP_SEQ="$work/gseq" sh "$guest/ship" "$work/gb"
echo "TW-GUEST-BENCH 1 results: 1 ok, 0 skip, 0 error"
echo "TW-GUEST-SUITE-DONE status=0 uptime=2.0"
echo "TW-GUEST-SHIPPED uptime=2.1"
echo "TW-GUEST-EXIT 0"
EOF
	chmod +x "$work/qemu"
	# Like check_fake_qemu, in the usual build-static/.
	TW_QEMU=$work/qemu "$guest/vm-run" --bench --accel tcg --results-dir "$work/fb" \
		"$work/bzImage" -- -d 0.2 msgring >"$work/out" 2>&1
	rc=$?
	expect 0 '^twbench finished \(1 results: 1 ok'
	grep -q FAKE "$work/out" && fail "the guest's setup is wrong"
	[ -s "$work/fb/bench.json" ] || fail "bench.json did not come back"
	[ -s "$work/fb/bench.txt" ] || fail "bench.txt did not come back"
	if command -v gnuplot >/dev/null 2>&1; then
		[ -s "$work/fb/bench.png" ] || fail "no bench.png (gnuplot is there)"
		grep -q 'bench/plot' "$work/out" && fail "bench/plot complained"
	fi
	grep -q '"mode": "bench"' "$work/fb/vm.json" || fail "vm.json: no bench mode"
	grep -q '"bench_args": "-d 0.2 msgring"' "$work/fb/vm.json" || fail "vm.json: no bench_args"
	# The default deadline follows twbench's options (-d 2.2 written -d2.2).
	d1=$(sed -n 's/^  "deadline": \([0-9]*\),$/\1/p' "$work/fb/vm.json")
	TW_QEMU=$work/qemu "$guest/vm-run" --bench --accel tcg --results-dir "$work/fb" \
		"$work/bzImage" -- -d2.2 msgring >"$work/out" 2>&1
	rc=$?
	expect 0
	grep -q '"bench_args": "-d2.2 msgring"' "$work/fb/vm.json" || fail "vm.json: bench_args"
	d2=$(sed -n 's/^  "deadline": \([0-9]*\),$/\1/p' "$work/fb/vm.json")
	[ "${d1:-0}" -gt 180 ] && [ "${d2:-0}" -gt "${d1:-0}" ] ||
		fail "deadline $d1 s for -d 0.2, $d2 s for -d2.2: not from twbench's options"
	vm "$guest/vm-run" --bench "$work/bzImage" -- -o /tmp/x
	expect 2 "is vm-run's --results-dir here"
	vm "$top/runtests.sh" --bench
	expect 2 "goes with --kernel"
}

# ---- booting (opt-in) ------------------------------------------------------------------------

# vm-run from start to verdict with a fake qemu (TW_QEMU) that prints a
# passing guest's console: every option vm-run hands to vm-watch and qemu
# is exercised without booting (a usage error there once stopped every run).
check_fake_qemu() {
	[ -x "$guest/watch" ] || { say "guest/watch not built: run make"; exit 77; }
	fake_bzimage "$work/bzImage"
	cat >"$work/qemu" <<'EOF'
#!/bin/sh
for a; do
	case $a in file:*) : >"${a#file:}" ;; esac
done
echo "TW-GUEST-BOOTED uptime=1.0"
echo "TW-GUEST-SUITE-START"
echo "fake.default pass 0.50s"
echo "TW-GUEST-SUITE-DONE status=0 uptime=2.0"
echo "TW-GUEST-EXIT 0"
EOF
	chmod +x "$work/qemu"
	TW_QEMU=$work/qemu "$guest/vm-run" --accel tcg --results-dir "$work/fq" "$work/bzImage" \
		-- fake >"$work/out" 2>&1
	st=$?
	[ "$st" = 0 ] || fail "vm-run with a passing fake guest: exit $st: $(cat "$work/out")"
	grep -q 'the runner passed' "$work/out" || fail "no pass verdict: $(cat "$work/out")"
	grep -q '"verdict": "pass"' "$work/fq/vm.json" || fail "vm.json: no pass verdict"
	grep -q 'vm-watch\|usage' "$work/out" && fail "vm-watch complained: $(cat "$work/out")"
	:
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

check_boot() {
	if [ "${TW_VM_SELFTEST_BOOT:-0}" != 1 ] || [ -z "${TW_VM_SELFTEST_KERNEL:-}" ]; then
		say "booting is opt-in: TW_VM_SELFTEST_BOOT=1 TW_VM_SELFTEST_KERNEL=IMAGE"
		exit 77
	fi
	k=$TW_VM_SELFTEST_KERNEL
	vm env TW_VM_FIXTURES=1 "$guest/vm-run" --results-dir "$work/r1" "$k" -- fanin_local.defer
	expect 0 '^1 cases: 1 pass'
	grep -q '"verdict": "pass"' "$work/r1/vm.json" || fail "vm.json: not pass"
	grep -q '"result": "pass"' "$work/r1/results.json" || fail "no results came back"

	vm env TW_VM_FIXTURES=1 "$guest/vm-run" --results-dir "$work/r2" "$k" -- \
		fanin_local.defer fake_vm_panic
	expect 1 '^panic: kernel panic during fake_vm_panic.default: sysrq triggered crash'
	grep -q '"test": "fake_vm_panic.default"' "$work/r2/vm.json" || fail "vm.json: no test"
	grep -q 'fanin_local.defer' "$work/r2/results.json" ||
		fail "the results before the panic did not come back"
	grep -q 'Kernel panic' "$work/r2/console-tail.txt" || fail "no panic in the console tail"
	grep -q '"name": "fake_vm_panic.default", "program": "fake_vm_panic", "profile": "default", "result": "crash"' \
		"$work/r2/results.json" || fail "results.json: no crash entry for the panicked case"

	vm env TW_VM_FIXTURES=1 "$guest/vm-run" --silence 15 --results-dir "$work/r3" "$k" -- \
		fake_vm_hang
	expect 1 '^hang: the guest stopped answering during fake_vm_hang.default: no output for'
	grep -q '"stopped": "silence"' "$work/r3/vm.json" || fail "vm.json: qemu not stopped on silence"
	grep -q '"name": "fake_vm_hang.default", "program": "fake_vm_hang", "profile": "default", "result": "hang"' \
		"$work/r3/results.json" || fail "results.json: no hang entry for the case the guest hung in"
}

checks=${TW_CHECKS:-"usage bad_input not_a_kernel kimage mkcpio watch bundles verdicts bench_verdicts fake_qemu bench_fake_qemu lost_case boot"}
# shellcheck disable=SC2086 # the list is words
run_checks $checks
