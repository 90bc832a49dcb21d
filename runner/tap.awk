# SPDX-License-Identifier: MIT
#
# runner/tap.awk - what a test program's log says about its cases.
#
#   awk -f runner/tap.awk PROGRAM.log
#
# Reads the program's output (kselftest TAP from src/harness.c, with the
# supervisor's "# supervise:" lines in between) and prints, TAB-separated:
#   start  CASE                                  for each "# case CASE:" line
#   result CASE VERDICT SECONDS REASON           for each test point
# VERDICT is pass, skip, fail, hang or crash (the directive of the test
# point); SECONDS come from the case's "# CASE: VERDICT in S s[: HINT]"
# line, 0 without one. No -v variables. runner/judge.awk reads the output.

/^# case [^ :]+:/ {
	name = $3
	sub(/:$/, "", name)
	print "start\t" name
	next
}
# A regression test's failure adds its fix after the time: "...in S s: may
# be missing fix ...".
/^# [^ ]+: (pass|skip|fail|hang|crash) in [0-9.]+ s($|: )/ {
	name = $2
	sub(/:$/, "", name)
	secs[name] = $5
	next
}
/^(not )?ok [0-9]+ [^ ]/ {
	line = $0
	verdict = line ~ /^not / ? "fail" : "pass"
	sub(/^(not )?ok [0-9]+ /, "", line)
	name = line
	sub(/ .*/, "", name)
	rest = substr(line, length(name) + 1)
	reason = ""
	if (match(rest, /^ # (SKIP|FAIL|HANG|CRASH)/)) {
		verdict = tolower(substr(rest, 4, RLENGTH - 3))
		reason = substr(rest, RLENGTH + 2)
	}
	gsub(/\t/, " ", reason)
	print "result\t" name "\t" verdict "\t" (name in secs ? secs[name] : 0) "\t" reason
}
