#!/usr/bin/env bash
# t_465_overlong_line: overlong command and SASL lines, and an oversize message, get their replies.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-465long-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work" proxy.max_message_size=4096

long=$(head -c 3000 /dev/zero | tr '\0' x)
ag_c_open_tls "$AG_SMTPS"
ag_check "banner" -- ag_c_expect '^220 '
ag_c_send "EHLO long.example"
ag_check "EHLO gets 250" -- ag_c_expect '^250 '
ag_check "SIZE 4096 is advertised" -- grep -q '^250-SIZE 4096' <<<"$AG_C_REPLY"
ag_c_send "NOOP $long"
ag_check "a 3000-octet command line gets 500 5.5.2" -- ag_c_expect '^500 5\.5\.2'
ag_c_send "NOOP"
ag_check "the session goes on: NOOP gets 250" -- ag_c_expect '^250 '

# RFC 4954 4: a SASL response line may be 12288 octets; longer gets 500 5.5.6.
ag_c_send "AUTH LOGIN"
ag_check "AUTH LOGIN prompts for the user name" -- ag_c_expect '^334 VXNlcm5hbWU6$'
ag_c_send "$(head -c 13000 /dev/zero | tr '\0' Q)"
ag_check "a 13000-octet SASL response gets 500 5.5.6" -- ag_c_expect '^500 5\.5\.6'
ag_c_send "NOOP"
ag_check "the session goes on after it" -- ag_c_expect '^250 '

ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")"
ag_check "AUTH still works" -- ag_c_expect '^235 2\.7\.0'
ag_c_send "MAIL FROM:<$AG_USER@authgate.test> SIZE=100000"
ag_check "MAIL with SIZE over max_message_size gets 552 5.3.4" -- ag_c_expect '^552 5\.3\.4'
ag_c_send "MAIL FROM:<$AG_USER@authgate.test>" "RCPT TO:<big@example.org>" "DATA"
ag_check "MAIL without SIZE gets 250" -- ag_c_expect '^250 '
ag_check "RCPT gets 250" -- ag_c_expect '^250 '
ag_check "DATA gets 354" -- ag_c_expect '^354 '
{
	echo "Subject: too big"
	echo
	for _ in $(seq 1 100); do echo "$long" | cut -c1-70; done
	echo "."
} >"$work/big.txt"
ag_c_send_raw "$(cat "$work/big.txt")"$'\n'
ag_check "a 7 kB message over the 4 kB limit gets 552 5.3.4" -- ag_c_expect '^552 5\.3\.4'
ag_c_send "QUIT"
ag_check "QUIT gets 221" -- ag_c_expect '^221 '
ag_c_close
ag_check "the oversize message was not delivered" -- ag_sink_exactly 0

tap_done
