#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of scripts/suite-order (test/order, the order of the default
# run) on canned data: clean runs' results.json (each program's seconds)
# and mutation-score directories (which programs catch which patch). The
# greedy rule gives a known order: the most uncaught patches per second of
# cost first (cost: mean seconds + the overhead), then the rest cheapest
# first; a patch counts from the first directory that has a finished run of
# it; a program newer than a clean run costs its mean over the runs that
# have it; unusable input is refused. Prints TAP; exits 0 when every check passed.

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
so=$top/scripts/suite-order

run() {
	"$so" "$@" >"$work/out" 2>&1 </dev/null
	rc=$?
}

# clean_run FILE "PROGRAM SECONDS"...: a clean run's results.json, one case a program.
clean_run() {
	f=$1
	shift
	{
		say '{'
		say '  "schema": 1,'
		say '  "tests": ['
		for t; do
			set -- $t
			say "    {\"name\": \"$1.default\", \"program\": \"$1\", \"profile\": \"default\", \"result\": \"pass\", \"seconds\": $2, \"reason\": \"\"},"
		done
		say '  ]'
		say '}'
	} >"$f"
}

# mutant DIR LABEL STATUS "PROGRAM RESULT"...: a mutation-score run of LABEL.
mutant() {
	d=$1/$2
	mkdir -p "$d"
	printf 'label=%s\nkind=mutant\nstatus=%s\n' "$2" "$3" >"$d/mutant.info"
	shift 3
	{
		say '{'
		say '  "tests": ['
		for t; do
			set -- $t
			say "    {\"name\": \"$1.default\", \"program\": \"$1\", \"profile\": \"default\", \"result\": \"$2\", \"seconds\": 1.00},"
		done
		say '  ]'
		say '}'
	} >"$d/results.json"
}

# The programs of the order printed, one line.
order() {
	grep -v '^#' "$work/out" | cut -d' ' -f1 | tr '\n' ' '
}

check_greedy() {
	# Costs with the overhead of 1 s: tiny 1, mid 2, big 4, slow 10.
	clean_run "$work/host.json" "big 3" "tiny 0" "mid 1" "slow 9" "idle 2" "dull 0.5"
	clean_run "$work/guest.json" "big 3" "tiny 0" "mid 1" "slow 9" "idle 2" "dull 0.5"
	mutant "$work/ms" m1 caught "big fail" "mid hang" "tiny pass"
	mutant "$work/ms" m2 caught "big crash" "mid fail"
	mutant "$work/ms" m3 caught "big fail" "slow fail"
	mutant "$work/ms" m4 caught "tiny xpass" "slow fail"
	mutant "$work/ms" m5 caught "slow fail" "idle pass"
	mutant "$work/ms" m6 no-boot "dull fail"
	run -t "$work/host.json" -t "$work/guest.json" -m "$work/ms" --overhead 1
	expect_status 0
	# tiny (1 new / 1 s) and mid (2 / 2 s) tie at 1/s: the cheaper first;
	# then big (m3: 1 / 4 s) before slow (m3, m5: 2 / 10 s), slow for m5;
	# then the rest cheapest first. m6 did not boot: not counted.
	[ "$(order)" = "tiny mid big slow dull idle " ] || fail "order: $(order)"
	expect_line '^tiny +#  1\.00 s; catches 1: m4$'
	expect_line '^mid +#  2\.00 s; catches 2: m1 m2$'
	expect_line '^slow +# 10\.00 s; catches 1: m5$'
	expect_line '^# with 5 mutants, cost = mean seconds of the clean runs \+ 1 s a program\.$'
	no_line 'caught by no program'
}

check_first_dir_wins() {
	clean_run "$work/t.json" "a 1" "b 1"
	mutant "$work/one" m1 caught "a pass" "b fail"
	mutant "$work/two" m1 caught "a fail" "b pass"
	mutant "$work/two" m2 missed "a pass" "b pass"
	run -t "$work/t.json" -m "$work/one" -m "$work/two" -o "$work/order"
	expect_status 0
	grep -v '^#' "$work/order" >"$work/out"
	[ "$(order)" = "b a " ] || fail "order: $(order)"
	expect_line '^#   caught by no program: m2$' "$work/order"
}

# A program newer than a clean run costs its mean over the runs that have it.
check_newer_program() {
	clean_run "$work/old.json" "a 1" "b 3"
	clean_run "$work/new.json" "a 1" "b 3" "c 2"
	mutant "$work/ms" m1 caught "a fail"
	run -t "$work/old.json" -t "$work/new.json" -m "$work/ms" --overhead 1
	expect_status 0
	[ "$(order)" = "a c b " ] || fail "order: $(order)"
	expect_line '^c +#  3\.00 s$'
}

check_bad_input() {
	run -t "$work/none.json" -m "$work"
	expect_status 2
	expect_line 'no such results.json'
	mkdir -p "$work/empty"
	clean_run "$work/t.json" "a 1"
	run -t "$work/t.json" -m "$work/empty"
	expect_status 1
	expect_line 'no clean run or no mutant'
	run --overhead x -t "$work/t.json"
	expect_status 2
	run --help
	expect 0 '^usage: scripts/suite-order'
}

# shellcheck disable=SC2086 # the list is words
run_checks ${TW_CHECKS:-greedy first_dir_wins newer_program bad_input}
