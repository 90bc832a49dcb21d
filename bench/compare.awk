# SPDX-License-Identifier: MIT
#
# bench/compare.awk - the body of bench/compare: two bench/twbench runs side
# by side. Run after bench/json.awk (its val()), on two bench.json files:
#
#   awk -v md=0|1 -v name_a=A.json -v name_b=B.json \
#       -f bench/json.awk -f bench/compare.awk A.json B.json
#
#   md              1: Markdown (a list of notes, a table, '*' escaped)
#   name_a, name_b  the files' names as the user gave them, for the header
#
# Reads each file's header (its top-level keys, one a line, before
# "results") and its result lines, keyed by (workload, mode, producers); the
# first line of a key counts. Prints who each run was (release, accel,
# cpus, params) and the warnings that make the numbers less comparable
# (TCG, another clocksource, CPU count or params); then one row per key
# both runs have: ops/s of A and B and the B/A ratios of ops/s, CPU ns per
# op, p50 and p99 latency and sleeps per op, a ratio marked '*' when the
# min..max ranges over the repeats do not overlap; a legend; the summary of
# the ops/s ratios (all rows, and per workload.mode); last the rows only
# one run has.

function isnum(x) { return x ~ /^-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$/ }

# A number for a person: 812k, 1.23M.
function human(x) {
	if (!isnum(x))
		return "-"
	x += 0		# a number, not a string, in the comparisons
	if (x >= 1e6)
		return sprintf("%.2fM", x / 1e6)
	if (x >= 1e4)
		return sprintf("%.0fk", x / 1e3)
	if (x >= 100)
		return sprintf("%.0f", x)
	return sprintf("%.3g", x)
}

# B/A, with "*" when [amin, amax] and [bmin, bmax] do not overlap.
function ratio(a, b, amin, amax, bmin, bmax,   r) {
	if (!isnum(a) || !isnum(b) || a + 0 == 0)
		return "-"
	r = sprintf("%.2f", b / a)
	if (isnum(amin) && isnum(amax) && isnum(bmin) && isnum(bmax) &&
	    (bmax + 0 < amin + 0 || bmin + 0 > amax + 0))
		r = r (md ? "\\*" : "*")	# Markdown: a star, not emphasis
	return r
}

FNR == 1 { run = (run == "" ? "A" : "B"); in_results = 0; params[run] = "" }
/^ *"results": \[/ { in_results = 1; next }
in_results && /^ *\],?$/ { in_results = 0; next }
!in_results && /^  "[a-z_]+": / {
	match($0, /"[a-z_]+"/)
	key = substr($0, RSTART + 1, RLENGTH - 2)
	head[run, key] = val($0, key)
	next
}
/^\{"workload": / {
	id = val($0, "workload") SUBSEP val($0, "mode") SUBSEP val($0, "producers")
	if (!((run, id) in line)) {
		order[run, ++n[run]] = id
		line[run, id] = $0
	}
	next
}

function ident(r, file,   acc) {
	acc = head[r, "accel"]
	if (acc == "" || acc == "null")
		acc = "host"
	return sprintf("%s: %s  release %s, accel %s, cpus %s, liburing %s, started %s, status %s%s", \
	    r, file, head[r, "release"], acc, head[r, "cpus"], head[r, "liburing"], \
	    head[r, "started"], head[r, "status"], \
	    head[r, "clocksource"] == "" ? "" : ", clocksource " head[r, "clocksource"])
}

function accel_of(r) {
	return (head[r, "accel"] == "" || head[r, "accel"] == "null") ? "host" : head[r, "accel"]
}

# The params that shape the numbers: not "hang" (a guest under TCG gets a
# longer hang deadline, which changes nothing that is measured).
function measured(r,   p) {
	p = head[r, "params"]
	gsub(/,? *"hang": [0-9.]+/, "", p)
	return p
}

function note(s) {
	print (md ? "- " : "") s
}

# A row of the table: plain text in columns, or Markdown.
function row(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) {
	if (md)
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c1, c2, c3, c4, c5, c6, c7, c8, c9, c10
	else
		printf "%-14s %-8s %4s %10s %10s %8s %8s %8s %8s %8s\n", c1, c2, c3, c4, c5, c6, c7, c8, c9, c10
}

# The numbers of one run for a result line: o (ops/s), c (cpu ns/op), p50, p99.
function nums(l, r,   o, c, lat, sl) {
	st[r] = val(l, "status")
	o = val(l, "ops_per_sec")
	c = val(l, "cpu_ns_per_op")
	lat = val(l, "lat_ns")
	omin[r] = val(o, "min"); omed[r] = val(o, "median"); omax[r] = val(o, "max")
	cmin[r] = val(c, "min"); cmed[r] = val(c, "median"); cmax[r] = val(c, "max")
	p50[r] = val(lat, "p50"); p99[r] = val(lat, "p99")
	sl = val(l, "sleeps_per_op")
	slmin[r] = val(sl, "min"); slp[r] = val(sl, "median"); slmax[r] = val(sl, "max")
}

# The ops/s ratios, for the summary: all rows, and per workload.mode.
function tally(wm, x, flagged) {
	all[++nall] = x
	nflag += flagged
	if (!(wm in wn))
		word[++nw] = wm
	wn[wm]++
	wlog[wm] += log(x)
	wflag[wm] += flagged
}

function median_of(v, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}

# How far apart the runs are over all rows: for two runs of one kernel,
# the noise floor a real difference must clear.
function summary(   i, lsum) {
	if (!nall)
		return
	for (i = 1; i <= nall; i++)
		lsum += log(all[i])
	print ""
	note(sprintf("ops/s B/A over %d rows: geometric mean %.2f, median %.2f, range %.2f..%.2f; %d flagged *", \
	    nall, exp(lsum / nall), median_of(all, nall), all[1], all[nall], nflag))
	for (i = 1; i <= nw; i++)
		note(sprintf("  %-22s geometric mean %.2f over %d rows, %d flagged", word[i], \
		    exp(wlog[word[i]] / wn[word[i]]), wn[word[i]], wflag[word[i]]))
}

function cell(r) {
	return st[r] == "ok" ? human(omed[r]) : st[r]
}

END {
	if (md)
		print "### twbench: B compared with A\n"
	note(ident("A", name_a))
	note("   params " head["A", "params"])
	note(ident("B", name_b))
	note("   params " head["B", "params"])
	if (accel_of("A") != accel_of("B"))
		note("WARNING: the runs were measured differently (accel " accel_of("A") " vs " accel_of("B") "): compare shapes, not numbers")
	if (accel_of("A") == "tcg" || accel_of("B") == "tcg")
		note("TCG: compare only ratios measured the same way, absolute numbers are emulation")
	# Older runs say nothing of their clocksource: no warning for them.
	if (head["A", "clocksource"] != "" && head["B", "clocksource"] != "" && \
	    (head["A", "clocksource"] != head["B", "clocksource"] || \
	     head["A", "clocksource"] ~ /->/ || head["B", "clocksource"] ~ /->/))
		note("WARNING: clocksources differ or changed during a run (" head["A", "clocksource"] " vs " head["B", "clocksource"] "): every latency and rate depends on the clock")
	if (head["A", "cpus"] != head["B", "cpus"])
		note("note: different CPU counts (" head["A", "cpus"] " vs " head["B", "cpus"] ")")
	if (measured("A") != measured("B"))
		note("note: different params (durations, repeats, producers): ratios are less comparable")
	print ""
	row("workload", "mode", "prod", "ops/s A", "ops/s B", "B/A", "cpu B/A", "p50 B/A", "p99 B/A", "sleep B/A")
	if (md)
		print "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
	both = 0
	for (i = 1; i <= n["A"]; i++) {
		id = order["A", i]
		if (!(("B", id) in line))
			continue
		both++
		split(id, k, SUBSEP)
		nums(line["A", id], "A")
		nums(line["B", id], "B")
		r_ops = ratio(omed["A"], omed["B"], omin["A"], omax["A"], omin["B"], omax["B"])
		if (st["A"] == "ok" && st["B"] == "ok" && r_ops != "-")
			tally(k[1] "." k[2], omed["B"] / omed["A"], r_ops ~ /\*$/)
		row(k[1], k[2], k[3], cell("A"), cell("B"), r_ops, \
		    ratio(cmed["A"], cmed["B"], cmin["A"], cmax["A"], cmin["B"], cmax["B"]), \
		    ratio(p50["A"], p50["B"]), ratio(p99["A"], p99["B"]), ratio(slp["A"], slp["B"], slmin["A"], slmax["A"], slmin["B"], slmax["B"]))
	}
	if (both == 0)
		print (md ? "\n" : "") "(no (workload, mode, producers) in both runs)"
	print ""
	print (md ? "\\" : "") "* = min..max over the repeats do not overlap (outside the noise); ops/s B/A > 1: B faster;"
	print "  cpu, p50, p99 B/A > 1: B costs more; sleep: sleeps (wake-ups) of the consumer per operation,"
	print "  which does not depend on the clock (so it holds under emulation). Rows with a status instead of"
	print "  ops/s did not run there."
	summary()
	for (r = 1; r <= 2; r++) {
		me = r == 1 ? "A" : "B"
		other = r == 1 ? "B" : "A"
		first = 1
		for (i = 1; i <= n[me]; i++) {
			id = order[me, i]
			if ((other, id) in line)
				continue
			if (first) {
				print ""
				print "only in " me ":"
				first = 0
			}
			split(id, k, SUBSEP)
			nums(line[me, id], me)
			note(sprintf("  %s %s producers=%s: %s%s", k[1], k[2], k[3], st[me], \
			    st[me] == "ok" ? " " human(omed[me]) " ops/s" : ""))
		}
	}
}
