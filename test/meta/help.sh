#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Every command of the suite answers -h and --help with its usage on stdout
# and exit 0, and an unknown option with exit 2 (128 for kernels/bisect-run,
# which speaks to git bisect run): the test programs, runtests.sh, the
# guest, kernel and benchmark tools, scripts/install-deps.sh and
# scripts/lint-ci. Needs the tree built (make). Prints TAP.
#
#   test/meta/help.sh          all checks
#   TW_CHECKS=tools test/meta/help.sh

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"

# run CMD...: output in $work/out (stdout) and $work/err, status in $rc.
run() {
	"$@" >"$work/out" 2>"$work/err" </dev/null
	rc=$?
}

# helps CMD USAGE-ERE BAD-STATUS: -h and --help print usage, a bogus option is refused.
helps() {
	for h in -h --help; do
		run "$1" "$h"
		[ "$rc" = 0 ] || fail "$1 $h: exit $rc, expected 0"
		grep -Eqi "$2" "$work/out" || fail "$1 $h: no '$2' on stdout"
	done
	run "$1" --no-such-option
	[ "$rc" = "$3" ] || fail "$1 --no-such-option: exit $rc, expected $3"
}

check_programs() {
	n=0
	for t in "$top"/test/*.t; do
		helps "$t" '^usage: ' 2
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || fail "no test/*.t: build first (make)"
}

check_tools() {
	helps "$top/runtests.sh" '^usage: ' 2
	helps "$top/bench/twbench" '^usage: ' 2
	helps "$top/scripts/install-deps.sh" '^usage: ' 2
	helps "$top/scripts/lint-ci" '^usage: ' 2
	for t in guest/vm-run kernels/get-kernel kernels/build-kernel kernels/kernel-matrix \
		kernels/mutation-score kernels/coverage kernels/bisect-demo bench/compare bench/plot; do
		helps "$top/$t" '^usage: ' 2
	done
	helps "$top/kernels/bisect-run" '^usage: ' 128
}

# shellcheck disable=SC2086 # the list is words
run_checks ${TW_CHECKS:-programs tools}
