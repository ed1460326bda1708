#!/usr/bin/env bash
# t_465_wrong_password: a wrong password or unknown user gets 535 5.7.8 and nothing is relayed.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-465wrong-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work"

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password 'not the password')
ag_check "AUTH PLAIN with a wrong password gets 535 5.7.8" -- \
	ag_reply_in "$out" '^535 5\.7\.8 Authentication credentials invalid'
ag_check "and no 235" -- ag_no_reply_in "$out" '^235 '

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth LOGIN --auth-user "$AG_USER" \
	--auth-password 'still wrong')
ag_check "AUTH LOGIN with a wrong password gets 535 5.7.8" -- ag_reply_in "$out" '^535 5\.7\.8'

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user nosuchuser \
	--auth-password "$AG_PASS")
ag_check "an unknown user gets the same 535 5.7.8" -- ag_reply_in "$out" '^535 5\.7\.8'

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS2")
ag_check "bob's password does not log in alice" -- ag_reply_in "$out" '^535 5\.7\.8'

# Four failures are under auth_fail_limit (5): the right password still works.
out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --body 'after failures')
ag_check "the right password afterwards gets 235" -- ag_reply_in "$out" '^235 2\.7\.0'
ag_check "and its message is delivered" -- ag_wait_delivered "$AG_SINK" 1 20
ag_check "nothing from the failed sessions was relayed (exactly 1 message)" -- ag_sink_exactly 1

ag_check "the audit log records a rejected login" -- \
	grep -q '"event":"auth".*"action":"reject"' "$work/audit.jsonl"

tap_done
