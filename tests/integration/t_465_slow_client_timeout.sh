#!/usr/bin/env bash
# t_465_slow_client_timeout: a client that goes quiet gets 421 4.4.2 after timeout_command, then the close.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-465slow-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up (timeout_command=2, timeout_data=3)" -- ag_world_start "$work" proxy.timeout_command=2 proxy.timeout_data=3

ag_c_open_tls "$AG_SMTPS"
ag_check "banner" -- ag_c_expect '^220 '
ag_c_send "EHLO slow.example"
ag_check "EHLO gets 250" -- ag_c_expect '^250 '
start=$SECONDS
ag_check "silence gets 421 4.4.2 timeout exceeded" -- \
	ag_c_expect '^421 4\.4\.2 .*timeout exceeded' 10
took=$((SECONDS - start))
ag_check "not before timeout_command (took ${took}s)" -- test "$took" -ge 1
ag_check "nor much after it" -- test "$took" -le 5
ag_check "then the proxy closes the connection" -- ag_c_eof 5
ag_c_close

# A client that stalls in the middle of DATA gets the same reply after timeout_data.
ag_c_open_tls "$AG_SMTPS"
ag_check "banner again" -- ag_c_expect '^220 '
ag_c_send "EHLO slow.example"
ag_check "EHLO gets 250" -- ag_c_expect '^250 '
ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")"
ag_check "AUTH gets 235" -- ag_c_expect '^235 '
ag_c_send "MAIL FROM:<$AG_USER@authgate.test>" "RCPT TO:<x@example.org>" "DATA"
ag_check "MAIL 250" -- ag_c_expect '^250 '
ag_check "RCPT 250" -- ag_c_expect '^250 '
ag_check "DATA 354" -- ag_c_expect '^354 '
ag_c_send "Subject: half a message" "" "and then nothing"
ag_check "stalled DATA gets 421 4.4.2" -- ag_c_expect '^421 4\.4\.2' 15
ag_c_close
ag_check "the half message was not delivered" -- ag_sink_exactly 0

# A client that keeps talking is not cut off by the timer.
ag_c_open_tls "$AG_SMTPS"
ag_check "banner for the busy client" -- ag_c_expect '^220 '
busy=0
for _ in 1 2 3 4; do
	sleep 1
	ag_c_send "NOOP"
	ag_c_reply 5 && [[ $AG_C_LAST == "250 "* ]] || busy=1
done
ag_check "NOOP every second for 4 s (> timeout_command) keeps the session" -- test "$busy" -eq 0
ag_c_close

tap_done
