#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of the suite as it is installed and put into a guest:
# make install's tree runs from another directory and builds nothing;
# guest/vm-run from start to verdict with a fake qemu (the initramfs holds
# the installed tree under /suite; the options vm-run hands to guest/watch
# and qemu), and with --bench (twbench in the initramfs, tw_accel on the
# kernel command line, bench.json back, the deadline from twbench's
# options).
#
# Booting a kernel is opt-in (slow): TW_VM_SELFTEST_BOOT=1 with
# TW_VM_SELFTEST_KERNEL=IMAGE adds a pass, a panic and a hang in qemu.
#
#   test/meta/guest-suite.sh                  prints TAP, exit 0 if all passed
#   TW_CHECKS="install" test/meta/guest-suite.sh   only these checks
# Needs `make` first.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/guest-lib.sh
. "$top/test/meta/guest-lib.sh"

# make install's tree (the guest's /suite too): what runtests.sh needs and
# no sources; it runs from another directory without building anything,
# by itself and through $(PREFIX)/bin/tw-runtests; make uninstall takes
# back every file.
check_install() {
	make -s -C "$top" install DESTDIR="$work/inst" PREFIX=/usr/local >"$work/out" 2>&1 ||
		fail "make install failed"
	tree=$work/inst/usr/local/libexec/tw-suite
	for f in runtests.sh runner/supervise runner/lib.sh runner/kmsg-patterns test/known-issues \
		test/exclude bench/twbench VERSION; do
		[ -f "$tree/$f" ] || fail "not installed: $f"
	done
	for c in "$top"/test/*.c; do
		t=${c##*/}
		[ -x "$tree/test/${t%.c}.t" ] || fail "not installed: test/${t%.c}.t"
	done
	find "$tree" -name '*.[cho]' >"$work/out"
	[ -s "$work/out" ] && fail "sources or objects installed"
	(cd / && "$tree/runtests.sh" --list wakeup) >"$work/out" 2>&1
	rc=$?
	expect 0 '^wakeup\.default'
	no_line 'nothing built|make'
	(cd / && "$work/inst/usr/local/bin/tw-runtests" --list wakeup) >"$work/out" 2>&1
	rc=$?
	expect 0 '^wakeup\.default'
	# No guest/ there: --kernel says so instead of failing to exec vm-run.
	(cd / && "$tree/runtests.sh" --kernel "$work/no-such-image" wakeup) >"$work/out" 2>&1
	rc=$?
	expect 4 '--kernel needs the source tree'
	make -s -C "$top" uninstall DESTDIR="$work/inst" PREFIX=/usr/local >"$work/out" 2>&1 ||
		fail "make uninstall failed"
	find "$work/inst" ! -type d >"$work/out"
	[ -s "$work/out" ] && fail "left after make uninstall"
	:
}

# vm-run from start to verdict with a fake qemu (TW_QEMU) that prints a
# passing guest's console: every option vm-run hands to vm-watch and qemu
# is exercised without booting (a usage error there once stopped every run).
check_fake_qemu() {
	[ -x "$guest/watch" ] || { say "guest/watch not built: run make"; exit 77; }
	fake_bzimage "$work/bzImage"
	cat >"$work/qemu" <<'EOF'
#!/bin/sh
initrd=
while [ $# -gt 0 ]; do
	case $1 in
	file:*) : >"${1#file:}" ;;
	-initrd) initrd=$2 ;;
	esac
	shift
done
# A newc entry's name ends with a NUL: one line each after tr.
tr '\000' '\n' <"$initrd" >"$initrd.names"
for f in init bin/vm-ship bin/uring-check suite/runtests.sh suite/runner/supervise \
	suite/runner/lib.sh suite/runner/kmsg-patterns suite/test/wakeup.t \
	suite/test/known-issues suite/test/exclude suite/bench/twbench; do
	grep -aq "$f\$" "$initrd.names" || echo "FAKE: no /$f in the initramfs"
done
echo "TW-GUEST-BOOTED uptime=1.0"
echo "TW-GUEST-SUITE-START"
echo "fake.default pass 0.50s"
echo "TW-GUEST-SUITE-DONE status=0 uptime=2.0"
echo "TW-GUEST-EXIT 0"
EOF
	chmod +x "$work/qemu"
	TW_QEMU=$work/qemu "$guest/vm-run" --accel tcg --results-dir "$work/fq" "$work/bzImage" \
		-- wakeup >"$work/out" 2>&1
	st=$?
	[ "$st" = 0 ] || fail "vm-run with a passing fake guest: exit $st: $(cat "$work/out")"
	grep -q 'the runner passed' "$work/out" || fail "no pass verdict: $(cat "$work/out")"
	grep -q '"verdict": "pass"' "$work/fq/vm.json" || fail "vm.json: no pass verdict"
	grep -q 'vm-watch\|usage' "$work/out" && fail "vm-watch complained: $(cat "$work/out")"
	grep -q FAKE "$work/out" && fail "the initramfs is not the installed suite: $(cat "$work/out")"
	# Without --results-dir: a directory per run, latest the newest.
	for i in 1 2; do
		TW_RESULTS=$work/res TW_QEMU=$work/qemu "$guest/vm-run" --accel tcg "$work/bzImage" \
			-- wakeup >"$work/out.$i" 2>&1 || fail "vm-run $i: $(cat "$work/out.$i")"
	done
	expect_two_runs "$work/res/9.8.7-fake" vm.json
	grep -q "(results in $run2)" "$work/out.2" || fail "vm-run did not say where: $(cat "$work/out.2")"
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

checks=${TW_CHECKS:-"install fake_qemu bench_fake_qemu boot"}
# shellcheck disable=SC2086 # the list is words
run_checks $checks
