# SPDX-License-Identifier: MIT
#
# check-house.awk - the shell half of scripts/check-house: reads shell
# scripts and prints one line per breach of the house rules:
#   FILE:LINE: a shell string of N lines (an awk/sed/... program: give it a file)
#   FILE:LINE: a here-document C program of N lines (give it a file)
#   def NAME FILE      every shell function definition (the caller judges
#                      names defined in more than one file)
# -v max=N: the longest string or program allowed (default 30).
#
# It follows single and double quotes, backslash escapes, comments and
# here-documents closely enough for this project's scripts; it is not a
# shell parser.

function flush_heredoc(   n) {
	n = FNR - hd_start - 1
	if (n > max && hd_code)
		printf "%s:%d: a here-document C program of %d lines (give it a file)\n",
			FILENAME, hd_start, n
	hd_word = ""
}

# Scan one line outside here-documents: quotes, comments, here-doc starts.
function scan(line,   i, c, n, rest, w) {
	n = length(line)
	for (i = 1; i <= n; i++) {
		c = substr(line, i, 1)
		if (sq) {
			if (c == "'") {
				sq = 0
				if (FNR - sq_start > max)
					printf "%s:%d: a shell string of %d lines (an awk/sed/... program: give it a file)\n",
						FILENAME, sq_start, FNR - sq_start
			}
			continue
		}
		if (c == "\\") { i++; continue }
		if (dq) { if (c == "\"") dq = 0; continue }
		if (c == "\"") { dq = 1; continue }
		if (c == "'") { sq = 1; sq_start = FNR; continue }
		if (c == "#" && (i == 1 || substr(line, i - 1, 1) ~ /[ \t;(|&]/))
			return
		if (c == "<" && substr(line, i, 2) == "<<" && substr(line, i, 3) != "<<<") {
			rest = substr(line, i + 2)
			sub(/^-/, "", rest)
			if (match(rest, /^[ \t]*['"]?[A-Za-z_][A-Za-z_0-9]*/)) {
				w = substr(rest, RSTART, RLENGTH)
				gsub(/[ \t'"]/, "", w)
				pending = w
			}
			i++
		}
	}
}

BEGIN { if (max == "") max = 30 }
FNR == 1 { sq = dq = 0; hd_word = pending = "" }
{
	if (hd_word != "") {
		t = $0
		sub(/^\t+/, "", t)
		if (t == hd_word) { flush_heredoc(); next }
		if ($0 ~ /#include|int main/)
			hd_code = 1
		next
	}
	if (!sq && !dq && match($0, /^[ \t]*[A-Za-z_][A-Za-z_0-9]*[ \t]*\(\)/)) {
		name = substr($0, RSTART, RLENGTH)
		gsub(/[ \t()]/, "", name)
		print "def " name " " FILENAME
	}
	scan($0)
	if (pending != "") { hd_word = pending; pending = ""; hd_start = FNR; hd_code = 0 }
}
