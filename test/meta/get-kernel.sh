#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of kernels/get-kernel without network: usage errors, a cached image
# printed with the mirror unreachable (and X.Y choosing the newest X.Y.Z, 6.1
# never taking 6.12), an unknown version naming the versions there are, and
# --offline or an unreachable mirror (a closed port on 127.0.0.1) failing with
# one line and status 4. The archive is a canned catalogue in a scratch cache.
# Prints TAP; exits 0 when every check passed.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
gk=$top/kernels/get-kernel
# Nothing listens on port 9 (discard) here: connections are refused at once.
dead_mirror=http://127.0.0.1:9/debian
# A command, may be two words ("busybox sh"): expanded unquoted on purpose.
gk_sh=${TW_SH:-sh}

# run [ARGS...]: get-kernel on the scratch cache, output in $work/out (stdout)
# and $work/err, status in $rc.
run() {
	# shellcheck disable=SC2086 # $gk_sh is a command with arguments
	env TW_KERNEL_CACHE="$work/cache" TW_DEBIAN_MIRROR="$dead_mirror" \
		$gk_sh "$gk" "$@" >"$work/out" 2>"$work/err" </dev/null
	rc=$?
}

expect_out() { [ "$(cat "$work/out")" = "$1" ] || fail "printed '$(cat "$work/out")', expected '$1'"; }
# The failure is one line (with the usage hint for usage errors).
one_line() {
	[ "$(wc -l <"$work/err")" -le "${1:-1}" ] || fail "more than ${1:-1} line(s) on stderr"
}

need_apt() {
	for t in apt-get apt-cache dpkg-deb; do
		command -v "$t" >/dev/null 2>&1 || { say "no $t here"; exit 77; }
	done
}

# A cache holding images for these versions (fake, the content is not read).
cache_images() {
	for v in "$@"; do
		mkdir -p "$work/cache/$v"
		say "fake $v" >"$work/cache/$v/vmlinuz"
	done
}

# A catalogue as get-kernel writes it after apt-get update.
cache_catalogue() {
	mkdir -p "$work/cache/apt"
	cat >"$work/cache/apt/catalogue" <<EOF
6.1.170 linux-image-6.1.0-47-cloud-amd64 6.1.170-3
6.1.176 linux-image-6.1.0-50-cloud-amd64 6.1.176-1
6.12.117 linux-image-6.12.117+deb13-cloud-amd64 6.12.117-1
7.2.13 linux-binary-7.2.13+deb14-cloud-amd64 7.2.13-1
7.3.4 linux-binary-7.3.4+deb13-cloud-amd64 7.3.4-1~bpo13+1
EOF
}

# ---- the checks ---------------------------------------------------------------

check_help() {
	run --help
	expect_status 0
	grep -q '^usage: ' "$work/out" || fail "no usage line"
	for s in 0 1 2 4; do
		grep -Eq "^  $s  " "$work/out" || fail "--help does not document exit status $s"
	done
}

check_usage_errors() {
	for args in '' 7 7.x 'v7.3' '7.3.4.1' '7.3 7.2' --bogus '--timeout x 7.3' '--cache'; do
		# shellcheck disable=SC2086 # word lists on purpose
		run $args
		expect_status 2
		one_line 2
		expect_line '^get-kernel: try .*get-kernel --help$' "$work/err"
	done
	[ ! -e "$work/cache" ] || fail "a usage error created the cache"
}

check_cached_offline() {
	cache_images 6.1.176 6.12.117 7.3.2 7.3.10
	run 7.3
	expect_status 0
	expect_out "$work/cache/7.3.10/vmlinuz"
	run 6.1
	expect_status 0
	expect_out "$work/cache/6.1.176/vmlinuz"
	run 7.3.2
	expect_status 0
	expect_out "$work/cache/7.3.2/vmlinuz"
	run --cache "$work/cache" --offline 6.12
	expect_status 0
	expect_out "$work/cache/6.12.117/vmlinuz"
	[ ! -e "$work/cache/apt" ] || fail "a cached image still set up apt"
}

check_unknown_version() {
	need_apt
	cache_catalogue
	run --offline 5.10
	expect_status 4
	one_line
	expect_line '^get-kernel: no Debian cloud-amd64 kernel 5\.10 .*; available: 6\.1 \(6\.1\.176\), 6\.12 \(6\.12\.117\), 7\.2 \(7\.2\.13\), 7\.3 \(7\.3\.4\)$' "$work/err"
	# A fresh catalogue is trusted: no refresh (the mirror is dead) for a miss.
	run 5.10
	expect_status 4
	expect_line 'available: 6\.1 ' "$work/err"
}

check_offline_not_cached() {
	need_apt
	run --offline 7.3
	expect_status 4
	one_line
	expect_line 'offline' "$work/err"
	cache_catalogue
	run --offline 7.3
	expect_status 4
	one_line
	expect_line '7\.3\.4 .*not in the cache.*--offline' "$work/err"
	# X.Y is the newest X.Y.Z of the catalogue, and 6.1 is not 6.12.
	run --offline 6.1
	expect_status 4
	expect_line ' 6\.1\.176 \(linux-image-6\.1\.0-50-cloud-amd64\) is not in the cache' "$work/err"
}

check_unreachable_mirror() {
	need_apt
	[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || { say "no debian-archive-keyring"; exit 77; }
	run 7.3
	expect_status 4
	one_line 2 # the progress note, then the failure
	expect_line "^get-kernel: cannot fetch the package lists from $dead_mirror: .*127\.0\.0\.1" "$work/err"
	# --update with a catalogue and cached image still needs the mirror.
	cache_catalogue
	cache_images 7.3.4
	run --update 7.3
	expect_status 4
	expect_line 'cannot fetch the package lists' "$work/err"
}

# ---- driver -------------------------------------------------------------------

checks=${TW_CHECKS:-"help usage_errors cached_offline unknown_version offline_not_cached
	unreachable_mirror"}
before_check() {
	rm -rf "$work/cache"
}
# shellcheck disable=SC2086 # the list is words
run_checks $checks
