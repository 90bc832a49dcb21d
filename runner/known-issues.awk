# SPDX-License-Identifier: MIT
#
# runner/known-issues.awk - does a known kernel bug (test/known-issues)
# account for a case's verdict? Or, with -v check=1, can every entry be read?
#
#   TW_KI_REASON=REASON awk -v name=CASE -v prog=PROGRAM -v verdict=VERDICT \
#       -v kinds=KINDS -v kernel=RELEASE \
#       -f runner/version-range.awk -f runner/known-issues.awk test/known-issues
#   awk -v check=1 -f runner/version-range.awk -f runner/known-issues.awk FILE
#   awk -v listed=CASES -v prog=PROGRAM -v kernel=RELEASE \
#       -f runner/version-range.awk -f runner/known-issues.awk test/known-issues
#
# Reads the known-issues file, one entry a line ('#' comments, blank lines):
#   CASE-PATTERN  KERNEL-RANGE  FIX-COMMIT  KINDS:/ERE/  FIX-SUBJECT...
# CASE-PATTERN a shell glob (*, ?, [...]) on the case or its program;
# KERNEL-RANGE as runner/version-range.awk reads it, ~RANGE for a bug seen
# only sometimes; FIX-COMMIT 12+ hex digits or -; KINDS the failures the bug
# gives, FAIL, HANG, CRASH, SPLAT joined with '|'; ERE an extended regular
# expression (blanks allowed, '/' written \/) matched against the case's
# reason; FIX-SUBJECT the fix's subject, or what the bug is.
#
# -v variables: the case and its program, its verdict (pass, fail, hang,
# crash), the kinds of its failure (runner/judge.awk: its verdict's kind,
# and SPLAT for a kernel record or bad taint during it, '|'-joined; "-" for
# a case that did not run), the kernel release. The reason comes through the
# environment (awk -v would interpret its backslashes).
#
# Prints at most one TAB-separated line, from the first entry that names
# the case and holds this kernel (for a failure: the first whose KINDS hold
# every kind of the failure and whose ERE matches its reason):
#   xfail  HINT     a failure the entry expects
#   xpass  HINT     a pass of an entry that is not ~RANGE
#   other  NOTE     a failure unlike every such entry: it stays a failure
# HINT is "known issue on RANGE, fixed by COMMIT ("SUBJECT")" or "...,
# not fixed yet: SUBJECT". With -v check=1: one "FILE:LINE: problem" line
# per entry it cannot read, exit status 1 if any. With -v listed=FILE (the
# cases of PROGRAM, one a line): each of them (or the program) that an
# entry names on this kernel, one a line (--stop-at-first-failure lets
# such a program run all its cases: a failure of theirs may be an xfail).

function bad(why) {
	printf "%s:%d: %s\n", FILENAME, FNR, why
	problems++
}

# The glob as an anchored ERE: shell case patterns, for awk.
function glob_ere(g,   out, i, c, j) {
	out = "^"
	for (i = 1; i <= length(g); i++) {
		c = substr(g, i, 1)
		if (c == "*") {
			out = out ".*"
		} else if (c == "?") {
			out = out "."
		} else if (c == "[" && (j = index(substr(g, i + 2), "]")) > 0) {
			c = substr(g, i + 1, j)
			if (substr(c, 1, 1) == "!")
				c = "^" substr(c, 2)
			out = out "[" c "]"
			i += j + 1
		} else {
			if (c == "\\" && i < length(g))
				c = substr(g, ++i, 1)
			out = out (c ~ /[][\\^$.|?*+(){}]/ ? "\\" c : c)
		}
	}
	return out "$"
}

# Splits an entry into pat, range, commit, ekinds, ere, subject; "" on
# success, else what is wrong.
function parse(line,   rest, i, c, n) {
	sub(/^[ \t]+/, "", line)
	n = split(line, w, /[ \t]+/)
	if (n < 5)
		return "expected CASE-PATTERN KERNEL-RANGE FIX-COMMIT KINDS:/ERE/ FIX-SUBJECT"
	pat = w[1]; range = w[2]; commit = w[3]
	rest = line
	for (i = 1; i <= 3; i++)
		sub(/^[^ \t]+[ \t]+/, "", rest)
	if (!match(rest, /^[A-Z|]+:\//))
		return "no KINDS:/ERE/ after the commit (e.g. FAIL:/lost wake-up: /)"
	ekinds = substr(rest, 1, RLENGTH - 2)
	rest = substr(rest, RLENGTH + 1)
	ere = ""
	for (i = 1; i <= length(rest); i++) {
		c = substr(rest, i, 1)
		if (c == "/")
			break
		if (c == "\\" && substr(rest, i + 1, 1) == "/")
			c = substr(rest, ++i, 1)
		else if (c == "\\")
			c = c substr(rest, ++i, 1)
		ere = ere c
	}
	if (i > length(rest))
		return "the ERE has no closing /"
	subject = substr(rest, i + 1)
	if (subject !~ /^[ \t]+[^ \t]/)
		return "no FIX-SUBJECT after KINDS:/ERE/"
	sub(/^[ \t]+/, "", subject)
	return ""
}

# -v listed: the listed cases (or the program) this entry names on this kernel.
function named_cases(   r, g, c) {
	r = range
	sub(/^~/, "", r)
	if (in_range(r, kernel) != 1)
		return
	g = glob_ere(pat)
	if (prog ~ g)
		print prog
	for (c in listed_case)
		if (c ~ g)
			print c
}

function check_entry(   why, k, n, i, r) {
	n = split(ekinds, k, "|")
	for (i = 1; i <= n; i++)
		if (k[i] !~ /^(FAIL|HANG|CRASH|SPLAT)$/)
			why = why (why == "" ? "" : "; ") "unknown kind '" k[i] "' (FAIL, HANG, CRASH, SPLAT)"
	if (ere == "")
		why = why (why == "" ? "" : "; ") "an empty ERE matches every reason"
	r = range
	sub(/^~/, "", r)
	if (in_range(r, "7.3.4") < 0)
		why = why (why == "" ? "" : "; ") "bad kernel range '" range "'"
	if (commit != "-" && (commit !~ /^[0-9a-f]+$/ || length(commit) < 12))
		why = why (why == "" ? "" : "; ") "FIX-COMMIT '" commit "' is not - or 12+ hex digits"
	if (why != "")
		bad(why)
	else
		"" ~ ere	# a bad ERE stops awk here, naming it
}

# Does every kind of the failure (kinds, '|'-joined) appear in the entry's?
function kinds_held(   k, n, i) {
	n = split(kinds, k, "|")
	if (kinds == "-" || n == 0)
		return 0
	for (i = 1; i <= n; i++)
		if (index("|" ekinds "|", "|" k[i] "|") == 0)
			return 0
	return 1
}

BEGIN {
	reason = ENVIRON["TW_KI_REASON"]
	while (listed != "" && (getline line < listed) > 0)
		listed_case[line] = 1
}
/^[ \t]*(#|$)/ { next }
{
	why = parse($0)
	if (check) {
		if (why != "")
			bad(why)
		else
			check_entry()
		next
	}
	if (listed != "") {
		if (why == "")
			named_cases()
		next
	}
	if (why != "" || (name !~ glob_ere(pat) && prog !~ glob_ere(pat)))
		next
	sometimes = sub(/^~/, "", range)
	if (in_range(range, kernel) != 1)
		next
	hint = "known issue on " range ", " (commit == "-" ? "not fixed yet: " subject : \
		"fixed by " commit " (\"" subject "\")")
	if (verdict == "pass") {
		if (!sometimes)
			print "xpass\t" hint
		decided = 1
		exit
	}
	if (kinds_held() && reason ~ ere) {
		print "xfail\t" hint
		decided = 1
		exit
	}
	if (note == "")
		note = "not the known issue on " range " (" ekinds ":/" ere "/)"
}
END {
	if (check)
		exit problems > 0
	if (!decided && note != "")
		print "other\t" note
}
