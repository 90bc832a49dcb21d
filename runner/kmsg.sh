# SPDX-License-Identifier: MIT
#
# runner/kmsg.sh - the kernel log and the taint of the whole run, beyond
# the cases. Sourced by runtests.sh (POSIX sh, busybox sh in a guest) after
# runner/judge.sh, whose scan_kmsg and show_line it uses; it reads
# runtests.sh's settings (supervise, results_dir, tmp, tab, top, repeat,
# interrupted, stopped_at, kmsg_patterns, BAD_TAINT) and the loop's
# $iteration.
#
# Each program's supervisor reads the log from where the previous reader
# stopped (-K: the run's start marker or the previous program's end), so
# nothing from the start of the run to its end goes unread:
#   - what its rings' teardown logs after it ended, before io_uring settled
#     (runner/settle.c), counts against its last case (runner/kmsg.c);
#   - what was logged between two programs (-b, $tmp/gap.kmsg) is kept in
#     run.kmsg and judged here: a record of runner/kmsg-patterns, or a log
#     that lost records, fails the run's own result "kernel.log";
#   - at the end the run waits for io_uring teardown to settle, judges the
#     log from the last program to that point the same way, and compares the
#     taint with the run's start: a bad bit no case was failed for fails
#     "kernel.taint".
# These results are recorded only when they fail. Entry points:
#   kmsg_run_start           the run's start marker and taint
#   kmsg_after_program LABEL after a program ran: the log before it judged,
#                            the chain moved on
#   kmsg_run_end             settle, the last gap, the run's taint
# and, for the supervisor of each program (runner/judge.sh), the chain:
# -K "$kmsg_seq" -T "$kmsg_taint" -b "$tmp/gap.kmsg" -S "$settle_seconds".

kmsg_seq=-		# the last record the previous reader read (-K)
kmsg_taint=-		# the taint there (-T)
kmsg_prev="the run's start"	# the program that ran last
kmsg_run_taint=-		# the taint at the run's start
kmsg_taint_judged=	# taint letters some case was judged on
# Seconds to wait for io_uring teardown after each program and at the end.
settle_seconds=${TW_SETTLE_SECONDS:-30}

# kmsg_chain RESULT: where the next reader starts, from a supervisor's
# result file (kmsg_seq=, taint_after=); $kmsg_settle, $kmsg_settled and
# $kmsg_checked (its kmsg= line) as it says.
kmsg_chain() {
	kmsg_settled=1 kmsg_settle= kmsg_checked=
	[ -f "$1" ] || return 0
	while IFS= read -r kc_line; do
		case $kc_line in
		kmsg_seq=*) kmsg_seq=${kc_line#*=} ;;
		taint_after=*) kmsg_taint=${kc_line#*=} ;;
		settled=*) kmsg_settled=${kc_line#*=} ;;
		settle=*) kmsg_settle=${kc_line#*=} ;;
		kmsg=*) kmsg_checked=${kc_line#*=} ;;
		esac
	done <"$1"
}

# kmsg_run_start: a marker where the run starts, the first reader's -K.
kmsg_run_start() {
	rm -f "$tmp/kmsg-mark"
	"$supervise" -r "$tmp/kmsg-mark" -M run-start
	kmsg_chain "$tmp/kmsg-mark"
	kmsg_run_taint=$kmsg_taint
}

# kmsg_after_program LABEL: the program ran ($tmp/result, $tmp/kscan): the
# log before it judged, the taint its cases were judged on noted.
kmsg_after_program() {
	kmsg_chain "$tmp/result"
	kmsg_judge_gap "between $kmsg_prev and $1"
	kmsg_prev=$1
	[ "$kmsg_settled" = 1 ] || warn "after $1: $kmsg_settle"
	# A program whose log was not read, in a run whose log is: incomplete.
	if [ "$kmsg_state" = checked ] && [ "$kmsg_checked" != checked ]; then
		kmsg_fail kernel.log "kernel log incomplete: not read during $1 (${kmsg_checked#off: })"
	fi
	kmsg_taint_judged=$kmsg_taint_judged$(cut -f4 "$tmp/kscan" 2>/dev/null | tr -d '\n')
}

# kmsg_judge_gap WHERE: the log between two readers ($tmp/gap.kmsg) goes
# into run.kmsg; a bad record in it, or records lost, fail kernel.log.
kmsg_judge_gap() {
	[ -f "$tmp/gap.kmsg" ] || return 0
	{
		say "# $1"
		cat "$tmp/gap.kmsg"
	} >>"$results_dir/run.kmsg"
	kg_bad=$(scan_kmsg "$tmp/gap.kmsg" | awk -F "$tab" '$2 == "between" { print $3; exit }')
	if [ -n "$kg_bad" ]; then
		kmsg_fail kernel.log "kernel: $kg_bad (logged $1)"
		awk -v c=between -v patterns="$kmsg_patterns" -f "$top/runner/kmsg-regex.awk" \
			-f "$top/runner/kmsg-case.awk" "$tmp/gap.kmsg"
		say "    log: $results_dir/run.kmsg"
	fi
	rm -f "$tmp/gap.kmsg"
}

# kmsg_fail NAME REASON: a failed result of the run itself, recorded and shown.
kmsg_fail() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" kernel "${1#kernel.}" fail 0.00 \
		"$iteration" - run.kmsg - "$2" >>"$tmp/records"
	show_line "$1" fail 0.00 "$2"
}

# kmsg_taint_letters MASK: the letters of the taint bits in MASK.
kmsg_taint_letters() {
	ktl_bit=0
	for ktl_letter in P F S R M B U D A W C I O E L K X T N J; do
		[ $((($1 >> ktl_bit) & 1)) = 1 ] && printf '%s' "$ktl_letter"
		ktl_bit=$((ktl_bit + 1))
	done
}

# kmsg_run_end: io_uring teardown settled, the log from the last program to
# there judged, and the taint the run added that no case accounts for.
kmsg_run_end() {
	[ "$iteration" -le "$repeat" ] || iteration=$repeat
	ke_settle=$settle_seconds
	# Interrupted, or stopped at a failure (--stop-at-first-failure): the
	# verdict is made, and a kernel that broke teardown never settles.
	[ -n "$interrupted$stopped_at" ] && ke_settle=0
	"$supervise" -r "$tmp/kmsg-mark" -M run-end -K "$kmsg_seq" -T "$kmsg_taint" \
		-b "$tmp/gap.kmsg" -S "$ke_settle"
	kmsg_chain "$tmp/kmsg-mark"
	[ "$kmsg_settled" = 1 ] || warn "at the end of the run: $kmsg_settle"
	kmsg_judge_gap "after $kmsg_prev, up to the end of the run"
	case $kmsg_run_taint:$kmsg_taint in
	-:* | *:-) return 0 ;;
	esac
	ke_new=$(kmsg_taint_letters $((kmsg_taint & ~kmsg_run_taint)))
	# Bad bits no case was failed for (each was judged where it came).
	ke_bad=$(printf '%s' "$ke_new" | tr -cd "$BAD_TAINT" | tr -d "${kmsg_taint_judged:-.}")
	[ -n "$ke_bad" ] || return 0
	ke_where="$kmsg_run_taint at the start, $kmsg_taint at the end; run.kmsg says between which programs"
	kmsg_fail kernel.taint "kernel tainted during the run, in no case: $ke_bad ($ke_where)"
}
