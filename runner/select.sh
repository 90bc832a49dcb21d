# SPDX-License-Identifier: MIT
#
# runner/select.sh - what runtests.sh runs: building when nothing is built,
# the programs and cases of the selection, the exclude file and the known
# issues. Sourced by runtests.sh (POSIX sh, busybox sh in a guest), after
# runner/lib.sh; it reads runtests.sh's settings:
#   testdir, supervise, top      where the programs, supervisor and Makefile are
#   names                        the NAMEs of the command line
#   exclude_file, known_issues   test/exclude, test/known-issues (or others)
#   kernel, bisect, tmp          uname -r, --bisect, the scratch directory
#   check_args                   --check-args: the names only, nothing built
# and writes the selection to $tmp/selection, one "PROGRAM" or "PROGRAM
# PROFILE" per line.

# ---- building and choosing programs -----------------------------------------

# Is any test program built?
have_programs() {
	for t in "$testdir"/*.t; do
		[ -x "$t" ] && return 0
	done
	return 1
}

# Builds when nothing is built; says when a test is older than its source.
ensure_built() {
	if ! have_programs || [ ! -x "$supervise" ]; then
		if [ ! -f "$top/Makefile" ] || ! command -v make >/dev/null 2>&1; then
			warn "nothing is built in $testdir and make is not available"
			finish_early
		fi
		say "nothing built yet: ./configure && make"
		if ! (cd "$top" && { [ -f config-host.mak ] || ./configure; } && make) \
			>"$tmp/build.log" 2>&1; then
			tail -n 20 "$tmp/build.log" >&2
			warn "build failed"
			finish_early
		fi
	fi
	for c in "$testdir"/*.c; do
		[ -f "$c" ] || continue
		if [ -n "$(find "$c" -newer "${c%.c}.t" 2>/dev/null)" ]; then
			warn "${c%.c}.t is older than its source: run make"
		fi
	done
}

# Nothing could be built or run: 125 for git bisect (cannot test), else 1.
finish_early() {
	[ "$bisect" = 1 ] && exit 125
	exit 1
}

# The cases of a program, one per line ("NAME.PROFILE"), optionally only
# those of the comma-separated profiles in $2.
list_cases() {
	if command -v timeout >/dev/null 2>&1; then
		timeout 10 "$testdir/$1.t" -l ${2:+-p "$2"} </dev/null 2>/dev/null
	else
		"$testdir/$1.t" -l ${2:+-p "$2"} </dev/null 2>/dev/null
	fi
}

# The selection, one "PROGRAM" or "PROGRAM PROFILE" per line, in $tmp/selection:
# the NAMEs in their order, or every program in the default order.
select_programs() {
	: >"$tmp/selection"
	if [ -z "$names" ]; then
		for t in "$testdir"/*.t; do
			[ -x "$t" ] || continue
			t=${t##*/}
			say "${t%.t}"
		done | default_order >"$tmp/selection"
		return
	fi
	set -f
	for name in $names; do
		name=${name##*/}
		name=${name%.t}
		prog=${name%%.*}
		if [ ! -x "$testdir/$prog.t" ]; then
			# --check-args before a build: the source says it is a test;
			# the profile is checked once it is built.
			[ "$check_args" = 1 ] && [ -f "$testdir/$prog.c" ] && continue
			usage_error "no test '$prog' in $testdir (./runtests.sh --list names them)"
		fi
		if [ "$prog" = "$name" ]; then
			say "$prog" >>"$tmp/selection"
			continue
		fi
		profile=${name#*.}
		list_cases "$prog" | grep -qx "$prog\\.$profile" ||
			usage_error "$prog has no case '$name' (see ./runtests.sh --list $prog)"
		say "$prog $profile" >>"$tmp/selection"
	done
	set +f
}

# default_order: the programs read (one a line, in name order) in the
# order of $testdir/order (cheap, sharp ones first: scripts/suite-order
# writes it, doc/runner.md says why), those it does not list after them.
default_order() {
	awk -v order="$testdir/order" '
	BEGIN {
		while ((getline line < order) > 0) {
			split(line, w, /[ \t]+/)
			if (w[1] != "" && w[1] !~ /^#/ && !(w[1] in rank))
				rank[w[1]] = ++n
		}
	}
	$1 in rank { at[rank[$1]] = $1; next }
	{ rest[++m] = $1 }
	END {
		for (i = 1; i <= n; i++)
			if (i in at)
				print at[i]
		for (i = 1; i <= m; i++)
			print rest[i]
	}'
}

# --list: the cases of the selection, an excluded one with its reason.
list_tests() {
	while read -r prog profile; do
		list_cases "$prog" "$profile" >"$tmp/cases" || : >"$tmp/cases"
		[ -s "$tmp/cases" ] || say "$prog" >"$tmp/cases"
		while read -r c; do
			if reason=$(excluded "$c" "$prog"); then
				say "$c  ($reason)"
			else
				say "$c"
			fi
		done <"$tmp/cases"
	done <"$tmp/selection"
}

# The programs' own description of themselves (-D): the one source of the
# test table in README and doc/.
describe_tests() {
	cut -d' ' -f1 "$tmp/selection" | uniq | while read -r prog; do
		"$testdir/$prog.t" -D </dev/null || warn "$prog.t cannot describe itself (-D)"
	done
}

# ---- exclusions and known issues -----------------------------------------------

# excluded CASE PROGRAM: print the reason if the exclude file names the case or
# its program ("name  # reason" per line, globs allowed).
excluded() {
	[ -r "$exclude_file" ] || return 1
	while read -r ex_pat ex_rest; do
		case $ex_pat in
		'' | '#'*) continue ;;
		esac
		names_case "$ex_pat" "$1" "$2" || continue
		# An optional kernel range before the '#': only those kernels.
		case $ex_rest in
		'#'* | '') ;;
		*)
			ex_range=${ex_rest%%[ 	]*}
			ex_rest=${ex_rest#"$ex_range"}
			ex_rest=${ex_rest#"${ex_rest%%[! 	]*}"}
			kernel_in_range "$ex_range" || continue
			;;
		esac
		ex_rest=${ex_rest#\#}
		ex_rest=${ex_rest# }
		say "excluded: ${ex_rest:-listed in $exclude_file}"
		return 0
	done <"$exclude_file"
	return 1
}

# names_case PATTERN CASE PROGRAM: does the glob name the case or its program?
# shellcheck disable=SC2254 # the patterns are globs
names_case() {
	case $2 in
	$1) return 0 ;;
	esac
	case $3 in
	$1) return 0 ;;
	esac
	return 1
}

# kernel_in_range RANGE: does $kernel fall in it? ('*', '<X', '<=X', '>X',
# '>=X', 'A-B', 'X', 'X.*': see runner/version-range.awk.)
kernel_in_range() {
	awk -v range="$1" -v release="$kernel" -f "$top/runner/version-range.awk"
}

# known_issue CASE PROGRAM VERDICT KINDS REASON: whether a known kernel bug
# of this kernel accounts for the case's verdict - one line, "xfail HINT",
# "xpass HINT" or "other NOTE" (runner/known-issues.awk says how), or none.
known_issue() {
	[ "$bisect" = 1 ] && return 0
	[ -r "$known_issues" ] || return 0
	TW_KI_REASON=$5 awk -v name="$1" -v prog="$2" -v verdict="$3" -v kinds="$4" \
		-v kernel="$kernel" -f "$top/runner/version-range.awk" \
		-f "$top/runner/known-issues.awk" "$known_issues"
}

# known_issue_cases PROGRAM: those of the cases in $tmp/cases (or the
# program) that an entry of the known-issues file names on this kernel,
# one a line: a failure of theirs may be an xfail.
known_issue_cases() {
	[ "$bisect" = 1 ] && return 0
	[ -r "$known_issues" ] || return 0
	awk -v listed="$tmp/cases" -v prog="$1" -v kernel="$kernel" -f "$top/runner/version-range.awk" \
		-f "$top/runner/known-issues.awk" "$known_issues"
}

# check_known_issues: every entry of the known-issues file readable, or a
# usage error naming the lines (an entry the runner cannot read never
# matches: the bug it lists would fail every run).
check_known_issues() {
	[ "$bisect" = 1 ] && return 0
	[ -r "$known_issues" ] || return 0
	awk -v check=1 -f "$top/runner/version-range.awk" -f "$top/runner/known-issues.awk" \
		"$known_issues" >"$tmp/known-issues.bad" 2>&1 && return 0
	while IFS= read -r line; do
		warn "$line"
	done <"$tmp/known-issues.bad"
	usage_error "$known_issues: entries the runner cannot read (its header gives the format)"
}
