# SPDX-License-Identifier: MIT
#
# runner/version-range.awk - is a kernel release in a range? Reads no input:
# everything happens in BEGIN, and the answer is the exit status.
#
#   awk -v range=RANGE -v release="$(uname -r)" -f runner/version-range.awk
#
# -v range    '*', '<X', '<=X', '>X', '>=X', 'A-B' (inclusive), 'X' or 'X.*'
#             (that series). A bare version means its first release
#             candidate: '<7.3' excludes 7.3-rc1, '7.3.*' includes it; write
#             '<7.3-rc4' to be precise. '<=X' and the upper end of 'A-B'
#             include all of X.*: '6.1-6.12' is 6.1 up to every 6.12.y.
# -v release  the kernel's release; distro suffixes are ignored
#             (6.1.0-13-amd64, 7.3.4+deb13-cloud-amd64).
#
# Exits 0 in the range, 1 outside it, 2 (with a message on stderr) for a
# range or release it cannot read. Used for test/known-issues and
# test/exclude (runner/select.sh).

# Sortable key of a version: a.b.c and the -rcN (999: a release).
function key(v, last,   n, p, rc) {
	rc = 999
	sub(/\.\*$/, "", v)
	if (match(v, /-rc[0-9]+/))
		rc = substr(v, RSTART + 3, RLENGTH - 3) + 0
	else if (v !~ /^[0-9.]+$/ && v !~ /^[0-9.]+[-+]/)
		return -1
	# Distro suffixes: 6.1.0-13-amd64, 7.3.4+deb13-cloud-amd64.
	sub(/[-+].*/, "", v)
	n = split(v, p, ".")
	if (last == "bump" && rc != 999)
		return ((p[1] * 1000 + p[2]) * 1000 + p[3]) * 1000 + rc + 1
	if (last == "bump")
		p[n]++
	if (last != "") {
		for (i = n + 1; i <= 3; i++)
			p[i] = 0
		if (last == "bump" || rc == 999)
			rc = 0
	}
	return ((p[1] * 1000 + p[2]) * 1000 + p[3]) * 1000 + rc
}

BEGIN {
	if (range == "*")
		exit 0
	# [lo, hi): -1 for no bound.
	lo = hi = -1
	if (range ~ /^<=/) hi = key(substr(range, 3), "bump")
	else if (range ~ /^>=/) lo = key(substr(range, 3), "low")
	else if (range ~ /^</) hi = key(substr(range, 2), "low")
	else if (range ~ /^>/) lo = key(substr(range, 2), "bump")
	else if (match(range, /[0-9]-[0-9]/)) {
		dash = RSTART + 1	# key() calls match() too
		lo = key(substr(range, 1, dash - 1), "low")
		hi = key(substr(range, dash + 1), "bump")
		if (lo < 0 || hi < 0)
			lo = hi = -2
	} else {
		lo = key(range, "low")
		hi = key(range, "bump")
	}
	kv = key(release, "")
	if (lo == -2 || (lo < 0 && hi < 0) || kv < 0) {
		print "runtests.sh: bad kernel range \"" range "\" (or release " release ")" > "/dev/stderr"
		exit 2
	}
	exit !((lo < 0 || kv >= lo) && (hi < 0 || kv < hi))
}
