# SPDX-License-Identifier: MIT
#
# runner/lib.sh - the shell helpers every script of the suite shares:
# runtests.sh, the guest and kernel tools, the benchmark's tools and the
# meta tests. Sourced, not run:
#
#   me=vm-run			# the name messages start with (default: $0's)
#   . "$top/runner/lib.sh"
#
# POSIX sh: it runs under busybox sh in a minimal guest too. A script
# adjusts the helpers through variables, never by defining them again:
#   usage_status   the exit status of usage_error (default 2; git bisect
#                  run wants 128 for "stop", runtests.sh --bisect uses it)
#   exit_hook      a function die and usage_error end with instead of exit
#                  (it gets the status; vm-run maps statuses for bisecting)

: "${me:=${0##*/}}"

# say TEXT...: one line on stdout.
say() { printf '%s\n' "$*"; }

# warn TEXT...: one line on stderr, prefixed with the program's name.
warn() { printf '%s: %s\n' "$me" "$*" >&2; }

# die STATUS TEXT...: warn, then exit with STATUS.
die() {
	lib_status=$1
	shift
	warn "$*"
	${exit_hook:-exit} "$lib_status"
}

# usage_error TEXT...: what was wrong with the command line, and where help is.
usage_error() {
	warn "$*"
	warn "try $0 --help"
	${exit_hook:-exit} "${usage_status:-2}"
}

# is_number WORD: a non-negative decimal number (3, 0.5, 10.)?
is_number() {
	case $1 in
	'' | *[!0-9.]* | *.*.* | .) return 1 ;;
	esac
	return 0
}

# quote WORD: WORD as one single-quoted shell word, for eval.
quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# abs_path PATH: PATH made absolute against the working directory, without
# resolving links; PATH need not exist (yet).
abs_path() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$(pwd)" "$1" ;;
	esac
}
