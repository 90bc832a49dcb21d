#!/bin/sh
# SPDX-License-Identifier: MIT
#
# linux-source.sh: Debian's kernel source package (linux-source-7.3, ...)
# for the CI workflows, on any runner: through kernels/get-kernel's private
# apt configuration (Debian's archive and keyring, in get-kernel's cache; the
# runner's own apt sources and lists are never read or written).
#
#   .github/linux-source.sh --version PACKAGE      prints its version in the archive
#   .github/linux-source.sh PACKAGE[=VERSION] DIR  unpacks its tree into DIR and
#                                                  prints the tree's path
#
# Needs apt-get, apt-cache, dpkg-deb, xz and debian-archive-keyring (get-kernel
# says which is missing). Exit status: 0 done; 1 the download or unpacking
# failed; 2 usage; 4 the archive cannot be reached, or has no such package.

set -u

me=linux-source
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=runner/lib.sh
. "$top/runner/lib.sh"

case ${1:-} in
-h | --help) sed -n '4,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
--version) [ $# = 2 ] || usage_error "--version takes one PACKAGE" ;;
-*) usage_error "unknown option: $1" ;;
*) [ $# = 2 ] || usage_error "PACKAGE[=VERSION] and DIR expected" ;;
esac

# get-kernel --list writes its apt configuration and fetches the lists.
cache=${TW_KERNEL_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/tw-suite/kernels}
"$top/kernels/get-kernel" --quiet --cache "$cache" --list >/dev/null || exit 4
APT_CONFIG=$cache/apt/apt.conf
export APT_CONFIG

if [ "$1" = --version ]; then
	v=$(apt-cache show --no-all-versions "$2" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
	[ -n "$v" ] || die 4 "no package $2 in Debian's archive (lists in $cache/apt)"
	say "$v"
	exit 0
fi

name=${1%%=*}
mkdir -p "$2/.deb" || die 4 "cannot create $2"
dir=$(cd "$2" && pwd)
(cd "$dir/.deb" && apt-get -q download "$1") >&2 || die 1 "apt-get download $1 failed"
for deb in "$dir"/.deb/*.deb; do
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$name.tar.xz" | xz -dc | tar -C "$dir" -x ||
		die 1 "cannot unpack $deb"
done
rm -rf "$dir/.deb"
[ -f "$dir/$name/Makefile" ] || die 1 "$1 held no $name/ tree"
say "$dir/$name"
