# SPDX-License-Identifier: MIT
# shellcheck shell=sh disable=SC2154,SC2034 # guest/vm-run's variables, shared by its parts
#
# guest/vm-console.sh - the guest's run and its console (sourced by guest/vm-run).
#
# The deadline and the kernel command line, qemu under guest/watch, then
# the console judged by guest/verdict.awk: verdict, exit status, the case
# that was running; and the boot, suite and transfer times from /init's
# markers.

# The default deadline: boot, then every program of the selection (at most
# all of them) with its timeout, repeat times.
default_deadline() {
	if [ "$mode" = bench ]; then
		bench_deadline
		return
	fi
	programs=$(find "$suite/test" -name '*.t' | wc -l)
	[ "$fixtures" = 1 ] && programs=$((programs + 2))	# fake_vm_panic, fake_vm_hang
	awk -v boot="$BOOT_ALLOWANCE" -v slack="$PROGRAM_SLACK" -v n="$programs" \
		-v t="$rt_timeout" -v d="${rt_duration:-0}" -v r="${rt_repeat:-1}" 'BEGIN {
		if (t == "")
			t = 180 + 16 * d	# runtests.sh: DEFAULT_TIMEOUT, TIMEOUT_PER_DURATION
		if (t == 0)
			t = 3600		# no timeout in the guest: an hour a program
		printf "%d\n", boot + n * r * (t + slack)
	}'
}

# --bench: boot, then an upper bound on twbench's time: every workload.mode
# asked for (twbench -l, all if none) at every producer count, each run its
# warm-up and measured time plus slack for starting threads and rings.
bench_deadline() {
	"$suite/bench/twbench" -l >"$work/bench.list" 2>&1
	awk -v boot="$BOOT_ALLOWANCE" -v slack="$BENCH_ROW_SLACK" -v names="$bench_names" \
		-v d="$bench_d" -v w="$bench_w" -v r="$bench_r" -v plist="$bench_p" '
	/^  [a-z_]+\.[a-z_]+ / { listed[++n] = $1 }
	END {
		rows = 0
		k = split(names, want, " ")
		for (i = 1; i <= n; i++) {
			split(listed[i], wm, ".")
			hit = k == 0
			for (j = 1; j <= k; j++)
				if (want[j] == listed[i] || want[j] == wm[1])
					hit = 1
			rows += hit
		}
		if (n == 0)		# no list: a generous guess
			rows = k == 0 ? 12 : 4 * k
		rows *= split(plist, p, ",")
		printf "%d\n", boot + 60 + rows * (r * (d + w + 0.5) + slack)
	}' "$work/bench.list"
}

# The kernel command line: a panic ends qemu (panic=-1 reboots at once,
# -no-reboot turns that into an exit); every /dev/kmsg write is kept (the
# supervisor's case markers come faster than the default rate limit); the
# tests' hang deadline for /init, raised under emulation; under --bench the
# accelerator, for twbench's JSON (the initramfs is made before it is known).
kernel_cmdline() {
	hang=${TW_HANG_SECONDS:-}
	[ -z "$hang" ] && [ "$accel_used" = tcg ] && hang=$TCG_HANG_SECONDS
	acc=
	[ "$mode" = bench ] && acc=" tw_accel=$accel_used"
	# A benchmark stamps every message with the clock. Under TCG on a busy
	# host the clocksource watchdog once marked the TSC unstable 4 s into
	# a run and the guest fell back to the HPET (each clock_gettime() an
	# emulated MMIO read): every row after it 2-10x slower. The guest's TSC
	# follows the host's clock, so the watchdog is told to trust it.
	case " $append " in
	*" tsc="*) ;;
	*) [ "$mode" = bench ] && acc="$acc tsc=reliable" ;;
	esac
	say "console=ttyS0 panic=-1 quiet printk.devkmsg=on${hang:+ tw_hang=$hang}$acc${append:+ $append}"
}

# Silence allowed before the guest's first output: a kernel booted with
# "quiet" prints nothing until /init's first line, and under TCG on a loaded
# host that took more than the 60 s of --silence (seen: a Debian 7.3 kernel
# while two kernel builds ran). The boot allowance, or --silence if longer.
boot_silence() {
	awk -v s="$silence" -v b="$BOOT_ALLOWANCE" 'BEGIN { print (s + 0 > b + 0 ? s : b) }'
}

run_guest() {
	set -- -l "$work/console.log" -r "$work/watch" -m "$work/marks" -p "[guest] " \
		-E "TW-GUEST-EXIT " -E "end Kernel panic" -g "$END_GRACE" -S "$silence" \
		-B "$(boot_silence)" -H "TW-HB " -D "$deadline"
	[ "$verbose" = 1 ] || set -- "$@" -x "TW-HB " -x "tw-runtests["
	# In the background, so that a signal to us (kill, a kernel-matrix
	# being stopped) runs the trap at once and is passed on: vm-watch then
	# stops qemu. (Ctrl-C reaches the whole process group anyway.)
	# shellcheck disable=SC2046 # accel_args is several words
	"$sdir/guest/watch" "$@" -- "$qemu" $(accel_args) -smp "$smp" -m "$mem" \
		-display none -nodefaults -no-reboot -serial stdio -serial "file:$work/ttyS1" \
		-kernel "$kernel" -initrd "$work/initramfs.cpio" \
		-append "$(kernel_cmdline)" 2>"$work/qemu.err" </dev/null &
	watch_pid=$!
	until wait "$watch_pid"; do
		kill -0 "$watch_pid" 2>/dev/null || break
		[ -z "$interrupted" ] || kill -TERM "$watch_pid" 2>/dev/null
	done
}

# key=value from FILE
kv() {
	sed -n "s/^$1=//p" "$2" | head -n 1
}

# Host seconds at the first console marker MARK (vm-watch's marks file).
mark_time() {
	awk -v m="$1" '$2 == m { print $1; exit }' "$work/marks"
}

# The console and how qemu ended -> verdict, exit status, the case that was
# running, the reason (guest/verdict.awk).
judge_console() {
	qemu_error=$(grep -v -e '^qemu-system-x86_64: warning' -e 'terminating on signal' \
		"$work/qemu.err" | head -n 1)
	awk -v status="$(kv status "$work/watch")" -v code="$(kv exit "$work/watch")" \
		-v stopped="$(kv reason "$work/watch")" -v silent="$(kv silent "$work/watch")" \
		-v seconds="$(kv seconds "$work/watch")" -v qemu_error="$qemu_error" \
		-v heartbeat="$(kv heartbeat "$work/watch")" \
		-f "$top/guest/verdict.awk" "$work/console.log" >"$work/verdict"
	verdict=$(kv verdict "$work/verdict")
	exit_status=$(kv status "$work/verdict")
	guest_status=$(kv guest "$work/verdict")
	vtest=$(kv test "$work/verdict")
	reason=$(kv reason "$work/verdict")
	v_release=$(kv release "$work/verdict")
}

# Boot, suite and transfer seconds from the host times of /init's markers
# (a guest that died mid-run: the suite's time is up to qemu's end); the
# transfer includes unpacking on the host ($1, $2: its start and end).
timings() {
	t_boot=$(mark_time TW-GUEST-BOOTED)
	started=$(mark_time TW-GUEST-SUITE-START)
	done_at=$(mark_time TW-GUEST-SUITE-DONE)
	shipped=$(mark_time TW-GUEST-SHIPPED)
	t_suite=
	t_transfer=
	[ -n "$started" ] && t_suite=$(elapsed "$started" "${done_at:-$(kv seconds "$work/watch")}")
	if [ -n "$done_at" ] && [ -n "$shipped" ]; then
		t_transfer=$(awk -v a="$done_at" -v b="$shipped" -v h="$(elapsed "$1" "$2")" \
			'BEGIN { printf "%.2f", b - a + h }')
	fi
}
