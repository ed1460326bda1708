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

ag_sendmail_require
for p in proxy/authgate-proxy milter/authgate-milter; do
	[ -x "$AG_BUILDDIR/$p" ] || skip_all "$p not built"
done

work=$(mktemp -d /tmp/ag-smproxy-XXXXXX)
cleanup() {
	[ "${TAP_FAILED:-0}" -eq 0 ] || ag_sendmail_diag "$work/sm/maillog" "$work/milter/milter.log"
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
must "-T sendmail's routes" -- ag_sendmail_routes "$sm" "$conf"
must "sendmail prepared" -- \
	ag_sendmail_prepare "$sm" "$smport" "$rport" "$mport" exhub.example.ac.uk "$sm.routes.mc"
must "list map" -- ag_sendmail_routes_map "$sm"
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
check "the proxy's header is kept, exactly once" -- test "$(ag_sink_total "$AG_SINK" "^$ours\$")" -eq 1
check "the milter took alice from it (log)" -- \
	grep -qE 'accept: client=127\.0\.0\.1 auth=alice from=<alice@example\.ac\.uk> nrcpt=1 phase=mandatory' "$milter/milter.log"
audit_qid() { # audit_qid FRAGMENT...: queue id of the first audit record holding them all
	local line f
	while IFS= read -r line; do
		for f in "$@"; do [[ $line == *"$f"* ]] || continue 2; done
		sed -n 's/.*"queue_id":"\([^"]*\)".*/\1/p' <<<"$line"
		return 0
	done <"$milter/audit.jsonl"
	return 1
}
qid=$(audit_qid '"event":"message"' '"auth_user":"alice"') || qid=""
check "audit: auth_user alice with Sendmail's queue id (${qid:-none})" -- \
	grep -q "${qid:-none}: from=<alice@example.ac.uk>" "$sm/maillog"

out=$(via_proxy alice@example.ac.uk staff-all@example.ac.uk "list via the proxy")
check "alice through the proxy to staff-all@" -- ag_reply_in "$out" '^250 '
check "... routed to the hub" -- ag_wait_delivered "$hub" 1 30

out=$(via_proxy bob@example.ac.uk friend@example.net "not her address")
check "alice sending as bob: refused at end of message (sender_login strict)" -- \
	ag_reply_in "$out" '^553 '
check "audit: that refusal names alice" -- \
	audit_qid '"event":"reject"' '"auth_user":"alice"' '"mail_from":"bob@example.ac.uk"'

out=$(direct --from alice@example.ac.uk --to friend@example.net --add-header "$ours")
check "direct client with the proxy's header: relay refused (530)" -- \
	grep -Eq '^<\*\* +530 5\.7\.0' <<<"$out"
out=$(direct --from alice@example.ac.uk --to someone@example.ac.uk --add-header "$ours" \
	--header 'Subject: direct forged')
check "direct client, local recipient: accepted" -- grep -Eq '^<- +250 2\.0\.0' <<<"$out"
check "... delivered" -- ag_wait_delivered "$AG_SINK" 2 30
forged_kept() { grep -l "^Subject: direct forged" "$@" | xargs -r grep -l "smtp.auth=alice"; }
mapfile -t files < <(ag_sink_files "$AG_SINK")
check "... without the header it forged" -- test -z "$(forged_kept "${files[@]}")"
check "... and counted as unauthenticated (audit)" -- audit_qid '"client_ip":"127.0.0.4"' '"event":"message"'
check "no audit record gives 127.0.0.4 a login" -- \
	test -z "$(audit_qid '"client_ip":"127.0.0.4"' '"auth_user"')"
tap_done
