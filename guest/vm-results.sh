# SPDX-License-Identifier: MIT
# shellcheck shell=sh disable=SC2154,SC2034 # guest/vm-run's variables, shared by its parts
#
# guest/vm-results.sh - where a guest's results land (sourced by guest/vm-run).
#
# A new results/<the guest's uname -r>/<UTC time>/ each run (with --bench
# results/bench/<release>/<UTC time>/), and a latest link beside it, as
# runtests.sh does on the host (runner/lib.sh's new_run_dir): what came back
# over the serial port, console.log, console-tail.txt and vm.json; the case
# a dead kernel took down added to results.json; the report on stdout.
# --results-dir DIR (the kernel tools give each run its own) is used as it
# is: empty, or an earlier run's, whose files are replaced.

# results_base RELEASE: where the runs of a release go (TW_RESULTS: another
# place than results/, for the meta tests).
results_base() {
	if [ "$mode" = bench ]; then
		say "${TW_RESULTS:-$top/results}/bench/$1"
	else
		say "${TW_RESULTS:-$top/results}/$1"
	fi
}

# check_results_dir RELEASE: before the build and the boot, can the results
# land? --results-dir must not be someone else's directory; either must
# be writable (not root's from an earlier sudo run).
check_results_dir() {
	crd=${results_dir:-$(results_base "$1")}
	if [ -n "$results_dir" ] && [ -d "$crd" ] && [ -n "$(ls -A "$crd")" ] &&
		[ ! -f "$crd/results.json" ] && [ ! -f "$crd/vm.json" ] && [ ! -f "$crd/bench.json" ]; then
		usage_error "$crd is not empty and holds no results: choose another --results-dir"
	fi
	crd_why=$(cannot_write_in "$crd") ||
		die "$E_USAGE" "cannot write the results: $crd_why; chown it or choose another --results-dir"
}

json_str() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr -d '\000-\037')"
}

json_opt() {
	if [ -n "$1" ]; then json_str "$1"; else printf null; fi
}

json_num() {
	if [ -n "$1" ]; then printf '%s' "$1"; else printf null; fi
}

write_vm_json() {
	args_text=$(eval "printf '%s ' $rt_args" | sed 's/ $//')
	{
		say "{"
		say "  \"schema\": 1,"
		say "  \"kernel\": $(json_str "$kernel_abs"),"
		say "  \"image\": $(json_str "$image_kind"),"
		say "  \"release\": $(json_opt "$release"),"
		say "  \"accel\": $(json_str "$accel_used"),"
		say "  \"accel_note\": $(json_opt "$accel_note"),"
		say "  \"smp\": $smp,"
		say "  \"mem\": $(json_str "$mem"),"
		say "  \"append\": $(json_str "$append"),"
		say "  \"user\": $(json_num "$user"),"
		say "  \"mode\": $(json_str "$mode"),"
		if [ "$mode" = bench ]; then
			say "  \"runtests_args\": null,"
			say "  \"bench_args\": $(json_str "$args_text"),"
		else
			say "  \"runtests_args\": $(json_str "$args_text"),"
			say "  \"bench_args\": null,"
		fi
		say "  \"initramfs_seconds\": $(json_num "$t_initramfs"),"
		say "  \"boot_seconds\": $(json_num "$t_boot"),"
		say "  \"suite_seconds\": $(json_num "$t_suite"),"
		say "  \"transfer_seconds\": $(json_num "$t_transfer"),"
		say "  \"total_seconds\": $(json_num "$t_total"),"
		say "  \"deadline\": $deadline,"
		say "  \"silence\": $silence,"
		say "  \"qemu\": {\"status\": $(json_str "$(kv status "$work/watch")"), \"exit\": $(json_num "$(kv exit "$work/watch")"), \"signal\": $(json_opt "$(kv signal "$work/watch")"), \"stopped\": $(json_opt "$(kv reason "$work/watch")")},"
		say "  \"verdict\": $(json_str "$verdict"),"
		say "  \"exit_status\": $exit_status,"
		say "  \"guest_status\": $(json_num "$guest_status"),"
		say "  \"test\": $(json_opt "$vtest"),"
		say "  \"reason\": $(json_str "$reason"),"
		say "  \"results\": $([ -n "$bundle" ] && echo true || echo false),"
		say "  \"bundle\": $(json_num "$bundle"),"
		say "  \"console\": \"console.log\","
		say "  \"console_tail\": \"console-tail.txt\""
		say "}"
	} >"$1/vm.json"
}

# Everything into the results directory, named after the guest's release.
store_results() {
	release=${v_release:-}
	[ -n "$release" ] || release=$image_release
	[ "$release" = - ] && release=$(basename "$kernel")
	check_results_dir "$release"
	if [ -z "$results_dir" ]; then
		out=$(new_run_dir "$(results_base "$release")") ||
			bad_input "cannot make a results directory in $(results_base "$release")"
	else
		out=$results_dir
		mkdir -p "$out" || bad_input "cannot create $out"
		[ -f "$out/vm.json" ] && say "replacing the earlier run in $out"
		rm -f "$out"/*.log "$out"/*.kmsg "$out"/results.tap "$out"/results.xml \
			"$out"/results.json "$out"/vm.json "$out"/console-tail.txt \
			"$out"/bench.json "$out"/bench.txt "$out"/bench.png "$out"/bench-p99.png
	fi
	if [ -n "$bundle" ]; then
		# -R: directories too (gcov/, what kernels/coverage asks the guest for)
		cp -Rp "$work/results"/* "$out"/ 2>/dev/null
	fi
	cp "$work/console.log" "$out/console.log"
	grep -v '^TW-HB ' "$work/console.log" | tail -n 60 >"$out/console-tail.txt"
	[ -n "$console_file" ] && cp "$work/console.log" "$console_file"
	write_vm_json "$out"
}

# The case the kernel took down has no record from the guest's runner: add
# it to the results.json that came back, as crash (panic, fatal oops) or hang
# (the guest stopped answering), so that results.json names it too.
record_lost_case() {
	[ -n "$vtest" ] || return 0
	case $verdict in
	panic) lost=crash ;;
	hang) lost=hang ;;
	*) return 0 ;;
	esac
	# It died in the first program: no reports came back, start them.
	if [ ! -f "$out/results.json" ]; then
		{
			say "{"
			say "  \"schema\": 1,"
			say "  \"kernel\": $(json_str "$release"),"
			say "  \"seed\": null,"
			say "  \"complete\": false,"
			say "  \"counts\": {\"pass\": 0, \"fail\": 0, \"skip\": 0, \"xfail\": 0, \"xpass\": 0, \"hang\": 0, \"crash\": 0},"
			say "  \"tests\": ["
			say "  ]"
			say "}"
		} >"$out/results.json"
	fi
	TW_LOST_REASON=$reason awk -v name="$vtest" -v result="$lost" \
		-f "$top/guest/lost-case.awk" "$out/results.json" >"$out/results.json.new" &&
		mv "$out/results.json.new" "$out/results.json"
}

report_verdict() {
	case $verdict in
	pass | fail | skip) say "${reason} (results in $out)" ;;
	*)
		say "$verdict: $reason"
		if [ -n "$bundle" ]; then
			say "results of the programs before it in $out; console tail in $out/console-tail.txt"
		else
			say "no results came back; console in $out/console.log, its tail in $out/console-tail.txt"
		fi
		;;
	esac
	say "vm: boot ${t_boot:-?} s, $mode ${t_suite:-?} s, transfer ${t_transfer:-?} s, initramfs $t_initramfs s ($accel_used)"
}

# --bench: bench.png next to bench.json, as make bench does, where gnuplot is.
plot_bench() {
	[ -f "$out/bench.json" ] && command -v gnuplot >/dev/null 2>&1 || return 0
	"$top/bench/plot" "$out/bench.json" >/dev/null || warn "no bench.png (bench/plot failed)"
}
