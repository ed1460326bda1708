#!/usr/bin/env bash
# t_proxy_sighup_broken_config: SIGHUP with a broken config keeps serving with the old one; a good one takes over.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-sighup-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work"
cp "$AG_CONF" "$work/good.conf"

banner() { # banner PORT: the greeting line of a fresh TLS session (QUIT once it came)
	printf 'QUIT\n' | timeout 10 openssl s_client -connect "127.0.0.1:$1" -quiet -crlf \
		-nocommands -ign_eof 2>/dev/null | head -n 1 | tr -d '\r'
}
banner_matches() { grep -Eq "$2" <<<"$(banner "$1")"; }

ag_check "the banner names smtp.authgate.test" -- \
	banner_matches "$AG_SMTPS" '^220 smtp\.authgate\.test '


# A session opened before the reload must survive it.
ag_c_open_tls "$AG_SMTPS"
ag_check "a session open across the reload: banner" -- ag_c_expect '^220 '

sed -e 's/^phase = .*/phase = sometimes/' "$work/good.conf" >"$AG_CONF"
ag_check "the broken config is refused by -t" -- \
	ag_not "$AG_BUILDDIR/proxy/authgate-proxy" -t -c "$AG_CONF"
kill -HUP "$AG_PROXY_PID"
ag_check "it logged that the new config was refused, naming the key" -- \
	wait_for 10 grep -qiE 'reload refused.*phase' "$AG_PROXY_LOG"
ag_check "the proxy is still running after SIGHUP" -- kill -0 "$AG_PROXY_PID"
ag_check "it still greets with the old config" -- \
	banner_matches "$AG_SMTPS" '^220 smtp\.authgate\.test '


ag_c_send "EHLO survivor.example"
ag_check "the session opened before the reload still works" -- ag_c_expect '^250 '
ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")"
ag_check "and can log in" -- ag_c_expect '^235 '
ag_c_send "QUIT"
ag_c_close

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --body 'after broken reload')
ag_check "a new session logs in and sends" -- ag_reply_in "$out" '^250 .*queued as'
ag_check "and its message is delivered" -- ag_wait_delivered "$AG_SINK" 1 20

# The control: a good new config is taken (so the check above could have failed).
sed -e 's/^hostname = .*/hostname = reloaded.authgate.test/' "$work/good.conf" >"$AG_CONF"
kill -HUP "$AG_PROXY_PID"
ag_check "after SIGHUP with a good config the banner changes" -- \
	wait_for 3 banner_matches "$AG_SMTPS" '^220 reloaded\.authgate\.test '

ag_check "the proxy is still running" -- kill -0 "$AG_PROXY_PID"
out=$(ag_swaks --port "$AG_SUB" --tls --auth LOGIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --body 'after good reload')
ag_check "mail flows with the new config" -- ag_reply_in "$out" '^250 .*queued as'

tap_done
