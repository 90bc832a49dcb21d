# SPDX-License-Identifier: MIT
#
# runner/kmsg-case.awk - the kernel records that failed a case, for the
# terminal.
#
#   awk -v c=CASE -v patterns=runner/kmsg-patterns -f runner/kmsg-regex.awk \
#       -f runner/kmsg-case.awk PROGRAM.kmsg
#
# Reads the kernel log excerpt of a program (see runner/kmsg-scan.awk) and
# prints "    kernel: RECORD" for the first five records of case c (-v c)
# that match a pattern of the file -v patterns, and its "# log incomplete"
# lines. The records before the first case count against it, as in
# runner/judge.awk. With c=between: the records of the log between two
# programs (runner/kmsg.sh).

BEGIN { re = kmsg_regex(patterns) }
/^# case / { sec = $3; if (first == "") first = sec }
/^# between taint / { sec = "between" }
/^# log incomplete: / { line = substr($0, 3) }
/^\[/ && re != "" && $0 ~ re { line = $0 }
line != "" {
	if (sec == "")
		early[++nearly] = line
	else if (sec == c && shown++ < 5)
		print "    kernel: " line
	line = ""
}
END {
	for (i = 1; i <= nearly && first == c && i <= 5; i++)
		print "    kernel: " early[i]
}
