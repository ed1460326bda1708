#!/usr/bin/env bash
# profile.sh: where each server's instructions go per message, by callgrind over every
# process of the server (authgate: network process, auth process, PAM workers; nginx: the
# worker and bench/authhttp): the TLS handshake, the password hash, and the rest (the
# server's own code), and from them the ceiling of proxy_vs_nginx_equal_auth. Sourced by
# scripts/bench after bench/peers.sh and bench/measure.sh; results go to $BENCH_RES.

# bench_cg_total FILE: the instructions a callgrind profile counted.
bench_cg_total() {
	sed -n 's/^summary: *\([0-9]*\).*/\1/p; s/^totals: *\([0-9]*\).*/\1/p' "$1" | head -n 1
}

# bench_cg_split FILE...: "TOTAL HANDSHAKE CRYPT" summed over these profiles. HANDSHAKE is
# everything under SSL_do_handshake (libssl + libcrypto); CRYPT everything under crypt(3)
# (libxcrypt's crypt, crypt_r, crypt_rn, crypt_ra: the outermost one a process called).
bench_cg_split() {
	local f t=0 h=0 c=0 x
	for f in "$@"; do
		[ -s "$f" ] || continue
		x=$(bench_cg_total "$f")
		t=$((t + ${x:-0}))
		x=$(callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null | awk '
			/^ *[0-9,]+ +\(/ {
				n = $1; gsub(/,/, "", n)
				fn = $0; sub(/^ *[0-9,]+ +\([^)]*\) +/, "", fn); sub(/ \[.*\]$/, "", fn)
				sub(/^.*:/, "", fn); sub(/@.*$/, "", fn)
				if (fn == "SSL_do_handshake" && n + 0 > h) h = n + 0
				if (fn ~ /^[xf]?crypt(_r|_rn|_ra)?$/ && n + 0 > c) c = n + 0
			}
			END { printf "%.0f %.0f\n", h, c }') || x="0 0"
		h=$((h + ${x% *}))
		c=$((c + ${x#* }))
	done
	echo "$t $h $c"
}

# bench_cg_wait_gone PID...: until none of these processes is left (bounded: 60 s; a
# process under valgrind writes its profile as it exits).
bench_cg_wait_gone() {
	local p
	for p in "$@"; do
		wait_for 60 bash -c "! kill -0 $p 2>/dev/null" || true
	done
}

# bench_cg_tree PID: PID and all its descendants.
bench_cg_tree() {
	local c
	echo "$1"
	for c in $(pgrep -P "$1" || true); do bench_cg_tree "$c"; done
}

# bench_profile_authgate CONF N OUTDIR: a run of N one-message logins against the proxy of
# CONF with every one of its processes under callgrind (valgrind follows the forks: one
# profile per process, callgrind.out.PID); "TOTAL HANDSHAKE CRYPT" of them all goes to
# OUTDIR/split, the network process's total to OUTDIR/ir and its profile's name to
# OUTDIR/ir.out. The PAM workers write theirs as the auth process lets them exit at
# shutdown (proxy/privsep_proc.c: privsep_workers_stop).
bench_profile_authgate() {
	local conf=$1 n=$2 dir=$3 port tree
	mkdir -p "$dir"
	chmod 1777 "$dir" # the network process writes its profile after dropping to nobody
	echo nan >"$dir/ir"
	echo "nan nan nan" >"$dir/split"
	bench_proxy_start "cg$n" "$conf" yes valgrind --tool=callgrind --vgdb=no \
		"--callgrind-out-file=$dir/callgrind.out.%p" || return 0
	# valgrind created the profile as root; the proxy rewrites it at exit as its user
	wait_for 10 test -e "$dir/callgrind.out.$PROXY_PID" &&
		chown "$(sed -n 's/^user *= *//p' "$conf")" "$dir/callgrind.out.$PROXY_PID"
	port=$(sed -n 's/^listen_smtps *= *.*:\([0-9][0-9]*\) *$/\1/p' "$conf")
	timeout 600 "$AG_BUILDDIR/bench/smtpload" --port "$port" --concurrency 4 --total "$n" \
		--timeout 60 --user "$BENCH_USER" --password "$BENCH_PASS" --pipeline \
		>"$dir/smtpload.out" 2>&1 || true
	tree=$(bench_cg_tree "$PROXY_PID")
	bench_stop "$PROXY_PID"
	# shellcheck disable=SC2086 # pids
	bench_cg_wait_gone $tree
	[ -s "$dir/callgrind.out.$PROXY_PID" ] || return 0
	bench_cg_total "$dir/callgrind.out.$PROXY_PID" >"$dir/ir"
	echo "$dir/callgrind.out.$PROXY_PID" >"$dir/ir.out"
	bench_cg_split "$dir"/callgrind.out.* >"$dir/split"
}

# bench_profile_nginx CERTDIR SINKPORT PWFILE N OUTDIR: the same for nginx (one process, no
# master: the profile is the worker's) with its own bench/authhttp under callgrind.
bench_profile_nginx() {
	local certs=$1 sink=$2 pwfile=$3 n=$4 dir=$5 port auth
	mkdir -p "$dir"
	echo "nan nan nan" >"$dir/split"
	port=$(bench_free_port) auth=$(bench_free_port)
	bench_authhttp_start "$auth" "$sink" "$dir/authhttp.log" --pwfile "$pwfile" -- \
		valgrind --tool=callgrind --vgdb=no "--callgrind-out-file=$dir/callgrind.out.authhttp" ||
		return 0
	bench_nginx_start "$dir" "$certs" yes "$port:$auth" -- valgrind --tool=callgrind \
		--vgdb=no "--callgrind-out-file=$dir/callgrind.out.nginx" || return 0
	timeout 600 "$AG_BUILDDIR/bench/smtpload" --port "$port" --concurrency 4 --total "$n" \
		--timeout 60 --user "$BENCH_USER" --password "$BENCH_PASS" --pipeline \
		>"$dir/smtpload.out" 2>&1 || true
	bench_stop "$NGINX_PID"
	bench_stop "$AUTHHTTP_PID"
	wait_for 30 test -s "$dir/callgrind.out.nginx" || return 0
	wait_for 30 test -s "$dir/callgrind.out.authhttp" || return 0
	bench_cg_split "$dir/callgrind.out.nginx" "$dir/callgrind.out.authhttp" >"$dir/split"
}

# bench_profile_per_msg N1 SPLIT1 N2 SPLIT2 NAME: "NAME handshake = H crypt = C own = O"
# per message (the difference of the two runs over N2 - N1 messages, which cancels start-up
# and shutdown), or nan when a run failed.
bench_profile_per_msg() {
	awk -v n1="$1" -v n2="$3" -v w="$5" -v a="$(cat "$2")" -v b="$(cat "$4")" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		if (x[1] !~ /^[0-9]+$/ || y[1] !~ /^[0-9]+$/ || y[1] <= x[1]) {
			printf "%s handshake = nan crypt = nan own = nan total = nan\n", w; exit }
		d = n2 - n1; t = (y[1] - x[1]) / d; h = (y[2] - x[2]) / d; c = (y[3] - x[3]) / d
		printf "%s handshake = %.0f crypt = %.0f own = %.0f total = %.0f\n", w, h, c, t - h - c, t }'
}

# bench_profile N1 N2 CERTDIR SINKPORT PWFILE PAM DIR: both peers at N1 and N2 messages;
# writes $BENCH_RES/profile.txt (one split line per peer), and, for the network process
# alone, callgrind.txt, callgrind-top.txt and callgrind-incl.txt.
bench_profile() {
	local n1=$1 n2=$2 certs=$3 sink=$4 pwfile=$5 pam=$6 dir=$7 n p
	for n in "$n1" "$n2"; do
		p=$(bench_free_port)
		bench_proxy_conf "$dir/ag$n/ag.conf" "$p" "127.0.0.1:$sink" "$pam" "$certs" 0 \
			proxy.backend_xclient=no
		bench_profile_authgate "$dir/ag$n/ag.conf" "$n" "$dir/ag$n/cg"
		bench_profile_nginx "$certs" "$sink" "$pwfile" "$n" "$dir/nginx$n"
	done
	awk -v a="$(cat "$dir/ag$n1/cg/ir")" -v b="$(cat "$dir/ag$n2/cg/ir")" -v n1="$n1" \
		-v n2="$n2" 'BEGIN {
		if (a == "nan" || b == "nan" || a == "" || b == "") { print "per_message nan"; exit }
		printf "ir_%d_msgs %.0f\nir_%d_msgs %.0f\nper_message %.0f\n", n1, a, n2, b, (b - a) / (n2 - n1) }' |
		tee "$BENCH_RES/callgrind.txt"
	{
		bench_profile_per_msg "$n1" "$dir/ag$n1/cg/split" "$n2" "$dir/ag$n2/cg/split" authgate
		bench_profile_per_msg "$n1" "$dir/nginx$n1/split" "$n2" "$dir/nginx$n2/split" nginx
	} | tee "$BENCH_RES/profile.txt"
	[ -s "$dir/ag$n2/cg/ir.out" ] || return 0
	# (head ends the pipe early: with pipefail that is not a failure)
	callgrind_annotate "$(cat "$dir/ag$n2/cg/ir.out")" 2>/dev/null |
		sed -n '/^Ir /,$p' | head -n 22 >"$BENCH_RES/callgrind-top.txt" || true
	callgrind_annotate --inclusive=yes "$(cat "$dir/ag$n2/cg/ir.out")" 2>/dev/null |
		sed -n '/^Ir /,$p' | grep -v '???:0x' | head -n 40 >"$BENCH_RES/callgrind-incl.txt" || true
}

# bench_profile_figures: the split and the ceiling as machine-readable lines. The ceiling
# is the best proxy_vs_nginx_equal_auth any proxy could reach if its own code cost nothing:
# nginx's instructions per message over ours for the handshake and the hash alone (both do
# the same handshake and the same hash, so the floor is the same for every proxy).
bench_profile_figures() {
	local f=$BENCH_RES/profile.txt a n
	a=$(awk '$1 == "authgate" { print $4, $7, $10, $13 }' "$f" 2>/dev/null)
	n=$(awk '$1 == "nginx" { print $4, $7, $10, $13 }' "$f" 2>/dev/null)
	[ -n "$a" ] || a="nan nan nan nan"
	[ -n "$n" ] || n="nan nan nan nan"
	awk -v a="$a" -v n="$n" 'BEGIN {
		split(a, x, " "); split(n, y, " ")
		printf "instr_per_msg authgate handshake = %s crypt = %s own = %s nginx handshake = %s crypt = %s own = %s\n",
			x[1], x[2], x[3], y[1], y[2], y[3]
		if (x[1] == "nan" || y[4] == "nan" || x[1] + x[2] <= 0) {
			print "ceiling proxy_vs_nginx_equal_auth = n/a (a callgrind run failed)"; exit }
		printf "ceiling proxy_vs_nginx_equal_auth = %.2f (handshake + crypt floor: nginx %.0f / authgate %.0f instructions a message)\n",
			y[4] / (x[1] + x[2]), y[4], x[1] + x[2] }'
}
