# SPDX-License-Identifier: MIT
#
# runner/kmsg-regex.awk - a function for the awk programs that look for
# kernel trouble, loaded before them:
#
#   awk -f runner/kmsg-regex.awk -f runner/kmsg-scan.awk ...
#
# kmsg_regex(FILE): the patterns of FILE (runner/kmsg-patterns: one ERE
# per line, '#' comment lines, blank lines) as one ERE, "(p1)|(p2)|...";
# "" when the file has none (then nothing matches).

function kmsg_regex(file,   p, re) {
	re = ""
	while ((getline p < file) > 0) {
		if (p ~ /^[ \t]*(#|$)/)
			continue
		re = re (re == "" ? "" : "|") "(" p ")"
	}
	close(file)
	return re
}
