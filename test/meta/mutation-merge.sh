#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of kernels/mutation-score --merge, on the stand-ins of
# test/meta/mutation-score-lib.sh (no kernel built or booted): runs of one
# patch each (as a CI job per patch makes them) merge into the table and
# mutation.json of one run of all the patches; two patches of one name stay
# two rows; a merged directory merges again; and inputs that cannot be
# merged - the same patch twice, another unpatched kernel (tree, release,
# fragments), other RUNTESTS-ARGS, an unpatched kernel that did not pass or
# is missing, missing files - are refused (exit 4) with one line that names
# them, and nothing written. Prints TAP; exits 0 when every check passed.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/mutation-score-lib.sh
. "$top/test/meta/mutation-score-lib.sh"

# run_merge OUT-DIR ARGS...: mutation-score -o OUT-DIR --merge ARGS..., like run.
run_merge() {
	o=$1
	shift
	rm -rf "${work:?}/$o"
	# shellcheck disable=SC2086 # ms_sh: may be two words
	$ms_sh "$ms" -o "$work/$o" --merge "$@" >"$work/out" 2>&1
	rc=$?
}

# table_of FILE: the table in mutation-score's output, the whole seconds of
# its build and run columns blanked (a fake build or run takes 0 s or 1 s).
table_of() {
	sed -n '/^mutation score/,/^results: /p' "$1" | sed '$d' | sed -E 's/ [0-9]+s / Ns /g'
}

# json_of FILE: mutation.json without what differs between two runs of the
# same kernels: the time, the wall seconds, where the directories are.
json_of() {
	sed -E '/^  "created": /d; s/"(build|run)_seconds": [0-9]+/"\1_seconds": N/g
		s|"results_dir": "[^"]*/|"results_dir": "|' "$1"
}

# same_run A B: the results of A and B (their mutation-score output in
# $work/A.out, B.out) have the same table and mutation.json.
same_run() {
	table_of "$work/$1.out" >"$work/$1.table"
	table_of "$work/$2.out" >"$work/$2.table"
	expect_same "$work/$1.table" "$work/$2.table" "the tables of $1 and $2 differ"
	json_of "$work/$1/mutation.json" >"$work/$1.json"
	json_of "$work/$2/mutation.json" >"$work/$2.json"
	expect_same "$work/$1.json" "$work/$2.json" "the mutation.json of $1 and $2 differ"
}

# A CI job per patch: each runs the unpatched kernel and its patch; merged,
# they are one run of all the patches.
check_merge() {
	base_ok
	canned order 1 fail "" "fanin_local.defer_flag fail 0.07 ledger fanin: order: x"
	canned survivor 0 pass "" "fanin_local.defer pass 0.5"
	mkpatches order survivor
	run all --patches "$work/patches" "$src" -- fanin_local
	expect_status 1
	cp "$work/out" "$work/all.out"
	run a --patches "$work/patches/order.patch" "$src" -- fanin_local
	expect_status 0
	expect_line '^tree=[0-9]' "$work/a/base/mutant.info"
	expect_line '^patch_sum=[0-9]' "$work/a/order/mutant.info"
	run b --patches "$work/patches/survivor.patch" "$src" -- fanin_local
	expect_status 1
	run_merge m "$work/a" "$work/b"
	expect_status 1
	cp "$work/out" "$work/m.out"
	expect_line "^results: $work/m/mutation.json, $work/m/mutation.txt\$"
	same_run all m
	valid_json "$work/m/mutation.json"
	expect_line '"runtests_args": "--stop-at-first-failure fanin_local",' "$work/m/mutation.json"
	expect_line "^merged_from=$work/b\$" "$work/m/survivor/mutant.info"
	# The merged directory stands alone: --show redraws it from its copies.
	rm -rf "$work/a" "$work/b"
	run "" --show "$work/m"
	expect_status 0
	sed -E 's/ [0-9]+s / Ns /g' "$work/out" >"$work/show.table"
	expect_same "$work/m.table" "$work/show.table" "--show of the merged directory differs"
	# Two patches of one name (of different text): order and order-2, as
	# in one run of both; a merged directory merges again.
	mkdir -p "$work/p2"
	say "another seeded bug" >"$work/p2/order.patch"
	run all2 --patches "$work/patches/order.patch" --patches "$work/p2/order.patch" "$src"
	expect_status 0
	cp "$work/out" "$work/all2.out"
	run a --patches "$work/patches/order.patch" "$src"
	run c --patches "$work/p2/order.patch" "$src"
	# -o after the directories, as the workflow puts it.
	# shellcheck disable=SC2086 # ms_sh: may be two words
	$ms_sh "$ms" --merge "$work/a" -o "$work/m1" >"$work/out" 2>&1
	rc=$?
	expect_status 0
	run_merge m2 "$work/m1" "$work/c"
	expect_status 0
	cp "$work/out" "$work/m2.out"
	same_run all2 m2
	expect_line '^label=order-2$' "$work/m2/order-2/mutant.info"
}

# refused ERE DIR...: --merge DIR... exits 4 with one line, matching ERE,
# and writes nothing.
refused() {
	refused_ere=$1
	shift
	run_merge m "$@"
	expect_status 4
	expect_line "^mutation-score: $refused_ere"
	[ "$(grep -c . "$work/out")" = 1 ] || fail "a refused merge prints more than one line"
	[ -z "$(ls -A "$work/m" 2>/dev/null)" ] || fail "a refused merge wrote into its output"
}

check_merge_refused() {
	base_ok
	canned order 1 fail "" "fanin_local.defer_flag fail 0.07 order: x"
	canned lost 1 fail "" "notify_taskrun.coop_flag fail 0.02 lost CQE: x"
	mkpatches order lost
	run a --patches "$work/patches/order.patch" "$src"
	run b --patches "$work/patches/lost.patch" "$src"
	run ab --patches "$work/patches" "$src"
	# The same patch twice: one row per patch (which run would count?).
	refused "cannot merge: the patch order is in both $work/a and $work/a " "$work/a" "$work/a"
	refused "cannot merge: the patch order is in both $work/ab and $work/a " "$work/ab" "$work/a"
	# The same text under another name is the same patch.
	cp "$work/patches/order.patch" "$work/patches/order-again.patch"
	canned order-again 1 fail "" "fanin_local.defer_flag fail 0.07 order: x"
	run c --patches "$work/patches/order-again.patch" "$src"
	refused "cannot merge: the patch order-again is in both $work/a and $work/c " "$work/a" "$work/c"
	# Another kernel: another tree, release or configuration.
	mkdir -p "$work/linux2/io_uring"
	: >"$work/linux2/Makefile"
	say "int x;" >"$work/linux2/io_uring/tw.c"
	run c --patches "$work/patches/lost.patch" "$work/linux2"
	refused "cannot merge $work/a and $work/c: other unpatched kernels \\(tree [^ ]+ and [^ ]+\\)" "$work/a" "$work/c"
	cp -R "$work/b" "$work/c2"
	sed 's/7\.3\.4+/7.3.5+/' "$work/b/base/vm.json" >"$work/c2/base/vm.json"
	refused "cannot merge .*: other unpatched kernels \\(release 7\\.3\\.4\\+ and 7\\.3\\.5\\+\\)" "$work/a" "$work/c2"
	run c --fragment debug --patches "$work/patches/lost.patch" "$src"
	refused "cannot merge .*: other unpatched kernels \\(fragments fast and debug\\)" "$work/a" "$work/c"
	run c --patches "$work/patches/lost.patch" "$src" -- fanin_local
	refused "cannot merge .*: other RUNTESTS-ARGS \\('--stop-at-first-failure' and '--stop-at-first-failure fanin_local'\\)" "$work/a" "$work/c"
	# A fast verdict's rows and --full-run's do not mix either.
	run c --full-run --patches "$work/patches/lost.patch" "$src"
	refused "cannot merge .*: other RUNTESTS-ARGS \\('--stop-at-first-failure' and ''\\)" "$work/a" "$work/c"
	# An unpatched kernel that did not pass, or none: the rows prove nothing.
	cp -R "$work/b" "$work/c3"
	sed 's/^status=pass$/status=fail/' "$work/b/base/mutant.info" >"$work/c3/base/mutant.info"
	refused "cannot merge $work/c3: the suite did not pass on its unpatched kernel \\(fail\\)" "$work/a" "$work/c3"
	rm -rf "$work/c3/base"
	refused "cannot merge: $work/c3/base/mutant.info is missing " "$work/a" "$work/c3"
	# Missing files, named.
	cp -R "$work/b" "$work/c4"
	rm "$work/c4/lost/results.json"
	refused "cannot merge: $work/c4/lost/results.json is missing " "$work/a" "$work/c4"
	rm -rf "$work/c4/lost"
	refused "cannot merge: $work/c4/lost/mutant.info is missing " "$work/a" "$work/c4"
	rm "$work/c4/mutation.json"
	refused "cannot merge: $work/c4/mutation.json is missing " "$work/a" "$work/c4"
	# Usage errors.
	run_merge m
	expect_status 2
	expect_line 'merge needs results directories'
	run_merge m "$work/nope"
	expect_status 2
	expect_line "no such directory: $work/nope"
	run_merge m "$work/a" --patches "$work/patches"
	expect_status 2
	expect_line 'takes results directories'
	$ms_sh "$ms" -o "$work/a" --merge "$work/b" >"$work/out" 2>&1
	rc=$?
	expect_status 2
	expect_line "$work/a is not empty"
}
# ---- driver -------------------------------------------------------------------

checks=${TW_CHECKS:-"merge merge_refused"}
before_check() {
	rm -rf "$work/canned" "$work/kout" "$work"/[a-c]* "$work"/m "$work"/m[12] "$work/p2"
}
# shellcheck disable=SC2086 # the list is words
run_checks $checks
