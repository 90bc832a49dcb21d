# SPDX-License-Identifier: MIT
#
# The table of tests, from the lines of ./runtests.sh --describe (sorted):
# name, profiles, needs, fix, summary, separated by tabs, "-" for none.
# Run by scripts/gen-test-table:
#
#   awk -F '\t' -v format=text -f scripts/test-table.awk     README's table
#   awk -F '\t' -v format=markdown -f scripts/test-table.awk doc/tests.md's
#
# Profiles are written "all" when a test runs over every profile any test
# declares (the profile table in README), else listed.

NF != 5 {
	printf "test-table.awk: line %d has %d fields, not 5: %s\n", NR, NF, $0 >"/dev/stderr"
	bad = 1
	exit 1
}
{
	n++
	name[n] = $1; prof[n] = $2; needs[n] = $3; fix[n] = $4; summary[n] = $5
	np[n] = split($2, p, ",")
	for (i = 1; i <= np[n]; i++)
		if (!(p[i] in every)) {
			every[p[i]] = 1
			nevery++
		}
}

END {
	if (bad)
		exit 1
	if (format == "text")
		text_table()
	else if (format == "markdown")
		markdown_table()
	else {
		printf "test-table.awk: format must be text or markdown\n" >"/dev/stderr"
		exit 2
	}
}

function profiles(i,    s) {
	if (np[i] == nevery)
		return "all"
	s = prof[i]
	gsub(/,/, ", ", s)
	return s
}

# README: plain text, the summary wrapped beside the name, 79 columns. The
# regression tests (regress_*, one per kernel fix) are counted on one line:
# README stays short, doc/tests.md lists them.
function text_table(    i, col, lines, k, out, nreg) {
	col = 24
	printf "  %-*s%s\n", col, "test", "what it checks"
	for (i = 1; i <= n; i++) {
		if (name[i] ~ /^regress_/) {
			nreg++
			continue
		}
		lines = wrap(summary[i], 79 - 2 - col, out)
		k = 1
		# A name as wide as the column gets a line of its own.
		if (length(name[i]) >= col)
			printf "  %s\n", name[i]
		else
			printf "  %-*s%s\n", col, name[i], out[k++]
		for (; k <= lines; k++)
			printf "  %-*s%s\n", col, "", out[k]
	}
	if (nreg)
		printf "  %-*s%s\n  %-*s%s\n", col, "regress_*", nreg " regression tests, one per kernel bug:", \
		    col, "", "doc/tests.md lists them with their fixes"
}

# Words of s into lines of at most width characters: out[1..returned].
function wrap(s, width, out,    w, nw, k, line, nl) {
	nw = split(s, w, " ")
	nl = 0
	line = ""
	for (k = 1; k <= nw; k++) {
		if (line != "" && length(line) + 1 + length(w[k]) > width) {
			out[++nl] = line
			line = ""
		}
		line = line == "" ? w[k] : line " " w[k]
	}
	out[++nl] = line
	return nl
}

# doc/tests.md: each name links to its source, whose header comment is the
# long description; a fix is its commit (if known) and subject.
function markdown_table(    i, f) {
	print "| test | what it checks | profiles | needs | fix |"
	print "|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		f = fix[i]
		if (f ~ /^- "/)
			f = substr(f, 3)
		else if (f != "-")
			f = "`" substr(f, 1, index(f, " ") - 1) "` " substr(f, index(f, " ") + 1)
		printf "| [%s](../test/%s.c) | %s | %s | %s | %s |\n", name[i], name[i],
			md(summary[i]), profiles(i), needs[i], md(f)
	}
}

# Text in a table cell: no column breaks, no HTML.
function md(s) {
	gsub(/\|/, "\\|", s)
	gsub(/</, "\\&lt;", s)
	gsub(/>/, "\\&gt;", s)
	return s
}
