# SPDX-License-Identifier: MIT
#
# What the meta tests (test/meta/*.sh) share: sourced, not run, right
# after they set $top. It brings runner/lib.sh (say, warn, ...), a scratch
# directory $work, fail and the driver, run_checks.
#
# The command under test runs through the meta test's own run(), which
# leaves its output in $work/out (and $work/err, if kept apart) and its
# exit status in $rc; the helpers below judge that:
#   fail TEXT...        the check failed: why, and what the command printed
#   expect_status N     it exited N
#   expect_line ERE [F] a line of its output (or of file F) matches
#   no_line ERE [F]     no line does
#   expect N [ERE]      both of the first two
#   valid_json F        F is JSON (python3's parser where there is one,
#                       else: one object over whole lines)
#   expect_same A B WHAT  files A and B are the same (else: WHAT, and
#                       their differences)
#   expect_two_runs BASE FILE  BASE holds two runs' directories (runner/lib.sh's
#                       new_run_dir), each with FILE, BASE/latest the newer;
#                       their paths in $run1 and $run2
#
# run_checks CHECK...: runs each function check_CHECK in a subshell, its
# output kept in $work/check.out, and prints TAP: "ok N - CHECK (Ss)",
# "ok N - CHECK # SKIP <its last line>" for exit 77, else "not ok" with the
# output as diagnostics. A caller may define before_check (called with the
# check's name first, e.g. to clear scratch files) and $checks_note (a
# line printed as a TAP comment after the header). Returns 0 when all
# passed.

# shellcheck source=runner/lib.sh
. "$top/runner/lib.sh"

# $work: the meta test's scratch directory, gone at exit (KEEP=1 keeps it,
# to look at after a failure).
work=$(mktemp -d "${TMPDIR:-/tmp}/meta-${0##*/}.XXXXXX") || exit 1
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

fail() {
	say "$*"
	for meta_f in out err; do
		[ -s "$work/$meta_f" ] || continue
		say "$meta_f:"
		sed 's/^/  | /' "$work/$meta_f"
	done
	exit 1
}

expect_status() {
	[ "$rc" = "$1" ] || fail "exit status $rc, expected $1"
}

expect_line() {
	grep -Eq -- "$1" "${2:-$work/out}" || fail "no line matching: $1${2:+ (in $2)}"
}

no_line() {
	! grep -Eq -- "$1" "${2:-$work/out}" || fail "a line matches: $1${2:+ (in $2)}"
}

expect() {
	expect_status "$1"
	[ $# -lt 2 ] || expect_line "$2"
}

valid_json() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -m json.tool "$1" >/dev/null 2>"$work/json.err" ||
			fail "$1 is not JSON: $(cat "$work/json.err")"
	else
		head -n 1 "$1" | grep -qx '{' || fail "$1 is not one object"
		tail -n 1 "$1" | grep -qx '}' || fail "$1 is not one object"
	fi
}

run_checks() {
	rc_n=0
	rc_failed=0
	printf 'TAP version 13\n'
	[ -z "${checks_note:-}" ] || printf '# %s\n' "$checks_note"
	for rc_c in "$@"; do
		rc_n=$((rc_n + 1))
		if command -v before_check >/dev/null 2>&1; then
			before_check "$rc_c"
		fi
		rc_start=$(date +%s)
		(check_"$rc_c") >"$work/check.out" 2>&1
		rc_status=$?
		rc_secs=$(($(date +%s) - rc_start))
		case $rc_status in
		0) printf 'ok %d - %s (%ss)\n' "$rc_n" "$rc_c" "$rc_secs" ;;
		77) printf 'ok %d - %s # SKIP %s\n' "$rc_n" "$rc_c" "$(tail -n 1 "$work/check.out")" ;;
		*)
			printf 'not ok %d - %s\n' "$rc_n" "$rc_c"
			sed 's/^/# /' "$work/check.out"
			rc_failed=$((rc_failed + 1))
			;;
		esac
	done
	printf '1..%d\n' "$rc_n"
	[ "$rc_failed" = 0 ]
}

expect_same() {
	diff -- "$1" "$2" >"$work/same.diff" 2>&1 ||
		fail "$3 (diff $1 $2):
$(cat "$work/same.diff")"
}

expect_two_runs() {
	etr_base=$1 etr_file=$2
	set -- "$etr_base"/2*
	[ $# = 2 ] || fail "two runs, not two directories in $etr_base: $*"
	for etr_d; do
		[ -f "$etr_d/$etr_file" ] || fail "$etr_d: no $etr_file"
	done
	run1=$1 run2=$2
	[ "$(readlink "$etr_base/latest")" = "${run2##*/}" ] || fail "$etr_base/latest is not the newest run"
}
