# SPDX-License-Identifier: MIT
#
# kernels/failure-class.awk - how a seeded bug was caught: the class of one
# failing case, for mutation-score.awk. Functions only, no rules.
#
#   failing(result)            fail, hang, crash or xpass: the suite noticed
#   first_diag(dir, log, case) the case's first diagnostic in its program
#                              log DIR/LOG: "FAIL<tab>message", "HANG<tab>...",
#                              or "" if none
#   classify(result, reason, first)
#                              the class: kernel splat, crash, xpass, hang,
#                              lost CQE, duplicate CQE, order, unknown CQE,
#                              wake-up, notification, bad result or other
#                              (doc/mutation-and-coverage.md says how each is
#                              told)

function failing(r) { return r == "fail" || r == "hang" || r == "crash" || r == "xpass" }

# The first diagnostic of case C in its program log DIR/LOGF ("# FAIL C
# [profile]: msg" or "# HANG ..."): "FAIL<tab>msg", or "" if none. A case
# can fail for one reason and then hang because of it (an order violation,
# then a stalled consumer): its first diagnostic says what broke first.
function first_diag(dir, logf, c,   f, line, n, w, key) {
	if (logf == "")
		return ""
	f = dir "/" logf
	if (!(f in loaded)) {
		loaded[f] = 1
		while ((getline line < f) > 0) {
			if (line !~ /^# (FAIL|HANG) [^ ]+ \[[^]]*\]: /)
				continue
			n = split(line, w, " ")
			key = f SUBSEP w[3]
			if (!(key in diag))
				diag[key] = w[2] "\t" substr(line, index(line, "]: ") + 3)
		}
		close(f)
	}
	return (f, c) in diag ? diag[f, c] : ""
}

# The class of one failing case: what kind of evidence the suite had -
# the kernel itself (splat, crash), else its first diagnostic, else the
# reason in results.json.
function classify(result, reason, first,   r) {
	r = tolower(reason)
	if (index(r, "kernel: ") || index(r, "kernel tainted"))
		return "kernel splat"
	if (result == "crash")
		return "crash"
	if (result == "xpass")
		return "xpass"
	if (first != "") {
		if (first ~ /^HANG/)
			return "hang"
		r = tolower(substr(first, index(first, "\t") + 1))
		result = "fail"
	}
	if (result == "hang" || r ~ /did not finish|never finished/)
		return "hang"
	if (index(r, "lost cqe"))
		return "lost CQE"
	if (index(r, "duplicate cqe"))
		return "duplicate CQE"
	if (r ~ /(^|[ :])order:/)
		return "order"
	if (index(r, "unknown cqe"))
		return "unknown CQE"
	if (r ~ /lost wake-up|early wake-up|min_wait/)
		return "wake-up"
	# a missing wake-up signal: eventfd, ring-fd poll, IORING_SQ_TASKRUN
	if (index(r, "notification") || index(r, "ioring_sq_taskrun"))
		return "notification"
	if (index(r, "bad result") || index(r, "unexpected completion"))
		return "bad result"
	return "other"
}
