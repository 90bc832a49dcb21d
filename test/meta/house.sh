#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of scripts/check-house, the house rules: the tree keeps them,
# and each rule fires on a tree seeded with one breach of it (and stays
# quiet at the limit). Prints TAP; exits 0 when every check passed.
#
#   test/meta/house.sh
#   TW_CHECKS="fires" test/meta/house.sh     only these checks

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"

checker=$top/scripts/check-house

run() {
	sh "$checker" "$@" >"$work/out" 2>&1 </dev/null
	rc=$?
}

# lines N PREFIX: N lines of text, for files of a given length.
lines() {
	i=0
	while [ "$i" -lt "$1" ]; do
		i=$((i + 1))
		say "$2 $i"
	done
}

# A tree with one file per rule, each exactly at its limit: no breach.
at_the_limit() {
	rm -rf "$work/tree"
	mkdir -p "$work/tree/src" "$work/tree/tools"
	lines 400 '/* line' | sed 's|$| */|' >"$work/tree/src/long.c"
	lines 250 'line' >"$work/tree/README"
	{
		say '#!/bin/sh'
		say "awk '"
		lines 29 '# awk line'
		say "' /dev/null"
		say 'cat >x.c <<EOF'
		say '#include <stdio.h>'
		lines 29 '/* c line */'
		say 'EOF'
		say 'helper() { :; }'
	} >"$work/tree/tools/a"
	printf '#!/bin/sh\nusage() { :; }\nother() { :; }\n' >"$work/tree/tools/b"
	printf '#!/bin/sh\nusage() { :; }\ncheck_x() { :; }\n' >"$work/tree/tools/c.sh"
}

check_tree() {
	run
	expect_status 0
}

check_quiet_at_limit() {
	at_the_limit
	run "$work/tree"
	expect_status 0
}

check_fires() {
	at_the_limit
	say '/* one more */' >>"$work/tree/src/long.c"
	say 'one more' >>"$work/tree/README"
	{
		say "sed -n '"
		lines 31 'p'
		say "' /dev/null"
		say 'cat >y.c <<-END'
		say 'int main(void) {'
		lines 30 '	/* c line */'
		say '	END'
	} >>"$work/tree/tools/a"
	say 'helper() { :; }' >>"$work/tree/tools/c.sh"
	run "$work/tree"
	expect_status 1
	expect_line '^src/long\.c: 401 lines \(at most 400\)$'
	expect_line '^README: 251 lines \(at most 250\)$'
	expect_line '^tools/a:[0-9]+: a shell string of 32 lines'
	expect_line '^tools/a:[0-9]+: a here-document C program of 31 lines'
	expect_line '^shell helper helper\(\) defined in: tools/a tools/c\.sh$'
	no_line 'usage|check_x|other'
	[ "$(grep -c . "$work/out")" = 5 ] || fail "expected 5 breaches"
}

check_exceptions() {
	at_the_limit
	say '/* one more */' >>"$work/tree/src/long.c"
	mkdir -p "$work/tree/scripts"
	say 'src/long.c  generated, not read by people' >"$work/tree/scripts/house-exceptions"
	run "$work/tree"
	expect_status 0
	# A listed path exempts itself only: as a regular expression, the
	# queried path src/long.c would match a listed src/longxc.
	say 'src/longxc  another file' >"$work/tree/scripts/house-exceptions"
	run "$work/tree"
	expect 1 '^src/long\.c: 401 lines'
}

checks=${TW_CHECKS:-"tree quiet_at_limit fires exceptions"}
# shellcheck disable=SC2086 # a list of names
run_checks $checks
