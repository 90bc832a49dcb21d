#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of kernels/mutation-score without a kernel: kernels/build-kernel and
# guest/vm-run are stand-ins (test/meta/mutation-score-lib.sh). The fake
# build "builds" an image named after the patch (or fails as the patch's
# name says: noapply, nobuild); the fake
# vm-run copies the canned results directory of that name (results.json,
# vm.json) and exits with its status. So each check knows the table and
# mutation.json to expect: caught/missed, the class of each failure (order,
# lost CQE, wake-up, hang, kernel splat, panic), the first failing case and
# its time, patches that do not apply or build (reported, not fatal), an
# unpatched kernel that fails (stop, exit 3), the lock, --show, every run
# stopping at its first failure unless --full-run, usage errors. Prints
# TAP; exits 0 when every check passed. --merge has its own:
# test/meta/mutation-merge.sh.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/mutation-score-lib.sh
. "$top/test/meta/mutation-score-lib.sh"

# ---- checks -------------------------------------------------------------------

check_help() {
	run "" --help
	expect_status 0
	expect_line '^usage: kernels/mutation-score'
	expect_line 'Exit status'
}

check_usage_errors() {
	run ""
	expect_status 2
	expect_line '^mutation-score: no kernel source tree given$'
	run "" --bogus "$src"
	expect_status 2
	expect_line 'unknown option: --bogus'
	run "" --patches /nonexistent "$src"
	expect_status 2
	expect_line 'no such patch or directory: /nonexistent'
	run "" "$src" "$src"
	expect_status 2
	run "" "$work/nope"
	expect_status 4
	expect_line '^mutation-score: no such kernel source tree: '
	mkdir -p "$work/empty"
	run "" --patches "$work/empty" "$src"
	expect_status 4
	expect_line 'no patches'
	run "" --show "$work/empty"
	expect_status 2
	expect_line 'not a mutation-score directory'
	[ "$(grep -c . "$work/out")" -le 2 ] || fail "a bad input gives more than two lines"
}

check_classes() {
	base_ok
	canned order 1 fail "" "fanin_local.defer pass 0.5" "fanin_local.defer_flag fail 0.07 ledger fanin: order: producer 2 channel 0: seq 0 completed after seq 1" \
		"orphans.default pass 1.0" "fanin_normal.defer fail 0.05 order: channel 0 (pipe read, ring 0): got record 7, expected 6"
	canned lost 1 fail "" "fanin_local.defer pass 0.5" "notify_taskrun.coop_flag fail 0.02 lost CQE: the submitter found 0 of 1 CQEs on resuming"
	canned wake 1 fail "" "fanin_local.defer pass 0.5" "wakeup.defer fail 10.5 min_wait: a completion after min_wait did not end it" \
		"wakeup.defer_flag fail 10.2 lost wake-up: slept to its timeout"
	canned teardown 1 fail "" "close_midflight.defer hang 20.1 teardown of the ring did not finish" \
		"kill_midflight.default fail 3.0 the ring's teardown never finished"
	canned splat 1 fail "" "orphans.defer hang 20.2 exec round 2: the ring's teardown never finished; kernel: BUG: kernel NULL pointer dereference"
	canned panic 1 panic orphans.defer "fanin_local.defer pass 0.5" "fanin_local.sqpoll pass 0.7"
	canned crash 1 fail "" "kill_midflight.defer crash 1.5 the case process died of signal 11"
	canned survivor 0 pass "" "fanin_local.defer pass 0.5" "orphans.default pass 1.0"
	# A case that hangs after an order violation: its first diagnostic
	# (program log) is the class, not the hang the runner reports.
	canned swap 1 fail "" "fanin_local.defer hang 20.7 thread prod2 (tid 319) did not finish"
	{
		say "# case fanin_local.defer: DEFER_TASKRUN"
		say "# FAIL fanin_local.defer [defer]: ledger fanin: order: producer 2 channel 0: seq 0 completed after seq 1"
		say "# HANG fanin_local.defer [defer]: thread prod2 (tid 319) did not finish (no progress for 20.0 s)"
		say "# FAIL fanin_local.sqpoll [sqpoll]: lost CQE: not this case"
	} >"$work/canned/swap/fanin_local.log"
	canned flag 1 fail "" "notify_taskrun.coop_flag fail 0.3 IORING_SQ_TASKRUN is clear while the stopped submitter has task_work queued (sq_flags 0x0)"
	mkpatches order lost wake teardown splat panic crash survivor swap flag
	run m --patches "$work/patches" "$src" -- fanin_local --repeat 2
	expect_status 1
	expect_line '^mutation score: 9/10 caught$'
	# Progress: each kernel's first line says which of how many it is.
	expect_line '^mutation-score: == \[1/11\] base$'
	expect_line '^mutation-score: == \[11/11\] '
	expect_line '^  flag +caught .* notification 1 +notify_taskrun.coop_flag 0\.3s'
	expect_line '^  base +pass '
	expect_line '^  order +caught .* order 2 +fanin_local.defer_flag 0\.6s +2: fanin_local.defer_flag fanin_normal.defer$'
	expect_line '^  lost +caught .* lost CQE 1 +notify_taskrun.coop_flag 0\.5s'
	expect_line '^  wake +caught .* wake-up 2 +wakeup.defer 11\.0s'
	expect_line '^  teardown +caught .* hang 2 '
	expect_line '^  splat +caught .* kernel splat 1 +orphans.defer 20\.2s'
	expect_line '^  panic +caught .* panic 1 +orphans.defer 1\.2s'
	expect_line '^  crash +caught .* crash 1 '
	expect_line '^  survivor +missed '
	expect_line '^  swap +caught .* order 1 +fanin_local.defer 20\.7s'
	expect_line '^  swap: fanin_local.defer: order: ledger fanin: order: producer 2 channel 0: seq 0 completed after seq 1 \(then: hang: thread prod2 \(tid 319\) did not finish\)$'
	expect_line '^  survivor: MISSED \(2 cases passed\)$'
	expect_line '^runtests args: --stop-at-first-failure fanin_local --repeat 2$' "$work/m/order/args"
	j=$work/m/mutation.json
	valid_json "$j"
	expect_line '^  "caught": 9,$' "$j"
	expect_line '^  "missed": 1,$' "$j"
	expect_line '"label": "order", "kind": "mutant", .*"status": "caught".*"classes": \{"order": 2\}, "first": \{"case": "fanin_local.defer_flag", "class": "order", "seconds": 0.57' "$j"
	expect_line '"label": "panic".*"vm_verdict": "panic".*"caught_by": \[\{"case": "orphans.defer", "class": "panic"' "$j"
	# --show redraws the same table from the directories.
	sed -n '/^mutation score/,/^results: /p' "$work/out" | sed '$d' >"$work/table.txt"
	run "" --show "$work/m"
	expect_status 0
	expect_same "$work/table.txt" "$work/out" "--show differs from the run's table"
	expect_same "$work/m/mutation.txt" "$work/out" "mutation.txt differs from the table"
	# --update writes both files again, the same.
	cp "$work/m/mutation.json" "$work/json.1"
	rm -f "$work/m/mutation.txt"
	run "" --update "$work/m"
	expect_status 0
	expect_same "$work/m/mutation.txt" "$work/out" "--update: mutation.txt differs from the table"
	expect_same "$work/json.1" "$work/m/mutation.json" "--update wrote another mutation.json"
}

check_not_scored() {
	base_ok
	canned order 1 fail "" "fanin_local.defer_flag fail 0.07 order: x"
	canned noboot 3 no-boot "" 
	rm -f "$work/canned/noboot/results.json"
	mkpatches noapply-x nobuild-y order noboot
	run m --patches "$work/patches" "$src"
	expect_status 0
	expect_line '^mutation score: 1/1 caught \(3 not scored\)$'
	expect_line '^  noapply-x +no-apply '
	expect_line 'the patch does not apply: 1 out of 1 hunk FAILED'
	expect_line '^  nobuild-y +build-failed '
	expect_line 'the build failed: .*/nobuild-y/build.log'
	expect_line '^  noboot +no-boot '
	grep -q boom "$work/m/nobuild-y/build.log" || fail "the failed build's log was not kept"
	valid_json "$work/m/mutation.json"
}

check_base_fails() {
	canned base 1 fail "" "fanin_local.defer fail 0.5 order: x"
	canned order 1 fail "" "fanin_local.defer_flag fail 0.07 order: x"
	mkpatches order
	run m --patches "$work/patches" "$src"
	expect_status 3
	expect_line '^mutation-score: the suite does not pass on the unpatched kernel \(canned fail\): .*/m/base; no patch was tried$'
	[ ! -d "$work/m/order" ] || fail "a patch was tried after the base failed"
	mkpatches nobuild-base
	rm -rf "$work/canned/base"
	# An unpatched kernel that does not build: a tree whose base "build" fails.
	cat >"$work/fake-build-base-fails" <<EOF
#!/bin/sh
echo "build-kernel: the build failed" >&2
exit 1
EOF
	chmod +x "$work/fake-build-base-fails"
	rm -rf "$work/n"
	TW_BUILD_KERNEL=$work/fake-build-base-fails TW_VM_RUN=$work/fake-vm-run \
		sh "$ms" --kernel-out "$work/kout" -o "$work/n" --patches "$work/patches" "$src" >"$work/out" 2>&1
	rc=$?
	expect_status 3
	expect_line 'the unpatched kernel cannot be tested \(build-failed'
}

check_prebuilt() {
	base_ok
	canned order 1 fail "" "fanin_local.defer_flag fail 0.07 order: x"
	mkpatches order nobuild-z
	echo "kernel base" >"$work/img-base"
	echo "kernel order" >"$work/img-order"
	echo "kernel order" >"$work/img-z"
	run m --image "base=$work/img-base" --image "order=$work/img-order" \
		--image "nobuild-z=$work/img-z" --patches "$work/patches" "$src"
	expect_status 0
	expect_line '^mutation score: 2/2 caught$'
	expect_line '^  nobuild-z +caught +- '
	expect_line '^    +prebuilt: .*/img-z$'
	[ ! -d "$work/kout" ] || fail "a prebuilt kernel was built"
	cmp -s "$work/m/order/bzImage" "$work/img-order" || fail "the booted image was not kept"
	run "" --image nonsense "$src"
	expect_status 2
	expect_line 'wants NAME=IMAGE'
	run "" --image "x=$work/nope" "$src"
	expect_status 2
	expect_line 'no such kernel image'
}

check_lock() {
	command -v flock >/dev/null 2>&1 || return 0
	base_ok
	canned order 1 fail "" "fanin_local.defer_flag fail 0.07 order: x"
	mkpatches order
	: >"$work/seen"
	FAKE_LOCK=$work/lockfile FAKE_LOCK_SEEN=$work/seen run m --lock "$work/lockfile" --patches "$work/patches" "$src"
	expect_status 0
	[ "$(grep -c held "$work/seen")" = 2 ] || fail "the builds did not run under the lock ($(grep -c held "$work/seen") of 2)"
	: >"$work/seen"
	FAKE_LOCK=$work/lockfile FAKE_LOCK_SEEN=$work/seen run m --patches "$work/patches" "$src"
	expect_status 0
	[ "$(grep -c held "$work/seen")" = 0 ] || fail "a lock was taken without --lock"
}

# Every run stops at its first failure (runtests.sh -x) unless --full-run;
# mutation.json says which.
check_full_run() {
	base_ok
	canned order 1 fail "" "fanin_local.defer_flag fail 0.07 order: x"
	mkpatches order
	run m --patches "$work/patches" "$src"
	expect_status 0
	for k in base order; do
		expect_line '^runtests args: --stop-at-first-failure$' "$work/m/$k/args"
	done
	expect_line '^  "runtests_args": "--stop-at-first-failure",$' "$work/m/mutation.json"
	run m --full-run --patches "$work/patches" "$src" -- --repeat 2
	expect_status 0
	for k in base order; do
		expect_line '^runtests args: --repeat 2$' "$work/m/$k/args"
	done
	expect_line '^  "runtests_args": "--repeat 2",$' "$work/m/mutation.json"
}

# ---- driver -------------------------------------------------------------------

checks=${TW_CHECKS:-"help usage_errors classes not_scored base_fails prebuilt lock full_run"}
before_check() {
	rm -rf "$work/canned" "$work/m" "$work/n" "$work/kout"
}
# shellcheck disable=SC2086 # the list is words
run_checks $checks
