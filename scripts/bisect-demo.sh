#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bisect-demo.sh LINUX-SRC DIR MUTANT.patch
#
# Makes DIR a git repository of the kernel tree LINUX-SRC (Debian's
# linux-source-7.3 or -7.2) with eight commits on top, for trying
# tools/bisect-run (README "Bisecting a regression"): harmless comment
# changes in io_uring/ (three of them in tw.c and mpscq.h, so the bisection
# has to judge by behaviour, not by file names), a commit that breaks the
# build and the one that fixes it (git bisect run must skip the broken one),
# and, as the 6th commit, a seeded bug: MUTANT.patch (for example
# local-pair-swap.patch of the developers' seeded bugs, which fanin_local
# catches on DEFER_TASKRUN rings). Prints the good and the bad commit.
# LINUX-SRC is only read.

set -eu

if [ $# -ne 3 ]; then
	echo "usage: scripts/bisect-demo.sh LINUX-SRC DIR MUTANT.patch" >&2
	exit 2
fi
src=$1
dir=$2
mutant=$3
[ -f "$src/io_uring/tw.c" ] || { echo "bisect-demo: no io_uring/tw.c in $src" >&2; exit 2; }
[ -f "$mutant" ] || { echo "bisect-demo: no such patch: $mutant" >&2; exit 2; }
[ ! -e "$dir" ] || { echo "bisect-demo: $dir exists" >&2; exit 2; }
mutant=$(cd "$(dirname "$mutant")" && pwd)/$(basename "$mutant")

cp -a "$src" "$dir"
cd "$dir"
git init -q
# No automatic repack after the commits: it would pack 1.8 GB in the
# background for minutes, in the middle of the bisection being timed.
git config gc.auto 0
# Debian's .gitignore ignores everything at the top level: add by force.
git add -f -A
commit() { # MESSAGE
	git -c user.name="Bisect Demo" -c user.email=demo@example.org commit -q -a -m "$1"
}
version=$(awk '/^VERSION =/ { v = $3 } /^PATCHLEVEL =/ { p = $3 } /^SUBLEVEL =/ { s = $3 }
	END { print v "." p "." s }' Makefile)
commit "Linux $version (Debian's linux-source)"
good=$(git rev-parse HEAD)

# insert_before FILE LINE-REGEX TEXT: TEXT as a line before the first line
# that matches.
insert_before() {
	awk -v re="$2" -v text="$3" '!done && $0 ~ re { print text; done = 1 } { print }' \
		"$1" >"$1.new" && mv "$1.new" "$1"
}

insert_before io_uring/tw.c '^static int __io_run_local_work_loop' \
	'/* Local work runs in the order it was queued: completions keep submission order. */'
commit "io_uring/tw: say why local work runs in FIFO order"

insert_before io_uring/wait.c '^static' \
	'/* A completion after min_wait has expired must end the wait. */'
commit "io_uring/wait: note the min_wait rule"

insert_before Documentation/networking/iou-zcrx.rst '^' \
	'.. io_uring task_work has a regression suite of its own (tw-suite).'
commit "Documentation: mention the task_work suite"

# A helper that is called before it exists: the build breaks here.
insert_before io_uring/tctx.c '^void io_uring_free_tctx' \
	'static void io_tctx_tidy(void) { io_tctx_tidy_helper(); }'
commit "io_uring/tctx: start a tidy-up"
sed -i '/^static void io_tctx_tidy(void)/d' io_uring/tctx.c
commit "io_uring/tctx: drop the tidy-up again (fixes the build)"

patch -p1 -s --no-backup-if-mismatch <"$mutant"
commit "io_uring/tw: run local task_work two at a time ($(basename "$mutant" .patch))"

insert_before io_uring/mpscq.h '^#include' '/* See mpscq_pop() for the mid-push window. */'
commit "io_uring/mpscq: point at the mid-push window"

insert_before io_uring/tw.c '^void tctx_task_work\(' \
	'/* Normal task_work: run from task_work_add() or by the SQ thread. */'
commit "io_uring/tw: say who runs normal task_work"

git log --oneline --reverse
echo "good: $good"
echo "bad:  $(git rev-parse HEAD)"
