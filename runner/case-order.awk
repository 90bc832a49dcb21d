# SPDX-License-Identifier: MIT
#
# runner/case-order.awk - judged lines in the program's case order.
#
#   awk -v cases=FILE -f runner/case-order.awk JUDGED
#
# Reads TAB-separated lines whose first field is a case (runner/judge.sh's
# judged cases: the skips of exclusions come first, then runner/judge.awk's
# verdicts) and prints them in the order of the file -v cases (one case per
# line, as the program lists them), then any others in the order read.
# A case judged twice keeps its last line.

BEGIN { while ((getline c < cases) > 0) order[++n] = c }
{
	split($0, f, "\t")
	line[f[1]] = $0
	if (!(f[1] in seen)) {
		seen[f[1]] = 1
		all[++m] = f[1]
	}
}
END {
	for (i = 1; i <= n; i++)
		if (order[i] in line) {
			print line[order[i]]
			done[order[i]] = 1
		}
	for (i = 1; i <= m; i++)
		if (!(all[i] in done))
			print line[all[i]]
}
