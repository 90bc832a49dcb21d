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

# progress_start WHAT LOG: long work that writes LOG shows, on a terminal
# only (stderr), one line rewritten every 10 s: WHAT, the time so far and
# LOG's last line. progress_stop ends it (call it on every path out).
# TW_PROGRESS=1 forces it, 0 silences it (tests; CI logs).
progress_start() {
	progress_pid=
	case ${TW_PROGRESS:-} in
	0) return 0 ;;
	1) ;;
	*) [ -t 2 ] || return 0 ;;
	esac
	(
		progress_t0=$(date +%s)
		# $$ is the caller: an interrupted caller leaves no ticker behind.
		while sleep "${TW_PROGRESS_EVERY:-10}" && kill -0 $$ 2>/dev/null; do
			s=$(($(date +%s) - progress_t0))
			printf '\r%s: %s %dm%02ds: %.60s\033[K' "$me" "$1" $((s / 60)) $((s % 60)) \
				"$(tail -n 1 "$2" 2>/dev/null)" >&2
		done
	) &
	progress_pid=$!
}

progress_stop() {
	[ -n "${progress_pid:-}" ] || return 0
	kill "$progress_pid" 2>/dev/null
	wait "$progress_pid" 2>/dev/null
	progress_pid=
	printf '\r\033[K' >&2
}
