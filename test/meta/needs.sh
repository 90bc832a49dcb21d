#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of the needs (src/needs.h): a refusal is a skip only on a
# kernel that predates the feature, a failure with the errno on any newer
# one, ENOMEM never a skip; a sub-check a kernel predates is a skipped part
# (SKIP-PART) in the program's TAP, on the runner's terminal, in
# results.json, results.tap and results.xml; -D lists the needs. The
# kernel's refusals are seeded by test/meta/preload/refuse.so (LD_PRELOAD;
# TW_REFUSE_SETUP, TW_REFUSE_REGISTER) into real test programs, and
# TW_KVER says which kernel to judge them for (7.3.4 has every feature).
# Prints TAP; exits 0 when every check passed.
#
#   test/meta/needs.sh
#   TW_CHECKS="part_old runner_skip_part" test/meta/needs.sh   only these checks
# Needs `make` first (the test programs, the shim, runner/supervise).

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/runner-lib.sh
. "$top/test/meta/runner-lib.sh"

shim=$top/test/meta/preload/refuse.so
# A sanitizer runtime would insist on coming before the shim.
ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0
export ASAN_OPTIONS

# prog ENV... PROGRAM ARGS...: test/PROGRAM.t with ENV, its output in
# $work/out, its status in $rc.
prog() {
	pr_n=0
	for pr_a in "$@"; do
		case $pr_a in
		*=*) pr_n=$((pr_n + 1)) ;;
		*) break ;;
		esac
	done
	pr_env=
	while [ "$pr_n" -gt 0 ]; do
		pr_env="$pr_env $1"	# no blanks in the values used here
		shift
		pr_n=$((pr_n - 1))
	done
	pr_t=$top/test/$1.t
	shift
	# shellcheck disable=SC2086 # the assignments are words
	env $pr_env "$pr_t" "$@" >"$work/out" 2>&1 </dev/null
	rc=$?
}

# A seeded refusal needs the shim and a kernel that sets rings up at all.
need_shim() {
	[ -f "$shim" ] || { say "no $shim (a -static build has none)"; exit 77; }
	[ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 0 ] ||
		{ say "io_uring is disabled here"; exit 77; }
}

# ---- a refusal of the whole case -------------------------------------------------

check_setup_new() {
	need_shim
	prog TW_KVER=7.3.4 TW_REFUSE_SETUP=0x100:22 LD_PRELOAD="$shim" fanin_local -p coop -d 0.1
	expect 1 '^not ok 1 fanin_local\.coop # FAIL .*EINVAL \(Invalid argument\), but kernel 7\.3\.4 has IORING_SETUP_COOP_TASKRUN \(since 5\.19\)'
}

check_setup_old() {
	need_shim
	prog TW_KVER=5.10 TW_REFUSE_SETUP=0x100:22 LD_PRELOAD="$shim" fanin_local -p coop -d 0.1
	expect 77 '^ok 1 fanin_local\.coop # SKIP kernel 5\.10 predates IORING_SETUP_COOP_TASKRUN \(first in 5\.19\)$'
}

check_enomem() {
	need_shim
	prog TW_KVER=5.11 TW_REFUSE_SETUP=0:12 LD_PRELOAD="$shim" tw_resched -p default -d 0.1
	expect 1 '^not ok 1 tw_resched\.default # FAIL .*ENOMEM \(Cannot allocate memory\): out of memory is never a skip'
}

check_probe() {
	need_shim
	prog TW_KVER=7.3.4 TW_REFUSE_REGISTER=8:22 LD_PRELOAD="$shim" fanin_local -p default -d 0.1
	expect 1 '^not ok 1 fanin_local\.default # FAIL probing IORING_OP_MSG_RING with IORING_REGISTER_PROBE: EINVAL'
	prog TW_KVER=5.5 TW_REFUSE_REGISTER=8:22 LD_PRELOAD="$shim" fanin_local -p default -d 0.1
	expect 77 '^ok 1 fanin_local\.default # SKIP kernel 5\.5 predates IORING_OP_MSG_RING'
}

check_io_uring_disabled() {
	need_shim
	mkdir -p "$work/sys"
	echo 2 >"$work/sys/io_uring_disabled"
	prog TW_KVER=7.3.4 TW_SYSCTL_DIR="$work/sys" TW_REFUSE_SETUP=0:1 LD_PRELOAD="$shim" \
		tw_resched -p default -d 0.1
	expect 77 '^ok 1 tw_resched\.default # SKIP .*EPERM .*io_uring disabled for this user \(kernel\.io_uring_disabled=2\)$'
	echo 0 >"$work/sys/io_uring_disabled"
	prog TW_KVER=7.3.4 TW_SYSCTL_DIR="$work/sys" TW_REFUSE_SETUP=0:1 LD_PRELOAD="$shim" \
		tw_resched -p default -d 0.1
	expect 1 '^not ok 1 tw_resched\.default # FAIL .*EPERM \(Operation not permitted\), but kernel 7\.3\.4'
}

# ---- a refused sub-check: a skipped part, or a failure ----------------------------

check_part_old() {
	need_shim
	prog TW_KVER=6.11 waits -p default -d 0.2
	expect 0 '^ok 1 waits\.default$'
	expect_line '^# SKIP-PART waits\.default: registered wait region: kernel 6\.11 predates IORING_REGISTER_MEM_REGION'
	expect_line '^# SKIP-PART waits\.default: min_wait steps \(late, early\): kernel 6\.11 predates IORING_FEAT_MIN_TIMEOUT \(first in 6\.12\)$'
}

check_part_new() {
	need_shim
	prog TW_KVER=7.3.4 TW_REFUSE_REGISTER=34:22 LD_PRELOAD="$shim" waits -p default -d 0.2
	expect 1 '^not ok 1 waits\.default # FAIL registered wait region: EINVAL \(Invalid argument\), but kernel 7\.3\.4 has'
	no_line 'SKIP-PART'
}

check_recv_part() {
	need_shim
	prog TW_KVER=5.19 TW_REFUSE_REGISTER=22:22 LD_PRELOAD="$shim" request_kinds -p default -d 0.1
	expect 0 '^# SKIP-PART request_kinds\.default: multishot recv streams: kernel 5\.19 predates'
	prog TW_KVER=7.3.4 TW_REFUSE_REGISTER=22:22 LD_PRELOAD="$shim" request_kinds -p default -d 0.1
	expect 1 '^not ok 1 request_kinds\.default # FAIL multishot recv streams: EINVAL'
}

# ---- what the needs look like ------------------------------------------------------

check_describe() {
	prog waits -D
	expect 0
	[ "$(cut -f3 "$work/out")" = "msg_ring 5.18; parts: min_timeout 6.12, reg_wait 6.13" ] ||
		fail "waits -D: the needs column is '$(cut -f3 "$work/out")'"
	env TW_TESTDIR="$top/test" "$top/runtests.sh" --describe >"$work/out" 2>&1 </dev/null
	rc=$?
	expect 0 "^resize	[a-z_,]+	msg_ring 5\.18, resize_rings 6\.13	-	"
}

check_runner_skip_part() {
	export TW_FAKE='*.coop=skip_part'
	run
	expect_status 0
	expect_line '^fake_verdicts\.coop +pass +[0-9.]+s$'
	expect_line '^    SKIP-PART fake part: fake: the kernel predates <"it"> & more$'
	[ "$(grep -c 'SKIP-PART' "$work/out")" = 1 ] || fail "SKIP-PART shown more than once"
	expect_line '^2 cases: 2 pass; 1 with skipped parts \(results in '
	valid_reports
	expect_json fake_verdicts.coop pass \
		'"skipped_parts": ["fake part: fake: the kernel predates <\"it\"> & more"]'
	expect_json fake_verdicts.default pass '"skipped_parts": []'
	expect_tap '^# SKIP-PART fake_verdicts\.coop: fake part: fake: the kernel predates <"it"> & more$'
	expect_junit fake_verdicts.coop pass
	grep -qF '<system-out>SKIP-PART fake part: fake: the kernel predates &lt;&quot;it&quot;&gt; &amp; more' \
		"$res/results.xml" || fail "results.xml: no system-out with the skipped part"
}

run_runner_checks "setup_new setup_old enomem probe io_uring_disabled part_old part_new recv_part
	describe runner_skip_part"
