# SPDX-License-Identifier: MIT
# shellcheck shell=sh disable=SC2154,SC2034 # guest/vm-run's variables, shared by its parts
#
# guest/vm-accel.sh - KVM or TCG (sourced by guest/vm-run).
#
# --accel auto: KVM if a probe shows it works and is fast (a tiny BIOS,
# then a real boot of the kernel to /init), else TCG; the answer is cached
# for this boot of the host. TW_VM_KVM_CPU: qemu's -cpu under KVM.

kvm_cpu=${TW_VM_KVM_CPU:-host}

# A 64 KiB BIOS whose reset vector (F000:FFF0) does 2000 port writes (each
# a VM exit) and then writes 0x2a to isa-debug-exit: qemu exits (0x2a << 1) | 1
# = 85. mov cx,2000 / out 0x80,al / loop / mov al,0x2a / out 0xf4,al / hlt.
write_probe_bios() {
	{
		dd if=/dev/zero bs=65520 count=1 2>/dev/null
		printf '\271\320\007\346\200\342\374\260\052\346\364\364\364\364\364\364'
	} >"$1"
}

# kvm_works: why not on stdout and status 1; the cheap probe first (qemu
# refuses the CPU model, KVM errors), then a real boot of KERNEL to /init,
# which is where nested KVM on some hosts crawls.
kvm_works() {
	if [ ! -e /dev/kvm ]; then
		say "no /dev/kvm"
		return 1
	fi
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		say "no access to /dev/kvm"
		return 1
	fi
	write_probe_bios "$work/probe.bios"
	"$sdir/guest/watch" -q -r "$work/probe.watch" -D 10 -- "$qemu" -accel kvm -cpu "$kvm_cpu" \
		-display none -nodefaults -no-reboot -m 16 -bios "$work/probe.bios" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 2>"$work/probe.err"
	if ! grep -qx 'exit=85' "$work/probe.watch"; then
		why=$(grep -v '^qemu-system-x86_64: warning' "$work/probe.err" | head -n 1)
		say "qemu -accel kvm -cpu $kvm_cpu failed: ${why:-no result in 10 s}"
		return 1
	fi
	"$sdir/guest/watch" -q -r "$work/probe.watch" -m "$work/probe.marks" -D "$KVM_BOOT_PROBE" \
		-E TW-GUEST-EXIT -g 2 -- "$qemu" -accel kvm -cpu "$kvm_cpu" -smp "$smp" -m "$mem" \
		-display none -nodefaults -no-reboot -serial stdio -kernel "$kernel" \
		-initrd "$work/initramfs.cpio" -append "console=ttyS0 panic=-1 quiet tw_probe $append" \
		2>"$work/probe.err"
	if ! grep -q 'TW-GUEST-PROBE-OK' "$work/probe.marks"; then
		say "a KVM boot did not reach /init in $KVM_BOOT_PROBE s (nested KVM crawls?)"
		return 1
	fi
	return 0
}

choose_accel() {
	accel_note=
	if [ "$accel" = tcg ]; then
		accel_used=tcg
		return
	fi
	if [ "$accel" = kvm ]; then
		why=$(kvm_works) || bad_input "--accel kvm: KVM does not work here: $why"
		accel_used=kvm
		return
	fi
	boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
	cache=$cache_dir/accel-$boot_id
	if [ -r "$cache" ]; then
		read -r accel_used accel_note <"$cache"
		accel_note="${accel_note:+$accel_note; }cached in $cache"
	else
		if why=$(kvm_works); then
			accel_used=kvm
			accel_note=
		else
			accel_used=tcg
			accel_note="KVM: $why"
		fi
		mkdir -p "$cache_dir" 2>/dev/null &&
			say "$accel_used $accel_note" >"$cache" 2>/dev/null
	fi
	case $accel_used in
	kvm) say "accelerator: KVM" ;;
	*) say "accelerator: TCG (${accel_note})" ;;
	esac
}

accel_args() {
	case $accel_used in
	kvm) say "-accel kvm -cpu $kvm_cpu" ;;
	*) say "-accel tcg,thread=multi -cpu max" ;;
	esac
}
