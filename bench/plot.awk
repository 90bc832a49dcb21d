# SPDX-License-Identifier: MIT
#
# bench/plot.awk - the data of bench/plot's PNG, from one bench/twbench
# bench.json. Run after bench/json.awk (its val()):
#
#   awk -v titles=FILE -v head=FILE -f bench/json.awk -f bench/plot.awk bench.json
#
# Prints one line per result with status ok:
#   SERIES PRODUCERS MEDIAN MIN MAX P99
# (ops/s over the repeats; p99 latency in microseconds, NaN when unknown),
# SERIES being the index of the result's workload/mode, from 0 in the
# order they first appear. Writes
#   titles   the workload/mode names of the series, one a line, in order
#   head     release=, accel=, cpus= from the header, one a line

/^\{"workload": / {
	if (val($0, "status") != "ok")
		next
	name = val($0, "workload") "/" val($0, "mode")
	if (!(name in series)) {
		series[name] = n++
		print name > titles
	}
	o = val($0, "ops_per_sec")
	p99 = val(val($0, "lat_ns"), "p99")
	print series[name], val($0, "producers"), val(o, "median"), val(o, "min"), val(o, "max"), \
	    (p99 == "" || p99 == "null" ? "NaN" : p99 / 1000)
	next
}
/^  "(release|accel|cpus)": / {
	match($0, /"[a-z]+"/)
	k = substr($0, RSTART + 1, RLENGTH - 2)
	print k "=" val($0, k) > head
}
