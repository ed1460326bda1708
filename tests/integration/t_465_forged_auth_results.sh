#!/usr/bin/env bash
# t_465_forged_auth_results: a client's Authentication-Results claiming our authserv-id is removed; ours is added.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-465forged-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work"

# RFC 8601 5: ours (any case), also folded over two lines; another server's stays.
cat >"$work/forged.eml" <<-'MSG'
	Authentication-Results: smtp.authgate.test; auth=pass smtp.auth=ceo-forged1
	From: <alice@authgate.test>
	authentication-results: SMTP.AUTHGATE.TEST; auth=pass smtp.auth=ceo-forged2
	To: <rcpt@example.org>
	Authentication-Results: smtp.authgate.test;
	 auth=pass smtp.auth=ceo-forged3
	Authentication-Results: mx.other.example; spf=pass smtp.mailfrom=other.example
	Subject: forged

	forged body 3b8e
	Authentication-Results: smtp.authgate.test; auth=pass smtp.auth=in-body-stays
MSG
out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --data "@$work/forged.eml")
ag_check "the message is accepted" -- ag_reply_in "$out" '^250 .*queued as'
ag_check "it is delivered" -- ag_wait_delivered "$AG_SINK" 1 20
ag_check "the forged header with our authserv-id is gone" -- ag_sink_lacks 'ceo-forged1'
ag_check "the forged one in other case is gone" -- ag_sink_lacks 'ceo-forged2'
ag_check "the folded forged one is gone, continuation line and all" -- ag_sink_lacks 'ceo-forged3'
ag_check "another server's Authentication-Results stays" -- \
	ag_sink_has '^Authentication-Results: mx\.other\.example; spf=pass'
ag_check "ours is there, naming the real login" -- \
	ag_sink_has '^Authentication-Results: smtp\.authgate\.test; auth=pass smtp\.auth=alice$'
# Header lines only (up to the first empty line), any case.
ours=$(awk 'NF == 0 { exit } tolower($0) ~ /^authentication-results: smtp\.authgate\.test;/' \
	"$(ag_sink_files "$AG_SINK" | head -n 1)" | wc -l)
ag_check "exactly one Authentication-Results header carries our authserv-id (got $ours)" -- \
	test "$ours" -eq 1
ag_check "the body is intact" -- ag_sink_has '^forged body 3b8e'
ag_check "a look-alike line in the body is not touched" -- ag_sink_has 'smtp\.auth=in-body-stays'

# Issue 11: the RFC 8601 2.2 forms (comment, version, quoted id) are ours too.
cat >"$work/forms.eml" <<-'MSG'
	Authentication-Results: (comment) smtp.authgate.test; auth=pass smtp.auth=forged-comment
	Authentication-Results: smtp.authgate.test 1; auth=pass smtp.auth=forged-version
	Authentication-Results: "smtp.authgate.test"; auth=pass smtp.auth=forged-quoted
	Authentication-Results: (c) "SMTP.AuthGate.test" 1; auth=pass smtp.auth=forged-mixed
	Authentication-Results: mx.other.example; dkim=pass header.d=other.example
	Subject: forms

	forms body 6d2a
MSG
out=$(ag_swaks --port "$AG_SUB" --tls --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --data "@$work/forms.eml")
ag_check "the message with RFC 8601 forms is accepted" -- ag_reply_in "$out" '^250 .*queued as'
ag_check "it is delivered" -- ag_wait_delivered "$AG_SINK" 2 20
for form in comment version quoted mixed; do
	ag_check "the forged header with a $form authserv-id is gone" -- \
		ag_sink_lacks "smtp\.auth=forged-$form"
done
ag_check "another server's DKIM result stays" -- \
	ag_sink_has '^Authentication-Results: mx\.other\.example; dkim=pass'

# A first line beginning with white space would continue our Authentication-Results.
ag_c_open_tls "$AG_SMTPS"
ag_check "banner" -- ag_c_expect '^220 '
ag_c_send "EHLO folder.example" "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")"
ag_check "EHLO gets 250" -- ag_c_expect '^250 '
ag_check "AUTH gets 235" -- ag_c_expect '^235 '
ag_c_send "MAIL FROM:<$AG_USER@authgate.test>" "RCPT TO:<rcpt@example.org>" "DATA"
ag_check "MAIL gets 250" -- ag_c_expect '^250 '
ag_check "RCPT gets 250" -- ag_c_expect '^250 '
ag_check "DATA gets 354" -- ag_c_expect '^354 '
ag_c_send " dkim=pass header.d=paypal.com" "Subject: folded" "" "fold body 0e4b" "."
ag_check "a leading continuation line gets 554 5.6.0" -- ag_c_expect '^554 5\.6\.0 '
ag_c_send "QUIT"
ag_check "QUIT gets 221" -- ag_c_expect '^221 '
ag_c_close
ag_check "the folded message was not delivered" -- ag_sink_exactly 2
ag_check "no header of ours was extended" -- ag_sink_lacks 'paypal'

tap_done
