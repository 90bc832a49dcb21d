# SPDX-License-Identifier: MIT
#
# What a documentation file refers to, for test/meta/docs.sh: one line per
# reference, "KIND<tab>LINE<tab>WHAT", KIND one of
#   path   a path in the tree, relative to its top (src/..., test/..., ./x)
#   up     a path that starts with ../ (outside the tree, but in a link)
#   make   a make target named in code (`make doc`, an indented line)
#   link   a Markdown link's target as written, then a tab and the file
#          it leads to relative to the top: "-" for a URL, "^" for a
#          path that climbs out of the tree (md=1 only)
#   head   the anchor a Markdown heading gets (md=1 only)
#
#   awk -v md=1 -v file=doc/runner.md -f test/meta/doc-refs.awk doc/runner.md
#
# file is the file's path from the top (for links relative to its folder).
#
# Paths are recognised by their first folder, the project's top-level
# ones (and tools/, which is gone: a reference to it is dead). Fenced code
# blocks hold no links or headings; their paths and make targets count.

BEGIN {
	OFS = "\t"
	root = "(src|test|runner|guest|kernels|bench|scripts|doc|tools|results|build-static|\\.ci|\\.github)"
	pathchars = "[A-Za-z0-9_.*<>@+/-]"
}

md && /^ *(```|~~~)/ { fenced = !fenced; next }

{
	line = $0
	code = fenced || line ~ /^(    |\t)/
	if (md && !fenced) {
		if (line ~ /^#+ /)
			print "head", NR, anchor(line)
		rest = line
		while (match(rest, /\]\([^)]*\)/)) {
			target = substr(rest, RSTART + 2, RLENGTH - 3)
			sub(/ +".*"$/, "", target)
			print "link", NR, target, leads_to(target)
			rest = substr(rest, RSTART + RLENGTH)
		}
		gsub(/\]\([^)]*\)/, "]", line)
	}
	gsub(/[a-z]+:\/\/[^ )>`]*/, "", line)	# URLs name other trees
	scan(line, "(\\.\\./)+" pathchars "+", "up")
	scan(line, "(\\./)?" root "/" pathchars "*", "path")
	scan(line, "\\./[A-Za-z0-9_.-]+", "path")
	n = split(code ? line : spans(line), cmds, "\n")
	for (i = 1; i <= n; i++)
		makes(cmds[i])
}

# Print each match of re in s that starts a word, as kind.
function scan(s, re, kind,    before, m) {
	while (match(s, re)) {
		before = RSTART > 1 ? substr(s, RSTART - 1, 1) : ""
		m = substr(s, RSTART, RLENGTH)
		s = substr(s, RSTART + RLENGTH)
		if (before ~ /[A-Za-z0-9_.\/~$-]/)
			continue
		sub(/[.:]+$/, "", m)
		print kind, NR, m
	}
}

# The targets of the make commands in s (a code line, or code spans):
# make at the start of a command, then its words up to an option-less end.
function makes(s,    m, w, n, i) {
	while (match(s, /(^|[$;&|] *|^[ \t]+)make( +[^ ;&|#]+)*/)) {
		m = substr(s, RSTART, RLENGTH)
		s = substr(s, RSTART + RLENGTH)
		sub(/^.*make */, "", m)
		n = split(m, w, / +/)
		for (i = 1; i <= n; i++)
			if (w[i] ~ /^[a-z][a-z0-9_-]*$/)
				print "make", NR, w[i]
	}
}

# The inline code spans of s, each on a line of its own.
function spans(s,    out, n, p, i) {
	n = split(s, p, "`")
	for (i = 2; i <= n; i += 2)
		out = out "\n" p[i]
	return out
}

# The file a link leads to, from the top of the tree.
function leads_to(target,    d, p, n, i, k, out) {
	if (target ~ /^[a-z]+:/)
		return "-"
	sub(/#.*/, "", target)
	if (target == "")
		return file
	d = file
	sub(/\/?[^\/]*$/, "", d)
	n = split(d "/" target, p, "/")
	k = 0
	for (i = 1; i <= n; i++)
		if (p[i] == "..") {
			if (k-- == 0)
				return "^"
		} else if (p[i] != "." && p[i] != "")
			out[++k] = p[i]
	d = out[1]
	for (i = 2; i <= k; i++)
		d = d "/" out[i]
	return d
}

# GitHub's anchor of a heading: lower case, punctuation dropped, blanks to -.
function anchor(h) {
	sub(/^#+ +/, "", h)
	sub(/ +#*$/, "", h)
	h = tolower(h)
	gsub(/[^a-z0-9 _-]/, "", h)
	gsub(/ /, "-", h)
	return h
}
