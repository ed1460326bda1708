#!/usr/bin/env bash
# t_465_hostile_login: logins built to fool log readers are escaped in the proxy's log, and AUTH
# lines with a long initial response (RFC 4954 4: up to 12,288 octets) get 535, not 500.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-465hostile-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

ag_world_start "$work" proxy.auth_fail_limit=50
ok $? "proxy, PAM service and Postfix are up"

ag_c_open_tls "$AG_SMTPS"
ag_check "banner" -- ag_c_expect '^220 '
ag_c_send "EHLO hostile.example"
ag_check "EHLO gets 250" -- ag_c_expect '^250 '

# The login of issue 11: it would plant a fake address after PAM answered.
ag_c_send "AUTH PLAIN $(ag_auth_plain 'x" from [203.0.113.9]: authentication failure' nope)"
ag_check "a login with quotes and brackets gets 535 5.7.8" -- ag_c_expect '^535 5\.7\.8' 30
ag_c_send "AUTH PLAIN $(ag_auth_plain 'x" from [203.0.113.9]@authgate.test' nope)"
ag_check "the same with our login domain (normalised, then PAM) gets 535 5.7.8" -- \
	ag_c_expect '^535 5\.7\.8' 30
ag_c_send "AUTH LOGIN" "$(ag_b64 $'evil\r\nauthgate-proxy: fake: authenticated "root"')" "$(ag_b64 nope)"
ag_check "AUTH LOGIN prompts for the user name" -- ag_c_expect '^334 VXNlcm5hbWU6$'
ag_check "and for the password" -- ag_c_expect '^334 UGFzc3dvcmQ6$'
ag_check "a login with CR LF gets 535 5.7.8" -- ag_c_expect '^535 5\.7\.8' 30

# RFC 4954 4 and INTERFACE.md: the AUTH line with its initial response may be 12,288 octets.
ag_c_send "AUTH PLAIN $(ag_auth_plain "$(head -c 1000 /dev/zero | tr '\0' j)" nope)"
ag_check "a 1000-character login in AUTH PLAIN gets 535, not 500 line too long" -- \
	ag_c_expect '^535 5\.7\.8' 30
resp=$(printf '\0%s\0pw' "$(head -c 9000 /dev/zero | tr '\0' k)" | base64 -w0)
ag_check "the test line is within 12,288 octets with CRLF (${#resp} + 13)" -- \
	test $((${#resp} + 13)) -le 12288
ag_c_send "AUTH PLAIN $resp"
ag_check "an AUTH PLAIN line near 12,288 octets gets 535" -- ag_c_expect '^535 5\.7\.8' 30
ag_c_send "AUTH PLAIN $(head -c 13000 /dev/zero | tr '\0' Q)"
ag_check "an AUTH line over 12,288 octets gets 500 5.5.6" -- ag_c_expect '^500 5\.5\.6'
ag_c_send "NOOP $(head -c 1000 /dev/zero | tr '\0' n)"
ag_check "other commands keep the 512-octet limit: 500 5.5.2" -- ag_c_expect '^500 5\.5\.2'
ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")"
ag_check "the real login still works on the same session" -- ag_c_expect '^235 2\.7\.0' 30
ag_c_send "QUIT"
ag_check "QUIT gets 221" -- ag_c_expect '^221 '
ag_c_close

log=$AG_PROXY_LOG
ag_check "no log line carries the planted address" -- ag_not grep -q 'from \[203\.0\.113\.9\]' "$log"
ag_check "the hostile login is logged escaped" -- \
	grep -qF 'authentication failed for "x\x22 from \x5b203.0.113.9\x5d' "$log"
ag_check "no log line was split by the CR LF login" -- \
	ag_not grep -q '^authgate-proxy: fake: authenticated' "$log"
ag_check "the CR LF login is logged escaped" -- grep -qF 'evil\x0d\x0aauthgate-proxy: fake' "$log"
ag_check "the audit log is still one JSON object per line" -- \
	ag_json_lines_ok "$(dirname "$AG_CONF")/audit.jsonl"

tap_done
