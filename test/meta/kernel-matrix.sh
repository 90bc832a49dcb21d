#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of kernels/kernel-matrix without qemu or network: the runners
# (runtests.sh, guest/vm-run) and kernels/get-kernel are stand-ins that write
# canned results.json files, so each check knows the table, matrix.json and
# statuses to expect: cells and the marks of rows that differ, --diff,
# --why, --repeat counts, a kernel that cannot be fetched or never reaches
# the suite, RUNTESTS-ARGS reaching every runner, --show and --merge, and
# usage errors. Prints TAP; exits 0 when every check passed.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
km=$top/kernels/kernel-matrix
# A command, may be two words ("busybox sh"): expanded unquoted on purpose.
km_sh=${TW_SH:-sh}

# ---- stand-ins ----------------------------------------------------------------

# A runner for both roles (runtests.sh on the host, vm-run for an image). Its
# script is a spec file: for vm-run the kernel image itself, for the host
# $FAKE_HOST. Spec lines: "status N", "release R", "noresults", and
# "CASE RESULT [ITERATION [REASON...]]". It writes results.json like
# runtests.sh (one test per line) and its arguments to args.
cat >"$work/fake-runner" <<'EOF'
#!/bin/sh
printf '%s\n' "$*" >"${TMPDIR:-/tmp}/fake-runner.args.$$"
res= spec=${FAKE_HOST:-}
while [ $# -gt 0 ]; do
	case $1 in
	--results-dir | --console) [ "$1" = --results-dir ] && res=$2; shift ;;
	--) shift; break ;;
	-*) ;;
	*) [ -f "$1" ] && spec=$1 ;;
	esac
	shift
done
[ -n "$res" ] && [ -f "$spec" ] || { echo "fake-runner: no --results-dir or spec" >&2; exit 2; }
[ -z "$(ls -A "$res" 2>/dev/null)" ] || { echo "fake-runner: $res is not empty" >&2; exit 2; }
mkdir -p "$res"
mv "${TMPDIR:-/tmp}/fake-runner.args.$$" "$res/args"
st=$(sed -n 's/^status //p' "$spec")
grep -q '^noresults' "$spec" && { echo "guest never reached the suite"; exit "$st"; }
awk -v rel="$(sed -n 's/^release //p' "$spec")" '
/^(status|release|noresults)/ { next }
{
	reason = ""
	for (i = 4; i <= NF; i++)
		reason = reason (i > 4 ? " " : "") $i
	split($1, p, ".")
	t[++n] = sprintf("    {\"name\": \"%s\", \"program\": \"%s\", \"profile\": \"%s\", \"result\": \"%s\", \"seconds\": 0.50, \"reason\": \"%s\", \"iteration\": %d, \"log\": \"%s.log\", \"kmsg\": null, \"known_issue\": null}",
		$1, p[1], p[2], $2, reason, $3 == "" ? 1 : $3, p[1])
}
END {
	print "{"
	print "  \"schema\": 1,"
	print "  \"kernel\": \"" rel "\","
	print "  \"tests\": ["
	for (i = 1; i <= n; i++)
		print t[i] (i < n ? "," : "")
	print "  ]"
	print "}"
}' "$spec" >"$res/results.json"
echo "$(grep -c '"name"' "$res/results.json") cases: canned (results in $res)"
exit "$st"
EOF

# get-kernel: "X.Y" gives $work/images/X.Y when that spec exists, else exit 4.
cat >"$work/fake-get-kernel" <<EOF
#!/bin/sh
[ -f "$work/images/\$1" ] && { echo "$work/images/\$1"; exit 0; }
echo "get-kernel: no Debian cloud-amd64 kernel \$1; available: 6.1 (6.1.176), 7.3 (7.3.4)" >&2
exit 4
EOF
chmod +x "$work/fake-runner" "$work/fake-get-kernel"

# spec NAME LINE...: a spec file (an "image" under images/, or the host's).
spec() {
	f=$work/images/$1
	shift
	mkdir -p "$work/images"
	for l in "$@"; do say "$l"; done >"$f"
}

# run OUT-NAME [ARGS...]: kernel-matrix with the stand-ins; output in
# $work/out, status in $rc, the matrix in $work/OUT-NAME.
run() {
	o=$1
	shift
	# shellcheck disable=SC2086 # $km_sh is a command with arguments
	env TW_RUNTESTS="$work/fake-runner" TW_VM_RUN="$work/fake-runner" \
		TW_GET_KERNEL="$work/fake-get-kernel" FAKE_HOST="$work/images/host" \
		$km_sh "$km" ${o:+-o "$work/$o"} "$@" >"$work/out" 2>&1 </dev/null
	rc=$?
}

# expect_json_text FILE FIXED-STRING: the matrix JSON has it (one entry a line).
expect_json_text() {
	grep -qF -- "$2" "$1" || fail "$1 lacks: $2
$(sed 's/^/  json| /' "$1")"
}

# Three kernels that agree on fanin_local.default and differ elsewhere.
standard_specs() {
	spec host "status 0" "release 6.18.0-host" \
		"fanin_local.default pass" "fanin_local.defer pass" "orphans.defer pass" \
		"wakeup.sqpoll skip 1 SQPOLL needs root"
	spec 7.3 "status 1" "release 7.3.4+deb13-cloud-amd64" \
		"fanin_local.default pass" "fanin_local.defer fail 1 lost CQE: producer 0 \\\"x\\\" seq 3" \
		"orphans.defer hang 1 teardown never finished" "wakeup.sqpoll skip 1 SQPOLL needs root"
	spec noboot "status 3" "noresults"
}

# ---- the checks ---------------------------------------------------------------

check_help() {
	run "" --help
	expect_status 0
	expect_line '^usage: '
	for s in 0 1 2; do
		grep -Eq "^Exit status: $s |[ ,]$s (every|a|usage)" "$work/out" ||
			fail "--help does not document exit status $s"
	done
	expect_line '"cases": \[\{"name", "differs"'
}

check_usage_errors() {
	for args in '' --bogus 'a/b=host' 'a:b=7.3' '--show' "--show $work/nothing" '--merge' \
		"--show $work -- --repeat 2" '--out'; do
		# shellcheck disable=SC2086 # word lists on purpose
		run "" $args
		expect_status 2
		expect_line "^kernel-matrix: "
	done
	mkdir -p "$work/full" && : >"$work/full/x"
	run full host
	expect_status 2
	expect_line 'not empty'
}

check_run() {
	standard_specs
	run m host 7.3 9.9 "boot=$work/images/noboot" -- fanin_local --repeat 1
	expect_status 1
	expect_line '^== \[1/4\] host: '
	expect_line '^== \[4/4\] boot: '
	expect_line '^   status 0 \(pass\), [0-9]+ s: 4 cases: canned$'
	expect_line '^   status 1 \(fail\), '
	expect_line '^   get-kernel: no Debian cloud-amd64 kernel 9\.9; available: 6\.1 \(6\.1\.176\), 7\.3 \(7\.3\.4\) \(get-kernel exit 4\)$'
	expect_line '^   status 3 \(no-suite\), [0-9]+ s: guest never reached the suite$'
	expect_line '^kernel matrix: 4 cases x 4 kernels, 2 differ \(\*\)$'
	expect_line '^  case                 host  7\.3   9\.9  boot$'
	expect_line '^  fanin_local\.default  pass  pass  -    -$'
	expect_line '^\* fanin_local\.defer    pass  FAIL  -    -$'
	expect_line '^\* orphans\.defer        pass  HANG  -    -$'
	expect_line '^  wakeup\.sqpoll        SKIP  SKIP  -    -$'
	expect_line '^  9\.9 +- +status 4 \(no-kernel\) +[0-9]+ s  no results$'
	expect_line '^  boot +- +status 3 \(no-suite\) +[0-9]+ s  no results$'
	expect_line '^  7\.3 +7\.3\.4\+deb13-cloud-amd64 +status 1 \(fail\) +[0-9]+ s  1 pass, 1 fail, 1 hang, 1 skip$'
	no_line '^reasons:'
	# Every runner got the RUNTESTS-ARGS, vm-run after "--".
	[ "$(cat "$work/m/host/args")" = "--results-dir $work/m/host fanin_local --repeat 1" ] ||
		fail "host args: $(cat "$work/m/host/args")"
	[ "$(cat "$work/m/7.3/args")" = "--results-dir $work/m/7.3 --console $work/m/7.3/console.log $work/images/7.3 -- fanin_local --repeat 1" ] ||
		fail "7.3 args: $(cat "$work/m/7.3/args")"
	for c in host 7.3 9.9 boot; do
		[ -f "$work/m/$c/column.info" ] || fail "no $c/column.info"
	done
	[ -f "$work/m/host/run.log" ] || fail "no host/run.log"
	[ -f "$work/m/9.9/get-kernel.log" ] || fail "no 9.9/get-kernel.log"
	j=$work/m/matrix.json
	valid_json "$j"
	expect_json_text "$j" '"runtests_args": "fanin_local --repeat 1",'
	expect_json_text "$j" '{"label": "7.3", "kernel": "7.3", "image": "'"$work/images/7.3"'", "release": "7.3.4+deb13-cloud-amd64", "status": 1, "status_text": "fail", "note": null, "seconds": '
	expect_json_text "$j" '"counts": {"pass": 1, "fail": 1, "skip": 1, "xfail": 0, "xpass": 0, "hang": 1, "crash": 0}}'
	expect_json_text "$j" '{"label": "9.9", "kernel": "9.9", "image": null, "release": null, "status": 4, "status_text": "no-kernel", "note": "get-kernel: no Debian cloud-amd64 kernel 9.9; available: 6.1 (6.1.176), 7.3 (7.3.4) (get-kernel exit 4)", '
	expect_json_text "$j" '{"name": "fanin_local.defer", "differs": true, "results": {"host": {"result": "pass", "runs": 1, "count": 1, "reason": "", "known_issue": null}, "7.3": {"result": "fail", "runs": 1, "count": 1, "reason": "lost CQE: producer 0 \"x\" seq 3", "known_issue": null}}}'
	expect_json_text "$j" '{"name": "fanin_local.default", "differs": false,'
	grep -q '^reasons:' "$work/m/matrix.txt" || fail "matrix.txt has no reasons"
	grep -qF '7.3: FAIL  lost CQE: producer 0 "x" seq 3' "$work/m/matrix.txt" || fail "matrix.txt: reason not unescaped"
}

check_diff_why() {
	standard_specs
	run m host 7.3 --diff
	expect_status 1
	no_line 'fanin_local\.default'
	no_line 'wakeup\.sqpoll'
	no_line '^reasons:'
	expect_line '^  case +host  7\.3$'
	expect_line '^\* fanin_local\.defer +pass +FAIL$'
	run "" --show "$work/m" --why
	expect_status 1
	expect_line '^  fanin_local\.default +pass +pass$'
	expect_line '^reasons:$'
	expect_line '^    7\.3: FAIL  lost CQE: producer 0 "x" seq 3$'
	expect_line '^    7\.3: HANG  teardown never finished$'
	expect_line '^    host: SKIP  SQPOLL needs root$'
	# Nothing differs: said so.
	spec same "status 0" "release 1.0" "fanin_local.default pass"
	run n "a=$work/images/same" "b=$work/images/same" --diff
	expect_status 0
	expect_line '^  \(no case differs\)$'
}

check_repeat() {
	spec host "status 1" "release 6.18.0-host" \
		"fanin_local.defer pass 1" "fanin_local.defer fail 2 order: seq 2 after 3" "fanin_local.defer pass 3" \
		"wakeup.defer pass 1" "wakeup.defer pass 2" "wakeup.defer pass 3"
	spec 7.3 "status 0" "release 7.3.4" \
		"fanin_local.defer pass 1" "fanin_local.defer pass 2" "fanin_local.defer pass 3" \
		"wakeup.defer pass 1" "wakeup.defer pass 2" "wakeup.defer pass 3"
	run m host 7.3 --why
	expect_status 1
	expect_line '^\* fanin_local\.defer +FAIL\(1/3\) +pass$'
	expect_line '^  wakeup\.defer +pass +pass$'
	expect_line '^    host: FAIL\(1/3\)  order: seq 2 after 3$'
	expect_json_text "$work/m/matrix.json" '"host": {"result": "fail", "runs": 3, "count": 1, "reason": "order: seq 2 after 3"'
}

check_show_merge() {
	standard_specs
	run a host 7.3
	expect_status 1
	sed -n '/^kernel matrix:/,$p' "$work/out" | grep -v '^matrix: ' >"$work/table-a"
	run b 7.3
	expect_status 1
	# --show redraws the table of a run.
	run "" --show "$work/a"
	expect_status 1
	sed -n '/^kernel matrix:/,$p' "$work/out" >"$work/table-show"
	expect_same "$work/table-a" "$work/table-show" "--show differs from the run's table"
	# --merge: the columns of both, a label seen twice gets a suffix.
	run merged --merge "$work/a" "$work/b"
	expect_status 1
	expect_line '^  case  +host  7\.3   7\.3-2$'
	expect_line '^\* fanin_local\.defer +pass  FAIL  FAIL$'
	valid_json "$work/merged/matrix.json"
	expect_json_text "$work/merged/matrix.json" '{"label": "7.3-2", "kernel": "7.3",'
	[ -f "$work/merged/7.3-2/results.json" ] || fail "merge did not copy the column"
	# All columns passing: exit 0.
	spec ok "status 0" "release 1.0" "fanin_local.default pass"
	run c "x=$work/images/ok"
	expect_status 0
	run "" --show "$work/c"
	expect_status 0
}

# ---- driver -------------------------------------------------------------------

checks=${TW_CHECKS:-"help usage_errors typos all_failed run diff_why repeat show_merge"}
# A mistyped KERNEL is a usage error before anything runs, not a column.
check_typos() {
	for k in 7.x 7..3 7.3. x=7.y "$work/no-such/bzImage" nosuchfile; do
		run "" "$k"
		expect_status 2
		expect_line "^kernel-matrix: (not a kernel|not a version|no such kernel image)"
		no_line '^== '
	done
}

# No column produced results: the table says so instead of being empty, and
# get-kernel's reason is kept whole.
check_all_failed() {
	spec noboot "status 3" "noresults"
	run m 9.9 "boot=$work/images/noboot"
	expect_status 1
	expect_line '^  no kernel produced results: every column failed \(below\)$'
	expect_line 'get-kernel: no Debian cloud-amd64 kernel 9\.9; available: .* \(get-kernel exit 4\)$'
}

before_check() {
	rm -rf "$work/images" "$work/m" "$work/n" "$work/a" "$work/b" "$work/c" "$work/merged"
}
# shellcheck disable=SC2086 # the list is words
run_checks $checks
