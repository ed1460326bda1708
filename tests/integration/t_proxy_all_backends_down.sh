#!/usr/bin/env bash
# t_proxy_all_backends_down: with no backend reachable the client gets 451 4.4.1, and the retry delivers once.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-nobackend-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

dead=$(free_port)
must "proxy up with backends: 127.0.0.1:$dead (nothing listens), then Postfix" -- ag_world_start "$work" "proxy.backends=127.0.0.1:$dead, 127.0.0.1:@PF@" proxy.timeout_connect=3
must "Postfix stopped: no backend is reachable" -- ag_postfix_stop "$AG_PF"

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --body 'retry body 2aa0')
ag_check "the client gets 451 4.4.1" -- ag_reply_in "$out" '^451 4\.4\.1'
ag_check "never a 5xx" -- ag_no_reply_in "$out" '^5[0-9][0-9] '
ag_check "never a 250 for the message" -- ag_no_reply_in "$out" '^250 .*queued as'
ag_check "the audit log records a tempfail" -- \
	grep -q '"action":"tempfail"' "$work/audit.jsonl"

out=$(ag_swaks --port "$AG_SUB" --tls --auth LOGIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --body 'retry body 2aa0')
ag_check "on 587 as well: 451 4.4.1" -- ag_reply_in "$out" '^451 4\.4\.1'

# The client keeps the message after a 4xx; once the backend is back its retry delivers it.
sport=$(sed -n 's/^relayhost = \[127\.0\.0\.1\]:\([0-9]*\)$/\1/p' "$AG_PF/etc/main.cf")
must "Postfix is back" -- ag_postfix_start "$AG_PF" "$AG_PFPORT" "$sport"
out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --body 'retry body 2aa0')
ag_check "the client's retry is accepted" -- ag_reply_in "$out" '^250 .*queued as'
ag_check "and delivered" -- ag_wait_delivered "$AG_SINK" 1 20
ag_check "exactly once: the failed attempts left nothing behind" -- ag_sink_exactly 1
ag_check "Postfix's queue is empty afterwards" -- ag_postfix_wait_queue_empty "$AG_PF" 10

tap_done
