# SPDX-License-Identifier: MIT
#
# runner/summary.awk - the last line of a run: how many cases, by verdict.
#
#   awk -v dir=RESULTS-DIR -f runner/summary.awk RECORDS
#
# Reads the run's records (one TAB-separated line per case, the verdict in
# field 4, skipped parts in 11: see runner/report.awk) and prints
#   "N cases: A pass, B fail, ...; P with skipped parts; S not run after the
#   first failure (results in DIR)"
# with the verdicts in a fixed order, those with none left out (and the
# skipped parts and the cases --stop-at-first-failure did not run only if
# there are any).

BEGIN { FS = "\t" }
{
	n++
	c[$4]++
	parts += ($11 != "" && $11 != "-")
	notrun += index($10, "not run: stopped at the first failure") == 1
}
END {
	s = ""
	split("pass fail hang crash xpass xfail skip", order, " ")
	for (i = 1; i <= 7; i++)
		if (c[order[i]])
			s = s (s == "" ? "" : ", ") c[order[i]] " " order[i]
	if (parts)
		s = s "; " parts " with skipped parts"
	if (notrun)
		s = s "; " notrun " not run after the first failure"
	printf "%d cases: %s (results in %s)\n", n, s == "" ? "none" : s, dir
}
