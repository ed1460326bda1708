#!/usr/bin/env bash
# t_proxy_pam_process_killed: a PAM worker killed mid-login gives 454 4.7.0, and a new one serves the retry.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-pamkill-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

# A slow PAM stack (2 s per check), so that a worker can be caught in the middle.
AG_PAM_PRE='auth required pam_exec.so quiet /bin/sleep 2' must "proxy up with one PAM worker and a slow PAM stack" -- ag_world_start "$work" proxy.auth_workers=1

ag_check "the auth process runs as root" -- test "$(ps -o user= -p "$(ag_proxy_auth_pid)")" = root
ag_check "the network process does not" -- test "$(ps -o user= -p "$AG_PROXY_PID")" != root
w1=$(ag_proxy_pam_workers | head -n 1)
ag_check "there is one PAM worker (pid ${w1:-none})" -- test -n "$w1"

ag_c_open_tls "$AG_SMTPS"
ag_check "banner" -- ag_c_expect '^220 '
ag_c_send "EHLO victim.example"
ag_check "EHLO 250" -- ag_c_expect '^250 '
ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")"
# In flight: the worker runs the PAM stack's pam_exec sleep for this very login.
ag_check "the login reaches the PAM worker" -- wait_for 10 pgrep -P "$w1" -x sleep
kill -KILL "$w1"
start=$SECONDS
ag_check "the login in flight gets 454 4.7.0" -- ag_c_expect '^454 4\.7\.0 Temporary authentication failure' 10
ag_check "at once, not after a timeout" -- test $((SECONDS - start)) -le 3
new_worker() { # a PAM worker other than $w1 runs under the auth process
	local a
	a=$(ag_proxy_auth_pid) && pgrep -P "$a" -x authgate-pam | grep -qvx "$w1"
}
ag_check "a new PAM worker is forked" -- wait_for 5 new_worker
ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")"
ag_check "the retry in the same session gets 235" -- ag_c_expect '^235 2\.7\.0' 15
ag_c_send "QUIT"
ag_c_close

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --body 'after the worker died')
ag_check "a new session logs in and sends" -- ag_reply_in "$out" '^250 .*queued as'
ag_check "and its message is delivered" -- ag_wait_delivered "$AG_SINK" 1 20

# The supervisor itself cannot come back (the network side has no root to fork it):
# the proxy must go on answering 454, never hang or crash.
w2=$(ag_proxy_pam_workers | head -n 1)
a=$(ag_proxy_auth_pid)
kill -KILL "$a"
ag_check "the proxy notices the auth process has gone" -- \
	wait_for 10 grep -q "auth process $a has gone" "$AG_PROXY_LOG"
out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS")
ag_check "with the auth process gone, AUTH gets 454 4.7.0" -- ag_reply_in "$out" '^454 4\.7\.0'
ag_check "the proxy is still running" -- kill -0 "$AG_PROXY_PID"
gone() { ! kill -0 "$1" 2>/dev/null; }
ag_check "and its PAM worker (${w2:-none}) went with it" -- \
	wait_for 5 gone "${w2:?no worker}"

tap_done
