# SPDX-License-Identifier: MIT
#
# bench/json.awk - reads a value out of one line of a bench/twbench
# bench.json, for bench/compare.awk and bench/plot.awk, which are run after
# it:
#
#   awk -f bench/json.awk -f bench/compare.awk ...
#
# twbench writes its header one key a line and each result as one line of
# JSON, so a line is all these programs need to parse; no JSON library.

# val(s, key): the value of "key": in the text s - a string (without its
# quotes, escapes kept as they are), a number, null, true or false, or an
# object or array (as its text, brackets included); "" when s has no key.
function val(s, key,   t, depth, i, c) {
	if (!match(s, "\"" key "\": "))
		return ""
	t = substr(s, RSTART + RLENGTH)
	if (substr(t, 1, 1) == "\"") {
		t = substr(t, 2)
		i = index(t, "\"")
		while (i > 1 && substr(t, i - 1, 1) == "\\")
			i = i + index(substr(t, i + 1), "\"")
		return substr(t, 1, i - 1)
	}
	if (substr(t, 1, 1) == "{" || substr(t, 1, 1) == "[") {
		depth = 0
		for (i = 1; i <= length(t); i++) {
			c = substr(t, i, 1)
			if (c == "{" || c == "[")
				depth++
			else if (c == "}" || c == "]")
				if (--depth == 0)
					return substr(t, 1, i)
		}
		return t
	}
	match(t, /^[-+.0-9a-zA-Z]*/)	# a number, null, true, false
	return substr(t, 1, RLENGTH)
}
