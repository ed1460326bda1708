#!/usr/bin/env bash
# t_proxy_first_backend_down: with the first backend down, mail goes through the second.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-failover-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

dead=$(free_port)
must "proxy up with backends: 127.0.0.1:$dead (nothing listens), then Postfix" -- ag_world_start "$work" "proxy.backends=127.0.0.1:$dead, 127.0.0.1:@PF@" proxy.timeout_connect=3

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --body 'failover body 6c1d')
ag_check "the message is accepted by the second backend" -- ag_reply_in "$out" '^250 .*queued as'
ag_check "it is delivered" -- ag_wait_delivered "$AG_SINK" 1 20
ag_check "the body is intact" -- ag_sink_has '^failover body 6c1d'
ag_check "the audit log names the second backend" -- \
	grep -q "\"backend\":\"127.0.0.1:$AG_PFPORT\"" "$work/audit.jsonl"

out=$(ag_swaks --port "$AG_SUB" --tls --auth LOGIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --body 'failover body two')
ag_check "a second session (587) fails over too" -- ag_reply_in "$out" '^250 .*queued as'
ag_check "both delivered, nothing twice" -- ag_wait_delivered "$AG_SINK" 2 20
ag_check "exactly two messages" -- ag_sink_exactly 2

tap_done
