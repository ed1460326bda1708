#!/usr/bin/env bash
# report.sh: the one table and the verdict on issue 7's targets, from $BENCH_RES; sourced
# last by scripts/bench (uses bench_stat, bench_ratio, bench_row from bench/measure.sh).
# shellcheck disable=SC2154 # quick, certs, hold_counts, build, out: set by scripts/bench

bench_mem_per() { # bench_mem_per NAME N: KiB per idle connection, or nan
	awk -v w="$1" -v n="$2" '$1 == w && $2 == n { for (i = 3; i < NF; i++)
		if ($i == "per_conn_kib") v = $(i + 1) } END { print (v == "" ? "nan" : v) }' \
		"$BENCH_RES/memory.txt"
}

bench_verdict() { # bench_verdict VALUE OP LIMIT: MET / NOT MET / NOT MEASURED
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (v == "nan" || v == "-" || v == "") { print "NOT MEASURED"; exit }
		ok = (op == ">=") ? (v + 0 >= l + 0) : (v + 0 <= l + 0)
		print ok ? "MET" : "NOT MET" }'
}

bench_report() {
	local cert name label auth np dp f n off on onu r d1 d2 a b
	echo "## scripts/bench $([ "$quick" = yes ] && echo --quick)"
	echo
	sed 's/^/    /' "$BENCH_RES/machine.txt"
	echo
	echo "Crypto ceiling (openssl speed, one core): $(tr '\n' ' ' <"$BENCH_RES/crypto.txt")"
	echo
	echo "msgs/s: messages accepted (250 after the dot) per second, median of the runs."
	echo "sess: connect to the message's 250 (what a one-message client waits);"
	echo "msg: MAIL to the 250 after the dot; milliseconds, medians of each run's percentile."
	echo "CPU/msg: CPU milliseconds per message of the server's processes (authgate: network"
	echo "process + auth process + PAM workers; nginx: master + worker + authhttp), warm-up"
	echo "included; the sink and the client are not counted."
	echo "x nginx: msgs/s over the nginx row doing the same auth work; x direct: over Postfix."
	echo
	bench_table_head
	for cert in "${certs[@]}"; do
		[ -f "$BENCH_RES/cases.$cert" ] || continue
		while IFS='|' read -r name _ label auth np dp _; do
			bench_row "$cert" "$name" "$label" "$auth" "$np" "$dp"
		done <"$BENCH_RES/cases.$cert"
	done
	echo
	echo "Every run (msgs/s):"
	for cert in "${certs[@]}"; do
		[ -f "$BENCH_RES/cases.$cert" ] || continue
		while IFS='|' read -r name _; do
			printf '    %-16s' "$cert-$name"
			for f in "$BENCH_RES/$cert-$name".*.json; do
				[ -s "$f" ] && printf ' %8.1f' "$(jq -r '.msgs_per_s // 0' "$f")"
			done
			printf '   errors: %s\n' "$(cat "$BENCH_RES/$cert-$name".*.json |
				jq -s -c 'map(.errors // {}) | add')"
		done <"$BENCH_RES/cases.$cert"
	done
	echo
	echo "Memory per idle TLS connection (RSS growth of the server's process tree):"
	sed 's/^/    /' "$BENCH_RES/memory.txt"
	echo
	off=nan on=nan onu=nan
	if [ -s "$BENCH_RES/milter.txt" ]; then
		# shellcheck disable=SC2046 # numbers only
		off=$(bench_median $(awk '$1 == "off" { print $2 }' "$BENCH_RES/milter.txt"))
		# shellcheck disable=SC2046
		on=$(bench_median $(awk '$1 == "inet" { print $2 }' "$BENCH_RES/milter.txt"))
		# shellcheck disable=SC2046
		onu=$(bench_median $(awk '$1 == "unix" { print $2 }' "$BENCH_RES/milter.txt"))
	fi
	echo "Milter (smtp-source, 20 sessions): Postfix alone $off msgs/s; with authgate-milter" \
		"on inet: $on msgs/s (x $(bench_ratio "$on" "$off")), on a unix socket: $onu msgs/s" \
		"(x $(bench_ratio "$onu" "$off")); every run: $(tr '\n' ' ' <"$BENCH_RES/milter.txt")"
	echo "  with bench/nullmilter (the same negotiation, no work) on a unix socket:" \
		"$(bench_milter_median null) msgs/s (x $(bench_ratio "$(bench_milter_median null)" "$off"));" \
		"CPU ms per message (medians; Postfix's process tree, queue drained / the milter):" \
		"off $(bench_milter_median off cpu-postfix)," \
		"null $(bench_milter_median null cpu-postfix) / $(bench_milter_median null cpu-milter)," \
		"unix $(bench_milter_median unix cpu-postfix) / $(bench_milter_median unix cpu-milter)," \
		"inet $(bench_milter_median inet cpu-postfix) / $(bench_milter_median inet cpu-milter)"
	echo
	echo "Instructions per message, authgate-proxy network process (callgrind):" \
		"$(tr '\n' ' ' <"$BENCH_RES/callgrind.txt")"
	if [ -s "$BENCH_RES/profile.txt" ]; then
		echo
		echo "Instructions per message, every server process (callgrind; handshake: under"
		echo "SSL_do_handshake; crypt: under crypt(3); own: the rest, the server's own code,"
		echo "libevent, libc, TLS record I/O):"
		sed 's/^/    /' "$BENCH_RES/profile.txt"
	fi
	if [ -s "$BENCH_RES/syscalls.txt" ]; then
		echo
		echo "System calls per message (strace -c, network process / nginx worker):" \
			"$(tr '\n' ' ' <"$BENCH_RES/syscalls.txt")"
	fi
	for f in callgrind-top callgrind-incl; do
		[ -s "$BENCH_RES/$f.txt" ] || continue
		echo
		echo "authgate-proxy, $f (callgrind_annotate$([ "$f" = callgrind-incl ] && echo ' --inclusive=yes')):"
		sed 's/^/    /' "$BENCH_RES/$f.txt"
	done
	echo
	echo "Targets (issue 7):"
	for cert in "${certs[@]}"; do
		a=$(bench_stat "$cert-ag-nd" .msgs_per_s) b=$(bench_stat "$cert-ngx-nd" .msgs_per_s)
		r=$(bench_ratio "$a" "$b")
		echo "  1. $cert: authgate >= 1.3x nginx msgs/s, equal auth work (both + nodelay):" \
			"x $r -> $(bench_verdict "$r" '>=' 1.3)"
		a=$(printf '%.2f' "$(bench_stat "$cert-ngx-nd" .server_cpu_ms_per_msg)")
		b=$(printf '%.2f' "$(bench_stat "$cert-ag-nd" .server_cpu_ms_per_msg)")
		echo "     $cert: server CPU per message, nginx+authhttp $a ms / authgate $b ms:" \
			"x $(bench_ratio "$a" "$b") (messages per CPU second, authgate over nginx)"
		a=$(bench_stat "$cert-ag" .msgs_per_s) b=$(bench_stat "$cert-ngx" .msgs_per_s)
		r=$(bench_ratio "$a" "$b")
		echo "     $cert: as built vs as shipped (both with their Nagle stalls, for information): x $r"
	done
	d1=$(awk -v a="$(bench_stat ec-ag-pf-r .phases.message.p50_ms)" \
		-v b="$(bench_stat ec-direct-r .phases.message.p50_ms)" \
		'BEGIN { if (a == "nan" || b == "nan") print "nan"; else printf "%.2f\n", a - b }')
	d2=$(awk -v a="$(bench_stat ec-ag-pf-r .phases.session.p50_ms)" \
		-v b="$(bench_stat ec-direct-r .phases.session.p50_ms)" \
		'BEGIN { if (a == "nan" || b == "nan") print "nan"; else printf "%.2f\n", a - b }')
	echo "  2. added p50 <= 1 ms over direct Postfix, MAIL..250, open loop $BENCH_LAT_RATE/s" \
		"(<= $BENCH_CONC at once): $d1 ms -> $(bench_verdict "$d1" '<=' 1)" \
		"(whole session, which adds AUTH: $d2 ms)"
	for n in "${hold_counts[@]}"; do
		r=$(bench_mem_per authgate "$n")
		echo "  3. <= 64 KiB RSS per idle TLS connection at $n: authgate $r KiB" \
			"(nginx $(bench_mem_per nginx "$n") KiB) -> $(bench_verdict "$r" '<=' 64)"
	done
	r=$(bench_ratio "$on" "$off")
	echo "  4. milter >= 0.9x Postfix throughput: inet x $r -> $(bench_verdict "$r" '>=' 0.9);" \
		"unix socket x $(bench_ratio "$onu" "$off") -> $(bench_verdict "$(bench_ratio "$onu" "$off")" '>=' 0.9)"
}

# bench_or_na VALUE WHY: VALUE, or "n/a (WHY)" when it was not measured.
bench_or_na() {
	case $1 in
	nan | - | "" | null) echo "n/a ($2)" ;;
	*) echo "$1" ;;
	esac
}

bench_num() { # bench_num VALUE [DECIMALS]: rounded, or nan
	awk -v v="$1" -v d="${2:-2}" 'BEGIN {
		if (v == "nan" || v == "-" || v == "" || v == "null") print "nan";
		else printf "%.*f\n", d, v }'
}

# bench_figures: issue 16's table, one machine-readable line per figure, last in the
# report ("NAME = VALUE", two-peer figures "NAME authgate = A nginx = B").
bench_figures() {
	local c=${certs[0]} off=nan on=nan onu=nan n a b x y why
	if [ -s "$BENCH_RES/milter.txt" ]; then
		# shellcheck disable=SC2046 # numbers only
		off=$(bench_median $(awk '$1 == "off" { print $2 }' "$BENCH_RES/milter.txt"))
		# shellcheck disable=SC2046
		on=$(bench_median $(awk '$1 == "inet" { print $2 }' "$BENCH_RES/milter.txt"))
		# shellcheck disable=SC2046
		onu=$(bench_median $(awk '$1 == "unix" { print $2 }' "$BENCH_RES/milter.txt"))
	fi
	why="milter not built or a run failed"
	echo "ratio milter_unix_vs_postfix = $(bench_or_na "$(bench_ratio "$onu" "$off")" "$why")"
	echo "ratio milter_inet_vs_postfix = $(bench_or_na "$(bench_ratio "$on" "$off")" "$why")"
	echo "ratio milter_null_unix_vs_postfix = $(bench_or_na "$(bench_ratio "$(bench_milter_median null)" "$off")" "$why")"
	why="proxy not built or no messages"
	a=$(bench_stat "$c-ag-nd" .msgs_per_s) b=$(bench_stat "$c-ngx-nd" .msgs_per_s)
	echo "ratio proxy_vs_nginx_equal_auth = $(bench_or_na "$(bench_ratio "$a" "$b")" "$why")"
	a=$(bench_stat "$c-ag-nd-s10" .msgs_per_s) b=$(bench_stat "$c-ngx-nd-s10" .msgs_per_s)
	echo "ratio proxy_vs_nginx_10_msgs_per_conn = $(bench_or_na "$(bench_ratio "$a" "$b")" "$why")"
	a=$(bench_num "$(bench_stat "$c-ag-nd" .server_cpu_ms_per_msg)")
	b=$(bench_num "$(bench_stat "$c-ngx-nd" .server_cpu_ms_per_msg)")
	echo "cpu_ms_per_msg authgate = $(bench_or_na "$a" "$why") nginx = $(bench_or_na "$b" "no nginx messages")"
	# Where each side's CPU goes: authgate's network process and its auth process with the
	# PAM workers; nginx's master + worker and authhttp (the same hash, in crypt_r directly).
	echo "cpu_ms_per_msg_split authgate network = $(bench_num "$(bench_stat "$c-ag-nd" .server_cpu_split[0].self)")" \
		"auth = $(bench_num "$(bench_stat "$c-ag-nd" .server_cpu_split[0].children)")" \
		"nginx worker = $(bench_num "$(bench_stat "$c-ngx-nd" '(.server_cpu_split[0].self + .server_cpu_split[0].children)')")" \
		"auth_http = $(bench_num "$(bench_stat "$c-ngx-nd" '(.server_cpu_split[1].self + .server_cpu_split[1].children)')")"
	a=$(awk '$1 == "authgate" { print $2 }' "$BENCH_RES/syscalls.txt" 2>/dev/null)
	b=$(awk '$1 == "nginx" { print $2 }' "$BENCH_RES/syscalls.txt" 2>/dev/null)
	echo "syscalls_per_msg authgate = $(bench_or_na "$a" "strace run missing") nginx = $(bench_or_na "$b" "strace run missing")"
	# The login's cost on each side: CPU per message with the hash minus without it.
	x=$(awk -v a="$(bench_stat "$c-ag-nd" .server_cpu_ms_per_msg)" \
		-v b="$(bench_stat "$c-ag-free" .server_cpu_ms_per_msg)" \
		'BEGIN { if (a == "nan" || b == "nan" || a == "null" || b == "null") print "nan"; else print a - b }')
	y=$(awk -v a="$(bench_stat "$c-ngx-nd" .server_cpu_ms_per_msg)" \
		-v b="$(bench_stat "$c-ngx-free" .server_cpu_ms_per_msg)" \
		'BEGIN { if (a == "nan" || b == "nan" || a == "null" || b == "null") print "nan"; else print a - b }')
	why="CPU with and without the hash, both peers"
	awk -v x="$x" -v y="$y" 'BEGIN { if (x != "nan" && y != "nan" && y + 0 <= 0) exit 1 }' ||
		why="nginx's hash cost not above noise"
	echo "pam_vs_crypt = $(bench_or_na "$(bench_ratio "$x" "$y")" "$why")"
	n=${hold_counts[${#hold_counts[@]} - 1]}
	echo "kib_per_idle_conn authgate = $(bench_or_na "$(bench_mem_per authgate "$n")" "not measured") nginx = $(bench_or_na "$(bench_mem_per nginx "$n")" "not measured")"
	a=nan
	if [ -s "$BENCH_RES/ehlo-slow-pam.json" ] &&
		[ "$(jq -r '.phases.ehlo.n // 0' "$BENCH_RES/ehlo-slow-pam.json")" -gt 0 ]; then
		a=$(bench_num "$(jq -r '.phases.ehlo.p99_ms' "$BENCH_RES/ehlo-slow-pam.json")")
	fi
	echo "ehlo_p99_ms_slow_pam = $(bench_or_na "$a" "proxy not built or no EHLO answered")"
	bench_profile_figures
}

echo "bench: the report follows, also in $build/bench-report.md; its last lines are the figures"
{
	bench_report
	echo
	[ -s "$BENCH_RES/ehlo.txt" ] && echo "Slow PAM (50 ms a check):$(cat "$BENCH_RES/ehlo.txt")" && echo
	echo "Issue 16 figures ($([ "$quick" = yes ] && echo "quick run: ${hold_counts[*]} idle connections" || echo "full run: idle connections at ${hold_counts[*]}"), medians; one per line):"
	echo
	bench_figures
} | tee "$BENCH_RES/report.md"
cp "$BENCH_RES/report.md" "$build/bench-report.md"
if [ -n "$out" ]; then cp "$BENCH_RES/report.md" "$out"; fi
