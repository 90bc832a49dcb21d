# SPDX-License-Identifier: MIT
#
# TW_LOST_REASON=TEXT awk -v name=CASE -v result=crash|hang \
#     -f guest/lost-case.awk results.json
#
# (The reason comes through the environment: awk -v would interpret its
# backslashes, differently in each awk.)
#
# The case a kernel took down (panic, fatal oops, a guest that stopped
# answering) never gets a record from the guest's runner: it was running
# when the machine died. guest/vm-run adds it to the last results.json the
# guest shipped, so that results.json - and what reads it, kernel-matrix -
# names it too: the counts get one more crash or hang, the tests one more
# entry. Input and output are runtests.sh's results.json layout (one field
# per line at the top, one test per line).

# JSON string: backslash and quote escaped character by character (gsub's
# replacement backslashes differ between awks), tabs as blanks.
function jstr(s,   out, i, c) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\\" || c == "\"")
			out = out "\\" c
		else if (c == "\t")
			out = out " "
		else
			out = out c
	}
	return "\"" out "\""
}

BEGIN {
	reason = ENVIRON["TW_LOST_REASON"]
	prog = name
	sub(/\..*/, "", prog)
	prof = name
	if (!sub(/^[^.]*\./, "", prof))
		prof = ""
}

# The counts: one more of the result.
/^  "counts": \{/ {
	if (match($0, "\"" result "\": [0-9]+")) {
		n = substr($0, RSTART, RLENGTH)
		sub(/.*: /, "", n)
		$0 = substr($0, 1, RSTART - 1) "\"" result "\": " (n + 1) substr($0, RSTART + RLENGTH)
	}
}

/^  "tests": \[/ { in_tests = 1; last = ""; print; next }

in_tests && /^  \]/ {
	if (last != "")
		print last ","
	printf "    {\"name\": %s, \"program\": %s, \"profile\": %s, \"result\": %s, " \
		"\"seconds\": %s, \"reason\": %s, \"iteration\": 1, \"log\": null, " \
		"\"kmsg\": null, \"known_issue\": null, \"skipped_parts\": []}\n", jstr(name),
		jstr(prog), prof == "" ? "null" : jstr(prof), jstr(result), "null", jstr(reason)
	in_tests = 0
	print
	next
}

in_tests {
	if (last != "")
		print last
	last = $0
	next
}

{ print }
