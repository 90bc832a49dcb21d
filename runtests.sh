#!/bin/sh
# SPDX-License-Identifier: MIT
#
# runtests.sh - run the io_uring task_work regression suite and judge it.
#
#   ./runtests.sh                  every test/*.t (builds first if nothing is built)
#   ./runtests.sh NAME...          some: NAME is a program (fanin_local) or one
#                                  case of it (fanin_local.defer)
#   ./runtests.sh --help           the options
#
# Each program runs under runner/supervise: its own process group, a timeout
# (SIGINT, then SIGKILL, then "cannot be killed" with the kernel stacks), the
# kernel log marked around each case (root) and the taint sampled (everyone).
# This script turns the program's TAP, the supervisor's result and the kernel
# log into one verdict per case - pass, fail, skip, xfail, xpass, hang, crash -
# prints one line per case and writes results/<uname -r>/: a log and a kernel
# log excerpt per program, results.tap, results.xml (JUnit) and results.json.
# The JSON schema is in runner/report.awk, the awk programs in runner/*.awk.
#
# POSIX sh and busybox tools only: it also runs in a minimal guest.

set -u

top=$(cd "$(dirname "$0")" && pwd)
tab=$(printf '\t')

# Letters of /proc/sys/kernel/tainted that mean the kernel hit a problem:
# M machine check, B bad page, D oops/BUG, W warning, L soft lockup. Others
# (modules, livepatch, ...) are noted in the excerpt but are not a failure.
BAD_TAINT=BDLMW
DEFAULT_TIMEOUT=180		# seconds per program, plus 16 per second of -d
TIMEOUT_PER_DURATION=16		# 7 ring profiles x 2, with slack

# The environment can point the runner elsewhere; the meta tests
# (test/meta/runner.sh) use this to run fake programs.
testdir=${TW_TESTDIR:-$top/test}
supervise=${TW_SUPERVISE:-$top/runner/supervise}
known_issues=${TW_KNOWN_ISSUES:-$top/test/known-issues}
exclude_file=${TW_EXCLUDE:-$top/test/exclude}
kmsg_patterns=${TW_KMSG_PATTERNS:-$top/runner/kmsg-patterns}
sysctl_dir=${TW_SYSCTL_DIR:-/proc/sys/kernel}
kernel=${TW_KERNEL_RELEASE:-$(uname -r)}
kill_grace=${TW_KILL_GRACE:-5}
kill_wait=${TW_KILL_WAIT:-10}

# Options.
verbose=0
list_only=0
describe=0
bisect=0
repeat=1
duration=
seed=
timeout=${TW_TIMEOUT:-}
results_dir=
names=

# State of the run.
tmp=
interrupted=
kmsg_state=
uring_disabled=
skip_all_reason=
started_at=

usage() {
	cat <<EOF
usage: ./runtests.sh [options] [NAME | NAME.PROFILE ...]

Runs every test program in test/ (or the NAMEs given: fanin_local runs all
its ring profiles, fanin_local.defer only one), each under a timeout, with
the kernel log checked per case, and writes the results.

  -h, --help             this text
  -l, --list             list the test cases (and exclusions) and exit
  -D, --describe         one line per program from its struct scenario, fields
                         separated by tabs: name, profiles, needs, fix, summary
  -v, --verbose          show each program's output as it runs
      --timeout SECS     per program, 0 for none (default $DEFAULT_TIMEOUT, plus
                         $TIMEOUT_PER_DURATION per second of --duration)
      --repeat N         run the selection N times
      --duration SECS    load phase per case (a soak: -d of each program)
      --seed S           seed for every program (default: a fresh one, printed)
      --jitter           jitter in every case: CPU hogs, yield storms, CPU
                         migration of the test's threads (TW_JITTER=1, -j)
      --fault-inject     let tests inject allocation failures (TW_FAULT_INJECT=1,
                         -F; needs root and fault injection in the kernel; on
                         by default in guests, see guest/init)
      --results-dir DIR  default results/\$(uname -r)
      --known-issues F   known kernel bugs (default test/known-issues)
      --exclude F        tests not to run (default test/exclude)
      --bisect           exit for git bisect run: 0 good, 1 bad, 125 cannot test;
                         known issues are ignored (a known bug is still a bug)

On another kernel, in qemu (guest/vm-run; guest/vm-run --help for more):
      --kernel IMAGE     boot IMAGE (bzImage, or vmlinux with PVH) with the suite
                         in an initramfs and run this selection there; results in
                         results/<its uname -r>/, with console.log and vm.json
      --smp N, --mem SIZE, --append ARGS, --accel auto|kvm|tcg, --deadline SECS,
      --silence SECS, --user, --console FILE
                         the VM's CPUs, memory, kernel arguments, accelerator,
                         overall and no-output limits, uid 1000, console copy
      --bench            the benchmark (bench/twbench) instead of the suite: the
                         other arguments are twbench's; results/bench/<release>/

Verdicts: pass, fail, skip, xfail (a known issue failed as expected), xpass
(a known issue passed: update test/known-issues), hang, crash. A kernel
WARNING/BUG/KASAN/... (runner/kmsg-patterns, needs root) or a new taint
(letters $BAD_TAINT) during a case fails it.

Exit status: 0 all passed, skipped or xfailed; 1 a fail, hang, crash or xpass;
2 usage error; 130 interrupted. With --bisect: 0, 1, or 125 if nothing ran.
With --kernel also: 1 the kernel panicked or stopped answering; 3 the guest
never reached the suite; 4 bad image or environment; 5 no io_uring in the
kernel (with --bisect: 125 for each).
EOF
}

me=runtests.sh
# shellcheck source=runner/lib.sh
. "$top/runner/lib.sh"

# ---- options ---------------------------------------------------------------

# --kernel IMAGE: the run happens in qemu. guest/vm-run takes the VM's
# options (and --results-dir: the results land on the host); the rest is
# for this script in the guest.
kernel_mode() {
	km_image=
	km_vm=
	km_rest=
	while [ $# -gt 0 ]; do
		opt=$1
		val=
		case $opt in
		--*=*)
			val=${opt#*=}
			opt=${opt%%=*}
			;;
		--kernel | --smp | --mem | --append | --accel | --deadline | --silence | --console | \
			--results-dir)
			[ $# -ge 2 ] || usage_error "$opt needs a value"
			val=$2
			shift
			;;
		esac
		case $opt in
		-h | --help) usage; exit 0 ;;
		--kernel) km_image=$val ;;
		--smp | --mem | --append | --accel | --deadline | --silence | --console | --results-dir)
			km_vm="$km_vm $opt $(quote "$val")" ;;
		--user | --bench) km_vm="$km_vm $opt" ;;
		*) km_rest="$km_rest $(quote "$1")" ;;
		esac
		shift
	done
	[ -n "$km_image" ] || return 0
	eval "exec \"\$top/guest/vm-run\" $km_vm $(quote "$km_image") -- $km_rest"
}

parse_args() {
	for arg; do
		# usage_error: 128 makes git bisect run stop, not call the commit bad.
		[ "$arg" = --bisect ] && bisect=1 usage_status=128
	done
	while [ $# -gt 0 ]; do
		opt=$1
		val=
		case $opt in
		--*=*)
			val=${opt#*=}
			opt=${opt%%=*}
			;;
		--timeout | --repeat | --duration | --seed | --results-dir | --known-issues | --exclude)
			[ $# -ge 2 ] || usage_error "$opt needs a value"
			val=$2
			shift
			;;
		esac
		case $opt in
		-h | --help) usage; exit 0 ;;
		-l | --list) list_only=1 ;;
		-D | --describe) describe=1 ;;
		-v | --verbose) verbose=1 ;;
		--bisect) bisect=1 ;;
		--jitter) export TW_JITTER=1 ;;
		--fault-inject) export TW_FAULT_INJECT=1 ;;
		--timeout)
			is_number "$val" || usage_error "bad --timeout '$val' (seconds)"
			timeout=$val
			;;
		--repeat)
			case $val in
			'' | *[!0-9]* | 0) usage_error "bad --repeat '$val' (a count, 1 or more)" ;;
			esac
			repeat=$val
			;;
		--duration)
			is_number "$val" || usage_error "bad --duration '$val' (seconds)"
			duration=$val
			;;
		--seed)
			case $val in
			'' | *[!0-9a-fA-FxX]*) usage_error "bad --seed '$val' (a number, 0x... for hex)" ;;
			esac
			seed=$val
			;;
		--results-dir) results_dir=$val ;;
		--known-issues) known_issues=$val ;;
		--exclude) exclude_file=$val ;;
		--smp | --mem | --append | --accel | --deadline | --silence | --user | --console | --bench)
			usage_error "$opt goes with --kernel IMAGE" ;;
		--) shift; break ;;
		-*) usage_error "unknown option '$opt'" ;;
		*) names="$names $opt" ;;
		esac
		shift
	done
	for arg; do
		names="$names $arg"
	done
	if [ -z "$timeout" ]; then
		timeout=$(awk -v d="${duration:-0}" -v b="$DEFAULT_TIMEOUT" -v k="$TIMEOUT_PER_DURATION" \
			'BEGIN { print b + k * d }')
	fi
	[ -n "$results_dir" ] || results_dir=$top/results/$kernel
}

# ---- building and choosing programs -----------------------------------------

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

# The selection, one "PROGRAM" or "PROGRAM PROFILE" per line, in $tmp/selection.
select_programs() {
	: >"$tmp/selection"
	if [ -z "$names" ]; then
		for t in "$testdir"/*.t; do
			[ -x "$t" ] || continue
			t=${t##*/}
			say "${t%.t}" >>"$tmp/selection"
		done
		return
	fi
	set -f
	for name in $names; do
		name=${name##*/}
		name=${name%.t}
		prog=${name%%.*}
		[ -x "$testdir/$prog.t" ] || usage_error "no test '$prog' ($testdir/$prog.t)"
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

# ---- exclusions and known issues -----------------------------------------------

# excluded CASE PROGRAM: print the reason if the exclude file names the case or
# its program ("name  # reason" per line, globs allowed).
# shellcheck disable=SC2254 # the patterns are globs
excluded() {
	[ -r "$exclude_file" ] || return 1
	while read -r ex_pat ex_rest; do
		case $ex_pat in
		'' | '#'*) continue ;;
		esac
		case $1 in
		$ex_pat) ;;
		*)
			case $2 in
			$ex_pat) ;;
			*) continue ;;
			esac
			;;
		esac
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

# kernel_in_range RANGE: does $kernel fall in it? Ranges: '*', '<X', '<=X',
# '>X', '>=X', 'A-B' (inclusive), 'X' or 'X.*' (that series). A bare version
# means its first release candidate: '<7.3' excludes 7.3-rc1, '7.3.*'
# includes it; write '<7.3-rc4' to be precise. '<=X' and the upper end of
# 'A-B' include all of X.*: '6.1-6.12' is 6.1 up to every 6.12.y.
kernel_in_range() {
	awk -v range="$1" -v release="$kernel" -f "$top/runner/version-range.awk"
}

# known_issue CASE PROGRAM: print the hint if a known kernel bug matches the
# case on this kernel. Lines: "PATTERN  RANGE  COMMIT  SUBJECT...".
# shellcheck disable=SC2254 # the patterns are globs
known_issue() {
	[ "$bisect" = 1 ] && return 1
	[ -r "$known_issues" ] || return 1
	while read -r ki_pat ki_range ki_commit ki_subject; do
		case $ki_pat in
		'' | '#'*) continue ;;
		esac
		case $1 in
		$ki_pat) ;;
		*)
			case $2 in
			$ki_pat) ;;
			*) continue ;;
			esac
			;;
		esac
		# ~RANGE: the bug shows only sometimes; the hint starts with ~.
		ki_sometimes=
		case $ki_range in
		'~'*) ki_range=${ki_range#'~'} ki_sometimes='~' ;;
		esac
		kernel_in_range "$ki_range" || continue
		if [ "$ki_commit" = - ]; then
			say "${ki_sometimes}known issue on $ki_range, not fixed yet: $ki_subject"
		else
			say "${ki_sometimes}known issue on $ki_range, fixed by $ki_commit (\"$ki_subject\")"
		fi
		return 0
	done <"$known_issues"
	return 1
}

# ---- the environment -----------------------------------------------------------

# io_uring_disabled: 2 no one may create rings; 1 only root (CAP_SYS_ADMIN)
# and members of io_uring_group. The runner never changes it.
check_io_uring_allowed() {
	f=$sysctl_dir/io_uring_disabled
	[ -r "$f" ] || return 0
	uring_disabled=$(cat "$f")
	case $uring_disabled in
	2) skip_all_reason="io_uring is disabled ($f is 2)" ;;
	1)
		[ "$(id -u)" = 0 ] && return 0
		group=$(cat "$sysctl_dir/io_uring_group" 2>/dev/null || echo -1)
		for g in $(id -G); do
			[ "$g" = "$group" ] && return 0
		done
		skip_all_reason="io_uring is restricted to root and group $group ($f is 1)"
		;;
	esac
}

new_seed() {
	hex=$(od -An -N8 -tx8 /dev/urandom 2>/dev/null | tr -d ' \n')
	[ -n "$hex" ] || hex=$(date +%s)
	say "0x$hex"
}

# The results directory is emptied of an earlier run; a directory with other
# things in it and no results.json is not ours to clean.
prepare_results_dir() {
	mkdir -p "$results_dir" || usage_error "cannot create $results_dir"
	if [ ! -f "$results_dir/results.json" ] && [ -n "$(ls -A "$results_dir")" ]; then
		usage_error "$results_dir is not empty and holds no results.json: choose another --results-dir"
	fi
	rm -f "$results_dir"/*.log "$results_dir"/*.kmsg "$results_dir"/results.tap \
		"$results_dir"/results.xml "$results_dir"/results.json
	results_dir=$(cd "$results_dir" && pwd)
}

# ---- running one program -------------------------------------------------------

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

# read_result FILE: the supervisor's key=value result into r_* variables.
read_result() {
	r_status=error r_exit='' r_signal='' r_seconds=0 r_kmsg='' r_unkillable='' r_interrupted=''
	while IFS= read -r line; do
		val=${line#*=}
		case $line in
		status=*) r_status=$val ;;
		exit=*) r_exit=$val ;;
		signal=*) r_signal=$val ;;
		seconds=*) r_seconds=$val ;;
		kmsg=*) r_kmsg=$val ;;
		unkillable_pid=*) r_unkillable="$r_unkillable $val" ;;
		interrupted=*) r_interrupted=$val ;;
		esac
	done <"$1"
}

# judge PROGRAM CASES TAP KMSG LOG: one "CASE VERDICT SECONDS REASON" line per
# case, from the expected cases, what the TAP says, how the program ended and
# what the kernel said. A case without a result is the one the program was
# in when it died (hang or crash); cases after it did not run.
judge() {
	# The last line of output that is not TAP, via the environment: awk -v
	# would interpret its backslashes.
	TW_LASTLINE=$(grep -v '^#' "$5" | grep -v '^[[:space:]]*$' | tail -n 1) \
	awk -v prog="$1" -v cases="$2" -v tap="$3" -v kscan="$4" -v status="$r_status" \
		-v code="$r_exit" -v sig="$r_signal" -v total="$r_seconds" -v limit="$timeout" \
		-v badtaint="$BAD_TAINT" -f "$top/runner/judge.awk"
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

	# Exclusions and a disabled io_uring become skips; the rest runs.
	profiles=
	runnable=0
	while read -r c; do
		[ -n "$c" ] || continue
		if [ -n "$skip_all_reason" ]; then
			reason=$skip_all_reason
		elif ! reason=$(excluded "$c" "$prog"); then
			profiles="$profiles${profiles:+,}${c##*.}"
			runnable=$((runnable + 1))
			continue
		fi
		printf '%s\tskip\t0.00\t%s\n' "$c" "$reason" >>"$tmp/judged"
	done <"$tmp/cases"
	if [ ! -s "$tmp/cases" ]; then
		# The program does not list its cases: all or nothing.
		if [ -n "$skip_all_reason" ]; then
			printf '%s\tskip\t0.00\t%s\n' "$prog" "$skip_all_reason" >>"$tmp/judged"
		elif reason=$(excluded "$prog" "$prog"); then
			printf '%s\tskip\t0.00\t%s\n' "$prog" "$reason" >>"$tmp/judged"
		else
			runnable=1
		fi
	fi
	if [ "$runnable" -gt 0 ]; then
		# -p only when some cases are left out (a single case, exclusions).
		if [ -n "$profile" ] || [ "$(grep -c . "$tmp/judged")" -gt 0 ]; then
			set -- -p "$profiles"
		else
			set --
		fi
		[ -n "$duration" ] && set -- "$@" -d "$duration"
		echo=
		[ "$verbose" = 1 ] && echo=-e
		"$supervise" $echo -r "$tmp/result" -o "$log" -k "$kmsg" -t "$timeout" \
			-g "$kill_grace" -w "$kill_wait" -- "$testdir/$prog.t" -s "$seed" "$@" </dev/null
		read_result "$tmp/result"
		[ -n "$r_interrupted" ] && interrupted=$r_interrupted
		[ -n "$kmsg_state" ] || kmsg_state=$r_kmsg
		# Only the cases that ran are expected from the program.
		awk -F "$tab" -v judged="$tmp/judged" '
		BEGIN { while ((getline line < judged) > 0) { split(line, f, FS); done[f[1]] = 1 } }
		!($0 in done)' "$tmp/cases" >"$tmp/expected"
		parse_tap "$log" >"$tmp/tap"
		scan_kmsg "$kmsg" >"$tmp/kscan"
		judge "$prog" "$tmp/expected" "$tmp/tap" "$tmp/kscan" "$log" >>"$tmp/judged"
	fi
	record_judged "$prog"
}

# in_case_order: the judged lines in the program's case order (skips for
# exclusions were judged first), anything else after them.
in_case_order() {
	awk -v cases="$tmp/cases" -f "$top/runner/case-order.awk" "$tmp/judged"
}

# Known issues, then one record per case, its terminal line and diagnostics.
record_judged() {
	in_case_order >"$tmp/ordered"
	while IFS="$tab" read -r c verdict secs reason; do
		hint=
		if [ "$verdict" != skip ] && hint=$(known_issue "$c" "$1"); then
			# An intermittent bug's pass proves nothing: pass, not xpass.
			case $verdict:$hint in
			pass:'~'*) hint= ;;
			pass:*) verdict=xpass reason="passed, but listed as a $hint" ;;
			*)
				hint="${hint#'~'}"
				verdict=xfail reason="$hint; $reason"
				;;
			esac
		fi
		cprofile=-
		case $c in
		"$1".*) cprofile=${c#"$1".} ;;
		esac
		logrel=-
		[ -f "$log" ] && logrel=${log##*/}
		kmsgrel=-
		[ -f "$kmsg" ] && kmsgrel=${kmsg##*/}
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$1" "$cprofile" "$verdict" \
			"$secs" "$iteration" "$logrel" "$kmsgrel" "${hint:--}" "$reason" >>"$tmp/records"
		show_line "$c" "$verdict" "$secs" "$reason"
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

show_line() {
	sl_name=$1
	[ "$repeat" -gt 1 ] && sl_name="$1#$iteration"
	case $2 in
	fail | hang | crash | xpass) sl_verdict=$(say "$2" | tr '[:lower:]' '[:upper:]') ;;
	*) sl_verdict=$2 ;;
	esac
	printf '%-36s %-5s %7ss%s\n' "$sl_name" "$sl_verdict" "$3" "${4:+  $4}"
}

# ---- reports ----------------------------------------------------------------------

# All three reports from $tmp/records (one TAB-separated line per case: name,
# program, profile, result, seconds, iteration, log, kmsg, known issue,
# reason; "-" for none). Rewritten after every program, so a run that takes
# the machine down leaves the reports of what finished ("complete": false).
write_reports() {
	awk -v dir="$results_dir" -v kernel="$kernel" -v seed="$seed" -v duration="$duration" \
		-v limit="$timeout" -v repeat="$repeat" -v started="$started_at" -v complete="$1" \
		-v kmsg_state="$kmsg_state" -v uring="$uring_disabled" -v bisect="$bisect" \
		-f "$top/runner/report.awk" "$tmp/records"
}

# ---- the run -------------------------------------------------------------------

# $TW_REPORT_HOOK RESULTS_DIR [FILES...]: run after the reports were
# rewritten, with the files of the program that just finished. The guest
# of guest/vm-run ships the results to the host with it, program by
# program, so a kernel that dies mid-run leaves what finished before.
report_hook() {
	[ -n "${TW_REPORT_HOOK:-}" ] || return 0
	"$TW_REPORT_HOOK" "$results_dir" "$@" || warn "report hook $TW_REPORT_HOOK failed"
}

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

main() {
	kernel_mode "$@"
	parse_args "$@"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/runtests.XXXXXX") || exit 1
	trap 'rm -rf "$tmp"' EXIT
	# Ctrl-C reaches the supervisor too, which stops the test; we then
	# write what we have and stop.
	trap 'interrupted=SIGINT' INT
	trap 'interrupted=SIGTERM' TERM
	trap 'interrupted=SIGHUP' HUP
	[ -d "$testdir" ] || usage_error "no test directory $testdir"
	testdir=$(cd "$testdir" && pwd)
	ensure_built
	select_programs
	if [ "$list_only" = 1 ]; then
		list_tests
		exit 0
	fi
	if [ "$describe" = 1 ]; then
		describe_tests
		exit 0
	fi
	[ -n "$seed" ] || seed=$(new_seed)
	prepare_results_dir
	check_io_uring_allowed
	started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	: >"$tmp/records"
	printf 'kernel %s, seed %s, timeout %ss per program%s\n' "$kernel" "$seed" "$timeout" \
		"${duration:+, duration ${duration}s}"
	[ -n "$skip_all_reason" ] && say "every test skips: $skip_all_reason"
	iteration=1
	while [ "$iteration" -le "$repeat" ] && [ -z "$interrupted" ]; do
		while read -r prog profile; do
			run_program "$prog" "$profile"
			write_reports 0
			report_hook "$log" "$kmsg"
			[ -n "$interrupted" ] && break
		done <"$tmp/selection"
		iteration=$((iteration + 1))
	done
	if [ -n "$kmsg_state" ] && [ "$kmsg_state" != checked ]; then
		say "kernel log not checked (${kmsg_state#off: }); only the taint was"
	fi
	if [ -n "$interrupted" ]; then
		write_reports 0
		summary
		say "interrupted by $interrupted"
		exit 130
	fi
	write_reports 1
	report_hook
	summary
	exit_status
	exit $?
}

main "$@"
