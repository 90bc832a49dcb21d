# SPDX-License-Identifier: MIT
# shellcheck shell=sh disable=SC2154 # $out, $src, ... are mutation-score's
#
# kernels/mutation-merge-lib.sh - mutation-score's rows run apart, merged:
# one CI job per patch, or a few patches on each of several machines, make
# one table (kernels/mutation-score --merge DIR... [-o OUT]). Sourced by
# kernels/mutation-score after runs-lib.sh, not run.
#
#   ms_tree_id SRC         what identifies the source tree SRC: a checksum
#                          of its Makefile (the version) and the code the
#                          suite tests and the patches break (io_uring/,
#                          its headers, task_work)
#   ms_stamp FILE PATCH    appends tree=, fragments= and, for a patch,
#                          patch_sum= (its checksum) to the mutant.info FILE:
#                          what --merge compares
#   ms_merge ARG...        --merge's arguments (DIR..., -o OUT): checks
#                          every input, copies the rows into $out, writes the
#                          table; exits as a run does (0 all caught, 1 one
#                          missed), 2 usage, 4 an input that cannot be merged
#
# The rules, and why (doc/mutation-and-coverage.md, "Merging"):
# - every input holds its unpatched kernel's row, passed: a patch row is a
#   catch only against a run of the suite that passed on the same machine;
#   the merged table gets the first input's;
# - the unpatched kernels agree (release, tree, fragments) and so do the
#   RUNTESTS-ARGS: rows of another kernel or another run are another score;
# - one row per patch (the same patch text twice is refused, whatever its
#   name): which of two runs would count? Two that agree add nothing, two
#   that disagree are a flaky catch to look at, not to pick from. Two
#   patches of one name and other text are two rows, NAME and NAME-2, as in
#   one run of both.
# - every file a row is drawn from is there (mutant.info; results.json and
#   vm.json where the suite ran to a verdict): else the table would lie.

ms_tree_id() {
	(
		cd "$1" || exit 1
		find Makefile io_uring include/linux/io_uring* include/uapi/linux/io_uring* \
			include/linux/task_work.h kernel/task_work.c -type f 2>/dev/null |
			LC_ALL=C sort | xargs cksum
	) | cksum | awk '{ print $1 "-" $2 }'
}

ms_stamp() {
	{
		say "tree=$src_tree"
		say "fragments=${fragment_names:-fast}"
		if [ -n "$2" ]; then
			say "patch_sum=$(cksum <"$2" | awk '{ print $1 "-" $2 }')"
		fi
	} >>"$1"
}

# ms_info FILE KEY: the value of KEY in the info FILE.
ms_info() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}

# ms_need FILE: FILE is there, else the merge is refused, naming it.
ms_need() {
	[ -f "$1" ] || die 4 "cannot merge: $1 is missing ($2)"
}

# ms_identity DIR: the unpatched kernel of the input DIR, as words to
# compare: release, tree, fragments.
ms_identity() {
	say "release $(json_string "$1/base/vm.json" release)"
	say "tree $(ms_info "$1/base/mutant.info" tree)"
	say "fragments $(ms_info "$1/base/mutant.info" fragments)"
}

# ms_check_input DIR: refuses an input that cannot be merged; prints its
# patch rows' labels (mutation.json order), one a line.
ms_check_input() {
	ms_need "$1/mutation.json" "not a mutation-score results directory, or an interrupted one: kernels/mutation-score --update DIR writes it"
	ms_need "$1/base/mutant.info" "every input holds the unpatched kernel's row: the proof that the suite passed there"
	st=$(ms_info "$1/base/mutant.info" status)
	[ "$st" = pass ] || die 4 "cannot merge $1: the suite did not pass on its unpatched kernel ($st), so its rows prove nothing"
	ms_need "$1/base/vm.json" "the unpatched kernel's run"
	# shellcheck disable=SC2013 # labels are single words (run_dirs)
	for lbl in $(sed -n 's/^    {"label": "\([^"]*\)".*/\1/p' "$1/mutation.json"); do
		[ "$lbl" = base ] && continue
		ms_need "$1/$lbl/mutant.info" "mutation.json has the row $lbl"
		case $(ms_info "$1/$lbl/mutant.info" status) in
		caught | missed)
			ms_need "$1/$lbl/results.json" "the suite's verdicts of the row $lbl"
			ms_need "$1/$lbl/vm.json" "the guest's verdict of the row $lbl"
			;;
		esac
		say "$lbl"
	done
}

ms_merge() {
	inputs=
	while [ $# -gt 0 ]; do
		case $1 in
		-o | --out)
			if [ $# -lt 2 ] || [ -z "$2" ]; then usage_error "$1 needs an argument"; fi
			out=$2
			shift
			;;
		-*) usage_error "--merge takes results directories and -o OUT, not $1" ;;
		*)
			[ -d "$1" ] || usage_error "no such directory: $1"
			inputs="$inputs $(quote "${1%/}")"
			;;
		esac
		shift
	done
	[ -n "$inputs" ] || usage_error "--merge needs results directories"
	[ -z "$src$patchargs$bkargs$images$show" ] || usage_error "--merge takes results directories and -o OUT only"
	[ -n "$out" ] || out=$top/results/mutation-$(date -u +%Y%m%d-%H%M%S)
	[ ! -d "$out" ] || [ -z "$(ls -A "$out")" ] || usage_error "$out is not empty: choose another --out"
	eval "set -- $inputs"
	first=$1
	rargs=$(json_string "$first/mutation.json" runtests_args)
	# Every input checked before anything is written: the rows to copy,
	# "KEY LABEL INPUT" a line (KEY: the patch's checksum; "label:LABEL" for
	# a row made before mutation-score recorded patch_sum).
	rows=
	for d in "$@"; do
		labels=$(ms_check_input "$d") || exit $?
		if [ "$d" != "$first" ]; then
			diff=$( (ms_identity "$first" && ms_identity "$d") | awk '
				{ k = $1; $1 = ""; if (!(k in n)) order[++nk] = k; v[k, ++n[k]] = substr($0, 2) }
				END {
					for (i = 1; i <= nk; i++)
						if (v[order[i], 1] != v[order[i], 2])
							s = s (s == "" ? "" : "; ") order[i] " " v[order[i], 1] " and " v[order[i], 2]
					print s
				}')
			[ -z "$diff" ] || die 4 "cannot merge $first and $d: other unpatched kernels ($diff)"
			r=$(json_string "$d/mutation.json" runtests_args)
			[ "$r" = "$rargs" ] || die 4 "cannot merge $first and $d: other RUNTESTS-ARGS ('$rargs' and '$r')"
		fi
		for lbl in $labels; do
			key=$(ms_info "$d/$lbl/mutant.info" patch_sum)
			dup=$(printf '%s' "$rows" | awk -v k="${key:-label:$lbl}" '$1 == k { sub(/^[^ ]* [^ ]* /, ""); print; exit }')
			[ -z "$dup" ] || die 4 "cannot merge: the patch $lbl is in both $dup and $d (one row per patch: leave one out)"
			rows="$rows${key:-label:$lbl} $lbl $d
"
		done
	done
	mkdir -p "$out" || die 4 "cannot create $out"
	out=$(cd "$out" && pwd)
	cp -R "$first/base" "$out/base" || die 4 "cannot copy $first/base into $out"
	set -- "$out/base"
	taken=" base "
	oldifs=$IFS
	IFS='
'
	for row in $rows; do
		IFS=$oldifs
		row=${row#* }
		lbl=${row%% *}
		d=${row#* }
		# Two patches of one name: NAME, NAME-2, ... as in one run.
		new=$lbl
		n=2
		while case $taken in *" $new "*) true ;; *) false ;; esac; do
			new=$lbl-$n
			n=$((n + 1))
		done
		taken="$taken$new "
		cp -R "$d/$lbl" "$out/$new" || die 4 "cannot copy $d/$lbl into $out"
		grep -v '^label=\|^merged_from=' "$d/$lbl/mutant.info" >"$out/$new/mutant.info"
		printf 'label=%s\nmerged_from=%s\n' "$new" "$(cd "$d" && pwd)" >>"$out/$new/mutant.info"
		set -- "$@" "$out/$new"
	done
	IFS=$oldifs
	# shellcheck disable=SC2034 # score_table's
	created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	score_table 1 "$@"
	say "results: $out/mutation.json, $out/mutation.txt"
	grep -q '^status=missed$' "$out"/*/mutant.info && exit 1
	grep -q '^status=caught$' "$out"/*/mutant.info || exit 1
	exit 0
}
