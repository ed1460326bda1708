#!/usr/bin/env bash
# t_sendmail_proxy: authgate-proxy (backend_xclient = no) -> a real Sendmail 8.17 -> authgate-milter
# with [milter] proxy_addresses: Sendmail has no XCLIENT, so the login reaches the milter in the
# proxy's own Authentication-Results, which counts only from the proxy's address (127.0.0.1
# here). The user relays in the mandatory phase, reaches a protected list (routed to the hub),
# is held to the sender-login rule at end of message; a client connecting to Sendmail directly
# (127.0.0.4) with the very same header relays nothing and has the header removed.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_sendmail.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (namespaces, PAM service, smtp-sink as postfix)"
for c in swaks smtp-sink m4 rsyslogd unshare saslpasswd2 flock; do
	command -v "$c" >/dev/null || skip_all "$c not installed"
done
for p in proxy/authgate-proxy milter/authgate-milter; do
	[ -x "$AG_BUILDDIR/$p" ] || skip_all "$p not built"
done
unshare -m -u --propagation private true 2>/dev/null || skip_all "cannot make namespaces here"

work=$(mktemp -d /tmp/ag-smproxy-XXXXXX)
cleanup() {
	if [ "${TAP_FAILED:-0}" -gt 0 ]; then
		for f in "$work"/sm/maillog "$work"/milter/milter.log; do
			[ -s "$f" ] || continue
			diag "$f (last 30 lines):"
			tail -n 30 "$f" | sed 's/^/#   /'
		done
	fi
	ag_auth_cleanup_all
	ag_cleanup_all
	rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
sm=$work/sm milter=$work/milter hub=$work/hub
AG_SINK=$work/sink
rport=$(ag_free_port) mport=$(ag_free_port) smport=$(ag_free_port)
smtps=$(ag_free_port) sub=$(ag_free_port)
mkdir -p "$milter"
must "sink on 127.0.0.1:$rport" -- ag_sink_start "$AG_SINK" "$rport"
must "hub sink on $AG_SENDMAIL_HUB_ADDR:$rport" -- ag_sink_start "$hub" "$rport" "$AG_SENDMAIL_HUB_ADDR"
conf=$milter/ag.conf
must "milter configuration: mandatory, proxy_addresses = 127.0.0.1/32" -- \
	ag_milter_conf "$conf" socket="inet:$mport@127.0.0.1" phase=mandatory \
	trusted_networks=192.0.2.0/24 proxy_addresses=127.0.0.1/32 hub=exhub.example.ac.uk:25 \
	protected="staff-all@example.ac.uk, students-*@example.ac.uk"
must "authgate-milter starts" -- ag_milter_start "$milter" "$conf" "$mport"
routes=$("$AG_BUILDDIR/milter/authgate-milter" -c "$conf" -T sendmail)
sed -n '/^# 2\. /,/^# 3\. /{/^#      /s/^#      //p}' <<<"$routes" |
	sed "s|/etc/mail/|$sm/|g" >"$work/routes.mc"
must "sendmail prepared" -- \
	ag_sendmail_prepare "$sm" "$smport" "$rport" "$mport" exhub.example.ac.uk "$work/routes.mc"
must "list map" -- eval 'grep -v "^#" <<<"$routes" | grep -v "^\$" | ag_sendmail_makemap "$sm" authgate_lists'
must "sendmail runs on 127.0.0.1:$smport" -- ag_sendmail_run "$sm" "$smport"

# The proxy: the README's Sendmail settings (no XCLIENT), the milter's authserv-id.
ag_make_cert "$work/certs"
pam=$(ag_pam_name)
ag_pam_setup "$pam" "$AG_USER" "$AG_PASS" "$AG_USER2" "$AG_PASS2"
ag_proxy_conf "$work/proxy.conf" "$smtps" "$sub" "127.0.0.1:$smport" "$pam" "$work/certs" \
	proxy.backend_xclient=no general.authserv_id=mx.example.ac.uk \
	proxy.login_domains=example.ac.uk policy.local_domains=example.ac.uk policy.sender_login=off
must "authgate-proxy starts" -- ag_proxy_start "$work/proxy.conf"

via_proxy() { # via_proxy FROM TO SUBJECT: alice through 465
	timeout 60 swaks --server 127.0.0.1 --port "$smtps" --tls-on-connect --timeout 30 \
		--auth PLAIN --auth-user "$AG_USER" --auth-password "$AG_PASS" \
		--from "$1" --to "$2" --header "Subject: $3" 2>&1 || true
}
direct() { # direct ARGS...: swaks to Sendmail from 127.0.0.4, not the proxy
	timeout 60 swaks --server 127.0.0.1 --port "$smport" --local-interface 127.0.0.4 \
		--timeout 30 --helo client.example.org "$@" 2>&1 || true
}
ours='Authentication-Results: mx.example.ac.uk; auth=pass smtp.auth=alice'

out=$(via_proxy alice@example.ac.uk friend@example.net "via the proxy")
check "alice through the proxy relays in the mandatory phase" -- ag_reply_in "$out" '^250 '
check "delivered to the smart host" -- ag_wait_delivered "$AG_SINK" 1 30
check "the proxy's header is kept, exactly once" -- eval \
	'[ "$(ag_sink_grep "$AG_SINK" "^$ours\$" -c -h | paste -sd+ | bc)" -eq 1 ]'
check "the milter took alice from it (log)" -- \
	grep -qE 'accept: client=127\.0\.0\.1 auth=alice from=<alice@example\.ac\.uk> nrcpt=1 phase=mandatory' "$milter/milter.log"
qid=$(grep -o '"queue_id":"[^"]*","[^}]*"auth_user":"alice"' "$milter/audit.jsonl" | head -n 1 |
	cut -d'"' -f4 || true)
[ -n "$qid" ] || qid=$(grep '"auth_user":"alice"' "$milter/audit.jsonl" | grep -o '"queue_id":"[^"]*"' | head -n 1 | cut -d'"' -f4 || true)
check "audit: auth_user alice with Sendmail's queue id (${qid:-none})" -- \
	eval '[ -n "$qid" ] && grep -q "$qid: from=<alice@example.ac.uk>" "$sm/maillog"'

out=$(via_proxy alice@example.ac.uk staff-all@example.ac.uk "list via the proxy")
check "alice through the proxy to staff-all@" -- ag_reply_in "$out" '^250 '
check "... routed to the hub" -- ag_wait_delivered "$hub" 1 30

out=$(via_proxy bob@example.ac.uk friend@example.net "not her address")
check "alice sending as bob: refused at end of message (sender_login strict)" -- \
	ag_reply_in "$out" '^553 '
check "audit: that refusal names alice" -- \
	eval 'grep "\"event\":\"reject\"" "$milter/audit.jsonl" | grep "\"auth_user\":\"alice\"" |
		grep -q "\"mail_from\":\"bob@example.ac.uk\""'

out=$(direct --from alice@example.ac.uk --to friend@example.net --add-header "$ours")
check "direct client with the proxy's header: relay refused (530)" -- \
	grep -Eq '^<\*\* +530 5\.7\.0' <<<"$out"
out=$(direct --from alice@example.ac.uk --to someone@example.ac.uk --add-header "$ours" \
	--header 'Subject: direct forged')
check "direct client, local recipient: accepted" -- grep -Eq '^<- +250 2\.0\.0' <<<"$out"
check "... delivered" -- ag_wait_delivered "$AG_SINK" 2 30
check "... without the header it forged" -- eval \
	'f=$(grep -l "^Subject: direct forged" $(ag_sink_files "$AG_SINK")) && ! grep -q "smtp.auth=alice" "$f"'
check "... and counted as unauthenticated (audit)" -- \
	grep -q '"client_ip":"127.0.0.4".*"event":"message"\|"event":"message".*"client_ip":"127.0.0.4"' "$milter/audit.jsonl"
check "no audit record gives 127.0.0.4 a login" -- \
	eval '! grep "\"client_ip\":\"127.0.0.4\"" "$milter/audit.jsonl" | grep -q "\"auth_user\""'
tap_done
