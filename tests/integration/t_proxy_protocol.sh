#!/usr/bin/env bash
# t_proxy_protocol: behind a load balancer (proxy_protocol = yes) the client named by the PROXY
# v1/v2 header is the one that counts: audit, limits, XCLIENT ADDR/PORT, Received; no header or a
# bad one closes the connection, on 465 before any TLS byte; so does a header from an address
# outside proxy_protocol_from.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-pxproto-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT
agc_build "$work" || skip_all "cannot build the test client (gcc, libssl-dev)"

must "proxy up with proxy_protocol = yes" -- ag_world_start "$work" proxy.proxy_protocol=yes proxy.proxy_protocol_from=127.0.0.1/32 proxy.max_connections_per_ip=2
# Postfix logs the client port too: XCLIENT PORT must be the client's, not the balancer's.
# It takes XCLIENT ADDR=IPV6:... only with IPv6 among its inet_protocols (else "501 Bad ADDR
# syntax", and the proxy answers 451): a real backend needs that for IPv6 clients as well.
ag_postfix_set "$AG_PF" smtpd_client_port_logging=yes inet_protocols=all &&
	ag_postfix_reload "$AG_PF"
pflog=$(ag_postfix_log "$AG_PF")
audit=$work/audit.jsonl

# --- v1 on 465: the header in clear, then TLS on the same bytes stream
ag_check "v1 header, then TLS on 465: message accepted" -- \
	agc_message pp-v1-465 -P 1 -S 192.0.2.7 -p 5555 -t "$AG_SMTPS"
ag_check "delivered" -- ag_wait_sink_find "$AG_SINK" '^Subject: pp-v1-465' 20
f=$(ag_sink_find "$AG_SINK" '^Subject: pp-v1-465' | head -n 1)
ag_check "Received names the client from the header" -- \
	grep -qE '^Received: from client\.example \(unknown \[192\.0\.2\.7\]\)' "$f"
ag_check "Postfix got XCLIENT ADDR and PORT of that client" -- \
	wait_for 10 grep -qE 'client=unknown\[192\.0\.2\.7\]:5555, .*sasl_username=alice' "$pflog"
ag_check "the audit log has the client, not the balancer" -- \
	grep -q '"client_ip":"192.0.2.7","auth_user":"alice".*"event":"message"' "$audit"
ag_check "the proxy log says who connected through whom" -- \
	grep -q 'connect from \[192\.0\.2\.7\]:5555 via \[127\.0\.0\.1\] (smtps)' "$AG_PROXY_LOG"

# --- v2 (binary, IPv6 client) on 587 with STARTTLS
ag_check "v2 header (IPv6 client), STARTTLS on 587: message accepted" -- \
	agc_message pp-v2-587 -P 2 -S 2001:db8::7 -p 6666 -s "$AG_SUB"
ag_check "delivered" -- ag_wait_sink_find "$AG_SINK" '^Subject: pp-v2-587' 20
f=$(ag_sink_find "$AG_SINK" '^Subject: pp-v2-587' | head -n 1)
ag_check "Received has the IPv6 client" -- \
	grep -qE '^Received: from client\.example \(unknown \[IPv6:2001:db8::7\]\)' "$f"
ag_check "Postfix got XCLIENT ADDR=IPV6:... and PORT" -- \
	wait_for 10 grep -qE 'client=unknown\[2001:db8::7\]:6666, .*sasl_username=alice' "$pflog"

# --- LOCAL (a balancer's health check): the connection's own address stays
local_banner() {
	local fd line
	exec {fd}<>"/dev/tcp/127.0.0.1/$AG_SUB" || return 1
	printf '\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00' >&"$fd"
	IFS= read -r -t 5 line <&"$fd" || true
	printf 'QUIT\r\n' >&"$fd"
	exec {fd}>&-
	[[ $line == "220 "* ]]
}
ag_check "v2 LOCAL gets the banner" -- local_banner
ag_check "and is audited as the connection's own address" -- \
	grep -q '"client_ip":"127.0.0.1","event":"connect"' "$audit"

# --- no header, a bad header: closed without a word
closed_silently() { # closed_silently DESCRIPTION-for-log -- bytes to send (printf format)
	local fd line="" rc=0
	exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
	# shellcheck disable=SC2059 # the format is the bytes to send
	printf "$2" 2>/dev/null 1>&"$fd" || true
	IFS= read -r -t "${3:-5}" line <&"$fd" 2>/dev/null || rc=$?
	exec {fd}>&-
	[ "$rc" -eq 1 ] && [ -z "$line" ] && return 0 # EOF, nothing said
	diag "got '${line:-}' (read status $rc)"
	return 1
}
before=$(grep -c 'PROXY header from' "$AG_PROXY_LOG" || true)
ag_check "plain SMTP without a header on 587: closed, no banner" -- \
	closed_silently "$AG_SUB" 'EHLO nohdr.example\r\n'
ag_check "a TLS ClientHello without a header on 465: closed" -- \
	closed_silently "$AG_SMTPS" '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03'
ag_check "a malformed v1 header: closed" -- \
	closed_silently "$AG_SUB" 'PROXY TCP4 999.0.2.1 127.0.0.1 1 2\r\n'
ag_check "a v2 header with a bad version: closed" -- \
	closed_silently "$AG_SUB" '\r\n\r\n\0\r\nQUIT\n\x31\x11\x00\x0c'
start=$SECONDS
ag_check "a client that sends nothing is closed after the header timeout" -- \
	closed_silently "$AG_SUB" '' 20
ag_check "within about 10 s" -- test $((SECONDS - start)) -le 13
after=$(grep -c 'PROXY header from' "$AG_PROXY_LOG" || true)
ag_check "each refusal is logged (5 new lines, saw $((after - before)))" -- \
	test $((after - before)) -ge 5
ag_check "the log says why (timeout, malformed)" -- \
	grep -q 'PROXY header from \[127\.0\.0\.1\]: none received in time' "$AG_PROXY_LOG"

# --- a header from outside proxy_protocol_from (127.0.0.1/32): 127.0.0.2 may not name a client
from_outside() { # from_outside PORT AGCLIENT-ARGS...: nothing said, connection closed
	local out port=$1
	shift
	out=$(printf 'EHLO outside.example\nQUIT\n' | agc_session -B 127.0.0.2 "$@" "$port")
	[ -z "$out" ] && return 0
	diag "got: $out"
	return 1
}
ag_check "587: a v1 header from 127.0.0.2 (not in proxy_protocol_from) is refused" -- \
	from_outside "$AG_SUB" -P 1 -S 192.0.2.99
ag_check "465: a v2 header from 127.0.0.2 is refused" -- from_outside "$AG_SMTPS" -P 2 -S 192.0.2.98
ag_check "the refusals are logged with the address" -- wait_for 5 \
	grep -q 'connection from \[127\.0\.0\.2\] refused: not in proxy_protocol_from' "$AG_PROXY_LOG"
ag_check "the claimed clients never reach the audit log" -- \
	ag_not grep -Eq '"client_ip":"192\.0\.2\.9[89]"' "$audit"
ag_check "127.0.0.1 (listed) is still served" -- \
	agc_message pp-after-outside -P 1 -S 192.0.2.97 -t "$AG_SMTPS"

# --- max_connections_per_ip = 2 counts the client from the header, not the balancer
sess() { # sess SRC N: a session from SRC held open in the background
	"$AGC" -P 1 -S "$1" -T 30 "$AG_SUB" </dev/null >"$work/hold.$2" 2>&1 &
	echo $! >>"$work/hold.pids"
}
: >"$work/hold.pids"
sess 192.0.2.50 1
sess 192.0.2.50 2
held_up() { grep -q '^220 ' "$work/hold.1" && grep -q '^220 ' "$work/hold.2"; }
ag_check "two sessions from 192.0.2.50 are open (greeted)" -- wait_for 15 held_up
out=$(printf 'QUIT\n' | agc_session -P 1 -S 192.0.2.50 "$AG_SUB")
ag_check "a third session from 192.0.2.50 gets 421 4.7.0 Too many connections" -- \
	grep -q '^421 4\.7\.0 Too many connections' <<<"$out"
out=$(printf 'QUIT\n' | agc_session -P 1 -S 192.0.2.51 "$AG_SUB")
ag_check "a session from 192.0.2.51 through the same balancer is served" -- \
	grep -q '^220 ' <<<"$out"
while read -r p; do
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
done <"$work/hold.pids"

ag_check "the proxy is still running" -- kill -0 "$AG_PROXY_PID"
tap_done
