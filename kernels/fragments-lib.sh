# SPDX-License-Identifier: MIT
# shellcheck shell=sh
#
# kernels/fragments-lib.sh - build-kernel's config fragments: which file a
# fragment name means, what the fragments ask for, and which of their
# symbols did not keep their value in the final .config. Sourced by
# build-kernel (after runner/lib.sh, with $kernels set to kernels/), not run.
#
#   resolve_fragment F        the fragment's file: F itself, or
#                             kernels/kconfig/F.config, kernels/kconfig/F
#   fragment_settings FRAGMENT...  one "SYMBOL<TAB>LINE<TAB>FRAGMENT" per
#                             symbol, the last assignment of each winning
#   check_config DOTCONFIG SRCDIR FRAGMENT...  a line per fragment symbol
#                             whose value did not stick, saying why
#   declared SYMBOL SRCDIR    does a Kconfig file of SRCDIR declare it?

# A fragment by path, or by name in kernels/kconfig/.
# shellcheck disable=SC2154 # $kernels is build-kernel's
resolve_fragment() {
	if [ -f "$1" ]; then
		abs_path "$1"
	elif [ -f "$kernels/kconfig/$1.config" ]; then
		printf '%s\n' "$kernels/kconfig/$1.config"
	elif [ -f "$kernels/kconfig/$1" ]; then
		printf '%s\n' "$kernels/kconfig/$1"
	else
		return 1
	fi
}

# The fragments' settings, one "SYMBOL<TAB>LINE<TAB>FRAGMENT" per symbol,
# the last assignment of each symbol winning (as in merge_config.sh).
fragment_settings() {
	awk '
		/^CONFIG_[A-Za-z0-9_]+=/ { sym = $0; sub(/=.*/, "", sym) }
		/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { sym = $2 }
		sym != "" {
			if (!(sym in want)) order[n++] = sym
			want[sym] = $0
			file = FILENAME; sub(/.*\//, "", file); from[sym] = file
			sym = ""
		}
		END {
			for (i = 0; i < n; i++)
				printf "%s\t%s\t%s\n", order[i], want[order[i]], from[order[i]]
		}' "$@"
}

# Prints one line per fragment symbol whose value did not stick in DOTCONFIG.
# A symbol asked to be unset may be absent altogether: its dependencies are
# off, or this kernel does not have it (one fragment serves 6.1 to 7.3, and
# "not set" holds for a symbol a kernel lacks). One asked to be set that no
# Kconfig file declares is reported (a typo, or a newer symbol).
check_config() { # DOTCONFIG SRCDIR FRAGMENT...
	dotconfig=$1
	srcdir=$2
	shift 2
	fragment_settings "$@" | while IFS='	' read -r sym want from; do
		have=$(grep -E "^(# )?${sym}[= ]" "$dotconfig" | head -n 1)
		[ "$want" = "$have" ] && continue
		case $want in
		"# "*) [ -z "$have" ] && continue ;;
		esac
		if [ -z "$have" ]; then
			if declared "${sym#CONFIG_}" "$srcdir"; then
				have="<absent: its dependencies are not met>"
			else
				have="<no such symbol in this kernel's Kconfig>"
			fi
		fi
		printf '%s (%s): want "%s", have "%s"\n' "$sym" "$from" "$want" "$have"
	done
}

declared() { # SYMBOL SRCDIR
	find "$2" -path "$2/.git" -prune -o -name 'Kconfig*' -type f \
		-exec grep -l -E "^[[:space:]]*(menu)?config[[:space:]]+$1[[:space:]]*$" {} + 2>/dev/null |
		grep -q .
}
