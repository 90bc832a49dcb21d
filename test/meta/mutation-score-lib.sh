# SPDX-License-Identifier: MIT
# shellcheck shell=sh disable=SC2154 # $top and $work are the meta test's
#
# What the meta tests of kernels/mutation-score share (test/meta/
# mutation-score.sh, mutation-merge.sh): sourced right after they set $top.
# It brings test/meta/lib.sh (fail, expect, run_checks, $work, ...), $ms
# (the tool) and stand-ins for kernels/build-kernel and guest/vm-run, so no
# kernel is built or booted:
#   fake-build-kernel  "builds" an image named after the patch (or fails as
#                      the patch's name says: noapply, nobuild)
#   fake-vm-run        copies the canned results directory of the image's
#                      name (results.json, vm.json) and exits with its status
#   canned NAME STATUS VERDICT VM-TEST "CASE RESULT SECONDS REASON"...
#                      that directory; base_ok: an unpatched kernel that passes
#   mkpatches NAME...  $work/patches/NAME.patch, each its own text
#   run OUT-DIR ARGS...  mutation-score --kernel-out ... -o $work/OUT-DIR
#                      ARGS...: its output in $work/out, its status in $rc
#   $src               a kernel source tree (a Makefile and io_uring/)

# shellcheck source=test/meta/lib.sh
. "$top/test/meta/lib.sh"
ms=$top/kernels/mutation-score
ms_sh=${TW_SH:-sh}

cat >"$work/fake-build-kernel" <<'EOF'
#!/bin/sh
out= patch= src=
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift ;;
	--patch) patch=$2; shift ;;
	--fragment | -j) shift ;;
	*) src=$1 ;;
	esac
	shift
done
echo "$*" >/dev/null
[ -d "$src/io_uring" ] || { echo "build-kernel: not a kernel tree: $src" >&2; exit 3; }
name=base
[ -n "$patch" ] && name=$(basename "$patch" .patch)
mkdir -p "$out"
echo "built $name" >"$out/build.log"
[ -n "${FAKE_LOCK_SEEN:-}" ] && [ -n "${FAKE_LOCK:-}" ] && ! flock -n "$FAKE_LOCK" true && echo held >>"$FAKE_LOCK_SEEN"
case $name in
noapply*) echo "build-kernel: patch does not apply: $patch" >&2; echo "1 out of 1 hunk FAILED" >&2; exit 6 ;;
nobuild*) echo "io_uring/tw.c:1: error: boom" >>"$out/build.log"; echo "build-kernel: the build failed" >&2; exit 1 ;;
esac
echo "kernel $name" >"$out/$name"; echo "$out/$name"
EOF

# vm-run IMAGE: the canned directory $FAKE_CANNED/<image's name>: copied
# into --results-dir; its file "status" is the exit status.
cat >"$work/fake-vm-run" <<'EOF'
#!/bin/sh
res= image=
while [ $# -gt 0 ]; do
	case $1 in
	--results-dir | --console | --smp) [ "$1" = --results-dir ] && res=$2; shift ;;
	--) shift; break ;;
	*) image=$1 ;;
	esac
	shift
done
c=$FAKE_CANNED/$(sed -n "s/^kernel //p" "$image")
[ -d "$c" ] || { echo "fake-vm-run: no canned $c" >&2; exit 4; }
[ -z "$(ls -A "$res" 2>/dev/null)" ] || { echo "fake-vm-run: $res is not empty" >&2; exit 2; }
mkdir -p "$res" && cp "$c"/*.json "$c"/*.log "$res/" 2>/dev/null
echo "runtests args: $*" >"$res/args"
exit "$(cat "$c/status")"
EOF
chmod +x "$work/fake-build-kernel" "$work/fake-vm-run"

# canned NAME STATUS VERDICT VM-TEST "CASE RESULT SECONDS REASON"...
canned() {
	d=$work/canned/$1
	mkdir -p "$d"
	echo "$2" >"$d/status"
	verdict=$3 vmtest=$4
	shift 4
	for t in "$@"; do say "$t"; done | awk '
	{
		reason = ""
		for (i = 4; i <= NF; i++)
			reason = reason (i > 4 ? " " : "") $i
		split($1, p, ".")
		t[++n] = sprintf("    {\"name\": \"%s\", \"program\": \"%s\", \"profile\": \"%s\", \"result\": \"%s\", \"seconds\": %s, \"reason\": \"%s\", \"iteration\": 1, \"log\": \"%s.log\", \"kmsg\": null, \"known_issue\": null}",
			$1, p[1], p[2], $2, $3, reason, p[1])
	}
	END {
		print "{"
		print "  \"schema\": 1,"
		print "  \"kernel\": \"7.3.4+\","
		print "  \"tests\": ["
		for (i = 1; i <= n; i++)
			print t[i] (i < n ? "," : "")
		print "  ]"
		print "}"
	}' >"$d/results.json"
	{
		say "{"
		say "  \"schema\": 1,"
		say "  \"release\": \"7.3.4+\","
		say "  \"total_seconds\": 40.5,"
		say "  \"verdict\": \"$verdict\","
		say "  \"test\": $([ -n "$vmtest" ] && printf '"%s"' "$vmtest" || printf null),"
		say "  \"reason\": \"canned $verdict\","
		say "  \"results\": true"
		say "}"
	} >"$d/vm.json"
}

mkpatches() { # NAME...
	rm -rf "$work/patches"
	mkdir -p "$work/patches"
	# Each patch its own text: a merge tells patches apart by their checksum.
	for p in "$@"; do say "seeded bug $p" >"$work/patches/$p.patch"; done
}

run() { # OUT-DIR ARGS...: mutation-score's output in $work/out, status in $rc
	o=$1
	shift
	[ -n "$o" ] && rm -rf "${work:?}/$o"
	# shellcheck disable=SC2086 # ms_sh: may be two words
	TW_BUILD_KERNEL=$work/fake-build-kernel TW_VM_RUN=$work/fake-vm-run \
		FAKE_CANNED=$work/canned $ms_sh "$ms" --kernel-out "$work/kout" ${o:+-o "$work/$o"} "$@" >"$work/out" 2>&1
	rc=$?
}

src=$work/linux
mkdir -p "$src/io_uring"
: >"$src/Makefile"

base_ok() {
	canned base 0 pass "" "fanin_local.defer pass 0.5" "orphans.default pass 1.0" "wakeup.defer pass 0.5"
}
