# SPDX-License-Identifier: MIT
#
# kernels/mutation-score.awk - mutation-score's table and mutation.json, from
# the kernel directories alone. Run as
#
#   awk -f json.awk -f results.awk -f failure-class.awk -f mutation-score.awk \
#       -v VAR=VALUE... KERNEL-DIR...
#
# Each KERNEL-DIR holds one kernel's run (the unpatched one first): mutant.info
# (label, kind base|mutant, patch, source, status, note, build_status,
# build_seconds, run_status, run_seconds: KEY=VALUE lines), the guest's
# results.json with the program logs it names, and vm-run's vm.json. Prints
# the score, a row per kernel (result, times, how it was caught, the first
# failing case, the cases that caught it) and the first failure of each.
#
# -v variables:
#   txt=FILE    also write the table to FILE
#   json=FILE   also write mutation.json (doc/mutation-and-coverage.md)
#   created, rargs  mutation.json's "created" and "runtests_args"

function read_kernel(dir,   k, v, c) {
	k = ++nk
	dirs[k] = dir
	read_info(k, dir "/mutant.info")
	if (info[k, "label"] == "") {
		info[k, "label"] = dir
		sub(/.*\//, "", info[k, "label"])
	}
	ncase[k] = 0
	suite_s[k] = 0
	read_results(k, dir "/results.json")
	read_vm(k, dir "/vm.json")
	v = vm[k, "verdict"]
	# The kernel died or stopped answering: the case that was running (from
	# the supervisor markers) caught it, after every recorded case.
	if (v == "panic" || v == "hang" || v == "stopped") {
		c = vm[k, "test"] == "" ? "(kernel)" : vm[k, "test"]
		add_catch(k, c, v == "panic" ? "panic" : "hang", vm[k, "reason"], suite_s[k])
	}
}

# One case of results.json: its seconds count towards "s into suite"; a
# failing one caught the bug, in the class its evidence says.
function on_case(k, line, c, r,   fd, cls, why) {
	ncase[k]++
	suite_s[k] += jraw(line, "seconds")
	if (!failing(r))
		return
	fd = first_diag(dirs[k], jget(line, "log"), c)
	cls = classify(r, jget(line, "reason"), fd)
	why = jget(line, "reason")
	# The first diagnostic, when it says more than the reason.
	if (fd != "" && cls != "kernel splat" && !(fd ~ /^HANG/ && r == "hang") &&
	    index(why, substr(fd, index(fd, "\t") + 1)) == 0)
		why = substr(fd, index(fd, "\t") + 1) " (then: " r ": " why ")"
	add_catch(k, c, cls, why, suite_s[k])
}

# vm.json: the guest's verdict, the case running when it ended, the release.
function read_vm(k, f,   line) {
	while ((getline line < f) > 0) {
		if (line ~ /^  "verdict": /)
			vm[k, "verdict"] = jget(line, "verdict")
		else if (line ~ /^  "test": /)
			vm[k, "test"] = jget(line, "test")
		else if (line ~ /^  "reason": /)
			vm[k, "reason"] = jget(line, "reason")
		else if (line ~ /^  "total_seconds": /)
			vm[k, "seconds"] = jraw(line, "total_seconds")
		else if (line ~ /^  "release": /)
			info[k, "release"] = jget(line, "release")
	}
	close(f)
}

function add_catch(k, c, cls, why, t) {
	if (nby[k] == 0) {
		first[k] = c
		first_t[k] = t
		first_why[k] = why
		first_cls[k] = cls
	}
	by[k, ++nby[k]] = c
	bycls[k, nby[k]] = cls
	bywhy[k, nby[k]] = why
	if (!((k, cls) in ncls))
		clsorder[k, ++nclasses[k]] = cls
	ncls[k, cls]++
}

# "order 2, hang 1": the classes, most frequent first.
function how(k,   i, j, best, bi, s, done) {
	s = ""
	for (j = 1; j <= nclasses[k]; j++) {
		best = -1
		for (i = 1; i <= nclasses[k]; i++)
			if (!done[i] && ncls[k, clsorder[k, i]] > best) {
				best = ncls[k, clsorder[k, i]]
				bi = i
			}
		done[bi] = 1
		s = s (s == "" ? "" : ", ") clsorder[k, bi] " " best
	}
	return s
}

function caught_by(k, max,   i, s) {
	s = ""
	for (i = 1; i <= nby[k] && i <= max; i++)
		s = s (s == "" ? "" : " ") by[k, i]
	if (nby[k] > max)
		s = s " +" (nby[k] - max)
	return s
}

function seconds(s) { return s == "" ? "-" : sprintf("%.1f", s) }

# How many patches (not the unpatched kernel) have this status.
function patches_with(status,   k, n) {
	n = 0
	for (k = 1; k <= nk; k++)
		if (info[k, "kind"] != "base" && info[k, "status"] == status)
			n++
	return n
}

function table(out,   k, w, line, caught, missed, other) {
	w = 6
	for (k = 1; k <= nk; k++)
		if (length(info[k, "label"]) > w)
			w = length(info[k, "label"])
	caught = patches_with("caught")
	missed = patches_with("missed")
	other = 0
	for (k = 1; k <= nk; k++)
		if (info[k, "kind"] != "base" && info[k, "status"] != "caught" && info[k, "status"] != "missed")
			other++
	print "mutation score: " caught "/" (caught + missed) " caught" \
		(other ? " (" other " not scored)" : "") > out
	print "" > out
	print sprintf("  %-" w "s  %-12s  %6s  %6s  %-26s  %-30s  %s", "kernel", "result",
		"build", "run", "how (class cases)", "first failure (s into suite)", "caught by") > out
	for (k = 1; k <= nk; k++) {
		line = sprintf("  %-" w "s  %-12s  %6s  %6s  %-26s  %-30s  %s", info[k, "label"],
			info[k, "status"], info[k, "build_seconds"] == "" ? "-" : info[k, "build_seconds"] "s",
			info[k, "run_seconds"] == "" ? "-" : info[k, "run_seconds"] "s",
			nby[k] ? how(k) : "-",
			nby[k] ? first[k] " " seconds(first_t[k]) "s" : "-",
			nby[k] ? nby[k] ": " caught_by(k, 4) : "-")
		sub(/ +$/, "", line)
		print line > out
		if (info[k, "note"] != "")
			print "  " sprintf("%-" w "s", "") "  " info[k, "note"] > out
	}
	print "" > out
	print "first failures:" > out
	for (k = 1; k <= nk; k++)
		if (nby[k])
			print "  " info[k, "label"] ": " first[k] ": " first_cls[k] ": " first_why[k] > out
	for (k = 1; k <= nk; k++)
		if (info[k, "status"] == "missed")
			print "  " info[k, "label"] ": MISSED (" ncase[k] " cases passed)" > out
}

function write_json(f,   k, i, line, j) {
	print "{" > f
	print "  \"schema\": 1," > f
	print "  \"created\": " jstr(created) "," > f
	print "  \"source\": " jopt(info[1, "source"]) "," > f
	print "  \"runtests_args\": " jstr(rargs) "," > f
	print "  \"caught\": " patches_with("caught") "," > f
	print "  \"missed\": " patches_with("missed") "," > f
	print "  \"kernels\": [" > f
	for (k = 1; k <= nk; k++) {
		line = "    {\"label\": " jstr(info[k, "label"]) ", \"kind\": " jstr(info[k, "kind"]) \
			", \"patch\": " jopt(info[k, "patch"]) ", \"status\": " jstr(info[k, "status"]) \
			", \"note\": " jopt(info[k, "note"]) ", \"release\": " jopt(info[k, "release"]) \
			", \"build_status\": " jnum(info[k, "build_status"]) \
			", \"build_seconds\": " jnum(info[k, "build_seconds"]) \
			", \"run_status\": " jnum(info[k, "run_status"]) \
			", \"run_seconds\": " jnum(info[k, "run_seconds"]) \
			", \"vm_verdict\": " jopt(vm[k, "verdict"]) ", \"cases\": " ncase[k] + 0 \
			", \"suite_seconds\": " sprintf("%.2f", suite_s[k]) ", \"counts\": " counts_json(k)
		line = line ", \"classes\": {"
		for (j = 1; j <= nclasses[k]; j++)
			line = line (j > 1 ? ", " : "") jstr(clsorder[k, j]) ": " ncls[k, clsorder[k, j]]
		line = line "}, \"first\": "
		if (nby[k])
			line = line "{\"case\": " jstr(first[k]) ", \"class\": " jstr(first_cls[k]) \
				", \"seconds\": " sprintf("%.2f", first_t[k]) ", \"reason\": " jstr(first_why[k]) "}"
		else
			line = line "null"
		line = line ", \"caught_by\": ["
		for (i = 1; i <= nby[k]; i++)
			line = line (i > 1 ? ", " : "") "{\"case\": " jstr(by[k, i]) ", \"class\": " \
				jstr(bycls[k, i]) ", \"reason\": " jstr(bywhy[k, i]) "}"
		line = line "], \"results_dir\": " jstr(dirs[k]) "}"
		print line (k < nk ? "," : "") > f
	}
	print "  ]" > f
	print "}" > f
	close(f)
}

BEGIN {
	for (i = 1; i < ARGC; i++)
		read_kernel(ARGV[i])
	table("/dev/stdout")
	if (txt != "") {
		table(txt)
		close(txt)
	}
	if (json != "")
		write_json(json)
}
