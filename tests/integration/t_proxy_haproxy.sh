#!/usr/bin/env bash
# t_proxy_haproxy: a real HAProxy (mode tcp, roundrobin) in front of two authgate-proxy instances,
# one fed send-proxy-v2, the other send-proxy (v1), on 465 and 587. Both instances serve, and
# what reaches Postfix (XCLIENT ADDR/PORT) and the message (Received) is the original client's
# address and port, not HAProxy's.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"
command -v haproxy >/dev/null || skip_all "haproxy not installed (apt-get install haproxy)"

work=$(mktemp -d /tmp/ag-haproxy-XXXXXX)
AG_HAPROXY_PID="" pid2=""
cleanup() {
	[ -z "$AG_HAPROXY_PID" ] || { kill "$AG_HAPROXY_PID" 2>/dev/null; wait "$AG_HAPROXY_PID" 2>/dev/null; } || true
	[ -z "$pid2" ] || { kill "$pid2" 2>/dev/null; wait "$pid2" 2>/dev/null; } || true
	if [ "${TAP_FAILED:-0}" -gt 0 ] && [ -s "$work/b/proxy.log" ]; then
		diag "second instance's log (last 30 lines):"
		tail -n 30 "$work/b/proxy.log" | sed 's/^/#   /'
	fi
	ag_auth_cleanup_all
	ag_cleanup_all
	rm -rf "$work"
}
trap cleanup EXIT

# Instance A (receives PROXY v2) and instance B (v1): same PAM service, same Postfix.
must "instance A up (proxy_protocol = yes)" -- ag_world_start "$work" proxy.proxy_protocol=yes proxy.proxy_protocol_from=127.0.0.1/32
ag_postfix_set "$AG_PF" smtpd_client_port_logging=yes && ag_postfix_reload "$AG_PF"
mkdir -p "$work/b"
b465=$(free_port) b587=$(free_port)
ag_proxy_conf "$work/b/authgate.conf" "$b465" "$b587" "127.0.0.1:$AG_PFPORT" "$AG_PAM" \
	"$work/certs" proxy.proxy_protocol=yes proxy.proxy_protocol_from=127.0.0.1/32
"$AG_BUILDDIR/proxy/authgate-proxy" -f -c "$work/b/authgate.conf" >"$work/b/proxy.log" 2>&1 &
pid2=$!
ag_check "instance B up" -- wait_port "$b587" 10

h465=$(free_port) h587=$(free_port)
cat >"$work/haproxy.cfg" <<EOF
global
	maxconn 256
defaults
	mode tcp
	timeout connect 5s
	timeout client 60s
	timeout server 60s
frontend smtps
	bind 127.0.0.1:$h465
	default_backend authgate_smtps
frontend submission
	bind 127.0.0.1:$h587
	default_backend authgate_submission
backend authgate_smtps
	balance roundrobin
	server a 127.0.0.1:$AG_SMTPS send-proxy-v2
	server b 127.0.0.1:$b465 send-proxy
backend authgate_submission
	balance roundrobin
	server a 127.0.0.1:$AG_SUB send-proxy-v2
	server b 127.0.0.1:$b587 send-proxy
EOF
must "haproxy accepts its configuration and listens on $h465 and $h587" -- \
	ag_haproxy_start "$work/haproxy.cfg"

# Each message from its own client port, so the port tells whose connection it was.
ports=()
send() { # send PORT-OF-HAPROXY SUBJECT TLS-OPTION CLIENT-PORT
	swaks --server 127.0.0.1 --port "$1" "$3" --local-interface 127.0.0.1 --local-port "$4" \
		--timeout 30 --auth PLAIN --auth-user "$AG_USER" --auth-password "$AG_PASS" \
		--from "$AG_USER@authgate.test" --to rcpt@example.org --header "Subject: $2" 2>&1 || true
}
for i in 1 2 3 4; do
	ports+=("$(free_port)")
	out=$(send "$h465" "hap-465-$i" --tls-on-connect "${ports[-1]}")
	ag_check "message $i through haproxy:465 (client port ${ports[-1]}) accepted" -- \
		ag_reply_in "$out" '^250 .*queued as'
done
for i in 1 2; do
	ports+=("$(free_port)")
	out=$(send "$h587" "hap-587-$i" --tls "${ports[-1]}")
	ag_check "message $i through haproxy:587 (client port ${ports[-1]}) accepted" -- \
		ag_reply_in "$out" '^250 .*queued as'
done
ag_check "all six delivered" -- ag_wait_delivered "$AG_SINK" 6 30

# Who served whom: each proxy logs "connect from [client]:port via [haproxy]".
a=0 b=0
for p in "${ports[@]}"; do
	grep -q "connect from \[127\.0\.0\.1\]:$p via \[127\.0\.0\.1\]" "$AG_PROXY_LOG" && a=$((a + 1))
	grep -q "connect from \[127\.0\.0\.1\]:$p via \[127\.0\.0\.1\]" "$work/b/proxy.log" && b=$((b + 1))
done
diag "instance A (PROXY v2) served $a, instance B (PROXY v1) served $b"
ag_check "every session was seen with the client's own port ($((a + b)) of ${#ports[@]})" -- \
	test $((a + b)) -eq "${#ports[@]}"
ag_check "both instances served (roundrobin)" -- test "$a" -ge 1 -a "$b" -ge 1
pflog=$(ag_postfix_log "$AG_PF")
seen=0
for p in "${ports[@]}"; do
	grep -qE "client=unknown\[127\.0\.0\.1\]:$p, .*sasl_username=alice" "$pflog" && seen=$((seen + 1))
done
ag_check "Postfix got XCLIENT ADDR=127.0.0.1 PORT=<the client's port> for all ($seen)" -- \
	test "$seen" -eq "${#ports[@]}"
ag_check "the Received headers name the original client 127.0.0.1" -- \
	test "$(ag_sink_grep "$AG_SINK" '^Received: from .* \(unknown \[127\.0\.0\.1\]\)' -l | wc -l)" -eq 6
ag_check "instance A's audit log has message records from 127.0.0.1" -- \
	grep -q '"client_ip":"127.0.0.1".*"event":"message"' "$work/audit.jsonl"
ag_check "and so has instance B's" -- \
	grep -q '"client_ip":"127.0.0.1".*"event":"message"' "$work/b/audit.jsonl"
ag_check "both instances are still running" -- kill -0 "$AG_PROXY_PID" "$pid2"
tap_done
