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
# prints one line per case and writes results/<uname -r>/<UTC time>/ (a new
# directory each run, results/<uname -r>/latest the newest): a log and a kernel
# log excerpt per program, results.tap, results.xml (JUnit) and results.json.
# This file is the story: options, the environment, main. The parts are in
# runner/ (select.sh, judge.sh, report.sh and the awk programs they run);
# doc/runner.md tells how to use it all, runner/report.awk has the JSON schema.
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
# (test/meta/runner.sh, runner-options.sh) use this to run fake programs.
testdir=${TW_TESTDIR:-$top/test}
supervise=${TW_SUPERVISE:-$top/runner/supervise}
known_issues=${TW_KNOWN_ISSUES:-$top/test/known-issues}
exclude_file=${TW_EXCLUDE:-$top/test/exclude}
# Where a value came from, for its usage error; a list file named by an
# option or variable must exist (only the defaults may be missing).
timeout_from=${TW_TIMEOUT:+TW_TIMEOUT}
known_issues_from=${TW_KNOWN_ISSUES:+TW_KNOWN_ISSUES}
exclude_from=${TW_EXCLUDE:+TW_EXCLUDE}
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
results_dir=			# empty: a new results/<release>/<time>/
check_args=0
stop_first=0			# --stop-at-first-failure
names=

# State of the run.
tmp=
interrupted=
kmsg_state=
uring_disabled=
skip_all_reason=
started_at=
stopped_at=			# the case the run stopped at (--stop-at-first-failure)
progress=0
progress_label=			# [N/TOTAL], the supervisor's -P

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
                         $TIMEOUT_PER_DURATION per second of --duration; at most $MAX_TIMEOUT)
      --repeat N         run the selection N times (1 to $MAX_REPEAT)
      --duration SECS    load phase per case (a soak: -d of each program; at
                         most $MAX_DURATION)
      --seed S           seed for every program (default: a fresh one, printed):
                         below 2^64, decimal, 0x and hex digits, 0 and octal
      --jitter           jitter in every case: CPU hogs, yield storms, CPU
                         migration of the test's threads (TW_JITTER=1, -j)
      --fault-inject     let tests inject allocation failures (TW_FAULT_INJECT=1,
                         -F; needs root and fault injection in the kernel; on
                         by default in guests, see guest/init)
      --results-dir DIR  DIR, empty or an earlier run's, whose files are
                         replaced (default: a new results/\$(uname -r)/<UTC time>/
                         each run, results/\$(uname -r)/latest the newest; no run
                         is ever removed)
      --known-issues F   known kernel bugs (default test/known-issues)
      --exclude F        tests not to run (default test/exclude)
      --bisect           exit for git bisect run: 0 good, 1 bad, 125 cannot test;
                         known issues are ignored (a known bug is still a bug)
  -x, --stop-at-first-failure
                         end the run at the first fail, hang, crash or xpass
                         (an xfail goes on): that case reported in full, the
                         cases after it skips "not run: stopped at ..."
      --check-args       check the options and NAMEs (as --kernel does on the
                         host), print nothing, exit 0 or 2; run nothing

On another kernel, in qemu (guest/vm-run; guest/vm-run --help for more):
      --kernel IMAGE     boot IMAGE (bzImage, or vmlinux with PVH) with the suite
                         in an initramfs and run this selection there; results in
                         results/<its uname -r>/<UTC time>/, with console.log, vm.json
      --smp N, --mem SIZE, --append ARGS, --accel auto|kvm|tcg, --deadline SECS,
      --silence SECS, --user, --console FILE
                         the VM's CPUs, memory, kernel arguments, accelerator,
                         overall and no-output limits, uid 1000, console copy
      --bench            the benchmark (bench/twbench) instead of the suite: the
                         other arguments are twbench's; results/bench/<release>/<time>/

Verdicts: pass, fail, skip, xfail (a known issue failed as expected), xpass
(a known issue passed: update test/known-issues), hang, crash. A kernel
WARNING/BUG/KASAN/... (runner/kmsg-patterns, needs root) or a new taint
(letters $BAD_TAINT) during a case fails it.

A progress line ("[3/26] fanin_local.defer 12s") shows on stderr while a
program runs, where stderr is a terminal (TW_PROGRESS=1 or 0 says otherwise).

Exit status: 0 all passed, skipped or xfailed; 1 a fail, hang, crash or xpass;
2 usage error: a bad option or value (named on one line), an unknown NAME, a
--known-issues or --exclude file that cannot be read, results that cannot be
written; 130 interrupted. With --bisect: 0, 1, or 125 if nothing ran; 128 for
a usage error (git bisect run stops).
With --kernel also: 1 the kernel panicked or stopped answering; 3 the guest
never reached the suite; 4 bad image or environment; 5 no io_uring in the
kernel (with --bisect: 125 for each).
EOF
}

me=runtests.sh
# The parts, by purpose (found beside this script: an installed copy and
# the guest's /suite carry runner/ too).
# shellcheck source=runner/lib.sh
. "$top/runner/lib.sh"		# say, warn, usage_error, ...
# shellcheck source=runner/options.sh
. "$top/runner/options.sh"	# the options' values checked, the progress line
# shellcheck source=runner/select.sh
. "$top/runner/select.sh"	# building, the selection, exclusions, known issues
# shellcheck source=runner/judge.sh
. "$top/runner/judge.sh"		# one program: supervise, judge, show, record
# shellcheck source=runner/report.sh
. "$top/runner/report.sh"	# the reports, the summary, the exit status
# shellcheck source=runner/kmsg.sh
. "$top/runner/kmsg.sh"		# the kernel log and taint of the whole run

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
	# An installed tree (make install) has no guest/: vm-run builds the
	# guest's suite from the sources.
	[ -x "$top/guest/vm-run" ] || die 4 "--kernel needs the source tree, not an installed one (doc/guests.md)"
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
			case $opt in
			--help | --list | --describe | --verbose | --bisect | --jitter | --fault-inject | \
				--check-args | --stop-at-first-failure)
				usage_error "$opt takes no value: '$1'" ;;
			esac
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
		-x | --stop-at-first-failure) stop_first=1 ;;
		--jitter) export TW_JITTER=1 ;;
		--fault-inject) export TW_FAULT_INJECT=1 ;;
		--timeout) timeout=$val timeout_from=$opt ;;
		--repeat)
			count_ok "$val" || usage_error "bad --repeat '$val' (a count, 1 to $MAX_REPEAT)"
			repeat=${val#"${val%%[!0]*}"}
			;;
		--duration)
			seconds_ok "$val" "$MAX_DURATION" ||
				usage_error "bad --duration '$val' (seconds, at most $MAX_DURATION)"
			duration=$val
			;;
		--seed)
			seed_ok "$val" ||
				usage_error "bad --seed '$val' (below 2^64: decimal, 0x and hex digits, or 0 and octal digits)"
			seed=$val
			;;
		--results-dir)
			[ -n "$val" ] || usage_error "bad --results-dir '' (a directory)"
			results_dir=$val
			;;
		--known-issues) known_issues=$val known_issues_from=$opt ;;
		--exclude) exclude_file=$val exclude_from=$opt ;;
		--check-args) check_args=1 ;;
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
	if [ -z "$timeout_from" ]; then
		timeout=$(awk -v d="${duration:-0}" -v b="$DEFAULT_TIMEOUT" -v k="$TIMEOUT_PER_DURATION" \
			'BEGIN { print b + k * d }')
	elif ! seconds_ok "$timeout" "$MAX_TIMEOUT"; then
		usage_error "bad $timeout_from '$timeout' (seconds, 0 for none, at most $MAX_TIMEOUT)"
	fi
	[ -z "$known_issues_from" ] || check_list_file "$known_issues_from" "$known_issues"
	[ -z "$exclude_from" ] || check_list_file "$exclude_from" "$exclude_file"
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

# ---- the run -------------------------------------------------------------------

# Every program of the selection, --repeat times, the reports rewritten
# after each; a signal ends the loop after the program it came in. With
# --stop-at-first-failure a bad verdict ends it too: what is left of the
# selection is recorded as not run.
run_selection() {
	iteration=1
	nth=0
	total=$(($(grep -c . "$tmp/selection") * repeat))
	while [ "$iteration" -le "$repeat" ] && [ -z "$interrupted" ]; do
		while read -r prog profile; do
			nth=$((nth + 1))
			if [ -n "$stopped_at" ]; then
				record_not_run "$prog" "$profile"
				continue
			fi
			[ "$progress" = 1 ] && progress_label="[$nth/$total]"
			run_program "$prog" "$profile"
			[ "$stop_first" = 1 ] && stopped_at=$(first_failure)
			write_reports 0
			report_hook "$log" "$kmsg"
			[ -n "$interrupted" ] && break
		done <"$tmp/selection"
		iteration=$((iteration + 1))
	done
	[ -z "$stopped_at" ] || say "stopped at the first failure, $stopped_at: $(not_run_count) cases not run"
}

main() {
	kernel_mode "$@"
	parse_args "$@"
	choose_progress
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/runtests.XXXXXX") || exit 1
	trap 'rm -rf "$tmp"' EXIT
	# Ctrl-C reaches the supervisor too, which stops the test; we then
	# write what we have and stop.
	trap 'interrupted=SIGINT' INT
	trap 'interrupted=SIGTERM' TERM
	trap 'interrupted=SIGHUP' HUP
	[ -d "$testdir" ] || usage_error "no test directory $testdir"
	testdir=$(cd "$testdir" && pwd)
	if [ "$check_args" = 1 ]; then
		select_programs
		check_known_issues
		exit 0
	fi
	[ "$list_only$describe" = 00 ] && check_results_writable
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
	check_known_issues
	prepare_results_dir
	check_io_uring_allowed
	started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	: >"$tmp/records"
	printf 'kernel %s, seed %s, timeout %ss per program%s\n' "$kernel" "$seed" "$timeout" \
		"${duration:+, duration ${duration}s}"
	[ -n "$skip_all_reason" ] && say "every test skips: $skip_all_reason"
	kmsg_run_start
	run_selection
	kmsg_run_end		# io_uring settled: the log and taint to there judged
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
