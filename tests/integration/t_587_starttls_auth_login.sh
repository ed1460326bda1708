#!/usr/bin/env bash
# t_587_starttls_auth_login: a client on 587 does STARTTLS, then AUTH LOGIN, and its message is delivered.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-587login-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work"

out=$(ag_swaks --port "$AG_SUB" --tls --auth LOGIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --header 'Subject: t_587_starttls_auth_login' --body 'login body 91c2')
ag_check "EHLO before TLS advertises STARTTLS" -- ag_reply_in "$out" '^250-STARTTLS'
ag_check "EHLO before TLS does not advertise AUTH" -- ag_not grep -Eq '^<- +250.AUTH' <<<"$out"
ag_check "STARTTLS gets 220 2.0.0" -- ag_reply_in "$out" '^220 2\.0\.0'
ag_check "EHLO after TLS advertises AUTH PLAIN LOGIN" -- grep -Eq '^<~ +250-AUTH PLAIN LOGIN$' <<<"$out"
ag_check "EHLO after TLS advertises the legacy AUTH=PLAIN LOGIN" -- \
	grep -Eq '^<~ +250-AUTH=PLAIN LOGIN$' <<<"$out"
ag_check "and no STARTTLS any more" -- ag_not grep -Eq '^<~ +250.STARTTLS' <<<"$out"
ag_check "the LOGIN prompts are Username:/Password: (base64)" -- \
	ag_reply_in "$out" '^334 VXNlcm5hbWU6'
ag_check "AUTH LOGIN with the right password gets 235 2.7.0" -- ag_reply_in "$out" '^235 2\.7\.0'
ag_check "the message is accepted with Postfix's queue id" -- ag_reply_in "$out" '^250 .*queued as'

ag_check "the message reaches the sink" -- ag_wait_delivered "$AG_SINK" 1 20
ag_check "the body arrives intact" -- ag_sink_has '^login body 91c2'
ag_check "our Authentication-Results names the login" -- \
	ag_sink_has '^Authentication-Results: smtp\.authgate\.test; auth=pass smtp\.auth=alice'
ag_check "Postfix got XCLIENT LOGIN=alice" -- \
	wait_for 10 grep -q 'sasl_username=alice$' "$(ag_postfix_log "$AG_PF")"

# bob's password has a colon in it: LOGIN carries it whole.
out=$(ag_swaks --port "$AG_SUB" --tls --auth LOGIN --auth-user "$AG_USER2" \
	--auth-password "$AG_PASS2" --body 'bob body')
ag_check "a password with a colon works through AUTH LOGIN" -- ag_reply_in "$out" '^235 2\.7\.0'
ag_check "and bob's message is delivered too" -- ag_wait_delivered "$AG_SINK" 2 20

tap_done
