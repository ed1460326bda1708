#!/usr/bin/env bash
# t_proxy_fault_pam_worker: PAM workers are killed again and again while several clients log in;
# each login gets 235 or 454 4.7.0 (never 535, never silence), the proxy lives on, and once the
# killing stops logins work again. Smoke: 3 kills; AG_LONG=1: 20.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

KILLS=3 CLIENTS=6
[ "${AG_LONG:-0}" = 1 ] && KILLS=20

work=$(mktemp -d /tmp/ag-pamworker-XXXXXX)
trap 'touch "$work/stop"; kill $(cat "$work"/client.*.pid 2>/dev/null) 2>/dev/null || true; ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

# A PAM stack that takes a second: the workers are busy when they are killed.
AG_PAM_PRE='auth required pam_exec.so quiet /bin/sleep 1' must "proxy up: 2 PAM workers, 1 s per check, $CLIENTS clients, $KILLS kills" -- ag_world_start "$work" \
	proxy.auth_workers=2 proxy.max_connections_per_ip=50

workers() { ag_proxy_pam_workers 2>/dev/null || true; }
ag_check "the auth process has its PAM workers" -- wait_for 5 test -n "$(workers)"

# client W: log in again and again until told to stop; one reply code per line in codes.W
client() {
	local out code
	for _ in $(seq 1 1000); do
		[ -e "$work/stop" ] && break
		out=$(timeout 60 swaks --server 127.0.0.1 --port "$AG_SMTPS" --tls-on-connect \
			--timeout 30 --auth PLAIN --auth-user "$AG_USER" --auth-password "$AG_PASS" \
			--from "$AG_USER@authgate.test" --to rcpt@example.org --quit-after AUTH 2>&1 || true)
		code=$(sed -n 's/^ *<[~*]* *\(235\|454\|535\|421\).*/\1/p' <<<"$out" | head -n 1)
		echo "${code:-none}" >>"$work/codes.$1"
	done
}
for ((w = 0; w < CLIENTS; w++)); do
	: >"$work/codes.$w"
	client "$w" &
	echo $! >"$work/client.$w.pid"
done

killed=0
for ((k = 1; k <= KILLS; k++)); do
	sleep 1.5
	victim=$(workers | shuf -n 1)
	if [ -n "$victim" ] && kill -KILL "$victim" 2>/dev/null; then
		killed=$((killed + 1))
	fi
done
ag_check "killed $killed PAM workers (of $KILLS tries)" -- test "$killed" -ge 1
ag_check "the proxy is alive" -- kill -0 "$AG_PROXY_PID"
sleep 2
touch "$work/stop"
for ((w = 0; w < CLIENTS; w++)); do
	wait "$(cat "$work/client.$w.pid")" || true
	rm -f "$work/client.$w.pid"
done

cat "$work"/codes.* >"$work/codes"
n235=$(grep -cx 235 "$work/codes" || true)
n454=$(grep -cx 454 "$work/codes" || true)
nbad=$(grep -cvxE '235|454' "$work/codes" || true)
diag "logins during the kills: $n235 x 235, $n454 x 454, $nbad other ($(sort "$work/codes" | uniq -c | tr '\n' ' '))"
ag_check "some logins got 454 while workers died" -- test "$n454" -ge 1
ag_check "the others got 235" -- test "$n235" -ge 1
ag_check "no login got anything else (no 535 for a right password, no silence)" -- test "$nbad" -eq 0

new_ok() {
	ag_has_reply "$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN \
		--auth-user "$AG_USER" --auth-password "$AG_PASS" --quit-after AUTH)" '^235 '
}
ag_check "after the killing stops, a login gets 235" -- wait_for 10 new_ok
ag_check "with PAM workers running again" -- test -n "$(workers)"
out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --header 'Subject: after-pam-kills')
ag_check "and a message goes through" -- ag_reply_in "$out" '^250 '
ag_check "the proxy never crashed" -- kill -0 "$AG_PROXY_PID"
tap_done
