# SPDX-License-Identifier: MIT
#
# runner/json.awk - JSON in and out for the awk programs that write or read
# the suite's JSON (runner/report.awk; kernels/matrix.awk,
# mutation-score.awk, coverage-report.awk): functions only, no rules.
# Loaded first: awk -f runner/json.awk -f PROGRAM.awk.
#
# Writing:  jstr(s)  s as a JSON string (backslash, quote, tab escaped;
#                    other control characters dropped)
#           jopt(s)  jstr(s), or null for ""
#           jnum(s)  s as a number, or null for ""
# Reading one line of the suite's JSON files (results.json, vm.json,
# matrix.json put one object or key a line; no full parser is needed):
#           jget(line, key)  the string value of "key", unescaped (\t as a
#                            tab, \n as a space); "" when null or absent
#           jraw(line, key)  a bare value (a number, true); "" for null

# replace(s, from, to): every FROM in s replaced by TO, literally (gsub's
# replacement text treats \ and & specially).
function replace(s, from, to,   out, i) {
	out = ""
	while ((i = index(s, from)) > 0) {
		out = out substr(s, 1, i - 1) to
		s = substr(s, i + length(from))
	}
	return out s
}

function jstr(s) {
	s = replace(s, "\\", "\\\\")
	s = replace(s, "\"", "\\\"")
	s = replace(s, "\t", "\\t")
	gsub(/[\001-\037]/, "", s)
	return "\"" s "\""
}

function jopt(s) { return s == "" ? "null" : jstr(s) }

function jnum(s) { return s == "" ? "null" : s + 0 }

function jget(line, key,   i, c, out) {
	i = index(line, "\"" key "\": \"")
	if (i == 0)
		return ""
	line = substr(line, i + length(key) + 5)
	out = ""
	while (line != "") {
		c = substr(line, 1, 1)
		if (c == "\"")
			break
		if (c == "\\") {
			c = substr(line, 2, 1)
			c = c == "t" ? "\t" : c == "n" ? " " : c
			line = substr(line, 2)
		}
		out = out c
		line = substr(line, 2)
	}
	return out
}

function jraw(line, key,   i) {
	i = index(line, "\"" key "\": ")
	if (i == 0)
		return ""
	line = substr(line, i + length(key) + 4)
	sub(/[,}].*/, "", line)
	return line == "null" ? "" : line
}
