# SPDX-License-Identifier: MIT
#
# kernels/results.awk - reading the directory of one kernel's run, as
# kernel-matrix (matrix.awk) and mutation-score (mutation-score.awk) keep
# them: an info file of KEY=VALUE lines (column.info, mutant.info) and the
# runner's results.json. Functions only; needs json.awk, and the program
# that loads it defines on_case(). Kernels are numbered k = 1, 2, ...
#
#   read_info(k, file)     each KEY=VALUE line into info[k, KEY]
#   read_results(k, file)  results.json: info[k, "release"] (its "kernel"),
#                          counts[k, RESULT] += 1 per test entry, and for
#                          each entry on_case(k, line, name, result)
#   counts_json(k)         counts[k, ...] as a JSON object, every result
#                          named: {"pass": 3, "fail": 1, "skip": 0, ...}

function read_info(k, file,   line, eq) {
	while ((getline line < file) > 0) {
		eq = index(line, "=")
		if (eq > 0)
			info[k, substr(line, 1, eq - 1)] = substr(line, eq + 1)
	}
	close(file)
}

# results.json puts each test entry on a line of its own:
#     {"name": "fanin_local.defer", ..., "result": "fail", ...},
function read_results(k, file,   line, r) {
	while ((getline line < file) > 0) {
		if (line ~ /^  "kernel": /)
			info[k, "release"] = jget(line, "kernel")
		if (line !~ /^    \{"name": /)
			continue
		r = jget(line, "result")
		counts[k, r]++
		on_case(k, line, jget(line, "name"), r)
	}
	close(file)
}

function counts_json(k,   kinds, j, s) {
	split("pass fail skip xfail xpass hang crash", kinds, " ")
	s = ""
	for (j = 1; j <= 7; j++)
		s = s (j > 1 ? ", " : "") "\"" kinds[j] "\": " counts[k, kinds[j]] + 0
	return "{" s "}"
}
