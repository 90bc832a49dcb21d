# SPDX-License-Identifier: MIT
#
# runner/judge.awk - one verdict per case of a program that ran.
#
#   TW_LASTLINE=... awk -v prog=NAME -v cases=F -v tap=F -v kscan=F \
#       -v status=S -v code=N -v sig=SIG -v total=SECS -v timedout=0|1 \
#       -v limit=SECS -v badtaint=LETTERS -f runner/judge.awk
#
# Reads no standard input; its files come as -v variables:
#   cases     the cases expected to run, one per line (may be empty: a
#             program that cannot list its cases gets one verdict, as prog)
#   tap       runner/tap.awk's reading of the program's log
#   kscan     runner/kmsg-scan.awk's reading of its kernel log excerpt
# and how the program ended, from the supervisor's result (runner/judge.sh,
# read_result): status (exited, signaled, timeout, unkillable, interrupted,
# error), code (exit status), sig (signal name), total (its seconds),
# timedout (1 if the timeout stopped it: an unkillable leftover of a program
# that exited by itself is 0); limit is the timeout, badtaint the taint
# letters that fail a case. TW_LASTLINE (environment, not -v: awk -v would
# interpret backslashes): the program's last line of output that is not
# TAP, for a skip's reason.
#
# Prints one TAB-separated line per case: CASE VERDICT SECONDS KINDS REASON,
# with VERDICT pass, fail, skip, hang or crash. KINDS, for test/known-issues
# (runner/known-issues.awk), is what the failure is made of, '|'-joined:
# FAIL, HANG or CRASH by the verdict, SPLAT for a kernel record or bad taint
# during the case; "-" for a pass, a skip and a case that did not run. A
# case without a result is the one the program was in when it ended (hang
# or crash); the cases after it did not run (fail, "not run: ..."). A
# program that gave every case its result and then ended badly (timed out,
# cannot be killed, killed by a signal) fails its last case: the end of a
# program is its rings' teardown. A kernel record or bad taint during a case
# fails it (the records before the first case count against it).

function add(c) {
	if (!(c in known)) {
		known[c] = 1
		order[++n] = c
	}
}
# How the program ended, for the reasons.
function how() {
	if (status == "timeout")
		return "timed out after " limit " s (stopped by " (sig != "" ? sig : "SIGINT, exit " code) ")"
	if (status == "unkillable" && timedout != 1)
		return "left processes that cannot be killed: stuck in the kernel (stacks in the log)"
	if (status == "unkillable")
		return "timed out after " limit " s and cannot be killed: stuck in the kernel" \
			" (stacks in the log)"
	if (status == "interrupted")
		return "was interrupted"
	if (status == "signaled")
		return "was killed by " sig
	if (status == "exited")
		return "exited with " code
	return "ended without a result from the supervisor (status " status ")"
}
# The verdict a bad end gives (hang, crash, fail), or "" for a good one.
function end_verdict() {
	if (status == "timeout" || status == "unkillable")
		return "hang"
	if (status == "signaled")
		return "crash"
	if (status != "exited" && status != "interrupted")
		return "fail"
	return ""
}
function worse(a, b) { return rank[b] > rank[a] ? b : a }
function bad(v) { return v == "fail" || v == "hang" || v == "crash" }
function kernel_reason(c,   r, t) {
	r = ""
	if (kbad[c] != "")
		r = "kernel: " kbad[c]
	t = ktaint[c]
	if (t ~ ("[" badtaint "]"))
		r = r (r == "" ? "" : "; ") "kernel tainted: " t
	return r
}
# kinds: those the verdict does not say (the end of the program), or "".
function emit(c, v, s, r, kinds,   kr, k) {
	kr = kernel_reason(c)
	if (c == first && kr == "")
		kr = kernel_reason("start")
	k = bad(v) ? toupper(v) : ""
	if (kinds != "")
		k = k == "" || index("|" kinds "|", "|" k "|") ? kinds : kinds "|" k
	if (kr != "") {
		if (v == "pass" || v == "skip") {
			v = "fail"
			r = kr
		} else {
			r = r "; " kr
		}
		k = k (k == "" ? "" : "|") "SPLAT"
	}
	if (bad(v))
		failed++
	if (r ~ /^not run: / || k == "")
		k = "-"
	printf "%s\t%s\t%.2f\t%s\t%s\n", c, v, s, k, r
}
# What the files say: the cases in order, their results, the kernel's word.
function read_inputs(   line, f) {
	n = 0
	while ((getline line < cases) > 0)
		if (line != "")
			add(line)
	while ((getline line < tap) > 0) {
		split(line, f, "\t")
		add(f[2])
		if (f[1] == "start") {
			if (first == "")
				first = f[2]
			running = f[2]
		} else {
			res[f[2]] = f[3]
			secs[f[2]] = f[4]
			why[f[2]] = f[5]
			done = f[2]
			used += f[4]
			if (running == f[2])
				running = ""
		}
	}
	while ((getline line < kscan) > 0) {
		split(line, f, "\t")
		kbad[f[2]] = f[3]
		ktaint[f[2]] = f[4]
	}
	if (first == "")
		first = n ? order[1] : prog
}
# No cases known: one verdict for the whole program.
function judge_program() {
	if (status == "exited" && code == 0)
		emit(prog, "pass", total, "")
	else if (status == "exited" && code == 77)
		emit(prog, "skip", total, lastline != "" ? lastline : "exit status 77")
	else if (status == "timeout" || status == "unkillable")
		emit(prog, "hang", total, "the program " how())
	else if (status == "signaled")
		emit(prog, "crash", total, "the program " how())
	else if (status == "interrupted")
		emit(prog, "skip", total, "interrupted")
	else
		emit(prog, "fail", total, "the program " how() (lastline != "" ? ": " lastline : ""))
}
# The last case had its result, then the program ended badly (ev): the
# case gets that too.
function emit_last(c, ev,   v, r) {
	v = res[c]
	r = v == "pass" ? "the case passed" : v == "skip" ? "the case skipped: " why[c] : why[c]
	emit(c, worse(v, ev), secs[c] + (total > used ? total - used : 0),
		r "; then the program " how() " after its last case",
		(bad(v) && v != ev ? toupper(v) "|" : "") toupper(ev))
}
function judge_cases(   i, c, s, where, ev) {
	# Every case has its result: how the program ended counts for the last.
	ev = end_verdict()
	for (i = 1; i <= n && ev != ""; i++)
		if (!(order[i] in res))
			ev = ""
	for (i = 1; i <= n; i++) {
		c = order[i]
		if (c == done && ev != "") {
			emit_last(c, ev)
		} else if (c in res) {
			emit(c, res[c], secs[c], why[c])
		} else if (c == running) {
			s = total - used
			if (status == "timeout" || status == "unkillable")
				emit(c, "hang", s, "no result: the program " how())
			else if (status == "signaled")
				emit(c, "crash", s, "no result: the program " how() " during this case")
			else if (status == "interrupted")
				emit(c, "skip", s, "interrupted")
			else
				emit(c, "fail", s, "no result: the program " how() " during this case")
		} else if (status == "interrupted") {
			emit(c, "skip", 0, "not run: interrupted")
		} else {
			where = running != "" ? " during " running : done != "" ? " after " done : " before any case"
			emit(c, "fail", 0, "not run: the program " how() where)
		}
	}
	if (!failed && status == "exited" && code != 0 && code != 77)
		emit(prog, "fail", 0, "the program exited with " code " though no case failed")
}
BEGIN {
	split("pass skip fail hang crash", rank_of, " ")
	for (i = 1; i <= 5; i++)
		rank[rank_of[i]] = i
	lastline = ENVIRON["TW_LASTLINE"]
	read_inputs()
	failed = 0
	if (n == 0)
		judge_program()
	else
		judge_cases()
}
