# SPDX-License-Identifier: MIT
#
# runner/judge.sh - one program of the selection: run it under the
# supervisor, judge each case, print its line (and, under a bad verdict,
# the diagnostics) and add its records. Sourced by runtests.sh (POSIX sh,
# busybox sh in a guest), after runner/lib.sh and runner/select.sh; it
# reads runtests.sh's settings (testdir, supervise, timeout, duration, seed,
# verbose, repeat, kill_grace, kill_wait, kmsg_patterns, results_dir,
# skip_all_reason, BAD_TAINT, tab, tmp, top), the loop's $iteration and
# runner/kmsg.sh's chain of kernel log readers (kmsg_seq, kmsg_taint,
# settle_seconds) and $progress_label (the supervisor's progress line, or
# none).
#
# For each case it appends to $tmp/records one TAB-separated line: name,
# program, profile, result, seconds, iteration, log, kmsg, known issue,
# reason, skipped parts ("-" for none; the parts "PART: REASON" joined by
# \037), which runner/report.awk turns into the reports.
# It sets $log and $kmsg (the program's files) and $kmsg_state, and
# $interrupted if the supervisor was.

# run_program PROGRAM [PROFILE]: run it (or one case), judge, record, report.
run_program() {
	prog=$1
	profile=${2:-}
	label=$prog${profile:+.$profile}
	base=$label
	[ "$repeat" -gt 1 ] && base=$label.r$iteration
	log=$results_dir/$base.log
	kmsg=$results_dir/$base.kmsg
	: >"$tmp/judged"
	list_cases "$prog" "$profile" >"$tmp/cases" || : >"$tmp/cases"
	judge_unrunnable "$prog"
	[ "$runnable" -gt 0 ] && run_supervised "$prog" "$profile"
	record_judged "$prog"
}

# judge_unrunnable PROGRAM: exclusions and a disabled io_uring become skips
# in $tmp/judged; $profiles lists the profiles of the cases left to run,
# $runnable counts them.
judge_unrunnable() {
	profiles=
	runnable=0
	while read -r c; do
		[ -n "$c" ] || continue
		if [ -n "$skip_all_reason" ]; then
			reason=$skip_all_reason
		elif ! reason=$(excluded "$c" "$1"); then
			profiles="$profiles${profiles:+,}${c##*.}"
			runnable=$((runnable + 1))
			continue
		fi
		printf '%s\tskip\t0.00\t-\t%s\n' "$c" "$reason" >>"$tmp/judged"
	done <"$tmp/cases"
	[ -s "$tmp/cases" ] && return
	# The program does not list its cases: all or nothing.
	if [ -n "$skip_all_reason" ]; then
		printf '%s\tskip\t0.00\t-\t%s\n' "$1" "$skip_all_reason" >>"$tmp/judged"
	elif reason=$(excluded "$1" "$1"); then
		printf '%s\tskip\t0.00\t-\t%s\n' "$1" "$reason" >>"$tmp/judged"
	else
		runnable=1
	fi
}

# run_supervised PROGRAM PROFILE: the program under runner/supervise, then
# the verdicts of the cases that ran into $tmp/judged.
run_supervised() {
	rs_prog=$1
	# -p only when some cases are left out (a single case, exclusions).
	if [ -n "$2" ] || [ "$(grep -c . "$tmp/judged")" -gt 0 ]; then
		set -- -p "$profiles"
	else
		set --
	fi
	[ -n "$duration" ] && set -- "$@" -d "$duration"
	# --stop-at-first-failure: the program stops at its first bad case (-x),
	# unless a known issue of this kernel names one (an xfail goes on).
	[ "$stop_first" = 1 ] && [ -z "$(known_issue_cases "$rs_prog")" ] && set -- "$@" -x
	echo=
	[ "$verbose" = 1 ] && echo=-e
	# -K -T -b -S: the kernel log from where the last reader stopped, and
	# io_uring teardown after the program (runner/kmsg.sh).
	"$supervise" $echo ${progress_label:+-P "$progress_label"} -r "$tmp/result" -o "$log" \
		-k "$kmsg" -t "$timeout" -g "$kill_grace" -w "$kill_wait" -K "$kmsg_seq" -T "$kmsg_taint" \
		-b "$tmp/gap.kmsg" -S "$settle_seconds" -- "$testdir/$rs_prog.t" -s "$seed" "$@" </dev/null
	read_result "$tmp/result"
	[ -n "$r_interrupted" ] && interrupted=$r_interrupted
	[ -n "$kmsg_state" ] || kmsg_state=$r_kmsg
	# Only the cases that ran are expected from the program.
	awk -F "$tab" -v judged="$tmp/judged" '
	BEGIN { while ((getline line < judged) > 0) { split(line, f, FS); done[f[1]] = 1 } }
	!($0 in done)' "$tmp/cases" >"$tmp/expected"
	parse_tap "$log" >"$tmp/tap"
	refused_arguments "$rs_prog"
	scan_kmsg "$kmsg" >"$tmp/kscan"
	judge "$rs_prog" "$tmp/expected" "$tmp/tap" "$tmp/kscan" "$log" >>"$tmp/judged"
	kmsg_after_program "$label"	# runner/kmsg.sh: the log before it
}

# read_result FILE: the supervisor's key=value result into r_* variables.
read_result() {
	r_status=error r_exit='' r_signal='' r_seconds=0 r_kmsg='' r_unkillable='' r_interrupted=''
	r_timed_out=0
	while IFS= read -r line; do
		val=${line#*=}
		case $line in
		status=*) r_status=$val ;;
		timed_out=*) r_timed_out=$val ;;
		exit=*) r_exit=$val ;;
		signal=*) r_signal=$val ;;
		seconds=*) r_seconds=$val ;;
		kmsg=*) r_kmsg=$val ;;
		unkillable_pid=*) r_unkillable="$r_unkillable $val" ;;
		interrupted=*) r_interrupted=$val ;;
		esac
	done <"$1"
}

# refused_arguments PROGRAM: a program that exits 2 before any case refused
# the arguments every program gets (--seed, --duration, ...): a usage error
# of the run (exit 2, 128 with --bisect), not a failure of the kernel. The
# reports keep what ran before ("complete": false).
refused_arguments() {
	[ "$r_status" = exited ] && [ "$r_exit" = 2 ] || return 0
	grep -q '^start' "$tmp/tap" && return 0
	write_reports 0
	usage_error "$1.t refused its arguments (exit 2 before any case): $(last_output "$log")" \
		"(log: $log)"
}

# last_output LOG: the program's last line of output that is not TAP.
last_output() {
	grep -v '^#' "$1" | grep -v '^[[:space:]]*$' | tail -n 1
}

# ---- reading what the program said -----------------------------------------------

# Parse the program's TAP: "start CASE" for each "# case CASE:" line and
# "result CASE VERDICT SECONDS REASON" for each test point.
parse_tap() {
	awk -f "$top/runner/tap.awk" "$1"
}

# Per section of the kernel log excerpt (start, then each case): the first
# record matching runner/kmsg-patterns and the taint letters it added.
scan_kmsg() {
	awk -v patterns="$kmsg_patterns" -f "$top/runner/kmsg-regex.awk" \
		-f "$top/runner/kmsg-scan.awk" "$1"
}

# judge PROGRAM CASES TAP KMSG LOG: one "CASE VERDICT SECONDS KINDS REASON" line per
# case, from the expected cases, what the TAP says, how the program ended and
# what the kernel said. A case without a result is the one the program was
# in when it died (hang or crash); cases after it did not run.
judge() {
	# The last line of output that is not TAP, via the environment: awk -v
	# would interpret its backslashes.
	TW_LASTLINE=$(last_output "$5") \
	awk -v prog="$1" -v cases="$2" -v tap="$3" -v kscan="$4" -v status="$r_status" \
		-v code="$r_exit" -v sig="$r_signal" -v total="$r_seconds" -v timedout="$r_timed_out" \
		-v limit="$timeout" -v badtaint="$BAD_TAINT" -f "$top/runner/judge.awk"
}

# ---- recording and showing the verdicts -------------------------------------------

# in_case_order: the judged lines in the program's case order (skips for
# exclusions were judged first), anything else after them.
in_case_order() {
	awk -v cases="$tmp/cases" -f "$top/runner/case-order.awk" "$tmp/judged"
}

# record_judged PROGRAM: the known issues, then one record per judged case,
# its terminal line and, under a bad verdict, its diagnostics.
record_judged() {
	in_case_order >"$tmp/ordered"
	while IFS="$tab" read -r c verdict secs kinds reason; do
		hint=
		[ "$verdict" != skip ] && apply_known_issue "$c" "$1" "$kinds"
		parts=$(skipped_parts "$c")
		add_record "$c" "$1"
		show_line "$c" "$verdict" "$secs" "$reason"
		[ -z "$parts" ] || printf '%s\n' "$parts" | tr '\037' '\n' | sed 's/^/    SKIP-PART /'
		case $verdict:$reason in
		*:'not run:'*) ;;	# the case that ran before it says why
		fail:* | hang:* | crash:* | xpass:*)
			if [ -f "$log" ]; then
				whole=0
				grep -q "^# case $c:" "$log" || whole=1
				show_diagnostics "$log" "$c" "$kmsg" "$whole"
			fi
			;;
		esac
	done <"$tmp/ordered"
}

# apply_known_issue CASE PROGRAM KINDS: a known bug of this kernel that
# expects this failure turns $verdict into xfail, a pass of it into xpass
# (runner/known-issues.awk); it sets $hint and adds to $reason. A failure
# unlike what the case's entries expect stays one, with a note.
apply_known_issue() {
	ki=$(known_issue "$1" "$2" "$verdict" "$3" "$reason")
	case $ki in
	xfail"$tab"*) hint=${ki#*"$tab"} verdict=xfail reason="${ki#*"$tab"}; $reason" ;;
	xpass"$tab"*) hint=${ki#*"$tab"} verdict=xpass reason="passed, but listed as a ${ki#*"$tab"}" ;;
	other"$tab"*) reason="$reason; ${ki#*"$tab"}" ;;
	esac
}

# add_record CASE PROGRAM: the case's line in $tmp/records.
add_record() {
	cprofile=-
	case $1 in
	"$2".*) cprofile=${1#"$2".} ;;
	esac
	logrel=-
	[ -f "$log" ] && logrel=${log##*/}
	kmsgrel=-
	[ -f "$kmsg" ] && kmsgrel=${kmsg##*/}
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$cprofile" "$verdict" \
		"$secs" "$iteration" "$logrel" "$kmsgrel" "${hint:--}" "$reason" "${parts:--}" \
		>>"$tmp/records"
}

# record_not_run PROGRAM [PROFILE]: after the run stopped at $stopped_at
# (--stop-at-first-failure), a skip record for each case of the program.
record_not_run() {
	log= kmsg= verdict=skip secs=0.00 hint= parts=
	reason="not run: stopped at the first failure ($stopped_at)"
	list_cases "$1" "${2:-}" >"$tmp/cases" || : >"$tmp/cases"
	[ -s "$tmp/cases" ] || say "$1" >"$tmp/cases"
	while read -r c; do
		add_record "$c" "$1"
	done <"$tmp/cases"
}

# skipped_parts CASE: the sub-checks the case did not run, from its
# "# SKIP-PART CASE: PART: REASON" lines (src/needs.h): "PART: REASON"
# each, joined by \037; nothing for none.
skipped_parts() {
	[ -f "$log" ] || return 0
	awk -v p="# SKIP-PART $1: " '
	index($0, p) == 1 { s = s (s == "" ? "" : "\037") substr($0, length(p) + 1) }
	END { printf "%s", s }' "$log"
}

# show_line CASE VERDICT SECONDS REASON: the case's line on the terminal.
show_line() {
	sl_name=$1
	[ "$repeat" -gt 1 ] && sl_name="$1#$iteration"
	case $2 in
	fail | hang | crash | xpass) sl_verdict=$(say "$2" | tr '[:lower:]' '[:upper:]') ;;
	*) sl_verdict=$2 ;;
	esac
	printf '%-36s %-5s %7ss%s\n' "$sl_name" "$sl_verdict" "$3" "${4:+  $4}"
}

# show_diagnostics LOG CASE KMSG: the lines a developer needs under a bad
# verdict - the FAIL/HANG lines of the case, the supervisor's account, the
# first kernel records matched - and where the rest is.
show_diagnostics() {
	awk -v c="$2" -v whole="$4" -f "$top/runner/diagnostics.awk" "$1"
	if [ -s "$3" ]; then
		awk -v c="$2" -v patterns="$kmsg_patterns" -f "$top/runner/kmsg-regex.awk" \
			-f "$top/runner/kmsg-case.awk" "$3"
	fi
	say "    log: $1"
}
