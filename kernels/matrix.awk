# SPDX-License-Identifier: MIT
#
# kernels/matrix.awk - kernel-matrix's table and matrix.json, from column
# directories alone. Run as
#
#   awk -f json.awk -f results.awk -f matrix.awk -v VAR=VALUE... COLUMN-DIR...
#
# Each COLUMN-DIR holds one kernel's run: column.info (label, kernel, image,
# release, status, status_text, note, seconds: KEY=VALUE lines) and the
# runner's results.json. Prints the table of cases x kernels on stdout
# (rows that differ across the columns with results marked *), then the
# kernels with their status and counts; exits 0 when every column's status
# is 0, else 1.
#
# -v variables:
#   only_diff=1  only the rows that differ
#   with_why=1   after the table, the reason of every cell that is not a pass
#   txt=FILE     also write the whole table, reasons included, to FILE
#   json=FILE    also write matrix.json (doc/kernels.md has its schema)
#   created, rargs  matrix.json's "created" and "runtests_args"

function rank(r) {
	return r == "crash" ? 7 : r == "hang" ? 6 : r == "fail" ? 5 : r == "xpass" ? 4 : \
		r == "xfail" ? 3 : r == "skip" ? 2 : r == "pass" ? 1 : 0
}

# A case's cell in column k: the worst result of its iterations, with how
# many had it when not all did: "FAIL(1/3)"; "-" if it did not run there.
function cell(k, c,   s) {
	if (!((k, c) in res))
		return "-"
	s = res[k, c] == "pass" ? "pass" : toupper(res[k, c])
	if (cnt[k, c] < runs[k, c])
		s = s "(" cnt[k, c] "/" runs[k, c] ")"
	return s
}

function read_column(dir,   k) {
	k = ++nk
	read_info(k, dir "/column.info")
	if (info[k, "label"] == "")
		info[k, "label"] = dir
	coldir[k] = dir
	read_results(k, dir "/results.json")
}

# One entry of results.json (an iteration of a case): the worst result wins.
function on_case(k, line, c, r) {
	has[k] = 1
	if (!(c in known)) {
		known[c] = 1
		cases[++nc] = c
	}
	if (!((k, c) in res) || rank(r) > rank(res[k, c])) {
		res[k, c] = r
		cnt[k, c] = 0
		why[k, c] = jget(line, "reason")
		hint[k, c] = jget(line, "known_issue")
	}
	if (r == res[k, c])
		cnt[k, c]++
	runs[k, c]++
}

function differs(c,   k, first, v) {
	first = ""
	for (k = 1; k <= nk; k++) {
		if (!has[k])
			continue
		v = cell(k, c)
		sub(/\(.*/, "", v)
		if (first == "")
			first = v
		else if (v != first)
			return 1
	}
	return 0
}

function counts_text(k,   i, s, kinds) {
	split("pass fail hang crash xpass xfail skip", kinds, " ")
	s = ""
	for (i = 1; i <= 7; i++)
		if (counts[k, kinds[i]])
			s = s (s == "" ? "" : ", ") counts[k, kinds[i]] " " kinds[i]
	return s == "" ? "no results" : s
}

function pad(s, w) { return sprintf("%-" w "s", s) }

function table(out, only_diff, with_why,   c, k, w, cw, line, i, shown) {
	w = 4
	for (i = 1; i <= nc; i++)
		if (length(cases[i]) > w)
			w = length(cases[i])
	for (k = 1; k <= nk; k++) {
		cw[k] = length(info[k, "label"])
		for (i = 1; i <= nc; i++)
			if (length(cell(k, cases[i])) > cw[k])
				cw[k] = length(cell(k, cases[i]))
	}
	ndiff = 0
	for (i = 1; i <= nc; i++)
		if (diff[cases[i]])
			ndiff++
	print "kernel matrix: " nc " case" (nc == 1 ? "" : "s") " x " nk " kernel" (nk == 1 ? "" : "s") ", " ndiff " differ (*)" > out
	print "" > out
	if (nc == 0) {
		# An empty table would read as "nothing to see": say why.
		print "  no kernel produced results: every column failed (below)" > out
		print "" > out
		kernels(out)
		return
	}
	line = "  " pad("case", w)
	for (k = 1; k <= nk; k++)
		line = line "  " pad(info[k, "label"], cw[k])
	sub(/ +$/, "", line)
	print line > out
	shown = 0
	for (i = 1; i <= nc; i++) {
		c = cases[i]
		if (only_diff && !diff[c])
			continue
		shown++
		line = (diff[c] ? "* " : "  ") pad(c, w)
		for (k = 1; k <= nk; k++)
			line = line "  " pad(cell(k, c), cw[k])
		sub(/ +$/, "", line)
		print line > out
	}
	if (only_diff && shown == 0)
		print "  (no case differs)" > out
	print "" > out
	kernels(out)
	if (with_why)
		reasons(out)
}

# The columns: label, release, status, seconds, counts, note, directory.
function kernels(out,   k, w, line) {
	w = 5
	for (k = 1; k <= nk; k++)
		if (length(info[k, "label"]) > w)
			w = length(info[k, "label"])
	print "kernels:" > out
	for (k = 1; k <= nk; k++) {
		line = sprintf("  %-" w "s  %-28s  status %s %-11s %5s s  %s", info[k, "label"],
			info[k, "release"] == "" ? "-" : info[k, "release"], info[k, "status"],
			"(" info[k, "status_text"] ")", info[k, "seconds"], counts_text(k))
		print line > out
		if (info[k, "note"] != "")
			print "  " pad("", w) "  " info[k, "note"] > out
		print "  " pad("", w) "  " coldir[k] > out
	}
}

# Every cell that is not a pass, with its reason and known-issue hint.
function reasons(out,   i, c, k, shown, line) {
	print "" > out
	print "reasons:" > out
	for (i = 1; i <= nc; i++) {
		c = cases[i]
		shown = 0
		for (k = 1; k <= nk; k++) {
			if (!((k, c) in res) || res[k, c] == "pass")
				continue
			if (!shown++)
				print "  " c > out
			line = "    " info[k, "label"] ": " cell(k, c) (why[k, c] == "" ? "" : "  " why[k, c])
			if (hint[k, c] != "" && index(why[k, c], hint[k, c]) == 0)
				line = line "  [known issue: " hint[k, c] "]"
			print line > out
		}
	}
}

function write_json(f,   k, c, i, line, j) {
	print "{" > f
	print "  \"schema\": 1," > f
	print "  \"created\": " jstr(created) "," > f
	print "  \"runtests_args\": " jstr(rargs) "," > f
	print "  \"kernels\": [" > f
	for (k = 1; k <= nk; k++) {
		line = "    {\"label\": " jstr(info[k, "label"]) ", \"kernel\": " jopt(info[k, "kernel"]) \
			", \"image\": " jopt(info[k, "image"]) ", \"release\": " jopt(info[k, "release"]) \
			", \"status\": " jnum(info[k, "status"]) \
			", \"status_text\": " jopt(info[k, "status_text"]) ", \"note\": " jopt(info[k, "note"]) \
			", \"seconds\": " jnum(info[k, "seconds"]) \
			", \"results_dir\": " jstr(coldir[k]) ", \"counts\": " counts_json(k)
		print line "}" (k < nk ? "," : "") > f
	}
	print "  ]," > f
	print "  \"cases\": [" > f
	for (i = 1; i <= nc; i++) {
		c = cases[i]
		line = "    {\"name\": " jstr(c) ", \"differs\": " (diff[c] ? "true" : "false") ", \"results\": {"
		j = 0
		for (k = 1; k <= nk; k++) {
			if (!((k, c) in res))
				continue
			line = line (j++ ? ", " : "") jstr(info[k, "label"]) ": {\"result\": " jstr(res[k, c]) \
				", \"runs\": " runs[k, c] ", \"count\": " cnt[k, c] ", \"reason\": " jstr(why[k, c]) \
				", \"known_issue\": " jopt(hint[k, c]) "}"
		}
		print line "}}" (i < nc ? "," : "") > f
	}
	print "  ]" > f
	print "}" > f
	close(f)
}

BEGIN {
	for (i = 1; i < ARGC; i++)
		read_column(ARGV[i])
	for (i = 1; i <= nc; i++)
		diff[cases[i]] = differs(cases[i])
	table("/dev/stdout", only_diff, with_why)
	if (txt != "") {
		table(txt, 0, 1)
		close(txt)
	}
	if (json != "")
		write_json(json)
	bad = 0
	for (k = 1; k <= nk; k++)
		if (info[k, "status"] != "0")
			bad = 1
	exit bad
}
