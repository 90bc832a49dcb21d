# SPDX-License-Identifier: MIT
#
# vm-verdict.awk: the verdict of one guest run, from its console log and how
# qemu ended (guest/watch's result). guest/vm-run runs it as
#
#   awk -v status=exited|killed -v code=N -v stopped=REASON -v silent=S \
#       -v heartbeat=0|1 -v seconds=S -v qemu_error=LINE -f vm-verdict.awk console.log
#
# (heartbeat=1: silent counts from /init's last heartbeat, not the last
# output - a kernel in a soft lockup keeps printing.)
#
# and prints key=value lines:
#   verdict=  pass | fail | usage | skip | panic | hang | stopped | no-boot |
#             no-io_uring | qemu-error | interrupted
#   status=   vm-run's exit status (see guest/vm-run -h)
#   guest=    the runner's (or twbench's) exit status in the guest, if it
#             got that far
#   test=     the case (or program) running when the guest died, if any
#   release=  the guest's uname -r, if it booted
#   summary=  the runner's closing line, if any
#   reason=   one line for a person
#
# What is read from the console: the markers of guest/init (TW-GUEST-...),
# the supervisor's per-case kernel log markers (tw-runtests[ID]: begin
# PROGRAM, case NAME, end PROGRAM) and the kernel's own words for a panic and
# for the oops or BUG that usually comes before one. A benchmark run
# (vm-run --bench: "TW-GUEST-SUITE-START ... mode=bench") has no cases: its
# verdicts speak of twbench, whose exit statuses are passed on (0 ok, 1 a
# workload saw errors, 2 usage, 77 nothing could run).

function value(line, key,   s) {
	if (!match(line, key "=[^ ]*"))
		return ""
	s = substr(line, RSTART + length(key) + 1, RLENGTH - length(key) - 1)
	return s
}

# Text after the first match of re, to the end of the line. (A regex is
# passed as a string: a /literal/ argument would be matched against $0.)
function after(line, re) {
	if (!match(line, re))
		return ""
	return substr(line, RSTART + RLENGTH)
}

function clean(s) {
	gsub(/[\001-\037]/, " ", s)
	sub(/^\[ *[0-9.]+\]( ?\[ *[A-Z]?[0-9]+\])? */, "", s)	# printk time and caller
	return s
}

BEGIN {
	booted = started = done = exited = 0
	running = last_program = ""
	mode = "suite"
}

/TW-GUEST-BOOTED / { booted = 1; release = value($0, "release"); next }
/TW-GUEST-NO-IO-URING / { no_uring = after($0, "TW-GUEST-NO-IO-URING "); next }
/TW-GUEST-SUITE-START/ { started = 1; if (value($0, "mode") != "") mode = value($0, "mode"); next }
/TW-GUEST-BENCH [0-9]+ results: / { summary = after($0, "TW-GUEST-BENCH "); next }
/TW-GUEST-SUITE-DONE / { done = 1; guest = value($0, "status"); running = ""; next }
/TW-GUEST-EXIT [0-9]+/ { exited = 1; exit_code = after($0, "TW-GUEST-EXIT ") + 0; next }
/^[0-9]+ cases: / { summary = $0; sub(/ \(results in [^)]*\)$/, "", summary); next }

# tw-runtests[ID]: begin PROGRAM | case NAME | end PROGRAM
/tw-runtests\[[^]]*\]: (begin|case|end) [^ ]+/ {
	s = after($0, "tw-runtests\\[[^]]*\\]: ")
	split(s, w, " ")
	name = w[2]
	if (w[1] != "case") {
		# begin/end name the program's path: /suite/test/NAME.t
		sub(/.*\//, "", name)
		sub(/\.t$/, "", name)
	}
	if (w[1] == "end") {
		running = ""
		last_program = name
	} else {
		running = name
	}
	next
}

/Kernel panic - not syncing: / {
	if (panic == "") {
		panic = clean(after($0, "Kernel panic - not syncing: "))
		panic_running = running
		panic_started = started && !done
	}
	next
}

# The first sign of trouble before a panic: its cause, when the panic
# itself only says "Fatal exception".
/(BUG: |Oops: |kernel BUG at |general protection fault|Unable to handle|WARNING: CPU: |watchdog: BUG: |rcu: INFO: |INFO: task .* blocked for more than)/ {
	if (oops == "" && panic == "")
		oops = clean($0)
}

# Lines that say why a boot went nowhere.
/(No working init found|Unable to mount root|Initramfs unpacking failed|Kernel panic|Run .* as init process|Failed to execute)/ {
	boot_note = clean($0)
}

{
	if ($0 !~ /^TW-HB / && $0 !~ /^[ \t]*$/)
		last_line = clean($0)
}

function where(t) {
	if (t != "")
		return " during " t
	if (mode == "bench")
		return " during twbench"
	if (last_program != "")
		return " after " last_program " (between programs)"
	return " before the first program"
}

function out(v, st, r) {
	print "verdict=" v
	print "status=" st
	if (guest != "")
		print "guest=" guest
	print "test=" test
	print "release=" release
	if (summary != "")
		print "summary=" summary
	gsub(/\n/, " ", r)
	print "reason=" r
	exit
}

END {
	test = ""
	if (stopped == "interrupted")
		out("interrupted", 130, "interrupted: qemu was stopped")
	if (exited && no_uring != "")
		out("no-io_uring", 5, "the kernel has no io_uring: " no_uring)
	if (exited && done && mode == "bench") {
		s = summary != "" ? " (" summary ")" : ""
		if (guest == 0)
			out("pass", 0, "twbench finished" s)
		if (guest == 1)
			out("fail", 1, "twbench: a workload saw errors" s)
		if (guest == 2)
			out("usage", 2, "twbench in the guest refused its arguments (see the console)")
		if (guest == 77)
			out("skip", 77, "twbench: nothing could run on this kernel" s)
		out("fail", 1, "twbench in the guest exited with " guest s)
	}
	if (exited && done) {
		if (guest == 0)
			out("pass", 0, summary != "" ? summary : "the runner passed")
		if (guest == 1)
			out("fail", 1, summary != "" ? summary : "the runner found failures")
		if (guest == 2 || guest == 128)
			out("usage", 2, "the runner in the guest refused its arguments (see the console)")
		if (guest == 125)
			out("fail", 125, "the runner ran nothing (--bisect: cannot test)")
		out("fail", 1, "the runner in the guest exited with " guest)
	}
	if (exited && started)
		out("fail", 1, "the guest's " (mode == "bench" ? "twbench" : "runner") " did not finish (exit marker " exit_code ")")
	if (exited)
		out("no-boot", 3, "the guest stopped before the suite (exit marker " exit_code ")")
	if (panic != "") {
		if (!panic_started) {
			what = started ? "after the suite finished" : "before the suite started"
			out(started ? "panic" : "no-boot", started ? 1 : 3, \
			    "kernel panic " what ": " panic (oops != "" ? " (" oops ")" : ""))
		}
		test = panic_running
		out("panic", 1, "kernel panic" where(test) ": " panic (oops != "" ? " (first: " oops ")" : ""))
	}
	if (stopped == "silence" || stopped == "deadline") {
		how = stopped != "silence" ? "" : heartbeat == 1 ? \
			"no heartbeat from /init for " silent " s" : \
			"no output for " silent " s (not even the heartbeat)"
		how = stopped == "silence" ? how \
					   : "the deadline of " seconds " s passed"
		what = stopped == "silence" ? "the guest stopped answering" : "the run did not finish in time"
		if (started && !done) {
			test = running
			out("hang", 1, what where(test) ": " how \
			    (oops != "" ? "; first kernel report: " oops : "") "; qemu was killed")
		}
		if (started)
			out("hang", 1, what " after the suite (sending results): " how "; qemu was killed")
		out("no-boot", 3, "the guest never reached the suite: " how \
		    (boot_note != "" ? "; last: " boot_note : last_line != "" ? "; last: " last_line : "") \
		    "; qemu was killed")
	}
	if (!booted && status == "exited" && code != 0 && last_line == "")
		out("qemu-error", 4, "qemu failed (exit " code ")" (qemu_error != "" ? ": " qemu_error : ""))
	if (!started)
		out("no-boot", 3, "the guest never reached the suite" \
		    (boot_note != "" ? ": " boot_note : last_line != "" ? "; last console line: " last_line : \
		     ": no console output") (status == "exited" ? " (qemu exit " code ")" : ""))
	test = running
	out("stopped", 1, "the guest stopped without finishing" where(test) \
	    (oops != "" ? "; first kernel report: " oops : "") "; last console line: " last_line)
}
