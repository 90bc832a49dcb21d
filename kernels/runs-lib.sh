# SPDX-License-Identifier: MIT
# shellcheck shell=sh
#
# kernels/runs-lib.sh - what the tools that run the suite on several kernels
# share (kernel-matrix, mutation-score, coverage). Sourced after
# runner/lib.sh, not run. Each kernel's run is a directory: the runner's
# results plus an info file of KEY=VALUE lines (column.info, mutant.info),
# from which kernels/results.awk draws the tables again at any time.
#
#   set_runtests_args ARG...  the RUNTESTS-ARGS every run gets: sets rargs
#                             (the words joined by spaces, for people and
#                             JSON) and rargs_q (each one quoted, for eval)
#   fragment_option F         "--fragment 'F'" for build-kernel, quoted for
#                             eval; a file's path made absolute (a name of
#                             kernels/kconfig/ stays a name)
#   write_info FILE KEY=VALUE...  the info file (tabs and newlines dropped)
#   json_string FILE KEY      the value of a line '  "KEY": "VALUE",' of a
#                             JSON file the suite wrote; nothing if none
#   run_dirs DIR INFO JSON [SKIP]  the run directories in DIR (those that
#                             hold INFO), in the order of the "label"s of
#                             DIR/JSON, else by name; never DIR/SKIP
#   last_line FILE            its last line that is not blank, at most 200
#                             characters: why a command failed, as a note
#   logged FILE COMMAND...    runs COMMAND (stdin closed), its output
#                             appended to FILE and, when $verbose is 1,
#                             copied to stdout; returns COMMAND's status
#   build_image LOG ARG...    $build_kernel ARG..., under flock $lockfile
#                             when that is set, its messages in LOG (shown on
#                             stderr with $verbose = 1); sets image to the
#                             bzImage it printed; returns its status

set_runtests_args() {
	rargs=
	rargs_q=
	for runs_arg in "$@"; do
		rargs_q="$rargs_q $(quote "$runs_arg")"
		rargs="$rargs${rargs:+ }$runs_arg"
	done
}

fragment_option() {
	if [ -f "$1" ]; then
		printf -- '--fragment %s\n' "$(quote "$(abs_path "$1")")"
	else
		printf -- '--fragment %s\n' "$(quote "$1")"
	fi
}

write_info() {
	runs_file=$1
	shift
	for runs_kv in "$@"; do
		printf '%s\n' "$runs_kv" | tr -d '\n\t'
		printf '\n'
	done >"$runs_file"
}

json_string() {
	sed -n "s/^  \"$2\": \"\\(.*\\)\",\$/\\1/p" "$1" 2>/dev/null
}

run_dirs() {
	runs_found=
	# shellcheck disable=SC2013 # labels are single words (checked when run)
	for runs_label in $(sed -n 's/^    {"label": "\([^"]*\)".*/\1/p' "$1/$3" 2>/dev/null); do
		if [ "$runs_label" != "${4:-}" ] && [ -f "$1/$runs_label/$2" ]; then
			say "$1/$runs_label"
			runs_found=1
		fi
	done
	[ -n "$runs_found" ] && return 0
	for runs_dir in "$1"/*/; do
		runs_dir=${runs_dir%/}
		[ "$runs_dir" != "$1/${4:-}" ] && [ -f "$runs_dir/$2" ] && say "$runs_dir"
	done
	return 0
}

last_line() {
	grep -v '^ *$' "$1" 2>/dev/null | tail -n 1 | tr -d '\r\t' | cut -c1-200
}

# shellcheck disable=SC2154 # $verbose is the caller's
logged() {
	runs_file=$1
	shift
	if [ "$verbose" = 1 ]; then
		{
			"$@" 2>&1 </dev/null
			echo $? >"$runs_file.status"
		} | tee -a "$runs_file"
		runs_status=$(cat "$runs_file.status")
		rm -f "$runs_file.status"
		return "$runs_status"
	fi
	progress_start "running" "$runs_file"
	"$@" >>"$runs_file" 2>&1 </dev/null
	runs_status=$?
	progress_stop
	return "$runs_status"
}

# The image path is build-kernel's only line on stdout.
# shellcheck disable=SC2154,SC2034 # the caller's settings; image is for it
build_image() {
	runs_log=$1
	shift
	set -- "$build_kernel" "$@"
	[ -n "$lockfile" ] && set -- flock "$lockfile" "$@"
	progress_start "building a kernel" "$runs_log"
	"$@" </dev/null >"$runs_log.image" 2>"$runs_log"
	runs_status=$?
	progress_stop
	image=$(tail -n 1 "$runs_log.image")
	rm -f "$runs_log.image"
	[ "$verbose" = 1 ] && cat "$runs_log" >&2
	return "$runs_status"
}
