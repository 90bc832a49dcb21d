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
# range or release it cannot read. Used for test/exclude (runner/select.sh).
#
# Without -v range and -v release it does nothing: another awk program
# loaded after it (runner/known-issues.awk) calls in_range() itself.

# Sortable key of a version: a.b.c and the -rcN (999: a release).
function version_key(v, last,   n, p, rc, i) {
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

# in_range(RANGE, RELEASE): 1 in it, 0 not, -1 for a range or release it
# cannot read.
function in_range(range, release,   lo, hi, dash, kv) {
	if (range == "*")
		return 1
	# [lo, hi): -1 for no bound.
	lo = hi = -1
	if (range ~ /^<=/) hi = version_key(substr(range, 3), "bump")
	else if (range ~ /^>=/) lo = version_key(substr(range, 3), "low")
	else if (range ~ /^</) hi = version_key(substr(range, 2), "low")
	else if (range ~ /^>/) lo = version_key(substr(range, 2), "bump")
	else if (match(range, /[0-9]-[0-9]/)) {
		dash = RSTART + 1	# version_key() calls match() too
		lo = version_key(substr(range, 1, dash - 1), "low")
		hi = version_key(substr(range, dash + 1), "bump")
		if (lo < 0 || hi < 0)
			lo = hi = -2
	} else {
		lo = version_key(range, "low")
		hi = version_key(range, "bump")
	}
	kv = version_key(release, "")
	if (lo == -2 || (lo < 0 && hi < 0) || kv < 0)
		return -1
	return (lo < 0 || kv >= lo) && (hi < 0 || kv < hi)
}

BEGIN {
	if (range != "" || release != "") {
		vr = in_range(range, release)
		if (vr < 0) {
			print "runtests.sh: bad kernel range \"" range "\" (or release " release ")" \
				> "/dev/stderr"
			exit 2
		}
		exit !vr
	}
}
