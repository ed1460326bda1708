#!/usr/bin/env bash
# t_proxy_backend_without_xclient: backend_xclient = yes fails closed: a Postfix listener that
# does not offer XCLIENT to the proxy is warned about by -t, logged and passed over; with no
# other backend the mail gets 451 4.7.0 and nothing is relayed without the login.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-noxclient-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

noxc=$(free_port)
ag_world_start "$work" "proxy.backends=127.0.0.1:$noxc, 127.0.0.1:@PF@"
ok $? "proxy, PAM service and Postfix are up"

# A second smtpd in the same Postfix that authorises XCLIENT for nobody we are.
postconf -c "$AG_PF/etc" -M "127.0.0.1:$noxc/inet=127.0.0.1:$noxc inet n - n - - smtpd -o smtpd_authorized_xclient_hosts=192.0.2.1"
ag_postfix_reload "$AG_PF"
ag_check "the listener without XCLIENT is up" -- wait_port "$noxc" 10

rc=0
check=$("$AG_BUILDDIR/proxy/authgate-proxy" -t -c "$AG_CONF" 2>&1) || rc=$?
ag_check "-t still passes (a warning, not an error)" -- test "$rc" -eq 0
ag_check "-t warns that 127.0.0.1:$noxc does not offer XCLIENT" -- \
	grep -q "127\.0\.0\.1:$noxc does not offer XCLIENT LOGIN and ADDR" <<<"$check"
ag_check "-t does not name the backend that does" -- \
	ag_not grep -q "127\.0\.0\.1:$AG_PFPORT does not offer" <<<"$check"

# Startup says the same (the listener was not up when the world started: restart).
ag_proxy_stop
ag_proxy_start "$AG_CONF"
ag_check "startup warns that 127.0.0.1:$noxc does not offer XCLIENT" -- \
	grep -q "warning: .*127\.0\.0\.1:$noxc does not offer XCLIENT LOGIN and ADDR" \
	"$AG_PROXY_LOG"

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --body 'failover body 41c2')
ag_check "the message goes through the next backend" -- ag_reply_in "$out" '^250 .*queued as'
ag_check "it is delivered" -- ag_wait_delivered "$AG_SINK" 1 20
ag_check "the proxy says which backend it used" -- \
	grep -q "backend=127\.0\.0\.1:$AG_PFPORT: 250" "$AG_PROXY_LOG"
n=$(grep -c "backend 127\.0\.0\.1:$noxc: does not offer XCLIENT" "$AG_PROXY_LOG" || true)
ag_check "the backend without XCLIENT is logged by name, once for the transaction (got $n)" -- \
	test "$n" -eq 1

# Now it is the only backend: fail closed.
sed -i "s/^backends = .*/backends = 127.0.0.1:$noxc/" "$AG_CONF"
kill -HUP "$AG_PROXY_PID"
ag_check "the proxy reloads" -- wait_for 5 grep -q 'configuration reloaded' "$AG_PROXY_LOG"
out=$(ag_swaks --port "$AG_SUB" --tls --auth LOGIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --body 'must not pass 9ab0')
ag_check "MAIL gets 451 4.7.0, not a relay without the login" -- ag_reply_in "$out" '^451 4\.7\.0'
ag_check "no 250 for the message" -- ag_no_reply_in "$out" '^250 .*queued as'
ag_check "the proxy logs why" -- grep -q 'no backend takes XCLIENT LOGIN and ADDR' "$AG_PROXY_LOG"
ag_check "the audit log records a tempfail, and why" -- \
	grep -q '"action":"tempfail".*"reason":"no backend takes XCLIENT LOGIN and ADDR"' \
	"$(dirname "$AG_CONF")/audit.jsonl"
ag_check "nothing more was delivered" -- ag_sink_exactly 1
ag_check "the refused body never reached Postfix" -- ag_sink_lacks 'must not pass 9ab0'

tap_done
