# SPDX-License-Identifier: MIT
#
# scripts/suite-order.awk - test/order from measurements: the order of the
# default run that judges a broken kernel soonest (scripts/suite-order says
# how it is called and doc/runner.md why).
#
#   awk -v overhead=S -f runner/json.awk -f scripts/suite-order.awk INPUTS
#
# INPUTS lists the data, one item a line:
#   times FILE         a results.json of a clean run: each program's seconds
#                      (its cases' sum)
#   mutant LABEL DIR   a mutant's run (mutation-score's DIR/LABEL): the
#                      programs with a failing case in DIR/results.json
#                      catch it; only the first line of a LABEL counts
# Prints test/order: a header, then one program a line ("NAME  # why").
#
# The rule. A program's cost is its mean seconds over the clean runs that
# have it (a program newer than a run is not free there) plus
# -v overhead (runtests.sh's own per program). While some mutant is not
# caught by a program already placed, the next program is the one that
# catches the most of those per second of its cost (ties: the cheaper,
# then the name); then every other program, cheapest first. So the first
# failure on a kernel with one of these bugs comes after the fewest seconds
# of passing tests the data can tell, and a new bug, which the data cannot
# know, meets the cheap programs first.

function failing(r) { return r == "fail" || r == "hang" || r == "crash" || r == "xpass" }

# The programs that catch mutant LABEL, from its results.json.
function read_mutant(label, file,   line, p) {
	if (label in seen_mutant)
		return
	seen_mutant[label] = 1
	mutants[++nm] = label
	while ((getline line < file) > 0) {
		p = jget(line, "program")
		if (p != "" && failing(jget(line, "result")))
			catches[p, label] = 1
	}
	close(file)
}

function read_times(file,   line, p, in_run) {
	nruns++
	while ((getline line < file) > 0) {
		p = jget(line, "program")
		if (p == "")
			continue
		if (!(p in secs))
			progs[++np] = p
		secs[p] += jraw(line, "seconds")
		if (!(p in in_run)) {
			in_run[p] = 1
			runs_of[p]++
		}
	}
	close(file)
	sources = sources "#   times:   " file "\n"
}

# How many mutants not caught yet program p catches, and their names.
function new_catches(p,   i, n) {
	n = 0
	caught_names = ""
	for (i = 1; i <= nm; i++)
		if (!(mutants[i] in caught) && ((p, mutants[i]) in catches)) {
			n++
			caught_names = caught_names " " mutants[i]
		}
	return n
}

function better(p, q) {		# p before q?
	if (q == "")
		return 1
	if (gain[p] * cost[q] != gain[q] * cost[p])
		return gain[p] * cost[q] > gain[q] * cost[p]
	if (cost[p] != cost[q])
		return cost[p] < cost[q]
	return p < q
}

function place(p, why) {
	placed[p] = 1
	printf "%-28s # %5.2f s%s\n", p, cost[p], why
}

{
	if ($1 == "times")
		read_times($2)
	else if ($1 == "mutant") {
		read_mutant($2, $3 "/results.json")
		d = $3
		sub(/\/[^\/]*$/, "", d)
		if (!(d in dirs)) {
			dirs[d] = 1
			sources = sources "#   mutants: " d "\n"
		}
	}
}

END {
	if (!nruns || !nm) {
		print "suite-order: no clean run or no mutant to order by" > "/dev/stderr"
		exit 1
	}
	for (i = 1; i <= np; i++)
		cost[progs[i]] = secs[progs[i]] / runs_of[progs[i]] + overhead
	print "# test/order - the order of runtests.sh's default run (no NAMEs): cheap,"
	print "# sharp programs first, so that --stop-at-first-failure judges a broken"
	print "# kernel early (doc/runner.md, \"The order of the default run\"). One"
	print "# program a line; one not listed runs after these, in name order."
	print "# Written by scripts/suite-order (rerun it; do not reorder by hand), from"
	printf "%s", sources
	printf "# with %d mutants, cost = mean seconds of the clean runs + %s s a program.\n", nm, overhead
	print "# First: the most mutants not yet caught per second of cost; then the rest,"
	print "# cheapest first."
	for (;;) {
		best = ""
		for (i = 1; i <= np; i++) {
			p = progs[i]
			if (p in placed)
				continue
			gain[p] = new_catches(p)
			if (gain[p] && better(p, best))
				best = p
		}
		if (best == "")
			break
		n = new_catches(best)
		place(best, "; catches " n ":" caught_names)
		for (i = 1; i <= nm; i++)
			if ((best, mutants[i]) in catches)
				caught[mutants[i]] = 1
	}
	for (;;) {
		best = ""
		for (i = 1; i <= np; i++) {
			p = progs[i]
			gain[p] = 0
			if (!(p in placed) && better(p, best))
				best = p
		}
		if (best == "")
			break
		place(best, "")
	}
	for (i = 1; i <= nm; i++)
		if (!(mutants[i] in caught))
			print "#   caught by no program: " mutants[i]
}
