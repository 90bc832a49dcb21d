# SPDX-License-Identifier: MIT
#
# runner/report.sh - the end of each program and of the run: the three
# reports (runner/report.awk), the report hook, the summary line and the
# exit status. Sourced by runtests.sh (POSIX sh, busybox sh in a guest);
# reads $tmp/records (see runner/judge.sh) and runtests.sh's settings.

# All three reports from $tmp/records (one TAB-separated line per case: name,
# program, profile, result, seconds, iteration, log, kmsg, known issue,
# reason; "-" for none). Rewritten after every program, so a run that takes
# the machine down leaves the reports of what finished ("complete": false).
write_reports() {
	awk -v dir="$results_dir" -v kernel="$kernel" -v seed="$seed" -v duration="$duration" \
		-v limit="$timeout" -v repeat="$repeat" -v started="$started_at" -v complete="$1" \
		-v interrupted="$interrupted" -v kmsg_state="$kmsg_state" -v uring="$uring_disabled" \
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
