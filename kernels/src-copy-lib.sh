# SPDX-License-Identifier: MIT
# shellcheck shell=sh
#
# kernels/src-copy-lib.sh - the tree build-kernel builds: a copy of SRC made
# of hard links, with the patches applied to private copies of the files
# they touch, so that SRC is never written. Sourced by build-kernel (after
# runner/lib.sh), not run.
#
#   link_copy SRC DEST        DEST becomes a hard-linked copy of SRC (no .git)
#   src_identity SRC          what SRC's content is: every path, inode, size
#                             and mtime (no .git), as one checksum
#   refresh_copy SRC DEST     DEST made a copy of SRC as it is now: reused
#                             (the patched files back at SRC's content) when
#                             SRC did not change since it was made, else
#                             link_copy; says which ("reused" or "made")
#   apply_patches SCRATCH PATCH...  the patches applied to SCRATCH, in order
#                             (uses $out and $log; returns 6 when one does
#                             not apply, 4 when a private copy fails)
#   patch_files DIR PATCH     the files PATCH would touch in DIR
#   unlink_file DIR FILE      DIR/FILE replaced by a private copy

# The files a patch would touch, from a dry run in DIR.
patch_files() { # DIR PATCH
	(cd "$1" && patch -p1 --dry-run --batch --forward -i "$2") 2>/dev/null |
		sed -n "s/^checking file //p" | sed "s/^'\(.*\)'$/\1/"
}

# Replace FILE (under DIR) by a private copy: a new inode, so that writing
# it cannot reach SRC through a hard link, and a new mtime, so that make
# rebuilds what depends on it even when its content went back in time.
unlink_file() { # DIR FILE
	private=$1/$2
	[ -f "$private" ] && [ ! -L "$private" ] || return 0
	cp "$private" "$private.tw-private" && mv -f "$private.tw-private" "$private"
}

# A copy of SRC made of hard links (without .git, where an output directory
# may be) at DEST, or a plain copy when hard links are impossible (another
# file system). The old copy is moved aside and deleted in the background:
# deleting 90,000 links takes longer than making them.
link_copy() { # SRC DEST
	if [ -d "$2" ]; then
		old=$(dirname "$2")/old-src.$$
		mv "$2" "$old" || return 1
		# (output closed: a caller reading our stdout must not wait for it)
		rm -rf "$old" >/dev/null 2>&1 &
	fi
	mkdir -p "$2" || return 1
	how=-al
	if ! cp -al "$1/Makefile" "$2/" 2>/dev/null; then
		warn "hard links from $1 to $2 are impossible: copying (slower)"
		how=-a
	fi
	rm -f "$2/Makefile"
	for entry in "$1"/* "$1"/.[!.]* "$1"/..?*; do
		[ -e "$entry" ] || [ -L "$entry" ] || continue
		[ "${entry##*/}" = .git ] && continue
		cp "$how" "$entry" "$2/" || return 1
	done
}

# SRC as it is: a hard-linked copy made from it stays a true copy while
# none of its paths, inodes, sizes and mtimes changed (a git checkout
# writes new files, an edit a new mtime, a new tarball new inodes).
src_identity() { # SRC
	(cd "$1" && find . -path ./.git -prune -o -printf '%p %i %s %T@\n' | LC_ALL=C sort | cksum)
}

# Reusing the last copy saves making 100,000 links and deleting as many
# (about 5 s of every rebuild, measured 2026-12-07). The files the last
# builds patched are put back as link_copy would make them (SRC's file,
# linked where link_copy links), so that apply_patches treats both kinds
# of copy alike (its private copies with a new mtime); files only a patch
# created are removed.
# shellcheck disable=SC2154 # $out is build-kernel's
refresh_copy() { # SRC DEST
	stamp=$out/tw-build/src-identity
	id=$(src_identity "$1") || return 1
	if [ -d "$2" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$id" ]; then
		# (.now: the files of an attempt cut short before its end)
		touch "$out/tw-build/patched-files" "$out/tw-build/patched-files.now"
		sort -u "$out/tw-build/patched-files" "$out/tw-build/patched-files.now" |
		while IFS= read -r f; do
			rm -f "$2/$f" || return 1
			[ ! -f "$1/$f" ] || ln "$1/$f" "$2/$f" 2>/dev/null ||
				cp -p "$1/$f" "$2/$f" || return 1
		done || return 1
		echo reused
		return 0
	fi
	rm -f "$stamp"
	link_copy "$1" "$2" || return 1
	printf '%s\n' "$id" >"$stamp"
	echo made
}

# Applies the patches to SCRATCH; the files they touch are listed in
# tw-build/patched-files.now, and tw-build/patched-files lists every file
# whose objects in the output directory may come from patched content: the
# files of the last complete build's patches, and of every attempt since.
# shellcheck disable=SC2154 # $out and $log are build-kernel's
apply_patches() { # SCRATCH PATCH...
	scratch=$1
	shift
	list=$out/tw-build/patched-files
	now=$list.now
	tmp=$out/tw-build/patch.tmp
	# A file an earlier build patched is back at SRC's content and mtime in
	# the fresh copy, older than its objects: a new mtime makes make
	# rebuild them.
	# An attempt cut short (killed) never merged its files into the list:
	# make may have built from them all the same.
	touch "$list" "$now"
	sort -u "$list" "$now" -o "$list"
	while IFS= read -r f; do unlink_file "$scratch" "$f" || return 4; done <"$list"
	: >"$now"
	for p in "$@"; do
		patch_files "$scratch" "$p" >"$tmp"
		while IFS= read -r f; do
			unlink_file "$scratch" "$f" || return 4
			printf '%s\n' "$f" >>"$now"
		done <"$tmp"
		printf '## patch -p1 -i %s\n' "$p" >>"$log"
		(cd "$scratch" && patch -p1 --batch --forward --no-backup-if-mismatch -i "$p") >"$tmp" 2>&1
		rc=$?
		cat "$tmp" >>"$log"
		if [ $rc != 0 ]; then
			warn "patch does not apply: $p"
			tail -n 12 "$tmp" | sed 's/^/  /' >&2
			rm -f "$tmp"
			sort -u "$list" "$now" -o "$list"
			return 6
		fi
	done
	rm -f "$tmp"
	sort -u "$list" "$now" -o "$list"
}
