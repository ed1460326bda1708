#!/usr/bin/env bash
# ag-run: alone (measures how fast the other address is served: tests/integration/run starts nothing beside it)
# t_proxy_flood_one_address: 1,500 connects from one address (127.0.0.2) that never start TLS
# leave the proxy serving another address (127.0.0.1) at once: connections past
# max_connections_per_ip are closed as they come, before any TLS, holding no slot; the ones
# within it are dropped after timeout_tls, not timeout_command. Loopback only, bounded.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

FLOOD=1500
work=$(mktemp -d /tmp/ag-flood-XXXXXX)
flood_pid="" ffd=""
stop_flood() {
	[ -z "$ffd" ] || exec {ffd}>&-
	ffd=""
	[ -z "$flood_pid" ] || wait "$flood_pid" 2>/dev/null || true
	flood_pid=""
}
trap 'stop_flood; ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT
agc_build "$work" || skip_all "cannot build the test client (gcc, libssl-dev)"

# max_connections far below the flood: if refused connections held slots, the flood would
# fill it. timeout_command stays at its 300 s: only timeout_tls may end a silent handshake.
ag_world_start "$work" proxy.max_connections=100 proxy.max_connections_per_ip=20 \
	proxy.timeout_tls=3
ok $? "proxy up: max_connections 100, max_connections_per_ip 20, timeout_tls 3"
audit=$work/audit.jsonl

mkfifo "$work/flood.in"
start=$SECONDS
timeout 120 "$AGC" -B 127.0.0.2 -F "$FLOOD" -T 5 "$AG_SMTPS" <"$work/flood.in" >"$work/flood.out" 2>&1 &
flood_pid=$!
exec {ffd}>"$work/flood.in"
ag_check "the flood of $FLOOD connects from 127.0.0.2 is done" -- \
	wait_for 60 grep -q '^flooded' "$work/flood.out"
made=$(sed -n 's/^flooded //p' "$work/flood.out")
diag "flood: $made connects in $((SECONDS - start)) s"
ag_check "all $FLOOD connected (got ${made:-0})" -- test "${made:-0}" -eq "$FLOOD"
ag_check "the proxy is still running" -- kill -0 "$AG_PROXY_PID"

# While the flood's connections are still open on its side:
t0=$SECONDS
ag_check "127.0.0.1 sends a message on 465 during the flood" -- agc_message flood-465 -t "$AG_SMTPS"
ag_check "127.0.0.1 sends a message on 587 (STARTTLS) during the flood" -- \
	agc_message flood-587 -s "$AG_SUB"
diag "both messages took $((SECONDS - t0)) s"
ag_check "both delivered" -- ag_wait_delivered "$AG_SINK" 2 20
fds=$(ag_pid_fds "$AG_PROXY_PID")
ag_check "the proxy holds few descriptors ($fds), not one per flood connect" -- test "$fds" -lt 100

refused=$(ag_audit_count "$audit" '"client_ip":"127.0.0.2".*"reason":"max_connections_per_ip"')
admitted=$(ag_audit_count "$audit" '"client_ip":"127.0.0.2".*"event":"connect"')
diag "127.0.0.2: $admitted admitted, $refused refused (audit)"
ag_check "every connect of the flood was admitted or refused ($admitted + $refused)" -- \
	test $((admitted + refused)) -eq "$FLOOD"
# The most sessions of 127.0.0.2 open at once, from the proxy's own log (session ids).
peak=$(awk '/: connect from \[127\.0\.0\.2\]/ { open[$2] = 1; n++; if (n > max) max = n }
	/: disconnect from \[127\.0\.0\.2\]/ { if ($2 in open) { delete open[$2]; n-- } }
	END { print max + 0 }' "$AG_PROXY_LOG")
diag "127.0.0.2: at most $peak sessions at once"
ag_check "never more than max_connections_per_ip (20) of them at once ($peak)" -- \
	test "$peak" -le 20 -a "$peak" -ge 1
ag_check "no refusal counted against max_connections" -- \
	ag_not grep -q '"reason":"max_connections"' "$audit"

timeouts() { grep -c 'TLS handshake timeout (timeout_tls) from \[127\.0\.0\.2\]' "$AG_PROXY_LOG"; }
all_timed_out() { [ "$(timeouts)" -ge "$admitted" ]; }
ag_check "the admitted ones are dropped after timeout_tls (3 s), not timeout_command" -- \
	wait_for 15 all_timed_out
stop_flood
still=$(sed -n 's/^open //p' "$work/flood.out")
ag_check "none of the flood's connections is still open on the proxy's side (${still:-?})" -- \
	test "${still:-1}" -eq 0
ag_check "the whole scenario stayed bounded ($((SECONDS - start)) s)" -- test $((SECONDS - start)) -lt 90
tap_done
