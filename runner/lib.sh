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

# progress_on: does a progress line show? Where stderr is a terminal;
# TW_PROGRESS=1 forces it, 0 silences it (tests; CI logs).
progress_on() {
	case ${TW_PROGRESS:-} in
	0) return 1 ;;
	1) return 0 ;;
	esac
	[ -t 2 ]
}

# progress_start WHAT LOG: long work that writes LOG shows, on a terminal
# only (stderr, progress_on), one line rewritten every 10 s: WHAT, the time
# so far and LOG's last line. progress_stop ends it (call it on every path
# out).
progress_start() {
	progress_pid=
	progress_on || return 0
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

# ---- results directories (runtests.sh, guest/vm-run) --------------------------

# cannot_write_in DIR: nothing when DIR exists and we can write in it, or
# it can be made (its nearest existing parent is a directory we can write
# in); else why not, one line (the directory, its owner), and status 1.
cannot_write_in() {
	cw_d=$1
	while [ ! -e "$cw_d" ] && [ ! -L "$cw_d" ]; do
		cw_d=$(dirname "$cw_d")
	done
	if [ ! -d "$cw_d" ]; then
		say "$cw_d is not a directory"
		return 1
	fi
	[ -w "$cw_d" ] && [ -x "$cw_d" ] && return 0
	cw_owner=$(ls -ld "$cw_d" | awk '{ print $3 }')
	if [ "$cw_owner" != "$(id -un 2>/dev/null || id -u)" ]; then
		say "$cw_d belongs to $cw_owner (an earlier run with sudo?)"
	else
		say "we may not write in $cw_d (its mode or a read-only file system)"
	fi
	return 1
}

# new_run_dir BASE: a new directory for one run, BASE/<UTC time>
# (YYYYmmdd-HHMMSS, -2, -3, ... added if taken), and BASE/latest pointing
# at it; prints its path. Earlier runs are never touched.
new_run_dir() {
	mkdir -p "$1" || return 1
	nr_stamp=$(date -u +%Y%m%d-%H%M%S)
	nr_dir=$1/$nr_stamp
	nr_n=1
	while ! mkdir "$nr_dir" 2>/dev/null; do
		[ -d "$nr_dir" ] || return 1	# not taken: we cannot make it
		nr_n=$((nr_n + 1))
		nr_dir=$1/$nr_stamp-$nr_n
	done
	# latest: a link we made (or none yet); anything else there is not ours.
	if [ -L "$1/latest" ] || [ ! -e "$1/latest" ]; then
		rm -f "$1/latest"
		ln -s "${nr_dir##*/}" "$1/latest" || warn "cannot make $1/latest"
	fi
	say "$(cd "$nr_dir" && pwd)"
}
