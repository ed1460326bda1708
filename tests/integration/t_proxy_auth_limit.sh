#!/usr/bin/env bash
# t_proxy_auth_limit: failed logins count across sessions, per client address (IPv6 per /64) and per
# user; over auth_fail_limit the address gets 421 4.7.0, over auth_user_fail_limit the user is
# locked out (454 4.7.0) from networks she has not logged in from; PAM is not even asked.
# Distinct client addresses come from PROXY headers (proxy_protocol = yes), all over loopback.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-authlimit-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT
agc_build "$work" || skip_all "cannot build the test client (gcc, libssl-dev)"

# Every PAM conversation leaves a line "user rhost": what PAM was asked, and for whom.
pampre=$(ag_pam_logger "$work")
AG_PAM_PRE=$pampre must "proxy up: auth_fail_limit = auth_user_fail_limit = 3, trusted_networks = 192.0.2.128/25" -- \
	ag_world_start "$work" \
	proxy.proxy_protocol=yes proxy.proxy_protocol_from=127.0.0.1/32 proxy.auth_fail_limit=3 \
	proxy.auth_user_fail_limit=3 proxy.auth_fail_window=600 policy.trusted_networks=192.0.2.128/25
audit=$work/audit.jsonl

try() { agc_try_auth "$@"; }
is() { ag_is "$@"; }
pam_calls() { ag_pam_calls "$work"; }

# --- per address: three wrong logins (three users) from 192.0.2.10, then the right one
ag_check "192.0.2.10: wrong password for u1: 535" -- is 535 "$(try 192.0.2.10 u1 nope)"
ag_check "192.0.2.10: wrong password for u2: 535" -- is 535 "$(try 192.0.2.10 u2 nope)"
ag_check "192.0.2.10: wrong password for u3: 421 (the third failure reaches the limit)" -- \
	is 421 "$(try 192.0.2.10 u3 nope)"
ag_check "PAM was told the real client (PAM_RHOST 192.0.2.10)" -- \
	grep -q '^u1 192\.0\.2\.10$' "$work/pam.calls"
n=$(pam_calls)
ag_check "192.0.2.10, right password: 421 4.7.0 all the same" -- \
	is 421 "$(try 192.0.2.10 "$AG_USER" "$AG_PASS")"
ag_check "and PAM was not asked" -- test "$(pam_calls)" -eq "$n"
ag_check "the audit log says: auth, reject, too many failures (auth_fail_limit)" -- \
	grep -q '"client_ip":"192.0.2.10".*"event":"auth","action":"reject","reason":"too many failures (auth_fail_limit)"' "$audit"
ag_check "192.0.2.11 is not affected: 235" -- is 235 "$(try 192.0.2.11 "$AG_USER" "$AG_PASS")"

# --- per user (smart lockout): bob fails once from each of three addresses; he has never
# logged in, so every network is a stranger's and he is locked out (454) from all of them
ag_check "bob, wrong, from 192.0.2.21: 535" -- is 535 "$(try 192.0.2.21 "$AG_USER2" bad1)"
ag_check "bob, wrong, from 192.0.2.22: 535" -- is 535 "$(try 192.0.2.22 "$AG_USER2" bad2)"
ag_check "bob, wrong, from 192.0.2.23: 535 (a checked password is answered as such)" -- \
	is 535 "$(try 192.0.2.23 "$AG_USER2" bad3)"
n=$(pam_calls)
ag_check "bob, right password, from a fresh 192.0.2.24: 454 (locked out)" -- \
	is 454 "$(try 192.0.2.24 "$AG_USER2" "$AG_PASS2")"
ag_check "bob@authgate.test is the same login (normalised): 454" -- \
	is 454 "$(try 192.0.2.25 "$AG_USER2@authgate.test" "$AG_PASS2")"
ag_check "PAM was not asked for the locked-out user" -- test "$(pam_calls)" -eq "$n"
ag_check "the audit log names the rule" -- \
	grep -q '"client_ip":"192.0.2.24".*"event":"auth","action":"tempfail","reason":"locked out from unfamiliar networks (auth_user_fail_limit)"' "$audit"
ag_check "alice from 192.0.2.24 still logs in: 235" -- \
	is 235 "$(try 192.0.2.24 "$AG_USER" "$AG_PASS")"

# --- IPv6 counts per /64
ag_check "2001:db8:1::1 wrong: 535" -- is 535 "$(try 2001:db8:1::1 v1 nope)"
ag_check "2001:db8:1::2 wrong: 535" -- is 535 "$(try 2001:db8:1::2 v2 nope)"
ag_check "2001:db8:1::3 wrong: 421" -- is 421 "$(try 2001:db8:1::3 v3 nope)"
ag_check "2001:db8:1::99 (same /64), right password: 421" -- \
	is 421 "$(try 2001:db8:1::99 "$AG_USER" "$AG_PASS")"
ag_check "2001:db8:2::1 (another /64): 235" -- is 235 "$(try 2001:db8:2::1 "$AG_USER" "$AG_PASS")"

# --- a trusted network (webmail) speaks for many users: its address is not counted
for u in t1 t2 t3 t4; do
	r=$(try 192.0.2.200 "$u" nope)
	ag_check "trusted 192.0.2.200, wrong for $u: 535" -- is 535 "$r"
done
ag_check "trusted 192.0.2.200, alice right: 235" -- \
	is 235 "$(try 192.0.2.200 "$AG_USER" "$AG_PASS")"

# --- a success makes the network familiar; it clears no count
ag_check "alice wrong from 192.0.2.40: 535" -- is 535 "$(try 192.0.2.40 "$AG_USER" w1)"
ag_check "alice wrong from 192.0.2.41: 535" -- is 535 "$(try 192.0.2.41 "$AG_USER" w2)"
ag_check "alice right from 192.0.2.42: 235" -- is 235 "$(try 192.0.2.42 "$AG_USER" "$AG_PASS")"
ag_check "alice wrong from 192.0.2.43: 535 (her third failure: her count was not cleared)" -- \
	is 535 "$(try 192.0.2.43 "$AG_USER" w3)"
ag_check "alice right from 192.0.2.44 (never used): 454" -- \
	is 454 "$(try 192.0.2.44 "$AG_USER" "$AG_PASS")"
ag_check "alice right from 192.0.2.42 (familiar now): 235" -- \
	is 235 "$(try 192.0.2.42 "$AG_USER" "$AG_PASS")"

# --- within one session: a growing pause before each 535, then 421 and the door closes
agc_open -P 1 -S 192.0.2.60 -t "$AG_SMTPS"
ag_check "banner" -- ag_c_expect '^220 '
ag_c_send "EHLO c.example"
ag_check "EHLO" -- ag_c_expect '^250 '
t0=$(date +%s%N)
ag_c_send "AUTH PLAIN $(ag_auth_plain z1 nope)"
ag_check "first failure: 535 5.7.8" -- ag_c_expect '^535 5\.7\.8 ' 20
t1=$(date +%s%N)
ag_c_send "AUTH PLAIN $(ag_auth_plain z2 nope)"
ag_check "second failure: 535" -- ag_c_expect '^535 ' 20
t2=$(date +%s%N)
d1=$(((t1 - t0) / 1000000)) d2=$(((t2 - t1) / 1000000))
diag "pauses before 535: ${d1} ms, then ${d2} ms"
# Lower bounds are the delay's promise; the upper ones only say "no hang": a PAM check
# on a loaded 2-core machine adds up to a second or more on top of the pause.
ag_check "the first pause is at least 0.5 s (and under 3 s)" -- test "$d1" -ge 450 -a "$d1" -le 3000
ag_check "the second at least 1.0 s (and under 4 s)" -- test "$d2" -ge 950 -a "$d2" -le 4000
ag_c_send "AUTH PLAIN $(ag_auth_plain z3 nope)"
ag_check "third failure: 421 4.7.0" -- ag_c_expect '^421 4\.7\.0' 20
ag_check "and the connection is closed" -- ag_c_eof 5
ag_c_close

ag_check "the proxy is still running" -- kill -0 "$AG_PROXY_PID"
tap_done
