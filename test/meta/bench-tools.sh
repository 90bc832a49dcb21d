#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of the benchmark's tools, on the host, in a second: bench/compare
# on two canned runs (test/meta/bench-runs/a.json, b.json: a clear
# regression, changes within the noise, rows only one run has, a TCG run
# against a host run) flags a ratio only when the runs' min..max ranges do
# not overlap, lists the one-sided rows, warns about TCG, writes Markdown
# and refuses bad input; bench/plot makes a PNG (skipped without
# gnuplot), next to the JSON by default, and fails clearly without gnuplot
# or without a result to plot.
#
#   test/meta/bench-tools.sh      prints TAP, exit 0 if all passed
#   TW_CHECKS="compare_flags plot_png" test/meta/bench-tools.sh
#                                 only these checks

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
bench=$top/bench
fixtures=$top/test/meta/bench-runs

# run ARGS...: output (stdout and stderr) in $work/out, status in $rc.
run() {
	"$@" >"$work/out" 2>&1 </dev/null
	rc=$?
}

# The table row of WORKLOAD MODE PRODUCERS, its columns squeezed to one blank.
table_row() {
	grep -E "^$1 +$2 +$3 " "$work/out" | tr -s ' '
}

# ---- bench/compare ---------------------------------------------------------------

check_compare_flags() {
	run "$bench/compare" "$fixtures/a.json" "$fixtures/b.json"
	expect 0
	# msgring/defer with 1 producer: 800k (780k..810k) -> 400k (390k..410k),
	# and twice the CPU per op: outside the noise, both flagged.
	r=$(table_row msgring defer 1)
	[ "$r" = "msgring defer 1 800k 400k 0.50* 2.00* 2.00 2.00 10.00*" ] || fail "the regression row: '$r'"
	# 2 producers: 1.00M (950k..1.01M) -> 980k (900k..1.05M): ranges overlap.
	r=$(table_row msgring defer 2)
	[ "$r" = "msgring defer 2 1.00M 980k 0.98 1.02 1.00 1.04 -" ] || fail "the row within noise: '$r'"
	# An improvement outside the noise is flagged as well.
	r=$(table_row msgring normal 2)
	[ "$r" = "msgring normal 2 640k 720k 1.12* 0.91* 0.93 0.92 -" ] || fail "the improvement row: '$r'"
	[ "$(grep -c '[0-9]\*' "$work/out")" = 2 ] || fail "other rows flagged"
	# A row skipped in A has its status, no ratios.
	r=$(table_row pollwake sqpoll 1)
	[ "$r" = "pollwake sqpoll 1 skip 310k - - - - -" ] || fail "the skipped row: '$r'"
	# The summary over the 5 rows both ran: 0.50, 0.98, 1.01, 0.99, 1.12.
	grep -q '^ops/s B/A over 5 rows: geometric mean 0.89, median 0.99, range 0.50..1.12; 2 flagged' "$work/out" ||
		fail "the summary line: '$(grep '^ops/s B/A' "$work/out")'"
	grep -q '^  msgring.defer  *geometric mean 0.79 over 3 rows, 1 flagged' "$work/out" ||
		fail "the per-workload summary of msgring.defer"
}

check_compare_one_sided() {
	run "$bench/compare" "$fixtures/a.json" "$fixtures/b.json"
	expect 0
	awk '/^only in A:/ { s = "A"; next } /^only in B:/ { s = "B"; next } s != "" && NF { print s ":" $0 }' \
		"$work/out" | tr -s ' ' >"$work/sides"
	[ "$(cat "$work/sides")" = "A: msgring defer producers=8: ok 1.04M ops/s
B: pollwake coop producers=2: ok 260k ops/s" ] || fail "one-sided rows: $(cat "$work/sides")"
	table_row msgring defer 8 | grep -q . && fail "a row only in A is in the table"
	:
}

check_compare_header() {
	run "$bench/compare" "$fixtures/a.json" "$fixtures/b.json"
	expect 0 '^A: .*a\.json +release 7\.2\.13, accel host, cpus 2'
	expect 0 '^B: .*release 7\.3\.4\+deb13-cloud-amd64, accel tcg'
	expect 0 '^   params \{"duration": 0\.5, .*"repeats": 3'
	expect 0 '^TCG: compare only ratios measured the same way, absolute numbers are emulation'
	expect 0 'accel host vs tcg'
	# b.json's clock changed during its run (tsc -> hpet, as a TCG guest did).
	expect 0 '^WARNING: clocksources differ or changed during a run \(tsc vs tsc -> hpet\)'
	# A run against itself: no warnings, every ratio 1.00, nothing flagged
	# or one-sided.
	run "$bench/compare" "$fixtures/a.json" "$fixtures/a.json"
	expect 0
	grep -Eq 'TCG|WARNING|only in' "$work/out" && fail "warnings or one-sided rows against itself"
	[ "$(grep -Ec ' 1\.00 *1\.00 *1\.00 *1\.00 *(1\.00|-)$' "$work/out")" = 6 ] || fail "not every ratio 1.00"
	:
}

check_compare_markdown() {
	run "$bench/compare" --markdown "$fixtures/a.json" "$fixtures/b.json"
	expect 0 '^\| workload \| mode \| prod \| ops/s A \| ops/s B \| B/A \| cpu B/A \| p50 B/A \| p99 B/A \| sleep B/A \|$'
	expect 0 '^\|---\|'
	# A '*' of its own would be emphasis in Markdown: escaped.
	expect 0 '^\| msgring \| defer \| 1 \| 800k \| 400k \| 0\.50\\\* \| 2\.00\\\* \| 2\.00 \| 2\.00 \| 10\.00\\\* \|$'
	expect 0 '^- TCG: '
}

check_compare_usage() {
	run "$bench/compare" "$fixtures/a.json"
	expect 2 '^bench/compare: two bench.json files needed'
	run "$bench/compare" "$fixtures/a.json" "$work/no-such.json"
	expect 2 'no-such.json: cannot read it'
	run "$bench/compare" /etc/passwd "$fixtures/a.json"
	expect 2 'not a bench/twbench bench.json'
	run "$bench/compare" --bogus "$fixtures/a.json" "$fixtures/b.json"
	expect 2 "unknown option '--bogus'"
	run "$bench/compare" --help
	expect 0 '^Exit status'
}

# ---- bench/plot ------------------------------------------------------------------

need_gnuplot() {
	command -v gnuplot >/dev/null 2>&1 ||
		{ say "no gnuplot here (scripts/install-deps.sh --bench)"; exit 77; }
}

check_plot_png() {
	need_gnuplot
	mkdir -p "$work/run"
	cp "$fixtures/b.json" "$work/run/bench.json"
	run "$bench/plot" "$work/run/bench.json"
	expect 0
	[ "$(cat "$work/out")" = "$work/run/bench.png" ] || fail "did not print the default output"
	[ -s "$work/run/bench.png" ] || fail "no bench.png next to the JSON"
	[ "$(od -An -c -N4 "$work/run/bench.png" | tr -d ' ')" = "211PNG" ] || fail "not a PNG"
	run "$bench/plot" "$fixtures/a.json" -o "$work/other.png"
	expect 0
	[ -s "$work/other.png" ] || fail "-o: no PNG"
}

check_plot_errors() {
	run env TW_GNUPLOT=tw-no-such-gnuplot "$bench/plot" "$fixtures/a.json" -o "$work/x.png"
	expect 3 'tw-no-such-gnuplot not found: install gnuplot-nox'
	[ -e "$work/x.png" ] && fail "a PNG without gnuplot"
	run "$bench/plot"
	expect 2 '^bench/plot: no bench.json given'
	run "$bench/plot" /etc/passwd
	expect 2 'not a bench/twbench bench.json'
	need_gnuplot
	# Only skipped results: nothing to draw, said so.
	grep -v '"status": "ok"' "$fixtures/a.json" >"$work/skips.json"
	run "$bench/plot" "$work/skips.json" -o "$work/x.png"
	expect 1 'no result with status ok: nothing to plot'
}

# ---- bench/twbench's options -------------------------------------------------------

# A bad value names its option (no workload runs: each is refused first);
# --help is help, not an unknown option.
check_twbench_usage() {
	for a in "-r x:-r 'x'" "-r 0:-r '0'" "-d 5x:-d '5x'" "-w -1:-w '-1'" "-b 300:-b '300'" \
		"-c 0:-c '0'" "-t x:-t 'x'" "-W 2 -b 4:-W 2: at least -b"; do
		# shellcheck disable=SC2086 # the options are words
		run "$bench/twbench" -q ${a%%:*}
		expect 2
		expect_line "^twbench: bad ${a#*:}"
	done
	for h in -h --help; do
		run "$bench/twbench" "$h"
		expect 0
		expect_line '^usage: bench/twbench '
	done
}

checks=${TW_CHECKS:-"twbench_usage compare_flags compare_one_sided compare_header compare_markdown compare_usage plot_png plot_errors"}
# shellcheck disable=SC2086 # the list is words
run_checks $checks
