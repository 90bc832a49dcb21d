# SPDX-License-Identifier: MIT
# shellcheck shell=sh disable=SC2154,SC2034 # guest/vm-run's variables, shared by its parts
#
# guest/vm-options.sh - vm-run's command line (sourced by guest/vm-run).
#
# vm-run's own options, then the kernel image, then the runner's
# arguments (or with --bench twbench's): those that change the deadline or
# name host files are looked at, all are kept quoted in $rt_args for the
# guest's /init.

# The runner's arguments: those vm-run needs to know about are looked at
# (the deadline depends on them; files named on the host are put into the
# guest), and all are kept, quoted, for the guest's /init.
runtests_arg() {
	rt_args="$rt_args $(quote "$1")"
}

parse_runtests_args() {
	for arg; do
		# TW_VM_FIXTURES=1: the guest's fake_vm_* are no programs of test/.
		case $fixtures:$arg in
		1:fake_vm_panic | 1:fake_vm_panic.* | 1:fake_vm_hang | 1:fake_vm_hang.*) continue ;;
		esac
		rt_given="$rt_given $(quote "$arg")"
	done
	while [ $# -gt 0 ]; do
		opt=$1
		val=
		case $opt in
		--*=*) val=${opt#*=}; opt=${opt%%=*} ;;
		--timeout | --duration | --repeat | --known-issues | --exclude | --seed)
			[ $# -ge 2 ] && val=$2 ;;
		esac
		case $opt in
		--bisect) bisect=1 ;;
		-l | --list) list_only=1 ;;
		--timeout) rt_timeout=$val ;;
		--duration) rt_duration=$val ;;
		--repeat) rt_repeat=$val ;;
		--results-dir) usage_error "--results-dir is vm-run's option here (the results land on the host)" ;;
		--known-issues | --exclude)
			# A host file (check_runtests_args made sure it is one): it
			# goes into the guest as /suite/extra/NAME.
			name=${opt#--}
			eval "extra_$(say "$name" | tr - _)=\$val"
			runtests_arg "$opt=/suite/extra/$name"
			[ "$1" = "$opt" ] && shift
			shift
			continue
			;;
		esac
		runtests_arg "$1"
		shift
	done
}

# check_runtests_args [TESTDIR]: runtests.sh --check-args on the runner's
# arguments, here on the host, so that a typo is a usage error at once, not
# after a static build and a boot (the runner's own checks: one copy).
# Before the build, NAMEs are checked against test/ (a program not built
# there, by its source); after it, with TESTDIR the static build's test/,
# each NAME.PROFILE too.
check_runtests_args() {
	[ "$mode" = suite ] || return 0
	cra_dir=${1:-}
	eval "set -- $rt_given"
	env ${cra_dir:+TW_TESTDIR="$cra_dir"} "$top/runtests.sh" --check-args "$@" </dev/null
	case $? in
	0) ;;
	2 | 128) vm_exit "$E_USAGE" ;;	# runtests.sh said what is wrong
	*) bad_input "cannot check the runner's arguments (runtests.sh --check-args failed)" ;;
	esac
}

# --bench: twbench's arguments go to the guest as they are, but for its
# output directory (the results land on the host); those the run's length
# depends on are looked at for the deadline (twbench's getopt: "-d 1" or
# "-d1").
parse_bench_args() {
	while [ $# -gt 0 ]; do
		opt=$1
		val=
		case $opt in
		-[dwrpbcWat]) [ $# -ge 2 ] && val=$2 ;;
		-[dwrpbcWat]?*) val=${opt#-?}; opt=${opt%"$val"} ;;
		esac
		case $opt in
		-o | -o?*) usage_error "twbench's -o is vm-run's --results-dir here (the results land on the host)" ;;
		-d) bench_d=$val ;;
		-w) bench_w=$val ;;
		-r) bench_r=$val ;;
		-p) bench_p=$val ;;
		-*) ;;
		*) bench_names="$bench_names $opt" ;;
		esac
		runtests_arg "$1"
		if [ "$1" = "$opt" ] && [ -n "$val" ]; then
			shift
			runtests_arg "$1"
		fi
		shift
	done
}

parse_args() {
	for arg; do
		[ "$arg" = --bisect ] && bisect=1
	done
	while [ $# -gt 0 ]; do
		opt=$1
		val=
		case $opt in
		--*=*) val=${opt#*=}; opt=${opt%%=*} ;;
		--smp | --mem | --append | --accel | --deadline | --silence | --results-dir | --console)
			[ $# -ge 2 ] || usage_error "$opt needs a value"
			val=$2
			shift
			;;
		esac
		case $opt in
		-h | --help) usage; exit 0 ;;
		-v | --verbose) verbose=1 ;;
		--user) user=$GUEST_UID ;;
		--bench) mode=bench ;;
		--smp)
			case $val in
			'' | *[!0-9]* | 0) usage_error "bad --smp '$val' (a CPU count)" ;;
			esac
			smp=$val
			;;
		--mem)
			case $val in
			[0-9]*) mem=$val ;;
			*) usage_error "bad --mem '$val' (e.g. 1G, 2048M)" ;;
			esac
			;;
		--append) append="$append${append:+ }$val" ;;
		--accel)
			case $val in
			auto | kvm | tcg) accel=$val ;;
			*) usage_error "bad --accel '$val' (auto, kvm or tcg)" ;;
			esac
			;;
		--deadline)
			is_number "$val" || usage_error "bad --deadline '$val' (seconds)"
			deadline=$val
			;;
		--silence)
			is_number "$val" || usage_error "bad --silence '$val' (seconds)"
			silence=$val
			;;
		--results-dir) results_dir=$val ;;
		--console) console_file=$val ;;
		--) usage_error "the kernel image comes before --" ;;
		-*) usage_error "unknown option '$opt'" ;;
		*)
			kernel=$opt
			shift
			[ "${1:-}" = -- ] && shift
			if [ "$mode" = bench ]; then
				bisect=0	# the option is twbench's business, if anything
				parse_bench_args "$@"
			else
				parse_runtests_args "$@"
			fi
			return
			;;
		esac
		shift
	done
	usage_error "no kernel image given"
}
