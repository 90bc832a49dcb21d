#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Meta tests of the documentation: that it says what the tree is.
#  - the tables of tests in README and doc/tests.md are what `make doc`
#    writes from the tests' structs now (scripts/gen-test-table);
#  - every path README and doc/*.md name (files, folders, commands such as
#    kernels/get-kernel) exists in the tree, none points outside it, and
#    every make target they name is one of the Makefile's;
#  - every link of doc/**/*.md leads to a file of the tree, and its #anchor
#    to a heading there;
#  - every page of doc/ is reachable from README, link by link;
#  - doc/self-tests.md names every self-test and meta test;
#  - README stays under 250 lines;
#  - and the checker finds each kind of dead reference in a scratch tree.
# The references are found by test/meta/doc-refs.awk. Paths under
# results/ and build-static/ (made by runs and builds) and placeholders
# (NAME, WHAT, YYYY, <...>) are not looked up. Prints TAP; exits 0 when every
# check passed.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"

# The documentation of tree $1, from its top: README, every page of doc/.
doc_files() {
	say README
	(cd "$1" && find doc -name '*.md' 2>/dev/null) | LC_ALL=C sort
}

# refs ROOT FILE: the references of ROOT/FILE (doc-refs.awk's lines).
refs() {
	case $2 in
	*.md) awk -v md=1 -v file="$2" -f "$top/test/meta/doc-refs.awk" "$1/$2" ;;
	*) awk -v md=0 -v file="$2" -f "$top/test/meta/doc-refs.awk" "$1/$2" ;;
	esac
}

# in_tree ROOT PATH: PATH (relative to ROOT, maybe a glob) exists there, or
# is built from a C file that does (test/NAME.t, runner/supervise).
in_tree() {
	in_p=${2#./}
	in_p=${in_p%/}
	for in_f in "$1"/$in_p "$1/${in_p%.t}.c" "$1/$in_p.c"; do
		[ -e "$in_f" ] && return 0
	done
	return 1
}

# make_target ROOT NAME: NAME is a target of ROOT/Makefile.
make_target() {
	grep -Eq "^([^:#=]*[[:space:]])?$2([[:space:]][^:#=]*)?:([^=]|\$)" "$1/Makefile"
}

# dead_paths ROOT: one line per dead path, outside path or unknown make
# target in README and doc/*.md of ROOT ("FILE:LINE: ...").
dead_paths() {
	for f in "$1/README" "$1"/doc/*.md; do
		[ -f "$f" ] || continue
		name=${f#"$1"/}
		refs "$1" "$name" | while IFS='	' read -r kind line what leads; do
			case $kind in
			path)
				case $what in
				results/* | ./results/* | build-static/* | *'<'* | *NAME* | *WHAT* | *YYYY*) ;;
				*) in_tree "$1" "$what" || say "$name:$line: no such path in the tree: $what" ;;
				esac ;;
			up) say "$name:$line: a path outside the tree: $what" ;;
			make) make_target "$1" "$what" || say "$name:$line: no make target '$what' in the Makefile" ;;
			esac
		done
	done
}

# dead_links ROOT: one line per link of doc/**/*.md that leads nowhere.
dead_links() {
	doc_files "$1" | grep '\.md$' | while read -r name; do
		refs "$1" "$name" | while IFS='	' read -r kind line what leads; do
			[ "$kind" = link ] || continue
			case $leads in
			-) continue ;;
			^) say "$name:$line: a link out of the tree: $what"; continue ;;
			esac
			if [ ! -e "$1/$leads" ]; then
				say "$name:$line: a link to nothing: $what"
				continue
			fi
			case $what in
			*'#'*) ;;
			*) continue ;;
			esac
			refs "$1" "$leads" | awk -F '\t' -v a="${what#*#}" \
				'$1 == "head" && $3 == a { found = 1 } END { exit !found }' ||
				say "$name:$line: no heading '#${what#*#}' in $leads"
		done
	done
}

# unreachable ROOT: the pages of doc/ no chain of links from README reaches.
unreachable() {
	refs "$1" README | awk -F '\t' '$1 == "path" && $3 ~ /^doc\/.*\.md$/ { print $3 }' |
		LC_ALL=C sort -u >"$work/next"
	: >"$work/seen"
	while [ -s "$work/next" ]; do
		LC_ALL=C sort -u "$work/seen" "$work/next" >"$work/seen.new"
		mv "$work/seen.new" "$work/seen"
		while read -r name; do
			[ -f "$1/$name" ] || continue
			refs "$1" "$name" | awk -F '\t' '$1 == "link" && $4 ~ /\.md$/ { print $4 }'
		done <"$work/next" | LC_ALL=C sort -u | LC_ALL=C comm -23 - "$work/seen" >"$work/next.new"
		mv "$work/next.new" "$work/next"
	done
	doc_files "$1" | grep '\.md$' | LC_ALL=C sort | LC_ALL=C comm -23 - "$work/seen" |
		sed 's/$/: no link from README leads here/'
}

# ---- the checks ---------------------------------------------------------------

check_test_tables() {
	"$top/scripts/gen-test-table" --out "$work/gen" >"$work/out" 2>&1 ||
		fail "scripts/gen-test-table failed (make first)"
	for f in README doc/tests.md; do
		diff -u "$top/$f" "$work/gen/$f" >"$work/out" ||
			fail "$f: its table of tests is not what make doc writes now: run make doc"
	done
}

check_paths() {
	dead_paths "$top" >"$work/out"
	[ ! -s "$work/out" ] || fail "dead references in README or doc/*.md"
}

check_links() {
	dead_links "$top" >"$work/out"
	[ ! -s "$work/out" ] || fail "dead links in doc/"
}

check_reachable() {
	unreachable "$top" >"$work/out"
	[ ! -s "$work/out" ] || fail "pages README does not lead to"
}

check_self_tests_listed() {
	: >"$work/out"
	for t in "$top"/test/self/*.c "$top"/test/meta/*.sh; do
		case ${t##*/} in
		lib.sh | *-lib.sh) continue ;;
		esac
		t=${t#"$top"/}
		grep -qF -- "\`$t\`" "$top/doc/self-tests.md" || say "$t" >>"$work/out"
	done
	[ ! -s "$work/out" ] || fail "doc/self-tests.md does not name these"
}

check_readme_short() {
	n=$(wc -l <"$top/README")
	[ "$n" -lt 250 ] || fail "README has $n lines: keep it under 250, the rest goes to doc/"
}

# A scratch tree with one dead reference of each kind: each must be found.
check_finds_dead_references() {
	t=$work/tree
	mkdir -p "$t/doc/results" "$t/src"
	printf 'all:\n\ttrue\ndoc: all\n' >"$t/Makefile"
	: >"$t/src/here.c"
	cat >"$t/README" <<'EOF'
Read doc/README.md, src/here.c, src/here.t and src/gone.c; see ../shared/x.
Run `make doc`, then `make nodoc`.
EOF
	cat >"$t/doc/README.md" <<'EOF'
# Index
[a](a.md), [b](b.md#missing), [c](../src/here.c), [d](gone.md), [e](../../out.md)
[self](#index), [f](#nothing), [web](https://example.org/x.md)
EOF
	printf '# A page\n## Its part\nBack to [the index](README.md#index).\n' >"$t/doc/a.md"
	printf '# B\n' >"$t/doc/b.md"
	printf '# Lost\n' >"$t/doc/results/lost.md"
	{ dead_paths "$t"; dead_links "$t"; unreachable "$t"; } >"$work/out"
	for e in 'README:1: no such path in the tree: src/gone.c' \
		'README:1: a path outside the tree: ../shared/x' \
		"README:2: no make target 'nodoc' in the Makefile" \
		"doc/README.md:2: no heading '#missing' in doc/b.md" \
		'doc/README.md:2: a link to nothing: gone.md' \
		'doc/README.md:2: a link out of the tree: ../../out.md' \
		"doc/README.md:3: no heading '#nothing' in doc/README.md" \
		'doc/results/lost.md: no link from README leads here'; do
		grep -qxF -- "$e" "$work/out" || fail "not found: $e"
	done
	[ "$(wc -l <"$work/out")" = 8 ] || fail "more found than there is"
}

run_checks test_tables paths links reachable self_tests_listed readme_short \
	finds_dead_references
