# SPDX-License-Identifier: MIT
#
# runner/report.awk - the three reports of a run: results.tap, results.xml
# (JUnit) and results.json, written into the results directory.
#
#   awk -v dir=DIR -v kernel=RELEASE -v seed=S -v duration=SECS -v limit=SECS \
#       -v repeat=N -v started=TIME -v complete=0|1 -v interrupted=SIGNAL \
#       -v kmsg_state=STATE -v uring=VALUE -v stop_first=0|1 -v stopped=CASE \
#       -f runner/json.awk -f runner/report.awk RECORDS
#
# Reads the run's records, one TAB-separated line per case: name, program,
# profile, result, seconds, iteration, log, kmsg, known issue, reason,
# skipped parts ("-" for none; log and kmsg are file names in DIR; the parts
# "PART: REASON" joined by \037). Prints nothing; writes
# DIR/results.tap, DIR/results.xml and DIR/results.json. The -v variables
# are the run's: the results directory, uname -r, the seed, --duration (""
# for the programs' default), the timeout per program, --repeat, the UTC
# start time, whether the run finished (1) or is still going or was cut
# short (0), the signal that cut it short ("" if none), the kernel log check
# ("checked" or "off: <why>"), the io_uring_disabled sysctl ("" if absent),
# --stop-at-first-failure (1) or not, the case the run stopped at ("" if
# it did not: every case ran, or is running).
#
# results.json (schema 1; fields are only ever added, never changed):
# {
#   "schema": 1,
#   "kernel": "<uname -r>",
#   "seed": "<the -s every program got, as a string: 0x...>",
#   "duration": <seconds of load per case (-d), or null for the programs' default>,
#   "timeout": <seconds per program>,
#   "repeat": <N>,
#   "started": "<UTC time, ISO 8601>",
#   "complete": <false while running or if the run was cut short>,
#   "kmsg": "checked" | "off: <why>" (kernel log check; the taint is always checked),
#   "io_uring_disabled": "<the sysctl's value>" or null if absent,
#   "stop_at_first_failure": <true if the run was to end at its first fail,
#     hang, crash or xpass>,
#   "stopped_at": "<the case it ended at (NAME#ITERATION with --repeat)>" or
#     null; the cases after it are skips, reason "not run: stopped at the
#     first failure (<case>)",
#   "counts": {"pass": N, "fail": N, "skip": N, "xfail": N, "xpass": N, "hang": N, "crash": N},
#   "tests": [ one per case (a program that cannot list its cases: one for it) and run:
#     {"name": "<program>.<profile>", "program": "<program>", "profile": "<profile>" or null,
#      "result": "pass" | "fail" | "skip" | "xfail" | "xpass" | "hang" | "crash",
#      "seconds": <wall time>, "reason": "<why, empty for a pass>", "iteration": <1..repeat>,
#      "log": "<file in this directory>" or null, "kmsg": "<file>" or null,
#      "known_issue": "<the hint>" or null,
#      "skipped_parts": ["<part>: <why>", ...] (sub-checks the case did not
#      run: the kernel predates them; [] for none)}
#   ]
# }

BEGIN { FS = "\t" }

# replace, jstr, jopt: runner/json.awk. A record's "-" is an empty field.
function jrec(s) { return s == "-" ? "null" : jopt(s) }
function xstr(s) {
	s = replace(s, "&", "&amp;")
	s = replace(s, "<", "&lt;")
	s = replace(s, ">", "&gt;")
	s = replace(s, "\"", "&quot;")
	gsub(/[\001-\010\013\014\016-\037]/, "", s)
	return s
}
function ystr(s) { return jstr(s) }
function attr(k, v) { return " " k "=\"" xstr(v) "\"" }
function counts_attrs() {
	return attr("tests", n) attr("failures", fails) attr("errors", errs) \
		attr("skipped", skips) attr("time", sprintf("%.2f", total))
}
function jfield(k, v) { return "\"" k "\": " v }
function jparts(i,   k, s) {
	s = ""
	for (k = 1; k <= nparts[i]; k++)
		s = s (k > 1 ? ", " : "") jstr(part[i, k])
	return "[" s "]"
}
function tname(i) { return name[i] (repeat > 1 ? "#" iter[i] : "") }
# A TAP description: a bare '#' would start a directive.
function tdesc(i) { return replace(tname(i), "#", "\\#") }
# A JUnit testcase's name: its profile (the program is the classname).
function jname(i) { return (prof[i] == "-" ? "(program)" : prof[i]) (repeat > 1 ? "#" iter[i] : "") }
# The lines of one case in a program log (the whole log if it has no such case).
function case_log(file, c,   line, out, on, any, count) {
	out = ""
	any = 0
	while ((getline line < file) > 0) {
		if (line ~ /^# case /) {
			on = index(line, "# case " c ":") == 1
			any = any || on
		}
		if (on && count++ < 400)
			out = out line "\n"
	}
	close(file)
	if (any)
		return out
	out = ""
	count = 0
	while ((getline line < file) > 0)
		if (count++ < 400)
			out = out line "\n"
	close(file)
	return out
}
# The kernel records of one case (the first case also gets those before it).
function case_kmsg(file, c,   line, out, pre, sec, first, w) {
	out = pre = first = sec = ""
	while ((getline line < file) > 0) {
		if (line ~ /^# case /) {
			split(line, w, " ")
			sec = w[3]
			if (first == "")
				first = sec
		} else if (line ~ /^\[/ && sec == "") {
			pre = pre line "\n"
		} else if (line ~ /^\[/ && sec == c) {
			out = out line "\n"
		}
	}
	close(file)
	return first == c || first == "" ? pre out : out
}
{
	n++
	name[n] = $1; prog[n] = $2; prof[n] = $3; res[n] = $4; secs[n] = $5
	iter[n] = $6; logf[n] = $7; kmsgf[n] = $8; hint[n] = $9; why[n] = $10
	nparts[n] = $11 == "-" || $11 == "" ? 0 : split($11, p, "\037")
	for (k = 1; k <= nparts[n]; k++)
		part[n, k] = p[k]
	count[$4]++
	total += $5
}
END {
	n += 0
	write_tap(dir "/results.tap")
	write_junit(dir "/results.xml")
	write_json(dir "/results.json")
}

# TAP 13: xfail is "not ok # TODO" (a known bug: not a failure of the run),
# xpass "not ok" (a failure of the run, as the runner's exit status says);
# a case that did not pass carries a YAML block (result, reason, seconds,
# its files). A run not complete ends in "Bail out!": a TAP consumer must
# not take what finished for the whole run.
function write_tap(tapf,   i, r, k) {
	print "TAP version 13" > tapf
	print "# io_uring task_work suite on " kernel ", seed " seed > tapf
	print "1.." n > tapf
	if (stopped != "")
		print "# stopped at the first failure, " stopped " (--stop-at-first-failure): " \
			"the cases after it were not run" > tapf
	for (i = 1; i <= n; i++) {
		r = res[i]
		if (r == "pass")
			print "ok " i " - " tdesc(i) > tapf
		else if (r == "skip")
			print "ok " i " - " tdesc(i) " # SKIP " why[i] > tapf
		else if (r == "xfail")
			print "not ok " i " - " tdesc(i) " # TODO " why[i] > tapf
		else
			print "not ok " i " - " tdesc(i) > tapf
		if (r != "pass") {
			print "  ---" > tapf
			print "  result: " r > tapf
			print "  reason: " ystr(why[i]) > tapf
			print "  seconds: " secs[i] > tapf
			if (logf[i] != "-")
				print "  log: " ystr(logf[i]) > tapf
			if (kmsgf[i] != "-")
				print "  kmsg: " ystr(kmsgf[i]) > tapf
			print "  ..." > tapf
		}
		for (k = 1; k <= nparts[i]; k++)
			print "# SKIP-PART " tname(i) ": " part[i, k] > tapf
	}
	if (!complete)
		print "Bail out! " (interrupted != "" ? "interrupted by " interrupted : \
			"the run did not finish (still running, or cut short)") > tapf
	close(tapf)
}

# JUnit: fail and xpass are failures, hang and crash errors, skip and
# xfail skipped; a bad case carries its log lines and kernel records; the
# parts a case skipped are its system-out ("SKIP-PART <part>: <why>").
function write_junit(xf,   i, r, tag, k) {
	fails = count["fail"] + count["xpass"]
	errs = count["hang"] + count["crash"]
	skips = count["skip"] + count["xfail"]
	print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" > xf
	print "<testsuites" attr("name", "io_uring task_work") counts_attrs() ">" > xf
	print "  <testsuite" attr("name", kernel) counts_attrs() attr("timestamp", started) ">" > xf
	print "    <properties>" > xf
	printf "      <property name=\"kernel\" value=\"%s\"/>\n", xstr(kernel) > xf
	printf "      <property name=\"seed\" value=\"%s\"/>\n", xstr(seed) > xf
	printf "      <property name=\"kmsg\" value=\"%s\"/>\n", xstr(kmsg_state) > xf
	if (stopped != "")
		printf "      <property name=\"stopped_at\" value=\"%s\"/>\n", xstr(stopped) > xf
	print "    </properties>" > xf
	for (i = 1; i <= n; i++) {
		r = res[i]
		printf "    <testcase%s%s%s", attr("classname", prog[i]), attr("name", jname(i)),
			attr("time", sprintf("%.2f", secs[i])) > xf
		if (r == "pass" && !nparts[i]) {
			print "/>" > xf
			continue
		}
		print ">" > xf
		if (r == "skip" || r == "xfail") {
			printf "      <skipped message=\"%s\"/>\n", xstr((r == "xfail" ? "xfail: " : "") why[i]) > xf
		} else if (r != "pass") {
			tag = (r == "hang" || r == "crash") ? "error" : "failure"
			printf "      <%s type=\"%s\" message=\"%s\">", tag, r, xstr(why[i]) > xf
			if (logf[i] != "-")
				printf "%s", xstr(case_log(dir "/" logf[i], name[i])) > xf
			print "</" tag ">" > xf
			if (kmsgf[i] != "-") {
				k = case_kmsg(dir "/" kmsgf[i], name[i])
				if (k != "")
					printf "      <system-err>%s</system-err>\n", xstr(k) > xf
			}
		}
		junit_parts(xf, i)
		print "    </testcase>" > xf
	}
	print "  </testsuite>" > xf
	print "</testsuites>" > xf
	close(xf)
}

# The parts case i skipped, as its system-out: "SKIP-PART <part>: <why>".
function junit_parts(xf, i,   k, s) {
	if (!nparts[i])
		return
	s = ""
	for (k = 1; k <= nparts[i]; k++)
		s = s "SKIP-PART " part[i, k] "\n"
	printf "      <system-out>%s</system-out>\n", xstr(s) > xf
}

# results.json, schema 1 (above).
function write_json(jf,   kinds, line, k, i) {
	print "{" > jf
	print "  \"schema\": 1," > jf
	print "  \"kernel\": " jstr(kernel) "," > jf
	print "  \"seed\": " jstr(seed) "," > jf
	print "  \"duration\": " (duration == "" ? "null" : duration + 0) "," > jf
	print "  \"timeout\": " limit + 0 "," > jf
	print "  \"repeat\": " repeat + 0 "," > jf
	print "  \"started\": " jstr(started) "," > jf
	print "  \"complete\": " (complete ? "true" : "false") "," > jf
	print "  \"kmsg\": " jrec(kmsg_state) "," > jf
	print "  \"io_uring_disabled\": " jrec(uring) "," > jf
	print "  \"stop_at_first_failure\": " (stop_first ? "true" : "false") "," > jf
	print "  \"stopped_at\": " (stopped == "" ? "null" : jstr(stopped)) "," > jf
	split("pass fail skip xfail xpass hang crash", kinds, " ")
	line = ""
	for (k = 1; k <= 7; k++)
		line = line (k > 1 ? ", " : "") jfield(kinds[k], count[kinds[k]] + 0)
	print "  \"counts\": {" line "}," > jf
	print "  \"tests\": [" > jf
	for (i = 1; i <= n; i++) {
		# One test per line: greppable, and diffs of two runs stay readable.
		print "    {" jfield("name", jstr(name[i])) ", " jfield("program", jstr(prog[i])) ", " \
			jfield("profile", jrec(prof[i])) ", " jfield("result", jstr(res[i])) ", " \
			jfield("seconds", sprintf("%.2f", secs[i])) ", " jfield("reason", jstr(why[i])) ", " \
			jfield("iteration", iter[i] + 0) ", " jfield("log", jrec(logf[i])) ", " \
			jfield("kmsg", jrec(kmsgf[i])) ", " jfield("known_issue", jrec(hint[i])) ", " \
			jfield("skipped_parts", jparts(i)) "}" (i < n ? "," : "") > jf
	}
	print "  ]" > jf
	print "}" > jf
	close(jf)
}
