# SPDX-License-Identifier: MIT
#
# kernels/coverage-report.awk - coverage's report from an lcov tracefile of
# io_uring/ (with branches). Run as
#
#   awk -f json.awk -f coverage-report.awk -v VAR=VALUE... TRACEFILE TRACEFILE
#
# The tracefile is read twice: the first pass learns each file's functions
# and their lines (FN, FNDA), the second counts lines (DA) and branches
# (BRDA) per report row. A row is a listed file, or a part of a file: the
# lines inside some of its functions only ("io_uring.c:exit-paths", the
# exit functions of io_uring.c; "net.c:multishot"). Writes
#   summary   the table (lines, branches, functions hit/found per row), the
#             functions never executed, and the never-executed lines and
#             branches of tw.c and mpscq.h
#   unc       the never-executed line ranges and branches of every row
#   json      coverage.json (doc/mutation-and-coverage.md has its schema)
# and prints nothing.
#
# -v variables: files (the rows' file names, space-separated), parts (the
# rows of parts, ";"-separated, each "FILE:NAME=function function ..."; one
# part per file), summary, unc, json (the output files),
# title (the summary's first line, in parentheses), and for coverage.json
# source, release, rargs and status (the suite's exit status, or null).

function pct(h, n) { return n ? sprintf("%5.1f%%", 100 * h / n) : "    -" }
function base(p) { sub(/.*\//, "", p); return p }
# Which report row a source line belongs to: its file, or for a file of a
# part the part, if the line is in one of its functions; "" for none.
function row_of(f, line) {
	if (!(f in partrow))
		return (f in want) ? f : ""
	return ((f, fn_of(f, line)) in partfn) ? partrow[f] : ""
}
# The function a line is in: the one that starts last before it.
function fn_of(f, line,   i, bi) {
	bi = 0
	for (i = 1; i <= nfn[f]; i++)
		if (fnline[f, i] <= line && (bi == 0 || fnline[f, i] > fnline[f, bi]))
			bi = i
	return bi ? fnname[f, bi] : ""
}
function fn_name(f, line,   n) {
	n = fn_of(f, line)
	return n == "" ? "inlined" : n
}
function src_line(path, n,   l, i) {
	if (!((path, n) in srctext)) {
		i = 0
		while ((getline l < path) > 0)
			srctext[path, ++i] = l
		close(path)
		srctext[path, n] = srctext[path, n]
	}
	l = srctext[path, n]
	gsub(/^[ \t]+|[ \t]+$/, "", l)
	return substr(l, 1, 70)
}
BEGIN {
	n = split(files, fl, " ")
	for (i = 1; i <= n; i++) {
		want[fl[i]] = 1
		rows[++nrows] = fl[i]
	}
	n = split(parts, pl, ";")
	for (i = 1; i <= n; i++) {
		if (split(pl[i], a, "=") != 2 || a[1] !~ /^[^:]+:./)
			continue
		rows[++nrows] = a[1]
		pf = a[1]
		sub(/:.*/, "", pf)
		partrow[pf] = a[1]
		m = split(a[2], ef, " ")
		for (j = 1; j <= m; j++)
			partfn[pf, ef[j]] = 1
	}
}
# A function the compiler always inlined has no FN record, and its lines
# would count as the function before it. In the files of a part, the
# function definitions in the source (a line at column 0 with a name and
# "(", not a prototype's ";") add the missing starts; they are not counted
# as functions.
function source_starts(f,   l, i, n, name) {
	i = 0
	while ((getline l < path[f]) > 0) {
		i++
		gsub(/__attribute__\(\([^)]*\)\)/, "", l)
		if (l !~ /^[A-Za-z_][A-Za-z0-9_ \t*]*[ \t*][A-Za-z_][A-Za-z0-9_]*\(/ || l ~ /;[ \t]*$/)
			continue
		name = substr(l, 1, index(l, "(") - 1)
		sub(/.*[ \t*]/, "", name)
		if ((f, name) in seenfn)
			continue
		seenfn[f, name] = 1
		synthetic[f, name] = 1
		fnline[f, ++nfn[f]] = i
		fnname[f, nfn[f]] = name
	}
	close(path[f])
}
# Pass 1 (the tracefile twice): the functions of each file, by line.
FNR == 1 && pass++ == 1 {
	for (pf in partrow)
		if (pf in path)
			source_starts(pf)
}
pass == 1 && /^SF:/ { f = base(substr($0, 4)); path[f] = substr($0, 4) }
pass == 1 && /^FN:/ {
	split(substr($0, 4), a, ",")
	if (!((f, a[2]) in seenfn)) {
		seenfn[f, a[2]] = 1
		fnline[f, ++nfn[f]] = a[1] + 0
		fnname[f, nfn[f]] = a[2]
	}
}
pass == 1 && /^FNDA:/ {
	split(substr($0, 6), a, ",")
	fncount[f, a[2]] += a[1]
}
pass == 1 { next }
/^SF:/ { f = base(substr($0, 4)); next }
/^DA:/ {
	split(substr($0, 4), a, ",")
	r = row_of(f, a[1] + 0)
	if (r == "")
		next
	lf[r]++
	if (a[2] > 0)
		lh[r]++
	else
		zero[f, a[1] + 0] = 1
	if (!((f, a[1] + 0) in dline))
		dlines[f, ++nd[f]] = a[1] + 0
	dline[f, a[1] + 0] = 1
	next
}
/^BRDA:/ {
	split(substr($0, 6), a, ",")
	r = row_of(f, a[1] + 0)
	if (r == "")
		next
	bf[r]++
	if (a[4] != "-" && a[4] > 0)
		bh[r]++
	else {
		bmiss[f, a[1] + 0]++
		if (a[4] == "-")
			bnever[f, a[1] + 0] = 1
	}
	btot[f, a[1] + 0]++
	next
}
function fn_row(f, name) {
	if (f in partrow)
		return ((f, name) in partfn) ? partrow[f] : ""
	return (f in want) ? f : ""
}
# The never-executed line ranges and branches of file F into OUT.
# (A range of lines never executed ends where its function does.)
function uncovered(f, out,   i, ln, start, prev, s, never) {
	start = 0
	for (i = 1; i <= nd[f] + 1; i++) {
		ln = i <= nd[f] ? dlines[f, i] : 0
		never = ln && zero[f, ln] && row_of(f, ln) != ""
		if (start && (!never || fn_of(f, ln) != fn_of(f, start))) {
			s = start == prev ? start : start "-" prev
			printf "    %s:%s (%s): %s\n", f, s, fn_name(f, start), src_line(path[f], start) > out
			start = 0
		}
		if (never) {
			if (!start)
				start = ln
			prev = ln
		}
	}
	for (i = 1; i <= nd[f]; i++) {
		ln = dlines[f, i]
		if (!((f, ln) in bmiss) || row_of(f, ln) == "")
			continue
		printf "    %s:%d (%s): branch %d of %d never taken%s: %s\n", f, ln, fn_name(f, ln),
			bmiss[f, ln], btot[f, ln], bnever[f, ln] ? " (line never reached)" : "",
			src_line(path[f], ln) > out
	}
}
# The functions of each row, and those never executed.
function count_functions(   f, i, r) {
	for (f in nfn)
		for (i = 1; i <= nfn[f]; i++) {
			r = fn_row(f, fnname[f, i])
			if (r == "" || ((f, fnname[f, i]) in synthetic))
				continue
			ff[r]++
			if (fncount[f, fnname[f, i]] > 0)
				fh[r]++
			else
				never[r] = never[r] (never[r] == "" ? "" : " ") fnname[f, i]
		}
}
function write_summary(out,   i, r) {
	printf "io_uring task_work coverage (%s)\n\n", title > out
	printf "  %-22s  %-18s  %-18s  %s\n", "file", "lines", "branches", "functions" > out
	for (i = 1; i <= nrows; i++) {
		r = rows[i]
		printf "  %-22s  %5d/%-5d %6s  %5d/%-5d %6s  %d/%d\n", r, lh[r], lf[r], pct(lh[r], lf[r]),
			bh[r], bf[r], pct(bh[r], bf[r]), fh[r], ff[r] > out
	}
	printf "\nfunctions never executed:\n" > out
	for (i = 1; i <= nrows; i++)
		if (never[rows[i]] != "")
			printf "  %s: %s\n", rows[i], never[rows[i]] > out
	printf "\nnever executed in tw.c and mpscq.h (lines, then branches):\n" > out
	uncovered("tw.c", out)
	uncovered("mpscq.h", out)
	close(out)
}
function write_uncovered(out,   i, f) {
	printf "every file: the lines and branches never executed\n" > out
	for (i = 1; i <= nrows; i++) {
		f = rows[i]
		sub(/:.*$/, "", f)
		printf "\n  %s\n", rows[i] > out
		uncovered(f, out)
	}
	close(out)
}
function write_json(out,   i, r, s) {
	printf "{\n  \"schema\": 1,\n  \"source\": %s,\n  \"release\": %s,\n  \"runtests_args\": %s,\n  \"suite_status\": %s,\n  \"files\": [\n",
		jstr(source), jstr(release), jstr(rargs), status > out
	for (i = 1; i <= nrows; i++) {
		r = rows[i]
		s = never[r]
		gsub(/ /, "\", \"", s)
		printf "    {\"file\": %s, \"lines_found\": %d, \"lines_hit\": %d, \"branches_found\": %d, \"branches_hit\": %d, \"functions_found\": %d, \"functions_hit\": %d, \"never_executed\": [%s]}%s\n",
			jstr(r), lf[r], lh[r], bf[r], bh[r], ff[r], fh[r], s == "" ? "" : "\"" s "\"", i < nrows ? "," : "" > out
	}
	printf "  ]\n}\n" > out
	close(out)
}
END {
	count_functions()
	write_summary(summary)
	write_uncovered(unc)
	write_json(json)
}
