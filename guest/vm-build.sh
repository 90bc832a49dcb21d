# SPDX-License-Identifier: MIT
# shellcheck shell=sh disable=SC2154,SC2034 # guest/vm-run's variables, shared by its parts
#
# guest/vm-build.sh - what goes into the guest (sourced by guest/vm-run).
#
# The sources are copied into a private build directory ($sdir,
# build-static/: the user's own build is never touched), built there with
# ./configure --static and installed with make install-suite into the work
# directory: that tree is the guest's /suite, the same tree make install
# gives a CI lab. The initramfs holds it, busybox-static, guest/init as
# /init and the guest's helpers.

check_inputs() {
	[ -e "$kernel" ] || bad_input "$kernel: no such file"
	[ -f "$kernel" ] || bad_input "$kernel: not a regular file"
	[ -r "$kernel" ] || bad_input "$kernel: cannot read it (permissions)"
	command -v "$qemu" >/dev/null 2>&1 ||
		bad_input "$qemu not found: install qemu (Debian: apt-get install qemu-system-x86)"
	[ -f "$busybox" ] ||
		bad_input "$busybox not found: install busybox-static (apt-get install busybox-static)"
}

# The sources, relative to $top: git's list (tracked and new, not ignored)
# in a checkout, else every file but what a build leaves behind.
list_sources() {
	if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$top" ls-files -co --exclude-standard
		return
	fi
	(cd "$top" && find . \( -name .git -o -name results -o -name build-static \) -prune -o \
		-type f ! -name '*.o' ! -name '*.a' ! -name '*.t' ! -name 'config-host.*' -print |
		sed 's|^\./||' | while read -r f; do
			# A binary built from F.c (supervise, guest/*) is not a source.
			[ -f "$f.c" ] || say "$f"
		done)
}

# Copies the sources changed since the last copy (or missing there) into
# $sdir and removes those that went: make then rebuilds what depends on
# them (cp -p keeps the times). One find for all: this runs every time.
sync_sources() {
	mkdir -p "$sdir" || bad_input "cannot create $sdir"
	list_sources >"$work/sources"
	stamp=$sdir/.synced
	: >"$stamp.new"
	{
		if [ -f "$stamp" ]; then
			# shellcheck disable=SC2016 # for sh -c
			(cd "$top" && xargs sh -c 'find "$@" -prune -newer "$0"' "$stamp" <"$work/sources")
		else
			cat "$work/sources"
		fi
		while read -r f; do
			[ -f "$sdir/$f" ] || say "$f"
		done <"$work/sources"
	} | sort -u >"$work/changed"
	while read -r f; do
		[ -f "$top/$f" ] || continue
		{ mkdir -p "$sdir/$(dirname "$f")" && cp -p "$top/$f" "$sdir/$f"; } ||
			bad_input "cannot copy $f to $sdir"
	done <"$work/changed"
	if [ -f "$sdir/.sources" ]; then
		sort "$work/sources" >"$work/now"
		sort "$sdir/.sources" | comm -23 - "$work/now" | while read -r f; do
			rm -f "$sdir/$f" "$sdir/${f%.c}.t" "$sdir/${f%.c}.o"
		done
	fi
	cp "$work/sources" "$sdir/.sources"
	mv "$stamp.new" "$stamp"
}

# static_build TARGET...: in $sdir, configured --static; exit 4 if that cannot be.
static_build() {
	if [ ! -f "$sdir/config-host.mak" ] ||
		[ -n "$(find "$sdir/configure" -newer "$sdir/config-host.mak")" ]; then
		rm -f "$sdir/config-host.mak" "$sdir/config-host.h"
		if ! (cd "$sdir" && ./configure --static) >"$sdir/build.log" 2>&1; then
			why=$(grep '^configure:' "$sdir/build.log" | head -n 1)
			bad_input "cannot build the suite statically: ${why:-see $sdir/build.log}"
		fi
	fi
	if ! make -C "$sdir" -q "$@" >/dev/null 2>&1; then
		[ -n "$built" ] || say "building the suite statically in ${sdir#"$top"/}/ ..."
		built=1
		if ! make -C "$sdir" -j"$(nproc 2>/dev/null || echo 2)" "$@" >>"$sdir/build.log" 2>&1; then
			tail -n 15 "$sdir/build.log" >&2
			bad_input "the static build failed (log: $sdir/build.log)"
		fi
	fi
}

# kind and release of the kernel image; exit 4 unless qemu can boot it.
check_kernel() {
	info=$("$sdir/guest/kimage" "$kernel") || bad_input "$kernel: cannot read it"
	image_kind=${info%% *}
	image_release=${info#* }
	case $image_kind in
	bzimage | vmlinux-pvh) ;;
	vmlinux-nopvh)
		bad_input "$kernel: an ELF vmlinux without the PVH note (CONFIG_PVH=n), which qemu -kernel cannot boot: use its bzImage (arch/x86/boot/bzImage)" ;;
	elf-*) bad_input "$kernel: an ELF program, not a kernel image" ;;
	*) bad_input "$kernel: not a kernel image (neither a bzImage nor an ELF vmlinux)" ;;
	esac
	[ "$("$sdir/guest/kimage" "$busybox")" = "elf-static -" ] ||
		bad_input "$busybox is not statically linked: install busybox-static (apt-get install busybox-static)"
}

# The suite as make install lays it out, into $work/stage/suite: the
# guest's /suite (runtests.sh, runner/, test/, bench/). A fresh tree each
# run, so nothing stale goes into the guest.
install_suite() {
	suite=$work/stage/suite
	if ! make -C "$sdir" install-suite DESTDIR="$work/stage" suitedir=/suite \
		>>"$sdir/build.log" 2>&1; then
		tail -n 15 "$sdir/build.log" >&2
		bad_input "cannot install the suite into $work/stage (log: $sdir/build.log)"
	fi
}

# The list for guest/mkcpio: busybox with a link per applet, the installed
# suite under /suite, the guest's helpers in /bin, /init and its settings.
initramfs_list() {
	for d in /bin /dev /etc /proc /sys /tmp /root /home; do
		say "dir $d 0755"
	done
	say "dir /tmp 1777"
	say "dir /home/user 0755 $GUEST_UID $GUEST_UID"
	# The kernel opens /dev/console for /init before anything is mounted.
	say "nod /dev/console 0600 c 5 1"
	say "nod /dev/null 0666 c 1 3"
	say "file /init $sdir/guest/init 0755"
	say "file /etc/tw-vm.conf $work/tw-vm.conf 0644"
	say "file /etc/passwd $work/passwd 0644"
	say "file /etc/group $work/group 0644"
	say "file /bin/busybox $busybox 0755"
	# Not init or linuxrc: a kernel that cannot run /init must not fall
	# back to busybox's init (it waits for Enter) but say "No working init".
	"$busybox" --list | while read -r applet; do
		case $applet in
		busybox | init | linuxrc) ;;
		*) say "slink /bin/$applet busybox" ;;
		esac
	done
	for t in uring-check runas; do
		say "file /bin/$t $sdir/guest/$t 0755"
	done
	say "file /bin/vm-ship $sdir/guest/ship 0755"
	# The installed tree, each directory before what is in it.
	(cd "$work/stage" && find suite) | LC_ALL=C sort | while read -r f; do
		if [ -d "$work/stage/$f" ]; then
			say "dir /$f 0755"
		elif [ -x "$work/stage/$f" ]; then
			say "file /$f $work/stage/$f 0755"
		else
			say "file /$f $work/stage/$f 0644"
		fi
	done
	say "dir /suite/extra 0755"
	[ -n "${extra_known_issues:-}" ] && say "file /suite/extra/known-issues $extra_known_issues 0644"
	[ -n "${extra_exclude:-}" ] && say "file /suite/extra/exclude $extra_exclude 0644"
	if [ "$fixtures" = 1 ]; then
		for name in fake_vm_panic fake_vm_hang; do
			say "file /suite/test/$name.t $sdir/test/meta/fake_vm.t 0755"
		done
	fi
}

make_initramfs() {
	{
		say "# written by guest/vm-run, read by /init (guest/init)"
		say "TW_VM_ARGS=$(quote "$rt_args")"
		say "TW_VM_USER=$(quote "$user")"
		say "TW_VM_HEARTBEAT=$HEARTBEAT"
		say "TW_VM_MODE=$mode"
	} >"$work/tw-vm.conf"
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:%s:%s:user:/home/user:/bin/sh\n' \
		"$GUEST_UID" "$GUEST_UID" >"$work/passwd"
	printf 'root:x:0:\nuser:x:%s:\n' "$GUEST_UID" >"$work/group"
	initramfs_list >"$work/initramfs.list"
	"$sdir/guest/mkcpio" "$work/initramfs.list" >"$work/initramfs.cpio" ||
		bad_input "cannot write the initramfs"
}
