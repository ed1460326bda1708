#!/usr/bin/env bash
# t_proxy_ext: the backend's extensions passed through: SIZE as the smaller of ours and
# Postfix's (over-size refused at MAIL), SMTPUTF8 and DSN offered and relayed when Postfix
# offers them, bad parameters refused, and a Postfix without SMTPUTF8 means 555 / 553 5.6.7.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-ext-XXXXXX)
trap 'ag_c_close; ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work"
be="127\.0\.0\.1:$AG_PFPORT"
ag_check "the startup probe learnt Postfix's EHLO" -- \
	wait_for 10 grep -q "backend $be offers SIZE" "$AG_PROXY_LOG"

# Postfix takes less than we do, and offers SMTPUTF8 and DSN; a reload of the proxy probes anew.
ag_postfix_set "$AG_PF" message_size_limit=2000000 smtputf8_enable=yes
ag_postfix_reload "$AG_PF"
kill -HUP "$AG_PROXY_PID"
ag_check "the reload's probe sees SIZE 2000000, SMTPUTF8 and DSN" -- \
	wait_for 10 grep -q "backend $be offers SIZE 2000000, SMTPUTF8 yes, DSN yes" "$AG_PROXY_LOG"

jorg=$'j\xc3\xb6rg'
ag_c_open_tls "$AG_SMTPS"
ag_check "banner" -- ag_c_expect '^220 '
ag_c_send "EHLO client.example"
ag_check "EHLO" -- ag_c_expect '^250 '
ehlo=$AG_C_REPLY
ag_check "SIZE advertised as Postfix's, the smaller" -- grep -q '^250-SIZE 2000000$' <<<"$ehlo"
ag_check "SMTPUTF8 advertised" -- grep -q '^250-SMTPUTF8$' <<<"$ehlo"
ag_check "DSN advertised" -- grep -q '^250-DSN$' <<<"$ehlo"
ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")"
ag_check "AUTH" -- ag_c_expect '^235 '
ag_c_send "MAIL FROM:<$AG_USER@authgate.test> SIZE=3000000"
ag_check "a SIZE over Postfix's limit is refused at MAIL with 552 5.3.4" -- ag_c_expect '^552 5\.3\.4 '
ag_c_send "MAIL FROM:<$AG_USER@authgate.test> FOO=1"
ag_check "an unknown MAIL parameter: 555 5.5.4" -- ag_c_expect '^555 5\.5\.4 '
ag_c_send "MAIL FROM:<$AG_USER@authgate.test> RET=BODY"
ag_check "RET=BODY: 501 5.5.4" -- ag_c_expect '^501 5\.5\.4 '
ag_c_send "MAIL FROM:<$AG_USER@authgate.test> ENVID=a+zz"
ag_check "ENVID that is not xtext: 501 5.5.4" -- ag_c_expect '^501 5\.5\.4 '
ag_c_send "MAIL FROM:<$AG_USER@authgate.test> SIZE=1000 SMTPUTF8"
ag_check "MAIL with SIZE and SMTPUTF8 is accepted" -- ag_c_expect '^250 '
ag_c_send "RCPT TO:<$jorg@example.org>"
ag_check "a UTF-8 recipient is accepted" -- ag_c_expect '^250 '
ag_c_send "DATA"
ag_check "DATA" -- ag_c_expect '^354 '
ag_c_send "Subject: t_proxy_ext utf8" "" "utf8 body 31aa" "."
ag_check "the UTF-8 message is queued by Postfix" -- ag_c_expect '^250 .*queued as' 30
ag_c_send "MAIL FROM:<$AG_USER@authgate.test> RET=HDRS ENVID=env+2B7c1"
ag_check "MAIL with RET and ENVID is accepted" -- ag_c_expect '^250 '
ag_c_send "RCPT TO:<rcpt@example.org> NOTIFY=SOMETIMES"
ag_check "a bad NOTIFY: 501 5.5.4" -- ag_c_expect '^501 5\.5\.4 '
ag_c_send "RCPT TO:<rcpt@example.org> NOTIFY=FAILURE,DELAY ORCPT=rfc822;orig+2Brcpt@example.org"
ag_check "RCPT with NOTIFY and ORCPT is accepted" -- ag_c_expect '^250 '
ag_c_send "DATA"
ag_check "DATA (DSN)" -- ag_c_expect '^354 '
ag_c_send "Subject: t_proxy_ext dsn" "" "dsn body 5d21" "."
ag_check "the DSN message is queued by Postfix" -- ag_c_expect '^250 .*queued as' 30
ag_c_send "QUIT"
ag_c_close

# Postfix (smtputf8_enable = yes) answers a UTF-8 address without the SMTPUTF8 parameter
# with 553 5.6.7: its taking the recipient shows SMTPUTF8 was passed on. smtp-sink does not
# offer SMTPUTF8, so Postfix cannot deliver it further and says so: that is Postfix's part.
log=$(ag_postfix_log "$AG_PF")
ag_check "Postfix took the UTF-8 recipient" -- wait_for 10 grep -q "to=<$jorg@example.org>" "$log"
grep -a "to=<$jorg@example.org>" "$log" | sed 's/^/#   /' | head -n 3
ag_check "the DSN message reaches the sink" -- wait_for 20 ag_sink_grep "$AG_SINK" 'dsn body 5d21' -q
ag_sink_grep "$AG_SINK" "^X-(Mail|Rcpt)-Args:" -h | sed "s/^/#   /"
ag_check "the sink saw ENVID and RET=HDRS" -- \
	ag_sink_has '^X-Mail-Args: <alice@authgate\.test> ENVID=env\+2B7c1 RET=HDRS'
ag_check "the sink saw NOTIFY and ORCPT" -- \
	ag_sink_has '^X-Rcpt-Args: <rcpt@example\.org> ORCPT=rfc822;orig\+2Brcpt@example\.org NOTIFY=FAILURE,DELAY'
ag_check "the audit log has the UTF-8 recipient" -- grep -q "\"$jorg@example.org\"" "$work/audit.jsonl"

n_utf8=$(grep -c "to=<$jorg@example.org>" "$log" || true)

# Postfix stops offering SMTPUTF8 while a client that was promised it is connected: the
# transaction's own EHLO to Postfix tells the proxy, which passes that backend over (451,
# never a parameter Postfix did not offer) and promises SMTPUTF8 no more.
ag_c_open_tls "$AG_SMTPS"
ag_check "banner (1b)" -- ag_c_expect '^220 '
ag_c_send "EHLO client.example"
ag_check "EHLO (1b) still offers SMTPUTF8" -- ag_c_expect '^250 '
ag_check "SMTPUTF8 advertised (1b)" -- grep -q '^250-SMTPUTF8$' <<<"$AG_C_REPLY"
ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")"
ag_check "AUTH (1b)" -- ag_c_expect '^235 '
ag_postfix_set "$AG_PF" smtputf8_enable=no
ag_postfix_reload "$AG_PF"
ag_c_send "MAIL FROM:<$AG_USER@authgate.test> SMTPUTF8"
ag_check "MAIL SMTPUTF8 to a backend that no longer offers it: 451 4.4.1" -- \
	ag_c_expect '^451 4\.4\.1 ' 30
ag_c_send "QUIT"
ag_c_close
ag_check "the proxy says why" -- \
	grep -q "backend $be: does not offer SMTPUTF8 (any more)" "$AG_PROXY_LOG"
ag_check "that transaction's EHLO updated what the proxy knows" -- \
	grep -q "backend $be offers SIZE 2000000, SMTPUTF8 no, DSN yes" "$AG_PROXY_LOG"
out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --body 'plain after change 0e9f')
ag_check "an ASCII message still goes through" -- ag_reply_in "$out" '^250 .*queued as'
ag_c_open_tls "$AG_SMTPS"
ag_check "banner (2)" -- ag_c_expect '^220 '
ag_c_send "EHLO client.example"
ag_check "EHLO (2)" -- ag_c_expect '^250 '
ag_check "SMTPUTF8 no longer advertised" -- ag_not grep -q 'SMTPUTF8' <<<"$AG_C_REPLY"
ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")"
ag_check "AUTH (2)" -- ag_c_expect '^235 '
ag_c_send "MAIL FROM:<$AG_USER@authgate.test> SMTPUTF8"
ag_check "MAIL with SMTPUTF8 now: 555 5.5.4" -- ag_c_expect '^555 5\.5\.4 '
ag_c_send "MAIL FROM:<$jorg@authgate.test>"
ag_check "a UTF-8 sender now: 553 5.6.7" -- ag_c_expect '^553 5\.6\.7 '
ag_c_send "MAIL FROM:<$AG_USER@authgate.test>"
ag_check "an ASCII MAIL" -- ag_c_expect '^250 '
ag_c_send "RCPT TO:<$jorg@example.org>"
ag_check "a UTF-8 recipient now: 553 5.6.7" -- ag_c_expect '^553 5\.6\.7 '
ag_c_send "QUIT"
ag_c_close
ag_check "nothing UTF-8 reached Postfix after the change" -- \
	test "$(grep -c "to=<$jorg@example.org>" "$log" || true)" -eq "$n_utf8"

tap_done
