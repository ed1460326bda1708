#!/usr/bin/env bash
# peers.sh: start and stop what scripts/bench measures, all on 127.0.0.1: smtp-sink, a
# private Postfix (plain port + implicit-TLS port), nginx's mail proxy with bench/authhttp,
# authgate-proxy and authgate-milter. Sourced by scripts/bench after tests/integration/
# tap.sh, lib.sh and lib_auth.sh (free_port, wait_port, ag_postfix_*, ag_proxy_conf).
#
# Every process started here is recorded in BENCH_PIDS ("pid:name") and bench_stop_all
# stops exactly those pids (SIGTERM, a bounded wait, then SIGKILL).

BENCH_PIDS=()
BENCH_USER=benchuser
BENCH_PASS=benchpass

bench_track() { BENCH_PIDS+=("$1:$2"); }

# bench_free_port: a port below the ephemeral range (ip_local_port_range starts at 32768),
# since thousands of client connections would otherwise collide with a listener's bind,
# that no socket at all uses now, and that this run has not handed out before (bounded
# tries). A port given out but not yet bound (a configuration written ahead of its peer's
# start) looks free to ss: without the list, a full run of some 60 ports picked the same
# one twice now and then ("Address already in use" at the RSA peers' start).
BENCH_PORTS_GIVEN=$(mktemp /tmp/ag-bench-ports-XXXXXX)
bench_free_port() {
	local p lo
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	[ "$lo" -gt 21000 ] || lo=32768
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % (lo - 20000)))
		grep -qx "$p" "$BENCH_PORTS_GIVEN" && continue
		if [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]; then
			echo "$p" >>"$BENCH_PORTS_GIVEN"
			echo "$p"
			return 0
		fi
	done
	return 1
}

# bench_stop PID: stop one process we started and forget it.
bench_stop() {
	local pid=$1 keep=() x
	for x in "${BENCH_PIDS[@]}"; do
		[ "${x%%:*}" = "$pid" ] || keep+=("$x")
	done
	BENCH_PIDS=("${keep[@]}")
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

bench_stop_all() {
	local x
	for x in "${BENCH_PIDS[@]}"; do
		bench_stop "${x%%:*}"
	done
	BENCH_PIDS=()
}

# bench_rss_kib PID: resident memory of PID and all its descendants, in KiB.
bench_rss_kib() {
	local pid=$1 total=0 c r
	r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
	total=$((total + ${r:-0}))
	for c in $(pgrep -P "$pid" || true); do
		total=$((total + $(bench_rss_kib "$c")))
	done
	echo "$total"
}

# bench_cpu_ticks PID: user+system clock ticks of PID and its descendants, live or reaped
# (a recycled PAM worker's time moves into its parent's cutime/cstime when it is waited for).
bench_cpu_ticks() {
	local pid=$1 total=0 c t
	t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
	total=$((total + ${t:-0}))
	for c in $(pgrep -P "$pid" || true); do
		total=$((total + $(bench_cpu_ticks "$c")))
	done
	echo "$total"
}

# bench_certs DIR ec|rsa: DIR/cert.pem + DIR/key.pem, self-signed for localhost.
bench_certs() {
	local dir=$1 kind=$2
	if [ "$kind" = ec ]; then
		ag_make_cert "$dir"
		return
	fi
	mkdir -p "$dir"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 || return 1
	chmod 600 "$dir/key.pem"
}

# bench_pwfile FILE: the pam_pwdfile password file for the bench user (sha512-crypt),
# read by pam_pwdfile for authgate and by authhttp for nginx: the same hash, the same work.
bench_pwfile() {
	"$AG_SRCDIR/tests/integration/pam/mkpwdfile" "$1" "$BENCH_USER" "$BENCH_PASS"
	chmod 644 "$1"
}

# bench_sink_start PORT: smtp-sink that discards (no capture files: disk I/O would bound
# every peer). The large backlog keeps bursts of new connections from being refused.
bench_sink_start() {
	local port=$1 log=$2
	smtp-sink -u postfix "127.0.0.1:$port" 1024 >"$log" 2>&1 &
	SINK_PID=$!
	bench_track "$SINK_PID" sink
	wait_port "$port" 10
}

# bench_authhttp_start PORT SINKPORT LOG [--no-check | --pwfile FILE] [-- prefix command...]:
# sets AUTHHTTP_PID; a prefix command (valgrind) runs it.
bench_authhttp_start() {
	local port=$1 sink=$2 log=$3 args=() pre=()
	shift 3
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	[ "${1:-}" = -- ] && shift && pre=("$@")
	"${pre[@]}" "$AG_BUILDDIR/bench/authhttp" --port "$port" --backend-port "$sink" --threads 2 \
		"${args[@]}" >"$log" 2>&1 &
	AUTHHTTP_PID=$!
	bench_track "$AUTHHTTP_PID" authhttp
	wait_port "$port" 60
}

# bench_nginx_conf DIR CERTDIR MASTER(on|off) PORT:AUTHPORT...: nginx's mail proxy, one
# worker (authgate's network side is one event loop too), XCLIENT to the backend that
# auth_http names, TLS 1.2-1.3 and a shared session cache like authgate's.
bench_nginx_conf() {
	local dir=$1 certs=$2 master=$3 sv
	shift 3
	mkdir -p "$dir"
	{
		echo "load_module /usr/lib/nginx/modules/ngx_mail_module.so;"
		echo "worker_processes 1;"
		echo "master_process $master;"
		echo "worker_rlimit_nofile 20000;"
		echo "pid $dir/nginx.pid;"
		echo "error_log $dir/error.log warn;"
		echo "events { worker_connections 20000; }"
		echo "mail {"
		echo "	server_name mx.bench.test;"
		echo "	xclient on;"
		echo "	smtp_auth plain login;"
		echo "	ssl_certificate $certs/cert.pem;"
		echo "	ssl_certificate_key $certs/key.pem;"
		echo "	ssl_protocols TLSv1.2 TLSv1.3;"
		echo "	ssl_session_cache shared:MAIL:10m;"
		for sv in "$@"; do
			echo "	server { listen 127.0.0.1:${sv%%:*} ssl; protocol smtp;"
			echo "		auth_http 127.0.0.1:${sv#*:}/auth; }"
		done
		echo "}"
	} >"$dir/nginx.conf"
}

# bench_nginx_start DIR CERTDIR SHIM(yes|no) PORT:AUTHPORT... [-- prefix command...]:
# start it (with SHIM=yes under the TCP_NODELAY preload, bench/nodelay.c says why); a
# prefix command (valgrind) runs it without a master process. Sets NGINX_PID.
bench_nginx_start() {
	local dir=$1 certs=$2 shim=$3 sv servers=() pre=() master=on
	shift 3
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		servers+=("$1")
		shift
	done
	if [ "${1:-}" = -- ]; then
		shift
		pre=("$@")
		master=off
	fi
	bench_nginx_conf "$dir" "$certs" "$master" "${servers[@]}"
	[ "$shim" = yes ] && pre=(env "LD_PRELOAD=$AG_BUILDDIR/bench/libnodelay.so" "${pre[@]}")
	"${pre[@]}" nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/stderr" 2>&1 &
	NGINX_PID=$!
	bench_track "$NGINX_PID" nginx
	for sv in "${servers[@]}"; do
		wait_port "${sv%%:*}" 60 || {
			cat "$dir/stderr" "$dir/error.log" >&2
			return 1
		}
	done
}

# bench_proxy_start NAME CONF SHIM(yes|no) [valgrind args...]: authgate-proxy -f -c CONF.
# Sets PROXY_PID.
bench_proxy_start() {
	local name=$1 conf=$2 shim=$3 p pre=()
	shift 3
	[ "$shim" = yes ] && pre=(env "LD_PRELOAD=$AG_BUILDDIR/bench/libnodelay.so")
	"${pre[@]}" "$@" "$AG_BUILDDIR/proxy/authgate-proxy" -f -c "$conf" \
		>"$(dirname "$conf")/$name.log" 2>&1 &
	PROXY_PID=$!
	bench_track "$PROXY_PID" "proxy-$name"
	p=$(sed -n 's/^listen_smtps *= *.*:\([0-9][0-9]*\) *$/\1/p' "$conf")
	# under valgrind the start takes seconds
	wait_port "$p" 60 || {
		cat "$(dirname "$conf")/$name.log" >&2
		return 1
	}
}

# bench_proxy_conf FILE SMTPS_PORT BACKEND PAM CERTDIR CACHE_TTL [key=value...]: a proxy
# config for load: connection limits out of the way, the auth cache off (0) or on, audit log
# to a file. smtp-sink offers XCLIENT without LOGIN/ADDR, which the proxy refuses (issue 11):
# its callers pass proxy.backend_xclient=no.
bench_proxy_conf() {
	local file=$1 port=$2 backend=$3 pam=$4 certs=$5 ttl=$6 sub
	shift 6
	sub=$(bench_free_port)
	mkdir -p "$(dirname "$file")"
	ag_proxy_conf "$file" "$port" "$sub" "$backend" "$pam" "$certs" \
		proxy.max_connections=100000 proxy.max_connections_per_ip=100000 \
		proxy.auth_cache_ttl="$ttl" proxy.auth_cache_size=1024 proxy.auth_workers=2 "$@"
}

# bench_postfix_start DIR PLAIN_PORT TLS_PORT SINK_PORT CERTDIR [key=value...]: the private
# Postfix of tests/integration/lib.sh plus an implicit-TLS smtpd (RFC 8314, wrappermode)
# on TLS_PORT and tlsmgr for its session cache and tickets. PLAIN_PORT takes XCLIENT from
# loopback: authgate's backend in the "authgate -> Postfix" case.
bench_postfix_start() {
	local dir=$1 plain=$2 tls=$3 sink=$4 certs=$5 svc
	shift 5
	mkdir -p "$dir"
	cp "$certs/cert.pem" "$certs/key.pem" "$dir/"
	ag_postfix_start "$dir" "$plain" "$sink" \
		"smtpd_tls_chain_files=$dir/key.pem,$dir/cert.pem" \
		"smtpd_tls_session_cache_database=btree:$dir/data/smtpd_scache" \
		"smtpd_client_connection_count_limit=0" "$@" || return 1
	[ "$tls" = 0 ] && return 0
	svc="127.0.0.1:$tls/inet"
	postconf -c "$dir/etc" -M "$svc=127.0.0.1:$tls inet n - n - - smtpd" \
		"tlsmgr/unix=tlsmgr unix - - n 1000? 1 tlsmgr" &&
		postconf -c "$dir/etc" -P "$svc/smtpd_tls_wrappermode=yes" \
			"$svc/smtpd_tls_security_level=encrypt" || return 1
	ag_postfix_reload "$dir"
	wait_port "$tls" 20 || {
		tail -n 20 "$dir/maillog" >&2
		return 1
	}
}

# bench_milter_start DIR SOCKET: authgate-milter on SOCKET (inet:PORT@127.0.0.1 or
# unix:PATH), voluntary phase, loopback not trusted, so every message takes the whole
# decision path and an audit line. Sets MILTER_PID.
bench_milter_start() {
	local dir=$1 sock=$2 port
	mkdir -p "$dir"
	chmod 755 "$dir"
	cat >"$dir/milter.conf" <<-EOF
		; written by bench/peers.sh
		[general]
		hostname = smtp.authgate.test
		authserv_id = smtp.authgate.test
		audit_log = $dir/audit.jsonl
		user = nobody
		[policy]
		phase = voluntary
		local_domains = authgate.test
		trusted_networks = 10.255.255.0/24
		sender_login = off
		[milter]
		socket = $sock
	EOF
	"$AG_BUILDDIR/milter/authgate-milter" -f -c "$dir/milter.conf" >"$dir/milter.log" 2>&1 &
	MILTER_PID=$!
	bench_track "$MILTER_PID" milter
	case $sock in
	inet:*)
		port=${sock#inet:}
		wait_port "${port%%@*}" 10
		;;
	unix:*)
		# The milter makes its socket 0660 for its own user; Postfix's smtpd runs as
		# postfix. A bench-only shortcut: open it to everybody.
		wait_for 10 test -S "${sock#unix:}" && chmod 666 "${sock#unix:}"
		;;
	esac || {
		cat "$dir/milter.log" >&2
		return 1
	}
}
