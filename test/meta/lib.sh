# SPDX-License-Identifier: MIT
#
# The driver the meta tests (test/meta/*.sh) share: sourced, not run.
#
# run_checks CHECK...: runs each function check_CHECK in a subshell, its
# output kept in $work/check.out, and prints TAP: "ok N - CHECK (Ss)",
# "ok N - CHECK # SKIP <its last line>" for exit 77, else "not ok" with the
# output as diagnostics. A caller may define before_check (called with the
# check's name first, e.g. to clear scratch files) and $checks_note (a
# line printed as a TAP comment after the header). Returns 0 when all
# passed. Needs $work (a scratch directory).

run_checks() {
	rc_n=0
	rc_failed=0
	printf 'TAP version 13\n'
	[ -z "${checks_note:-}" ] || printf '# %s\n' "$checks_note"
	for rc_c in "$@"; do
		rc_n=$((rc_n + 1))
		if command -v before_check >/dev/null 2>&1; then
			before_check "$rc_c"
		fi
		rc_start=$(date +%s)
		(check_"$rc_c") >"$work/check.out" 2>&1
		rc_status=$?
		rc_secs=$(($(date +%s) - rc_start))
		case $rc_status in
		0) printf 'ok %d - %s (%ss)\n' "$rc_n" "$rc_c" "$rc_secs" ;;
		77) printf 'ok %d - %s # SKIP %s\n' "$rc_n" "$rc_c" "$(tail -n 1 "$work/check.out")" ;;
		*)
			printf 'not ok %d - %s\n' "$rc_n" "$rc_c"
			sed 's/^/# /' "$work/check.out"
			rc_failed=$((rc_failed + 1))
			;;
		esac
	done
	printf '1..%d\n' "$rc_n"
	[ "$rc_failed" = 0 ]
}
