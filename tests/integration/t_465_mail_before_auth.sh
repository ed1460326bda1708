#!/usr/bin/env bash
# t_465_mail_before_auth: MAIL FROM without logging in first gets 530 5.7.0 with the help URL.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-465noauth-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work" policy.help_url=https://help.authgate.test/smtp

ag_c_open_tls "$AG_SMTPS"
ag_check "banner 220 over implicit TLS" -- ag_c_expect '^220 '
ag_c_send "EHLO client.example"
ag_check "EHLO under TLS gets 250" -- ag_c_expect '^250 '
ag_check "EHLO under TLS advertises AUTH PLAIN LOGIN" -- grep -q '^250-AUTH PLAIN LOGIN' <<<"$AG_C_REPLY"
ag_c_send "MAIL FROM:<$AG_USER@authgate.test>"
ag_check "MAIL before AUTH gets 530 5.7.0" -- ag_c_expect '^530 5\.7\.0 Authentication required'
ag_check "the 530 carries the help URL" -- grep -q 'https://help\.authgate\.test/smtp' <<<"$AG_C_REPLY"
ag_c_send "RCPT TO:<rcpt@example.org>"
ag_check "RCPT without a transaction is refused with 5xx" -- ag_c_expect '^5[0-9][0-9] '
ag_c_send "QUIT"
ag_check "QUIT gets 221" -- ag_c_expect '^221 '
ag_c_close

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect)
ag_check "swaks without --auth gets 530 5.7.0 too" -- ag_reply_in "$out" '^530 5\.7\.0'
ag_check "nothing was relayed" -- ag_sink_exactly 0

tap_done
