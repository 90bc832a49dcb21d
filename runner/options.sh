# SPDX-License-Identifier: MIT
#
# runner/options.sh - the values runtests.sh's options take, checked before
# anything runs: a value a test program would refuse, or one that would
# make a verdict lie, is a usage error naming the option and the value;
# and whether a progress line shows. Sourced by runtests.sh (POSIX sh,
# busybox sh in a guest) after runner/lib.sh. Each check prints nothing
# and returns 0 for a good value.

# The largest values taken. The supervisor counts in nanoseconds (int64):
# about 292 years would overflow into "timed out at once"; these limits
# are far below that and far above any real run.
MAX_TIMEOUT=1000000		# seconds per program (11.5 days)
MAX_DURATION=86400		# seconds of load per case (a day)
MAX_REPEAT=999999999

# seed_ok WORD: does every test program take WORD as its -s? They read it
# with strtoull(WORD, &end, 0) and refuse anything left over
# (src/harness.c): decimal, 0x or 0X and hex digits, or 0 and octal digits
# ("010" is 8, "08" is refused). Refused here too, though strtoull takes
# them: a sign or leading blanks, and more than 64 bits (strtoull turns
# those into 2^64 - 1 without a word: not the seed that was asked for).
seed_ok() {
	case $1 in
	0[xX]*)
		so_d=${1#??}
		case $so_d in '' | *[!0-9a-fA-F]*) return 1 ;; esac
		so_d=${so_d#"${so_d%%[!0]*}"}
		[ "${#so_d}" -le 16 ]
		;;
	0*)
		case $1 in *[!0-7]*) return 1 ;; esac
		so_d=${1#"${1%%[!0]*}"}
		# 2^64 - 1 is 1 and 21 sevens in octal
		[ "${#so_d}" -lt 22 ] || { [ "${#so_d}" -eq 22 ] && [ "${so_d%"${so_d#?}"}" = 1 ]; }
		;;
	[1-9]*)
		case $1 in *[!0-9]*) return 1 ;; esac
		[ "${#1}" -lt 20 ] && return 0
		# Twenty digits: compared as strings, which for equal lengths is
		# the numbers' order (awk's numbers are doubles: too coarse).
		[ "${#1}" -eq 20 ] && awk -v s="$1" 'BEGIN { exit !((s "") <= "18446744073709551615") }'
		;;
	*) return 1 ;;
	esac
}

# count_ok WORD: a whole number from 1 to MAX_REPEAT (the shell's test
# compares them; a longer one is its "Illegal number").
count_ok() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	co_d=${1#"${1%%[!0]*}"}
	[ -n "$co_d" ] && [ "${#co_d}" -le "${#MAX_REPEAT}" ]
}

# seconds_ok WORD MAX: a non-negative decimal number (3, 0.5) up to MAX.
seconds_ok() {
	is_number "$1" && awk -v v="$1" -v max="$2" 'BEGIN { exit !(v + 0 <= max + 0) }'
}

# file_problem FILE: nothing for a file we can read; else what is wrong.
file_problem() {
	if [ ! -e "$1" ]; then
		say "no such file"
	elif [ -d "$1" ]; then
		say "a directory, not a file"
	elif [ ! -r "$1" ]; then
		say "cannot read it"
	fi
}

# check_list_file WHAT FILE: FILE (of --known-issues, --exclude or their
# variables) must be readable: a typo must not run the tests a missing
# test/exclude would have kept from taking the machine down.
check_list_file() {
	clf_why=$(file_problem "$2")
	[ -z "$clf_why" ] || usage_error "$1 '$2': $clf_why"
}

# A progress line on stderr while a program runs (the supervisor's -P):
# where runner/lib.sh's progress_on says (a terminal, or TW_PROGRESS=1),
# but not in a guest unless forced (its console is the host's log), nor
# with -v (the output itself shows).
choose_progress() {
	progress=0
	progress_on && progress=1
	[ -n "${TW_VM_GUEST:-}" ] && [ "${TW_PROGRESS:-}" != 1 ] && progress=0
	[ "$verbose" = 1 ] && progress=0
}
