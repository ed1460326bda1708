#!/usr/bin/env bash
# t_587_auth_before_starttls: AUTH on 587 before STARTTLS gets 538 5.7.11, never a password check.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-587plain-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work"

ag_c_open_plain "$AG_SUB"
ag_check "banner 220 on 587" -- ag_c_expect '^220 '
ag_c_send "EHLO client.example"
ag_check "EHLO gets 250" -- ag_c_expect '^250 '
ag_check "STARTTLS is advertised" -- grep -q '^250-STARTTLS' <<<"$AG_C_REPLY"
ag_check "AUTH is not advertised before TLS" -- ag_not grep -q '^250.AUTH' <<<"$AG_C_REPLY"
ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")"
ag_check "AUTH PLAIN before STARTTLS gets 538 5.7.11" -- \
	ag_c_expect '^538 5\.7\.11 Encryption required for requested authentication mechanism'
ag_c_send "AUTH LOGIN"
ag_check "AUTH LOGIN before STARTTLS gets 538 5.7.11" -- ag_c_expect '^538 5\.7\.11'
ag_c_send "MAIL FROM:<$AG_USER@authgate.test>"
ag_check "MAIL after the refused AUTH still gets 530 5.7.0" -- ag_c_expect '^530 5\.7\.0'
ag_c_send "QUIT"
ag_check "QUIT gets 221" -- ag_c_expect '^221 '
ag_c_close

# The same with LOGIN's first step carrying an initial response (RFC 4954 4).
ag_c_open_plain "$AG_SUB"
ag_check "banner again" -- ag_c_expect '^220 '
ag_c_send "EHLO client.example"
ag_check "EHLO 250" -- ag_c_expect '^250 '
ag_c_send "AUTH LOGIN $(ag_b64 "$AG_USER")"
ag_check "AUTH LOGIN with an initial response before STARTTLS gets 538 5.7.11" -- \
	ag_c_expect '^538 5\.7\.11'
ag_c_send "STARTTLS"
ag_check "STARTTLS is still offered after it: 220" -- ag_c_expect '^220 '
ag_c_close
ag_check "nothing was relayed" -- ag_sink_exactly 0
ag_check "the audit log has no successful login" -- \
	ag_not grep -q '"event":"auth".*"action":"accept"' "$work/audit.jsonl"

tap_done
