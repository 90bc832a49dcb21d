#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of test/new, the template a new test starts from: refused
# names and summaries; a test written from test/template.c.in with no
# placeholder left; that test built by the project's own rule (make
# test/NAME.t: the CFLAGS configure chose, -Werror) and run: -l lists a case
# per profile, -D describes it, and a short run passes or skips cleanly on
# this kernel; and no test in the tree still has a TEMPLATE comment. The
# test is written and built in a scratch directory, with the command the
# Makefile's rule gives for a test in test/ (make -n): nothing is written
# into the tree. Prints TAP; exits 0 when every check passed.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"

name=zz_new_selftest
summary="a test test/new wrote: messages arrive once & in order"

# run ARGS...: test/new, output in $work/out and $work/err, status in $rc.
run() {
	sh "$top/test/new" "$@" >"$work/out" 2>"$work/err" </dev/null
	rc=$?
}

check_refused() {
	mkdir "$work/new"
	for bad in Upper 9lives with-dash 'two words' ''; do
		run --dir "$work/new" "$bad" "summary"
		expect_status 2
	done
	run --dir "$work/new" nosummary ''
	expect_status 2
	for bad in 'a "quoted" summary' 'a back\\slash' "$(printf 'a\ttab')"; do
		run --dir "$work/new" quoted "$bad"
		expect_status 2
	done
	run --dir "$work/new" onlyname
	expect_status 2
	run fanin_local "a test that exists"
	expect 1
	grep -q 'test/fanin_local.c exists' "$work/err" || fail "no word of the existing test"
	[ -z "$(ls "$work/new")" ] || fail "a refused call wrote $(ls "$work/new")"
}

check_written() {
	mkdir -p "$work/new"
	run --dir "$work/new" "$name" "$summary"
	expect_status 0
	f=$work/new/$name.c
	[ -f "$f" ] || fail "no $f"
	no_line '@[A-Z]+@' "$f"
	expect_line "^	\\.name = \"$name\",\$" "$f"
	expect_line "^	\\.summary = \"a test test/new wrote: messages arrive once & in order\",\$" "$f"
	expect_line 'TEMPLATE' "$f"
	run --dir "$work/new" "$name" "$summary"
	expect_status 1
}

check_builds_and_runs() {
	command -v make >/dev/null 2>&1 || { say "no make here"; exit 77; }
	[ -f "$top/config-host.mak" ] || { say "not configured: run ./configure && make"; exit 77; }
	mkdir -p "$work/build"
	run --dir "$work/build" "$name" "$summary"
	expect_status 0
	t=$work/build/$name.t
	# The rule's command for a test that exists, pointed at the new one.
	(cd "$top" && make -s all && make -n -W test/fanin_local.c test/fanin_local.t) >"$work/out" 2>&1 ||
		fail "make: no command for test/fanin_local.t"
	cmd=$(grep -e '-o test/fanin_local\.t test/fanin_local\.c ' "$work/out") ||
		fail "make -n: no compile command of test/fanin_local.c"
	cmd=$(say "$cmd" | sed "s|-o test/fanin_local\.t test/fanin_local\.c |-o $t $work/build/$name.c |")
	(cd "$top" && eval "$cmd") >"$work/out" 2>&1 || fail "building $name.t failed: $cmd"
	"$t" -l >"$work/out" 2>&1 || fail "$name.t -l failed"
	[ "$(wc -l <"$work/out")" = 7 ] || fail "$name.t -l: not one case per profile"
	expect_line "^$name\\.defer_flag\$"
	"$t" -D >"$work/out" 2>&1 || fail "$name.t -D failed"
	[ "$(cat "$work/out")" = "$name	default,coop,coop_flag,single,defer,defer_flag,sqpoll	msg_ring 5.18	-	$summary" ] ||
		fail "$name.t -D does not describe its struct scenario"
	"$t" -d 0.1 >"$work/out" 2>&1 </dev/null
	rc=$?
	case $rc in
	0) no_line '^not ok' ;;
	77) no_line '^not ok' && no_line '# SKIP *$' ;;	# every case skipped, with a reason
	*) fail "$name.t -d 0.1: exit status $rc, expected 0 (pass) or 77 (skip)" ;;
	esac
	expect_line '^1\.\.7$'
}

# A test that went in still saying TEMPLATE was not finished.
check_no_template_left() {
	grep -l 'TEMPLATE' "$top"/test/*.c "$top"/test/lib/*.[ch] 2>/dev/null >"$work/out"
	[ ! -s "$work/out" ] || fail "TEMPLATE comments left in a test: act on them, then delete them"
}

run_checks refused written builds_and_runs no_template_left
