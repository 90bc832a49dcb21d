#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of guest/vm-run's host tools, in seconds: the exit status and
# the one line of every bad input (missing or unreadable image, a file that
# is not a kernel, an ELF vmlinux qemu cannot boot, no qemu, no
# busybox-static, usage errors, --bisect's mapping, runtests.sh --kernel
# passing through); kernel image detection (guest/kimage); the initramfs
# writer (guest/mkcpio); the console watcher (guest/watch: silence,
# deadline, end marker, Ctrl-C, nothing left running); and the results
# round trip over the serial port (guest/ship, guest/unpack: the last
# intact bundle wins). The console's verdicts: test/meta/guest-verdicts.sh;
# the installed suite and whole runs with a fake qemu or a real kernel:
# test/meta/guest-suite.sh.
#
#   test/meta/guest.sh                    prints TAP, exit 0 if all passed
#   TW_CHECKS="watch bundles" test/meta/guest.sh   only these checks
# Needs `make` first (guest/kimage, guest/mkcpio, guest/watch).

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/guest-lib.sh
. "$top/test/meta/guest-lib.sh"

# ---- bad input and usage -----------------------------------------------------

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

# ---- kernel images -----------------------------------------------------------

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

# ---- the initramfs -----------------------------------------------------------

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

# ---- the console watcher -----------------------------------------------------

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

# ---- results over the serial port --------------------------------------------

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

checks=${TW_CHECKS:-"usage bad_input not_a_kernel kimage mkcpio watch bundles"}
# shellcheck disable=SC2086 # the list is words
run_checks $checks
