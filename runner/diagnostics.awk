# SPDX-License-Identifier: MIT
#
# runner/diagnostics.awk - the lines of a program's log a developer needs
# under a bad verdict: the FAIL/HANG/CRASH lines of the case, its
# "# reproduce:" line and the supervisor's account of the end (timeout,
# signals, and the kernel stacks of a task that cannot be killed).
#
#   awk -v c=CASE -v whole=0|1 -f runner/diagnostics.awk PROGRAM.log
#
# -v c      the case (fanin_local.defer): its lines run from "# case c:" to
#           the next "# case " line
# -v whole  1: the program's log has no such case, look at all of it
# Prints each such line indented by four spaces, at most 60 ("    ..." then).

index($0, "# case " c ":") == 1 { in_case = 1; next }
/^# case / { if (in_case) exit }
in_case || whole {
	if ($0 ~ /^# (FAIL|HANG|CRASH) / || $0 ~ /^# reproduce:/ ||
	    $0 ~ /^# supervise: (timeout|SIGINT|still running|interrupted|process .* did not die)/) {
		print "    " $0
		stack = $0 ~ /cannot be killed|did not die after SIGKILL/
		shown++
	} else if (stack && $0 ~ /^# supervise:   /) {
		print "    " $0
		shown++
	} else {
		stack = 0
	}
	if (shown >= 60) {
		print "    ..."
		exit
	}
}
