# SPDX-License-Identifier: MIT
#
# runner/report.sh - where the results go and what they say: the results
# directory, the three reports (runner/report.awk) after each program and
# at the end, the report hook, the summary line and the exit status.
# Sourced by runtests.sh (POSIX sh, busybox sh in a guest), after
# runner/lib.sh; reads $tmp/records (see runner/judge.sh) and runtests.sh's
# settings.

# ---- the results directory ------------------------------------------------------

# Each run keeps its own: results/<release>/<UTC time>/, with
# results/<release>/latest pointing at the newest (runner/lib.sh's
# new_run_dir). Nothing removes an earlier run. --results-dir DIR is used
# as it is (the kernel tools give each run its own): empty, or holding an
# earlier run of ours, whose files are replaced (and the run says so).
# (TW_RESULTS: another place than results/, for the meta tests.)
default_results_base() {
	say "${TW_RESULTS:-$top/results}/$kernel"
}

# Before anything is built or run: can the results be written? (A tree a
# run with sudo left behind is root's.) One line and exit 2 if not.
check_results_writable() {
	crw_why=$(cannot_write_in "${results_dir:-$(default_results_base)}") ||
		die "${usage_status:-2}" "cannot write the results: $crw_why; chown it or choose another --results-dir"
}

prepare_results_dir() {
	if [ -z "$results_dir" ]; then
		results_dir=$(new_run_dir "$(default_results_base)") ||
			die "${usage_status:-2}" "cannot make a results directory in $(default_results_base)"
		return
	fi
	mkdir -p "$results_dir" || die "${usage_status:-2}" "cannot make --results-dir $results_dir"
	if [ -f "$results_dir/results.json" ]; then
		say "replacing the earlier run in $results_dir"
	elif [ -n "$(ls -A "$results_dir")" ]; then
		usage_error "$results_dir is not empty and holds no results.json: choose another --results-dir"
	fi
	rm -f "$results_dir"/*.log "$results_dir"/*.kmsg "$results_dir"/results.tap \
		"$results_dir"/results.xml "$results_dir"/results.json ||
		die "${usage_status:-2}" "cannot remove the earlier run's files in $results_dir"
	results_dir=$(cd "$results_dir" && pwd)
}

# ---- the reports ------------------------------------------------------------------

# All three reports from $tmp/records (one TAB-separated line per case: name,
# program, profile, result, seconds, iteration, log, kmsg, known issue,
# reason; "-" for none). Rewritten after every program, so a run that takes
# the machine down leaves the reports of what finished ("complete": false).
write_reports() {
	awk -v dir="$results_dir" -v kernel="$kernel" -v seed="$seed" -v duration="$duration" \
		-v limit="$timeout" -v repeat="$repeat" -v started="$started_at" -v complete="$1" \
		-v interrupted="$interrupted" -v kmsg_state="$kmsg_state" -v uring="$uring_disabled" \
		-v stop_first="$stop_first" -v stopped="$stopped_at" \
		-f "$top/runner/json.awk" -f "$top/runner/report.awk" "$tmp/records"
}

# $TW_REPORT_HOOK RESULTS_DIR [FILES...]: run after the reports were
# rewritten, with the files of the program that just finished. The guest
# of guest/vm-run ships the results to the host with it, program by
# program, so a kernel that dies mid-run leaves what finished before.
report_hook() {
	[ -n "${TW_REPORT_HOOK:-}" ] || return 0
	"$TW_REPORT_HOOK" "$results_dir" "$@" || warn "report hook $TW_REPORT_HOOK failed"
}

# The last line: how many cases, by verdict, and where the results are.
summary() {
	awk -v dir="$results_dir" -f "$top/runner/summary.awk" "$tmp/records"
}

# --stop-at-first-failure: the first case (NAME#ITERATION with --repeat)
# whose verdict fails the run, or nothing.
first_failure() {
	awk -F "$tab" -v repeat="$repeat" '$4 ~ /^(fail|hang|crash|xpass)$/ {
		print $1 (repeat > 1 ? "#" $6 : ""); exit }' "$tmp/records"
}

# How many cases the run did not reach after it stopped.
not_run_count() {
	cut -f10 "$tmp/records" | grep -c '^not run: stopped at the first failure'
}

# 0/1 by the records (2 usage, 130 interrupted are decided elsewhere).
exit_status() {
	bad=$(cut -f4 "$tmp/records" | grep -c -E '^(fail|hang|crash|xpass|xfail)$')
	ran=$(cut -f4 "$tmp/records" | grep -c -E '^(pass|fail|hang|crash|xpass|xfail)$')
	if [ "$bisect" = 1 ]; then
		[ "$ran" -eq 0 ] && return 125
		[ "$bad" -gt 0 ] && return 1
		return 0
	fi
	bad=$(cut -f4 "$tmp/records" | grep -c -E '^(fail|hang|crash|xpass)$')
	[ "$bad" -gt 0 ] && return 1
	return 0
}
