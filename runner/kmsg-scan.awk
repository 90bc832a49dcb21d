# SPDX-License-Identifier: MIT
#
# runner/kmsg-scan.awk - what the kernel said during each case.
#
#   awk -v patterns=runner/kmsg-patterns -f runner/kmsg-regex.awk \
#       -f runner/kmsg-scan.awk PROGRAM.kmsg
#
# Reads the kernel log excerpt the supervisor wrote (runner/kmsg.c): a
# "# start taint ..." line, then "# case CASE taint ..." at each case, the
# kernel's records ("[  12.345] text") in between; or the log between two
# programs (its -b file), one section "# between taint ...". Prints one line
# per section (start, then each case; or between), TAB-separated:
#   section NAME FIRST-BAD-RECORD TAINT
# FIRST-BAD-RECORD is the text of the first record matching a pattern
# (without its timestamp), else the section's first "# log incomplete: ..."
# line (records overwritten before they were read, or over the limit: the
# section cannot be called clean), else empty; TAINT the taint letters the
# section added (empty if none). -v patterns: the pattern file.
# runner/judge.awk and runner/kmsg.sh read the output.

BEGIN {
	re = kmsg_regex(patterns)
	n = 0
}
/^# start taint / { sec = "start"; order[++n] = sec; taint[sec] = $7; next }
/^# between taint / { sec = "between"; order[++n] = sec; taint[sec] = $7; next }
/^# case [^ ]+ taint / { sec = $3; order[++n] = sec; taint[sec] = $8; next }
/^# log incomplete: / { if (n > 0 && !(sec in incomplete)) incomplete[sec] = substr($0, 3); next }
/^\[/ {
	if (re != "" && n > 0 && $0 ~ re && !(sec in bad)) {
		line = $0
		sub(/^\[[^]]*\] /, "", line)
		gsub(/\t/, " ", line)
		bad[sec] = line
	}
}
END {
	for (i = 1; i <= n; i++) {
		s = order[i]
		why = (s in bad) ? bad[s] : (s in incomplete) ? incomplete[s] : ""
		print "section\t" s "\t" why "\t" (taint[s] == "-" ? "" : taint[s])
	}
}
