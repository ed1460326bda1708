#!/usr/bin/env bash
# t_proxy_shared_lockout: two authgate-proxy instances share one lockout through a real
# redis-server (shared_state, with a password file): an address guessing on both in turn is
# refused at the same count as on one; a user locked out from strangers on one is locked out
# on the other, and her familiar network learnt on A lets her in on B. Redis frozen past
# shared_state_timeout, then killed: both keep serving from their local tables (never a 4xx
# for Redis), one log line per outage; Redis restarted: they share again, one line each.
# The client alternates directly between the two proxies (HAProxy in front is
# t_readme_scaling_shared's); client addresses come from PROXY headers (proxy_protocol = yes).
# Redis listens on a Unix socket only (shared_state = unix:PATH), in a directory only the
# proxies' user can enter. A third proxy with a wrong password: one log line, local limits,
# still serving, reconnecting silently.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"
command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
	skip_all "redis-server not installed (apt-get install redis-server)"

work=$(mktemp -d /tmp/ag-shared-XXXXXX)
redis_pid="" b_pid="" c_pid=""
stop_pid() { # stop_pid PID: ag_proxy_stop's TERM, bounded wait, KILL
	[ -z "$1" ] || AG_PROXY_PID=$1 ag_proxy_stop
}
cleanup() {
	kill -CONT "$redis_pid" 2>/dev/null || true
	stop_pid "$c_pid"
	stop_pid "$b_pid"
	stop_pid "$redis_pid"
	ag_auth_cleanup_all
	ag_cleanup_all
	rm -rf "$work"
}
trap cleanup EXIT
agc_build "$work" || skip_all "cannot build the test client (gcc, libssl-dev)"

# --- Redis: a Unix socket only (port 0), a password, nothing written to disk. The proxy runs
# as ag_proxy_conf's user (nobody) with its primary group only (setgroups in main.c): the
# socket's directory lets that group through and no one else; the socket itself is open.
rpass="redis-$RANDOM$RANDOM"
mkdir -p "$work/redis" "$work/rsock"
chmod o+x "$work"
chgrp "$(id -gn nobody)" "$work/rsock"
chmod 0710 "$work/rsock"
rsock=$work/rsock/redis.sock
redis_start() {
	redis-server --port 0 --unixsocket "$rsock" --unixsocketperm 777 --dir "$work/redis" \
		--save '' --appendonly no --requirepass "$rpass" --maxmemory 64mb \
		--maxmemory-policy volatile-ttl --daemonize no \
		>>"$work/redis/redis.log" 2>&1 &
	redis_pid=$!
}
rcli() { REDISCLI_AUTH=$rpass redis-cli -s "$rsock" --no-auth-warning "$@"; }
redis_up() { [ "$(rcli ping 2>/dev/null)" = PONG ]; }
wait_until() { # wait_until SECONDS CMD...: poll (bounded) until CMD succeeds
	local t=$1 i
	shift
	for i in $(seq 1 $((t * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
redis_start
must "redis-server on $rsock" -- wait_until 10 redis_up
printf '%s\n' "$rpass" >"$work/redis.pass"
chmod 600 "$work/redis.pass"

prefix="t$RANDOM:"
shared=(proxy.proxy_protocol=yes proxy.proxy_protocol_from=127.0.0.1/32 proxy.auth_fail_limit=3
	proxy.auth_user_fail_limit=3 proxy.auth_fail_window=600 "proxy.shared_state=unix:$rsock"
	"proxy.shared_state_password_file=$work/redis.pass" proxy.shared_state_timeout=250
	"proxy.shared_state_prefix=$prefix")

# --- proxy A (with Postfix and the sink), then proxy B: same backend, PAM, Redis
must "proxy A up, sharing through Redis" -- ag_world_start "$work" "${shared[@]}"
pa=$AG_SMTPS a_log=$AG_PROXY_LOG a_audit=$work/audit.jsonl
mkdir -p "$work/b"
chmod o+x "$work/b"
pb=$(ag_free_port) && pbsub=$(ag_free_port)
ag_proxy_conf "$work/b/authgate.conf" "$pb" "$pbsub" "127.0.0.1:$AG_PFPORT" "$AG_PAM" \
	"$work/certs" "${shared[@]}"
a_pid=$AG_PROXY_PID
AG_PROXY_LOG=$work/b/proxy.log
must "proxy B up, sharing through Redis" -- ag_proxy_start "$work/b/authgate.conf"
b_pid=$AG_PROXY_PID AG_PROXY_PID=$a_pid AG_PROXY_LOG=$a_log b_log=$work/b/proxy.log
b_audit=$work/b/audit.jsonl

on() { local port=$1; shift; AG_SMTPS=$port agc_try_auth "$@"; }
is() { ag_is "$@"; }

# --- reference: one proxy, one address, wrong passwords for three users (fresh names in each part:
# no user reaches auth_user_fail_limit)
ag_check "one proxy: 1st failure from 198.51.100.1: 535" -- is 535 "$(on "$pa" 198.51.100.1 r1 no)"
ag_check "one proxy: 2nd: 535" -- is 535 "$(on "$pa" 198.51.100.1 r2 no)"
ag_check "one proxy: 3rd reaches auth_fail_limit: 421" -- is 421 "$(on "$pa" 198.51.100.1 r3 no)"

# --- the same guesses spread over A and B: the same count
ag_check "A then B: 1st failure from 198.51.100.2 on A: 535" -- \
	is 535 "$(on "$pa" 198.51.100.2 a1 no)"
ag_check "2nd on B: 535" -- is 535 "$(on "$pb" 198.51.100.2 a2 no)"
ag_check "3rd on A: 421, as against one proxy (A alone saw two)" -- \
	is 421 "$(on "$pa" 198.51.100.2 a3 no)"
ag_check "then on B, even with a right password: 421" -- \
	is 421 "$(on "$pb" 198.51.100.2 "$AG_USER2" "$AG_PASS2")"
ag_check "Redis holds the network's count with the window as TTL" -- eval \
	"[ \"\$(rcli GET '${prefix}net:198.51.100.2')\" -ge 3 ] &&
	t=\$(rcli TTL '${prefix}net:198.51.100.2') && [ \"\$t\" -gt 0 ] && [ \"\$t\" -le 600 ]"
ag_check "B's audit record says the decision came from shared state" -- \
	grep -q '"client_ip":"198.51.100.2".*"limits":"shared".*auth_fail_limit' "$b_audit"

# --- alice: familiar on A, guessed at on both, then seen on B
home=192.0.2.10
ag_check "alice logs in from home on A: 235" -- is 235 "$(on "$pa" "$home" "$AG_USER" "$AG_PASS")"
ag_check "Redis knows her familiar network (capped, with TTL)" -- eval \
	"rcli ZSCORE '${prefix}fam:alice' $home | grep -q '^[0-9]' &&
	[ \"\$(rcli TTL '${prefix}fam:alice')\" -gt 86400 ]"
ag_check "a guess for alice on A (203.0.113.1): 535" -- is 535 "$(on "$pa" 203.0.113.1 alice x1)"
ag_check "a guess on B (203.0.113.2): 535" -- is 535 "$(on "$pb" 203.0.113.2 alice x2)"
ag_check "a guess on A (203.0.113.3): 535" -- is 535 "$(on "$pa" 203.0.113.3 alice x3)"
ag_check "a stranger on B with alice's right password: 454 (B saw one guess itself)" -- \
	is 454 "$(on "$pb" 203.0.113.9 "$AG_USER" "$AG_PASS")"
ag_check "alice from home on B: 235 (her familiar network, learnt on A)" -- \
	is 235 "$(on "$pb" "$home" "$AG_USER" "$AG_PASS")"

# --- Redis frozen: every AUTH waits shared_state_timeout at most, then decides locally
kill -STOP "$redis_pid"
ag_check "Redis frozen: bob on A: 235 (no 4xx because of Redis)" -- \
	is 235 "$(on "$pa" 198.51.100.50 "$AG_USER2" "$AG_PASS2")"
ag_check "A logged the outage" -- wait_until 5 grep -q 'shared state: Redis at .* unavailable' "$a_log"
kill -CONT "$redis_pid"
ag_check "Redis thawed: bob on A: 235" -- is 235 "$(on "$pa" 198.51.100.50 "$AG_USER2" "$AG_PASS2")"
ag_check "A logged that Redis answers again" -- \
	wait_until 5 grep -q 'shared state: Redis at .* answers again' "$a_log"

# --- Redis killed: both serve on with their local limits
kill -KILL "$redis_pid"
wait "$redis_pid" 2>/dev/null || true
redis_pid=""
ag_check "Redis killed: bob on A: 235" -- is 235 "$(on "$pa" 198.51.100.51 "$AG_USER2" "$AG_PASS2")"
ag_check "bob on B: 235" -- is 235 "$(on "$pb" 198.51.100.51 "$AG_USER2" "$AG_PASS2")"
ag_check "local limit on A: 535" -- is 535 "$(on "$pa" 198.51.100.3 k1 no)"
ag_check "local limit on A: 535" -- is 535 "$(on "$pa" 198.51.100.3 k2 no)"
ag_check "local limit on A: 421 at auth_fail_limit" -- is 421 "$(on "$pa" 198.51.100.3 k3 no)"
ag_check "B, alone now, has not seen that address: 535" -- is 535 "$(on "$pb" 198.51.100.3 k4 no)"
ag_check "B's audit says the decision was local" -- \
	grep -q '"client_ip":"198.51.100.3".*"limits":"local"' "$b_audit"
ag_check "B logged the outage" -- grep -q 'shared state: Redis at .* unavailable' "$b_log"
ag_check "one outage line per outage on A (two outages: frozen, killed)" -- \
	test "$(grep -c 'shared state: Redis at .* unavailable' "$a_log")" -eq 2
ag_check "one on B (it asked nothing while Redis was frozen)" -- \
	test "$(grep -c 'shared state: Redis at .* unavailable' "$b_log")" -eq 1
ag_check "no 4xx other than the limits in either audit log" -- eval \
	"! grep -h '\"action\":\"tempfail\"' '$a_audit' '$b_audit' | grep -v auth_user_fail_limit | grep -q ."

# --- Redis back (empty: nothing was saved): the proxies reconnect and share again
redis_start
must "redis-server restarted on the same port" -- wait_until 10 redis_up
back() { # back LOG PORT: an AUTH that reaches Redis, until the log says so (bounded)
	on "$2" 198.51.100.60 "$AG_USER2" "$AG_PASS2" >/dev/null
	grep -q 'shared state: Redis at .* answers again' "$1" &&
		[ "$(grep -c 'answers again' "$1")" -ge "$3" ]
}
ag_check "A shares again (one line: answers again)" -- wait_until 15 back "$a_log" "$pa" 2
ag_check "B shares again" -- wait_until 15 back "$b_log" "$pb" 1
ag_check "after the restart, from 198.51.100.4: 535 on A" -- is 535 "$(on "$pa" 198.51.100.4 s1 no)"
ag_check "535 on B" -- is 535 "$(on "$pb" 198.51.100.4 s2 no)"
ag_check "421 on A: shared again" -- is 421 "$(on "$pa" 198.51.100.4 s3 no)"
ag_check "both proxies still running" -- eval "kill -0 $a_pid && kill -0 $b_pid"

# --- proxy C with a wrong password: one line, local limits, still serving
printf 'not-%s\n' "$rpass" >"$work/c.pass"
chmod 600 "$work/c.pass"
mkdir -p "$work/c"
chmod o+x "$work/c"
pc=$(ag_free_port)
ag_proxy_conf "$work/c/authgate.conf" "$pc" "$(ag_free_port)" "127.0.0.1:$AG_PFPORT" "$AG_PAM" \
	"$work/certs" "${shared[@]}" "proxy.shared_state_password_file=$work/c.pass"
AG_PROXY_LOG=$work/c/proxy.log
must "proxy C up, with a wrong Redis password" -- ag_proxy_start "$work/c/authgate.conf"
c_pid=$AG_PROXY_PID AG_PROXY_PID=$a_pid AG_PROXY_LOG=$a_log c_log=$work/c/proxy.log
ag_check "C: bob: 235" -- is 235 "$(on "$pc" 198.51.100.70 "$AG_USER2" "$AG_PASS2")"
ag_check "C's audit says the decision was local" -- \
	grep -q '"client_ip":"198.51.100.70".*"limits":"local"' "$work/c/audit.jsonl"
denied() { # AUTHs Redis refused (0 before the first)
	rcli INFO commandstats | sed -n 's/^cmdstat_auth:.*failed_calls=\([0-9]*\).*/\1/p' | grep . || echo 0
}
three_denied() { [ "$(denied)" -ge 3 ]; }
ag_check "C tries again (Redis counted 3 refused AUTHs)" -- wait_until 15 three_denied
ag_check "C: bob again: 235" -- is 235 "$(on "$pc" 198.51.100.70 "$AG_USER2" "$AG_PASS2")"
ag_check "C: local limit: 535" -- is 535 "$(on "$pc" 198.51.100.71 w1 no)"
ag_check "C logged one line about Redis, naming the refused AUTH" -- eval \
	"[ \$(grep -c 'shared state:' '$c_log') -eq 1 ] &&
	grep -q 'shared state: Redis at .* unavailable (AUTH refused: WRONGPASS' '$c_log'"
tap_done
