#!/usr/bin/env bash
# t_tls_ticket_rotation: session-ticket keys rotate every tls_ticket_lifetime (5 s here): a client
# resumes with its ticket in the period it got it and in the next one (and gets a fresh ticket
# then); two rotations later the old ticket means a full handshake. A reload keeps the keys.
# A full handshake brings one ticket.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-tickets-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

ag_world_start "$work" proxy.tls_ticket_lifetime=5
ok $? "proxy up with tls_ticket_lifetime = 5"

rotations() { grep -c 'session-ticket key rotated' "$AG_PROXY_LOG" || true; }
# tls ARGS...: one TLS 1.3 session on 465 that reads the banner and quits (so the tickets,
# sent after the handshake, arrive); the s_client transcript on stdout.
tls() {
	printf 'quit\n' | timeout 15 openssl s_client -connect "127.0.0.1:$AG_SMTPS" \
		-servername localhost -tls1_3 -ign_eof -crlf "$@" 2>&1 || true
}
resumes() { tls -sess_in "$@" | grep -q '^Reused, TLSv1\.3'; }
full() { tls -sess_in "$@" | grep -q '^New, TLSv1\.3'; }

# One ticket per full handshake (SSL_CTX_set_num_tickets): OpenSSL's default is two.
tickets=$(tls | grep -c 'New Session Ticket arrived' || true)
ag_check "a full handshake brings one ticket, not two ($tickets)" -- test "$tickets" -eq 1

# A ticket taken well inside one period (no rotation while we got it).
r0=-1
for _ in 1 2 3; do
	r0=$(rotations)
	tls -sess_out "$work/s1" >/dev/null
	[ "$(rotations)" -eq "$r0" ] && break
done
ag_check "a ticket (s1) is issued" -- test -s "$work/s1"
ag_check "s1 resumes at once" -- resumes "$work/s1"
ag_check "the proxy logs the resumption" -- grep -q 'TLS TLSv1.3 .* (resumed)' "$AG_PROXY_LOG"

at_least() { [ "$(rotations)" -ge "$1" ]; }
ag_check "the key rotates within tls_ticket_lifetime" -- wait_for 8 at_least $((r0 + 1))
ag_check "after one rotation s1 (previous key) still resumes, and a new ticket s2 comes" -- \
	resumes "$work/s1" -sess_out "$work/s2"
ag_check "s2 resumes" -- resumes "$work/s2"

ag_check "the key rotates again" -- wait_for 8 at_least $((r0 + 2))
ag_check "two rotations on, s1 means a full handshake" -- full "$work/s1"
ag_check "s2 (issued under the key that is now the previous one) still resumes" -- \
	resumes "$work/s2" -sess_out "$work/s3"

r=$(rotations)
n=$(grep -c 'configuration reloaded' "$AG_PROXY_LOG" || true)
kill -HUP "$AG_PROXY_PID"
reloaded() { [ "$(grep -c 'configuration reloaded' "$AG_PROXY_LOG" || true)" -gt "$n" ]; }
ag_check "SIGHUP: reloaded" -- wait_for 10 reloaded
if [ "$(rotations)" -le $((r + 1)) ]; then
	ag_check "a ticket from before the reload resumes after it (the keys are kept)" -- \
		resumes "$work/s3"
else
	ok 0 "# SKIP two rotations during the reload: nothing to compare"
fi
ag_check "the proxy is still running" -- kill -0 "$AG_PROXY_PID"
tap_done
