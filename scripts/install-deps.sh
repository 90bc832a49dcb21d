#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Installs what the suite needs on Debian/Ubuntu: see usage() below.
# Needs root (apt-get). Prints the packages and exits 1 when it cannot install them.
set -eu

me=install-deps
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=runner/lib.sh
. "$top/runner/lib.sh"

usage() {
	cat <<EOF2
usage: scripts/install-deps.sh [--guest] [--kernel-build] [--coverage] [--bench] [--all]

Installs (apt-get, as root) the Debian packages the suite needs; nothing
when they are installed already. Options add to the base set; any number of
them may be given.

  (always)        build and run the suite: gcc make pkg-config liburing-dev
  --guest         boot kernels in qemu (guest/vm-run, kernels/get-kernel):
                  qemu-system-x86 busybox-static debian-archive-keyring
  --kernel-build  build kernels (kernels/build-kernel, bisect-run,
                  mutation-score): flex bison bc libelf-dev libssl-dev
                  ccache patch cpio
  --coverage      kernels/coverage: --guest, --kernel-build and lcov
  --bench         bench/plot and make bench's PNG: gnuplot-nox
  --all           all of the above
  -h, --help      this text

Exit status: 0 installed (or nothing missing); 1 cannot install (not root,
no apt-get, apt-get failed): the missing packages are named; 2 usage error.
EOF2
}

base="gcc make pkg-config liburing-dev"
guest="qemu-system-x86 busybox-static debian-archive-keyring"
kbuild="flex bison bc libelf-dev libssl-dev ccache patch cpio"
pkgs=$base
for a in "$@"; do
	case $a in
	--guest) pkgs="$pkgs $guest" ;;
	--kernel-build) pkgs="$pkgs $kbuild" ;;
	--coverage) pkgs="$pkgs $guest $kbuild lcov" ;;
	--bench) pkgs="$pkgs gnuplot-nox" ;;
	--all) pkgs="$pkgs $guest $kbuild lcov gnuplot-nox" ;;
	-h | --help) usage; exit 0 ;;
	*) usage_error "unknown option $a" ;;
	esac
done

missing=
for p in $(printf '%s\n' $pkgs | awk '!seen[$0]++'); do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
[ "$(id -u)" = 0 ] || die 1 "missing packages:$missing (run as root: apt-get install$missing)"
command -v apt-get >/dev/null 2>&1 || die 1 "no apt-get here; install:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || die 1 "apt-get update failed; missing:$missing"
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing || die 1 "apt-get install failed:$missing"
