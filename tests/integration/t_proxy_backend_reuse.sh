#!/usr/bin/env bash
# t_proxy_backend_reuse: one client session's messages share one backend connection (issue 16):
# three messages reach Postfix over one connection, each logged with the session's login; two
# sessions of two users open at once, their messages interleaved, get a connection each and
# never carry each other's login; with backend_idle_timeout = 0 every message has its own
# connection again. (A new HELO name, a backend that closes the idle connection or drops it
# at MAIL: t_proxy_backend_reuse_lost, against a backend that shows what it reads.)
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"
command -v python3 >/dev/null || skip_all "python3 not installed"

work=$(mktemp -d /tmp/ag-reuse-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work"
pflog=$(ag_postfix_log "$AG_PF")
# The proxy's own look at Postfix after its start (EHLO, QUIT) is one connection too: let it pass.
must "the proxy has learnt what Postfix offers" -- \
	wait_for 10 grep -q "backend 127\.0\.0\.1:$AG_PFPORT offers" "$AG_PROXY_LOG"

sessions() { timeout 120 python3 "$AG_SRCDIR/tests/integration/sessclient.py" "$AG_SMTPS" "$@" 2>&1; }

# connections: how many connections Postfix's smtpd took so far (the proxy's, its probes').
connections() { grep -c '/smtpd\[[0-9]*\]: connect from ' "$pflog" || true; }

# login_of ID: the login Postfix logged for the message with Message-ID <ID@sessclient.test>.
login_of() {
	local qid
	qid=$(sed -n "s/.* \([0-9A-F]*\): message-id=<$1@sessclient\.test>.*/\1/p" "$pflog" | tail -n 1)
	[ -n "$qid" ] || return 1
	sed -n "s/.* $qid: client=.*sasl_username=\([^, ]*\).*/\1/p" "$pflog" | tail -n 1
}

# logins_are USER ID...: each message was logged by Postfix with USER's login.
logins_are() {
	local user=$1 id got rc=0
	shift
	for id in "$@"; do
		wait_for 10 grep -q "message-id=<$id@sessclient\.test>" "$pflog" || true
		got=$(login_of "$id" || true)
		[ "$got" = "$user" ] && continue
		diag "message $id: Postfix logged login '${got:-none}', not $user"
		rc=1
	done
	return "$rc"
}

# (a) One session, three messages: one connection, all three with alice's login.
before=$(connections)
out=$(sessions open A "$AG_USER" "$AG_PASS" msg A a1 msg A a2 msg A a3 quit A) || true
ag_check "three messages in one session: each accepted" -- ag_is 3 "$(grep -c ': 250 ' <<<"$out")"
ag_check "three messages: delivered" -- ag_wait_delivered "$AG_SINK" 3 20
ag_check "three messages: one connection from the proxy to Postfix" -- \
	ag_is 1 "$(($(connections) - before))"
ag_check "three messages: each logged by Postfix with alice's login" -- \
	logins_are "$AG_USER" a1 a2 a3
ag_check "three messages: Postfix's connection carried three MAILs" -- \
	wait_for 10 grep -q '/smtpd\[[0-9]*\]: disconnect from .* mail=3 rcpt=3 data=3 ' "$pflog"

# (e) Two sessions, two users, open together, their messages interleaved: a connection each,
# and every message with its own session's login (a shared connection would carry the
# XCLIENT LOGIN of whichever session opened it).
before=$(connections)
out=$(sessions open A "$AG_USER" "$AG_PASS" open B "$AG_USER2" "$AG_PASS2" \
	msg A e1 msg B e2 msg A e3 msg B e4 msg A e5 quit B quit A) || true
ag_check "two sessions: each message accepted" -- ag_is 5 "$(grep -c ': 250 ' <<<"$out")"
ag_check "two sessions: delivered" -- ag_wait_delivered "$AG_SINK" 8 20
ag_check "two sessions: one connection each" -- ag_is 2 "$(($(connections) - before))"
ag_check "two sessions: alice's messages logged with alice's login" -- \
	logins_are "$AG_USER" e1 e3 e5
ag_check "two sessions: bob's messages logged with bob's login" -- logins_are "$AG_USER2" e2 e4

# (f) backend_idle_timeout = 0: one connection per transaction, as before issue 16.
sed -i 's/^\[proxy\]$/&\nbackend_idle_timeout = 0/' "$AG_CONF"
must "the config says backend_idle_timeout = 0" -- \
	test "$(sed -n '/^\[proxy\]$/{n;p}' "$AG_CONF")" = "backend_idle_timeout = 0"
nreload=$(grep -c 'configuration reloaded' "$AG_PROXY_LOG" || true)
kill -HUP "$AG_PROXY_PID"
reloads_over() { [ "$(grep -c 'configuration reloaded' "$AG_PROXY_LOG")" -gt "$1" ]; }
must "the proxy reloaded" -- wait_for 10 reloads_over "$nreload"
before=$(connections)
out=$(sessions open A "$AG_USER" "$AG_PASS" msg A f1 msg A f2 msg A f3 quit A) || true
ag_check "no reuse: each message accepted" -- ag_is 3 "$(grep -c ': 250 ' <<<"$out")"
ag_check "no reuse: delivered" -- ag_wait_delivered "$AG_SINK" 11 20
ag_check "no reuse: a connection per message" -- ag_is 3 "$(($(connections) - before))"
ag_check "no reuse: each logged with alice's login" -- logins_are "$AG_USER" f1 f2 f3

tap_done
