#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of the kernel bug reports in doc/bugs/ (doc/bugs/README.md):
#  - every reproducer doc/bugs/*.c builds, without a warning, with the one
#    command written at its top (the "cc ... doc/bugs/<slug>.c ..." line);
#  - every reproducer with a "Suite:" line (the regression test's command)
#    agrees with that test on the running kernel: its exit 1 (bug shown)
#    goes with the test failing, its 0 (fixed) with the test passing, and
#    the words of its "Says:" line (an ERE), if any, are in both outputs
#    or in neither; 77 from either side (cannot tell, a skip) leaves that
#    pair out, and the check is a skip only if no pair could tell. A
#    reproducer without a Suite: line is only built;
#  - and the checkers themselves: a reproducer that does not compile, a
#    pair that disagrees, and one that disagrees after a pair that cannot
#    tell are caught (stand-ins in the scratch directory).
# Prints TAP; exits 0 when every check passed.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"

# header_line FILE WORD: the text after WORD on the first lines of FILE's
# comment (" * cc ...", " * Suite: ..."), with WORD.
header_line() {
	sed -n '1,12{s/^ \* \('"$2"'.*\)$/\1/p;}' "$1" | head -n 1
}

# build_repro C-FILE OUT: build it with its own command, the binary at OUT.
# Fails (status 1, the compiler's words on stdout) on an error or a warning.
build_repro() {
	br_cmd=$(header_line "$1" 'cc ')
	[ -n "$br_cmd" ] || { say "$1: no build command (a ' * cc ...' line) at its top"; return 1; }
	br_src=${1#"$top"/}
	case $br_cmd in
	*" $br_src "* | *" $br_src") ;;
	*) say "$1: its build command does not name $br_src: $br_cmd"; return 1 ;;
	esac
	# The command as written, its output redirected into the scratch tree.
	br_cmd=$(say "$br_cmd" | sed 's|-o [^ ]*|-o '"$2"'|')
	(cd "$top" && eval "$br_cmd") >"$work/build.out" 2>&1 || {
		say "$1: the build failed: $br_cmd"; cat "$work/build.out"; return 1
	}
	[ ! -s "$work/build.out" ] || {
		say "$1: the build warned: $br_cmd"; cat "$work/build.out"; return 1
	}
}

# agree REPRO-STATUS REPRO-OUT TEST-STATUS TEST-OUT [SAYS]: do the
# reproducer and the regression test tell the same story? 0 yes, 1 no (why
# on stdout), 77 one side cannot tell here. SAYS: an ERE both print when
# the bug shows, and neither when it does not.
agree() {
	case $1/$3 in
	77/* | */77) say "cannot tell on $(uname -r): reproducer $1, test $3"; return 77 ;;
	1/1 | 0/0) ;;
	*) say "disagree on $(uname -r): the reproducer exited $1, the test $3"; return 1 ;;
	esac
	[ -n "${5:-}" ] || return 0
	ag_r=0; ag_t=0
	grep -Eq -- "$5" "$2" && ag_r=1
	grep -Eq -- "$5" "$4" && ag_t=1
	[ "$ag_r$ag_t" = "$1$3" ] && return 0
	say "disagree on $(uname -r): exit $1/$3, but '$5' said by reproducer $ag_r, test $ag_t"
	return 1
}

check_builds() {
	n=0
	for c in "$top"/doc/bugs/*.c; do
		[ -f "$c" ] || continue
		b=${c##*/}
		build_repro "$c" "$work/${b%.c}" || exit 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || fail "no reproducer in doc/bugs/"
}

check_agree() {
	n=0
	told=0
	for c in "$top"/doc/bugs/*.c; do
		[ -f "$c" ] || continue
		b=${c##*/}
		suite=$(header_line "$c" 'Suite: ')
		[ -n "$suite" ] || continue
		says=$(header_line "$c" 'Says: ')
		n=$((n + 1))
		build_repro "$c" "$work/${b%.c}" || exit 1
		"$work/${b%.c}" >"$work/repro.out" 2>&1
		r=$?
		# shellcheck disable=SC2086 # the command's words
		(cd "$top" && ${suite#Suite: }) >"$work/test.out" 2>&1
		t=$?
		agree "$r" "$work/repro.out" "$t" "$work/test.out" "${says#Says: }"
		a=$?
		case $a in
		0) told=$((told + 1)); continue ;;
		# This kernel cannot show that bug: the other pairs still count.
		77) say "${b%.c}: cannot tell here"; continue ;;
		esac
		say "reproducer: $work/${b%.c}"
		sed 's/^/  | /' "$work/repro.out"
		say "test: ${suite#Suite: }"
		grep -E '^(not ok|ok|# FAIL)' "$work/test.out" | sed 's/^/  | /'
		exit "$a"
	done
	[ "$n" -gt 0 ] || fail "no reproducer in doc/bugs/ names its test on a Suite: line"
	[ "$told" -gt 0 ] || exit 77
}

# The checkers on stand-ins: each must catch what it is there for.
check_catches_a_broken_build() {
	mkdir -p "$work/doc/bugs"
	printf '/*\n * cc -O2 -Wall -o /tmp/x doc/bugs/broken.c\n */\nint main(void) { return x; }\n' \
		>"$work/doc/bugs/broken.c"
	printf '/*\n * cc -O2 -Wall -o /tmp/x doc/bugs/warns.c\n */\nint main(void) { int u; return 0; }\n' \
		>"$work/doc/bugs/warns.c"
	top=$work
	build_repro "$work/doc/bugs/broken.c" "$work/broken" >"$work/out" && fail "a broken reproducer built"
	expect_line 'the build failed'
	build_repro "$work/doc/bugs/warns.c" "$work/warns" >"$work/out" && fail "a warning passed"
	expect_line 'the build warned'
	printf '/*\n * cc -o /tmp/x other.c\n */\nint main(void) { return 0; }\n' >"$work/doc/bugs/c.c"
	build_repro "$work/doc/bugs/c.c" "$work/c" >"$work/out" && fail "a command for another file passed"
	expect_line 'does not name doc/bugs/c.c'
}

check_catches_disagreement() {
	printf 'dgram: lost wake-up: ...\n' >"$work/lost"
	printf 'dgram: woken 0.1 ms after the trigger\n' >"$work/woken"
	printf 'not ok 1 x.defer # FAIL dgram: early return: ...\n' >"$work/other"
	says='lost wake-up'
	agree 1 "$work/lost" 1 "$work/lost" "$says" >"$work/out" || fail "1/1, both lost: not agreed"
	agree 0 "$work/woken" 0 "$work/woken" "$says" >"$work/out" || fail "0/0: not agreed"
	agree 1 "$work/lost" 1 "$work/other" >"$work/out" || fail "1/1 without words: not agreed"
	for pair in "1 lost 0 woken" "0 woken 1 lost" "1 lost 1 other" "0 lost 0 woken"; do
		# shellcheck disable=SC2086
		set -- $pair
		agree "$1" "$work/$2" "$3" "$work/$4" "$says" >"$work/out" && fail "$pair: agreed"
		expect_line '^disagree'
	done
	agree 77 "$work/woken" 1 "$work/lost" "$says" >"$work/out"
	[ $? = 77 ] || fail "a reproducer that cannot tell: not a skip"
}

# A pair that cannot tell on this kernel hides no other pair's verdict.
check_skip_hides_nothing() {
	top=$work/skips
	mkdir -p "$top/doc/bugs"
	printf '#!/bin/sh\nexit 77\n' >"$top/skip77"
	chmod +x "$top/skip77"
	printf '/*\n * cc -o /tmp/x doc/bugs/a.c\n * Suite: ./skip77\n */\nint main(void) { return 77; }\n' \
		>"$top/doc/bugs/a.c"
	printf '/*\n * cc -o /tmp/x doc/bugs/b.c\n * Suite: true\n */\nint main(void) { return 1; }\n' \
		>"$top/doc/bugs/b.c"
	(check_agree) >"$work/out"
	[ $? = 1 ] || fail "a pair that cannot tell hid the disagreement of the pair after it"
	expect_line '^disagree'
	printf '/*\n * cc -o /tmp/x doc/bugs/b.c\n * Suite: false\n */\nint main(void) { return 1; }\n' \
		>"$top/doc/bugs/b.c"
	(check_agree) >"$work/out" || fail "a pair that cannot tell failed the agreement of another"
	rm "$top/doc/bugs/b.c"
	(check_agree) >"$work/out"
	[ $? = 77 ] || fail "no pair could tell: not a skip"
	expect_line '^a: cannot tell here'
}

run_checks builds agree catches_a_broken_build catches_disagreement skip_hides_nothing
