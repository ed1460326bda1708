#!/usr/bin/env bash
# t_465_pipelined_transaction: a client that pipelines MAIL/RCPT/DATA (RFC 2920) gets every reply, in order.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-465pipe-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work"

ag_c_open_tls "$AG_SMTPS"
ag_check "banner" -- ag_c_expect '^220 '
ag_c_send "EHLO pipeliner.example"
ag_check "EHLO gets 250" -- ag_c_expect '^250 '
ag_check "PIPELINING is advertised" -- grep -q '^250-PIPELINING' <<<"$AG_C_REPLY"
ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")"
ag_check "AUTH PLAIN with an initial response gets 235" -- ag_c_expect '^235 2\.7\.0'

# One write: the whole envelope and DATA (RFC 2920 3.1: DATA ends a group).
ag_c_send_raw "MAIL FROM:<$AG_USER@authgate.test>"$'\n'"RCPT TO:<one@example.org>"$'\n'"RCPT TO:<two@example.org>"$'\n'"DATA"$'\n'
ag_check "MAIL gets 250" -- ag_c_expect '^250 '
ag_check "first RCPT gets 250" -- ag_c_expect '^250 '
ag_check "second RCPT gets 250" -- ag_c_expect '^250 '
ag_check "DATA gets 354" -- ag_c_expect '^354 '
# The message, its end and the next transaction's envelope in one write.
ag_c_send_raw "Subject: pipelined 1"$'\n\n'"first body 55e1"$'\n'"."$'\n'"MAIL FROM:<$AG_USER@authgate.test>"$'\n'"RCPT TO:<three@example.org>"$'\n'"DATA"$'\n'
ag_check "end of data gets 250 queued" -- ag_c_expect '^250 .*queued as'
ag_check "second MAIL gets 250" -- ag_c_expect '^250 '
ag_check "its RCPT gets 250" -- ag_c_expect '^250 '
ag_check "its DATA gets 354" -- ag_c_expect '^354 '
ag_c_send_raw "Subject: pipelined 2"$'\n\n'"second body 9d07"$'\n'"."$'\n'"QUIT"$'\n'
ag_check "second end of data gets 250 queued" -- ag_c_expect '^250 .*queued as'
ag_check "QUIT gets 221" -- ag_c_expect '^221 '
ag_c_close

ag_check "both messages are delivered" -- ag_wait_delivered "$AG_SINK" 2 20
ag_check "the first went to two recipients" -- \
	ag_sink_has '^X-Rcpt-Args: <two@example\.org>'
ag_check "the first body is intact" -- ag_sink_has '^first body 55e1'
ag_check "the second body is intact" -- ag_sink_has '^second body 9d07'
ag_check "exactly two messages" -- ag_sink_exactly 2

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --pipeline --auth PLAIN \
	--auth-user "$AG_USER" --auth-password "$AG_PASS" --body 'swaks pipeline')
ag_check "swaks --pipeline delivers" -- ag_reply_in "$out" '^250 .*queued as'

tap_done
