#!/usr/bin/env bash
# measure.sh: the measurements of scripts/bench (load runs and medians, idle-connection
# memory, milter cost, system calls per message, the crypto ceiling) and the result table;
# instructions per message are bench/profile.sh's.
# Sourced after bench/peers.sh; results go to $BENCH_RES (one file per figure).

# bench_median N...: the median (the mean of the middle two for an even count).
bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_load CASE REP PORT PIDS [smtpload args...]: one bounded run; the JSON lands in
# $BENCH_RES/CASE.REP.json (an empty object when the client failed outright). PIDS ("-"
# for none): the server's processes, whose CPU time per message is added to the JSON, in
# all and for each PID split into its own and its descendants' (server_cpu_split: authgate's
# network process and its auth process + PAM workers; nginx's master and its worker).
bench_load() {
	local case=$1 rep=$2 port=$3 pids=$4 out c0 c1 s0 s1
	shift 4
	out=$BENCH_RES/$case.$rep.json
	c0=$(bench_cpu_sum "$pids")
	s0=$(bench_cpu_split "$pids")
	if ! timeout $((${BENCH_DURATION%.*} + ${BENCH_WARMUP%.*} + 61)) "$AG_BUILDDIR/bench/smtpload" \
		--port "$port" --concurrency "$BENCH_CONC" --duration "$BENCH_DURATION" \
		--warmup "$BENCH_WARMUP" --label "$case" --json "$@" >"$out" 2>>"$BENCH_RES/smtpload.err"; then
		[ -s "$out" ] || echo '{}' >"$out"
	fi
	c1=$(bench_cpu_sum "$pids")
	s1=$(bench_cpu_split "$pids")
	if [ "$pids" != - ]; then
		jq -c --argjson t "$((c1 - c0))" --argjson hz "$(getconf CLK_TCK)" \
			--argjson a "[$s0]" --argjson b "[$s1]" \
			'(.msgs_ok_all // 0) as $n | def per($x): if $n > 0 then ($x * 1000 / $hz / $n) else null end;
			. + {server_cpu_ms_per_msg: per($t),
				server_cpu_split: [range(0; $a | length) | {self: per($b[.][0] - $a[.][0]),
					children: per($b[.][1] - $a[.][1])}]}' "$out" >"$out.tmp" &&
			mv "$out.tmp" "$out"
	fi
	printf '  %-22s run %d: %8.1f msgs/s  msg p50 %6.2f ms  server CPU %s ms/msg  errors %s\n' \
		"$case" "$rep" "$(jq -r '.msgs_per_s // 0' "$out")" \
		"$(jq -r '.phases.message.p50_ms // 0' "$out")" \
		"$(jq -r '.server_cpu_ms_per_msg // "-" | if type == "number" then (. * 1000 | round / 1000) else . end' "$out")" \
		"$(jq -c '.errors // "client failed"' "$out")"
}

bench_cpu_sum() { # bench_cpu_sum "PID..." | -: clock ticks of these process trees
	local p t=0
	[ "$1" = - ] && {
		echo 0
		return
	}
	for p in $1; do t=$((t + $(bench_cpu_ticks "$p"))); done
	echo "$t"
}

# bench_cpu_split "PID..." | -: "[SELF,CHILDREN]," for each PID: its own clock ticks and its
# descendants' (live or reaped), as the elements of a JSON array.
bench_cpu_split() {
	local p self all sep=""
	[ "$1" = - ] && return 0
	for p in $1; do
		self=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
		all=$(bench_cpu_ticks "$p")
		printf '%s[%d,%d]' "$sep" "${self:-0}" "$((all - ${self:-0}))"
		sep=,
	done
}

# bench_stat CASE JQ-EXPR: the median of one figure over the runs of CASE.
bench_stat() {
	local case=$1 expr=$2 f vals=()
	for f in "$BENCH_RES/$case".*.json; do
		[ -s "$f" ] || continue
		vals+=("$(jq -r "$expr // \"nan\"" "$f")")
	done
	[ "${#vals[@]}" -gt 0 ] || {
		echo nan
		return
	}
	bench_median "${vals[@]}"
}

bench_ratio() { # bench_ratio A B: A/B with two decimals, "-" when either is missing
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "nan" || b == "nan" || a == "" || b == "" || b + 0 == 0) print "-";
		else printf "%.2f\n", a / b }'
}

# bench_wait_drained DIR: let Postfix deliver its queue to the sink before the next run,
# so its background delivery does not take CPU from whoever runs next (bounded: 120 s).
bench_wait_drained() {
	ag_postfix_flush "$1" || true
	ag_postfix_wait_queue_empty "$1" 120 ||
		echo "  (postfix queue not empty after 120 s: $(ag_postfix_queue_count "$1") left)"
}

# bench_memory NAME PORT PIDVAR-VALUE N: RSS growth per idle TLS connection (TLS + EHLO
# done, then silent), measured on the server's whole process tree.
bench_memory() {
	local name=$1 port=$2 pid=$3 n=$4 ready rss0 rss1 hp per
	ready=$BENCH_RES/hold.$name.$n
	timeout 60 "$AG_BUILDDIR/bench/smtpload" --port "$port" --concurrency 20 --total 200 \
		--user "$BENCH_USER" --password "$BENCH_PASS" --pipeline >/dev/null 2>&1 || true
	sleep 1
	rss0=$(bench_rss_kib "$pid")
	rm -f "$ready"
	"$AG_BUILDDIR/bench/smtpload" --port "$port" --hold "$n" --concurrency 100 \
		--hold-seconds 120 --ready-file "$ready" --timeout 30 >"$BENCH_RES/hold.$name.$n.out" 2>&1 &
	hp=$!
	bench_track "$hp" smtpload-hold
	wait_for 90 test -s "$ready" || true
	sleep 2
	rss1=$(bench_rss_kib "$pid")
	bench_stop "$hp"
	per=$(awk -v a="$rss0" -v b="$rss1" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }')
	echo "$name $n $(tr '\n' ' ' <"$ready" 2>/dev/null)rss_before_kib $rss0 rss_held_kib $rss1 per_conn_kib $per" |
		tee -a "$BENCH_RES/memory.txt"
}

# bench_ehlo_slow_pam PORT SECONDS: the EHLO latency (command to 250) of clients that do
# not log in, alone and then while 100 others wait on the proxy at PORT, whose PAM stack
# takes 50 ms a check: one event loop must not make everybody wait for PAM. The EHLO
# clients start after the login clients' first second (smtpload --warmup), by which time
# all 100 are connected; the login clients' AUTH p50 in the report shows that they waited.
bench_ehlo_slow_pam() {
	local port=$1 secs=$2 lp ehlo=(--concurrency 10 --rate 50 --messages-per-conn 0)
	timeout $((secs + 60)) "$AG_BUILDDIR/bench/smtpload" --port "$port" "${ehlo[@]}" \
		--duration "$secs" --json >"$BENCH_RES/ehlo-alone.json" 2>>"$BENCH_RES/smtpload.err" ||
		echo '{}' >"$BENCH_RES/ehlo-alone.json"
	"$AG_BUILDDIR/bench/smtpload" --port "$port" --concurrency 100 --duration $((secs + 2)) \
		--timeout 30 --user "$BENCH_USER" --password "$BENCH_PASS" --json \
		>"$BENCH_RES/ehlo-logins.json" 2>>"$BENCH_RES/smtpload.err" &
	lp=$!
	bench_track "$lp" smtpload-logins
	timeout $((secs + 60)) "$AG_BUILDDIR/bench/smtpload" --port "$port" "${ehlo[@]}" \
		--warmup 1 --duration "$secs" --json >"$BENCH_RES/ehlo-slow-pam.json" \
		2>>"$BENCH_RES/smtpload.err" || echo '{}' >"$BENCH_RES/ehlo-slow-pam.json"
	wait_for $((secs + 60)) test -s "$BENCH_RES/ehlo-logins.json" || true
	bench_stop "$lp"
	[ -s "$BENCH_RES/ehlo-logins.json" ] || echo '{}' >"$BENCH_RES/ehlo-logins.json"
	printf '  EHLO p99 alone %s ms, with 100 logins waiting %s ms (%s EHLOs); logins: %s ok, AUTH p50 %s ms\n' \
		"$(jq -r '.phases.ehlo.p99_ms // "nan"' "$BENCH_RES/ehlo-alone.json")" \
		"$(jq -r '.phases.ehlo.p99_ms // "nan"' "$BENCH_RES/ehlo-slow-pam.json")" \
		"$(jq -r '.phases.ehlo.n // 0' "$BENCH_RES/ehlo-slow-pam.json")" \
		"$(jq -r '.msgs_ok_all // 0' "$BENCH_RES/ehlo-logins.json")" \
		"$(jq -r '.phases.auth.p50_ms // "nan"' "$BENCH_RES/ehlo-logins.json")" |
		tee "$BENCH_RES/ehlo.txt"
}

# bench_smtp_source PORT N: seconds smtp-source needs to hand N messages to Postfix.
bench_smtp_source() {
	local port=$1 n=$2 t0 t1
	t0=$(date +%s%N)
	timeout 300 smtp-source -s 20 -m "$n" -l "$BENCH_SIZE" -f bench@authgate.test \
		-t sink@example.org "127.0.0.1:$port" >/dev/null 2>&1 || return 1
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.1f\n", n / ((b - a) / 1e9) }'
}

# bench_syscalls NAME PID PORT N: system calls per message made by process PID (not its
# children) over N one-message connections, counted by strace -c.
bench_syscalls() {
	local name=$1 pid=$2 port=$3 n=$4 f=$BENCH_RES/strace.$1 sp calls
	strace -c -p "$pid" -o "$f" 2>/dev/null &
	sp=$!
	bench_track "$sp" strace
	sleep 1
	timeout 120 "$AG_BUILDDIR/bench/smtpload" --port "$port" --concurrency 10 --total "$n" \
		--user "$BENCH_USER" --password "$BENCH_PASS" --pipeline >/dev/null 2>&1 || true
	kill -INT "$sp" 2>/dev/null || true
	wait_for 10 test -s "$f" || true
	bench_stop "$sp"
	calls=$(awk '$NF == "total" { print $4 }' "$f")
	awk -v c="${calls:-0}" -v n="$n" -v w="$name" \
		'BEGIN { printf "%s %.0f\n", w, c / n }' | tee -a "$BENCH_RES/syscalls.txt"
}

# bench_crypto_ceiling: private-key operations per second on one core; a full handshake
# costs the server one signature and one key exchange.
bench_crypto_ceiling() {
	local secs=$1
	openssl speed -seconds "$secs" ecdsap256 rsa2048 ecdhx25519 2>/dev/null | awk '
		/^rsa 2048 bits/ { printf "rsa2048_sign_per_s %s\n", $(NF - 1) }
		/ecdsa \(nistp256\)/ { printf "ecdsap256_sign_per_s %s\n", $(NF - 1) }
		/ecdh \(X25519\)/ { printf "x25519_per_s %s\n", $NF }' >"$BENCH_RES/crypto.txt"
	cat "$BENCH_RES/crypto.txt"
}

# ---- the table ----

# bench_row CERT CASE LABEL AUTH NGINXCASE DIRECTCASE
bench_row() {
	local cert=$1 case=$2 label=$3 auth=$4 ncase=$5 dcase=$6 r rn rd cpu
	[ -n "$(ls "$BENCH_RES/$cert-$case".*.json 2>/dev/null)" ] || return 0
	r=$(bench_stat "$cert-$case" .msgs_per_s)
	rn=-
	[ "$ncase" != - ] && rn=$(bench_ratio "$r" "$(bench_stat "$cert-$ncase" .msgs_per_s)")
	rd=-
	[ "$dcase" != - ] && rd=$(bench_ratio "$r" "$(bench_stat "$cert-$dcase" .msgs_per_s)")
	cpu=$(bench_stat "$cert-$case" .server_cpu_ms_per_msg)
	[ "$cpu" = nan ] || [ "$cpu" = null ] && cpu=-
	printf '| %-3s | %-34s | %-5s | %7.1f | %7.2f | %7.2f | %7.2f | %7.2f | %5s | %6s | %6s |\n' \
		"$cert" "$label" "$auth" "$r" \
		"$(bench_stat "$cert-$case" .phases.session.p50_ms)" \
		"$(bench_stat "$cert-$case" .phases.session.p99_ms)" \
		"$(bench_stat "$cert-$case" .phases.message.p50_ms)" \
		"$(bench_stat "$cert-$case" .phases.message.p99_ms)" \
		"$([ "$cpu" = - ] && echo - || printf '%.2f' "$cpu")" "$rn" "$rd"
}

bench_table_head() {
	echo "| TLS | peer | auth | msgs/s | sess p50 | sess p99 | msg p50 | msg p99 | CPU/msg | x nginx | x direct |"
	echo "|-----|------|------|-------:|---------:|---------:|--------:|--------:|--------:|--------:|---------:|"
}
