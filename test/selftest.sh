#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Every self-test of the suite, as TAP: the test/meta/*.sh (meta tests
# of the tools, e.g. the runner's) and the test/self/*.t programs (self-tests
# of the harness: each checker shown to fire). test/meta/fake_*.t are
# fixtures the meta tests drive, not self-tests. The output of a failing
# self-test follows its line as diagnostics. Exit 0 when all passed.
#
# Run by `make selftest` and `make check`, after `make`.

set -u

top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp "${TMPDIR:-/tmp}/selftest.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT

# shellcheck source=runner/lib.sh
. "$top/runner/lib.sh"

say "TAP version 13"
n=0
failed=0
for t in "$top"/test/meta/*.sh "$top"/test/self/*.t; do
	[ -f "$t" ] || continue
	case ${t##*/} in
	fake_* | lib.sh | *-lib.sh) continue ;;	# fixtures; files the meta tests source
	esac
	n=$((n + 1))
	name=${t#"$top"/}
	case $t in
	*.sh) sh "$t" ;;
	*) "$t" ;;
	esac >"$out" 2>&1 </dev/null
	status=$?
	case $status in
	0) say "ok $n - $name" ;;
	77) say "ok $n - $name # SKIP $(grep -v '^ *$' "$out" | tail -n 1)" ;;
	*)
		say "not ok $n - $name (exit status $status)"
		sed 's/^/# /' "$out"
		failed=$((failed + 1))
		;;
	esac
done
say "1..$n"
[ "$failed" = 0 ]
