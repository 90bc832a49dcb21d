#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Installs what building and running the suite needs on Debian/Ubuntu.
#   scripts/install-deps.sh          build and run: gcc, make, pkg-config, liburing-dev
#   scripts/install-deps.sh --guest  also what guests need: qemu-system-x86, busybox-static,
#                                    debian-archive-keyring (kernels/get-kernel)
#   scripts/install-deps.sh --coverage  also lcov (kernels/coverage: gcov reports)
#   scripts/install-deps.sh --bench  also gnuplot-nox (bench/plot, make bench's PNG)
# Needs root (apt-get). Prints the packages and exits 1 when it cannot install them.
set -eu

pkgs="gcc make pkg-config liburing-dev"
case "${1:-}" in
--guest) pkgs="$pkgs qemu-system-x86 busybox-static debian-archive-keyring" ;;
--coverage) pkgs="$pkgs qemu-system-x86 busybox-static lcov" ;;
--bench) pkgs="$pkgs gnuplot-nox" ;;
"") ;;
*) echo "usage: $0 [--guest | --coverage | --bench]" >&2; exit 2 ;;
esac

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root: apt-get install$missing)" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: no apt-get here; install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
