#!/usr/bin/env bash
# t_readme_scaling_shared: README "Scaling out", the shared lockout, followed literally on
# loopback: HAProxy with the README's haproxy.cfg (round robin, PROXY v2, health checks) in
# front of two authgate-proxy instances with the README's [proxy] lines and shared_state
# lines, and a redis-server with the README's redis.conf. An attacker connecting from
# 127.0.0.5 and served by both instances in turn is refused at the same count as by one
# instance; alice's familiar network (127.0.0.6) learnt on one instance lets her in on the
# other; Redis sees EVALSHA only, and after SCRIPT FLUSH the proxies load the scripts again
# without an outage; Redis killed mid-run: both serve on with local limits (one log line
# each), restarted: they share again.
#
# Substitutions: 10.1.0.x and the ports -> 127.0.0.1 and free ports (HAProxy's `bind :465`
# -> 127.0.0.1), the password, audit_log -> a file per instance (syslog to a log host is
# t_readme_scaling's, which needs a mount namespace; this one does not). Added to the
# README's lines: auth_fail_limit = auth_user_fail_limit = 3 and the test's PAM, Postfix,
# certificate (ag_proxy_conf).
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"
. "$AG_SRCDIR/tests/integration/t_readme_blocks.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"
for c in haproxy redis-server redis-cli; do
	command -v "$c" >/dev/null || skip_all "$c not installed (apt-get install haproxy redis-server)"
done

w=$(mktemp -d /tmp/ag-rshared-XXXXXX)
redis_pid="" b_pid="" AG_HAPROXY_PID=""
cleanup() {
	local x
	for x in "$AG_HAPROXY_PID" "$b_pid" "$redis_pid"; do
		[ -n "$x" ] || continue
		if kill "$x" 2>/dev/null; then wait "$x" 2>/dev/null || true; fi
	done
	ag_diag_tails "$w"/proxy.log "$w"/b/proxy.log "$w"/haproxy.log "$w"/redis/redis.log
	ag_auth_cleanup_all
	ag_cleanup_all
	rm -rf "$w"
}
trap cleanup EXIT
agc_build "$w" || skip_all "cannot build the test client (gcc, libssl-dev)"

# --- Redis with the README's redis.conf
rport=$(ag_free_port)
rpass="redis-$RANDOM$RANDOM"
mkdir -p "$w/redis"
readme_block scaling-redis.conf | sed -e 's/^bind 10\.1\.0\.20$/bind 127.0.0.1/' \
	-e "s/^port 6379\$/port $rport/" -e "s/^requirepass .*/requirepass $rpass/" >"$w/redis/redis.conf"
ag_check "the README's redis.conf, substituted: bind, port, requirepass" -- eval \
	"grep -qx 'bind 127.0.0.1' '$w/redis/redis.conf' && grep -qx 'port $rport' '$w/redis/redis.conf' &&
	grep -qx 'requirepass $rpass' '$w/redis/redis.conf'"
redis_start() { # the README's file, run from its directory (save "": nothing is written)
	(cd "$w/redis" && exec redis-server "$w/redis/redis.conf" >>"$w/redis/redis.log" 2>&1) &
	redis_pid=$!
}
rcli() { REDISCLI_AUTH=$rpass redis-cli -p "$rport" --no-auth-warning "$@"; }
redis_up() { [ "$(rcli ping 2>/dev/null)" = PONG ]; }
redis_start
must "redis-server on 127.0.0.1:$rport" -- wait_for 10 redis_up
printf '%s\n' "$rpass" >"$w/redis.pass"
chmod 600 "$w/redis.pass"

# --- two instances: the README's [proxy] lines and its shared_state lines
p1s=$(ag_free_port) p1u=$(ag_free_port) p2s=$(ag_free_port) p2u=$(ag_free_port)
ini_pairs() { # INI lines -> section.key=value (the section given, or the [section] seen)
	awk -v sec="$1" '/^\[.*\]$/ { sec = substr($0, 2, length($0) - 2); next }
	     /^[a-z_]+ *=/ { k = $1; sub(/^[^=]*= */, ""); sub(/ *;.*$/, ""); print sec "." k "=" $0 }'
}
readme_pairs() { # readme_pairs N SMTPS SUB: instance N's lines, substituted
	readme_block scaling-authgate.conf | sed -e "s/10\.1\.0\.11:465/127.0.0.1:$2/" \
		-e "s/10\.1\.0\.11:587/127.0.0.1:$3/" -e 's|10\.1\.0\.5/32|127.0.0.1/32|' \
		-e "s|^audit_log = .*|audit_log = $w/$1audit.jsonl|" | ini_pairs ""
	readme_block scaling-shared-state.conf | sed -e "s/10\.1\.0\.20:6379/127.0.0.1:$rport/" \
		-e "s|/etc/authgate/redis.pass|$w/redis.pass|" | ini_pairs proxy
}
mapfile -t pairs1 < <(readme_pairs "" "$p1s" "$p1u")
mapfile -t pairs2 < <(readme_pairs b/ "$p2s" "$p2u")
ag_check "the README's lines: 5 of authgate.conf, 4 of shared_state (${pairs1[*]})" -- \
	test "${#pairs1[@]}" -eq 9
limits=(proxy.auth_fail_limit=3 proxy.auth_user_fail_limit=3 proxy.auth_fail_window=600)
must "instance 1 up, sharing through Redis" -- ag_world_start "$w" "${limits[@]}" "${pairs1[@]}"
a_log=$AG_PROXY_LOG a_pid=$AG_PROXY_PID
mkdir -p "$w/b"
chmod o+x "$w/b"
ag_proxy_conf "$w/b/authgate.conf" 0 0 "127.0.0.1:$AG_PFPORT" "$AG_PAM" "$w/certs" \
	"${limits[@]}" "${pairs2[@]}"
AG_PROXY_LOG=$w/b/proxy.log
must "instance 2 up, sharing through Redis" -- ag_proxy_start "$w/b/authgate.conf"
b_pid=$AG_PROXY_PID b_log=$w/b/proxy.log AG_PROXY_PID=$a_pid AG_PROXY_LOG=$a_log
ag_check "both files have the README's shared_state" -- eval \
	"grep -qx 'shared_state = 127.0.0.1:$rport' '$w/authgate.conf' &&
	grep -qx 'shared_state_prefix = authgate:' '$w/b/authgate.conf'"

# --- HAProxy with the README's configuration
h465=$(ag_free_port) h587=$(ag_free_port)
readme_block scaling-haproxy.cfg | sed \
	-e "s/bind :465\$/bind 127.0.0.1:$h465/; s/bind :587\$/bind 127.0.0.1:$h587/" \
	-e "s/10\.1\.0\.11:465/127.0.0.1:$p1s/; s/10\.1\.0\.11:587/127.0.0.1:$p1u/" \
	-e "s/10\.1\.0\.12:465/127.0.0.1:$p2s/; s/10\.1\.0\.12:587/127.0.0.1:$p2u/" >"$w/haproxy.cfg"
must "haproxy runs the README's configuration on 127.0.0.1:$h465 and :$h587" -- \
	ag_haproxy_start "$w/haproxy.cfg"

via() { agc_auth "$2" "$3" -B "$1" -t "$h465"; } # via SRC USER PW: through HAProxy from SRC
is() { ag_is "$@"; }
served() { # served LOG SRC: sessions from SRC that came through HAProxy, as the log says
	grep -cE "connect from \[${2//./\\.}\]:[0-9]+ via \[127\.0\.0\.1\]" "$1" || true
}

# --- the reference: one instance, one client network (a PROXY header sent from 127.0.0.1)
ag_check "one instance: 1st failure from 198.51.100.1: 535" -- \
	is 535 "$(AG_SMTPS=$p1s agc_try_auth 198.51.100.1 r1 no)"
ag_check "2nd: 535" -- is 535 "$(AG_SMTPS=$p1s agc_try_auth 198.51.100.1 r2 no)"
ag_check "3rd reaches auth_fail_limit: 421" -- is 421 "$(AG_SMTPS=$p1s agc_try_auth 198.51.100.1 r3 no)"

# --- the attacker at 127.0.0.5, through HAProxy: the same count
ag_check "through HAProxy from 127.0.0.5: 1st failure: 535" -- is 535 "$(via 127.0.0.5 a1 no)"
ag_check "2nd: 535" -- is 535 "$(via 127.0.0.5 a2 no)"
ag_check "3rd: 421, as by one instance" -- is 421 "$(via 127.0.0.5 a3 no)"
ag_check "4th, with a right password: 421" -- is 421 "$(via 127.0.0.5 "$AG_USER2" "$AG_PASS2")"
s1=$(served "$a_log" 127.0.0.5) s2=$(served "$b_log" 127.0.0.5)
ag_check "both instances took the attacker's sessions from HAProxy, each seeing 127.0.0.5 ($s1 + $s2)" -- \
	test "$s1" -ge 1 -a "$s2" -ge 1 -a $((s1 + s2)) -eq 4
ag_check "neither logged a session from HAProxy's own address with an AUTH" -- eval \
	"! grep -h 'authentication failed .* from \[127\.0\.0\.1\]' '$a_log' '$b_log' | grep -q ."

# --- alice: familiar at 127.0.0.6 on one instance, locked out elsewhere, let in on the other
home_on() { grep -c 'authenticated "alice" from \[127\.0\.0\.6\]' "$1" || true; }
ag_check "alice from 127.0.0.6: 235" -- is 235 "$(via 127.0.0.6 "$AG_USER" "$AG_PASS")"
first=$a_log other=$b_log
[ "$(home_on "$a_log")" -eq 1 ] || first=$b_log other=$a_log
ag_check "guess for alice from 127.0.0.7: 535" -- is 535 "$(via 127.0.0.7 alice x1)"
ag_check "from 127.0.0.8: 535" -- is 535 "$(via 127.0.0.8 alice x2)"
ag_check "from 127.0.0.9: 535" -- is 535 "$(via 127.0.0.9 alice x3)"
ag_check "a stranger (127.0.0.10) with alice's right password: 454" -- \
	is 454 "$(via 127.0.0.10 "$AG_USER" "$AG_PASS")"
ag_check "alice from 127.0.0.6 again: 235" -- is 235 "$(via 127.0.0.6 "$AG_USER" "$AG_PASS")"
ag_check "served by the other instance than her first login (${first%/proxy.log}, then ${other%/proxy.log})" -- \
	test "$(home_on "$first")" -eq 1 -a "$(home_on "$other")" -eq 1

# --- one round trip per request: EVALSHA, the scripts loaded once per connection
evalsha_only() {
	local stats
	stats=$(rcli INFO commandstats)
	grep -q '^cmdstat_evalsha:calls=[1-9]' <<<"$stats" && ! grep -q '^cmdstat_eval:' <<<"$stats"
}
ag_check "Redis got EVALSHA and no EVAL" -- evalsha_only
loads() { rcli INFO commandstats | sed -n 's/^cmdstat_script|load:calls=\([0-9]*\),.*/\1/p'; }
ag_check "SCRIPT LOAD: 3 per proxy ($(loads))" -- test "$(loads)" -eq 6
ag_check "SCRIPT FLUSH" -- eval "[ \"\$(rcli SCRIPT FLUSH)\" = OK ]"
ag_check "then from 127.0.0.11: 535" -- is 535 "$(via 127.0.0.11 f1 no)"
ag_check "535" -- is 535 "$(via 127.0.0.11 f2 no)"
ag_check "421: still shared" -- is 421 "$(via 127.0.0.11 f3 no)"
ag_check "the scripts were loaded again after NOSCRIPT ($(loads) loads)" -- test "$(loads)" -gt 6
ag_check "and no outage was logged for it" -- eval \
	"! grep -q 'shared state: Redis at .* unavailable' '$a_log' '$b_log'"

# --- Redis killed mid-run: local limits, one line each
kill -KILL "$redis_pid"
wait "$redis_pid" 2>/dev/null || true
redis_pid=""
ag_check "Redis killed: bob through HAProxy: 235" -- is 235 "$(via 127.0.0.20 "$AG_USER2" "$AG_PASS2")"
ag_check "bob again (the other instance): 235" -- is 235 "$(via 127.0.0.20 "$AG_USER2" "$AG_PASS2")"
ag_check "both logged the outage, once" -- wait_for 5 eval \
	"[ \$(grep -c 'shared state: Redis at .* unavailable' '$a_log') -eq 1 ] &&
	[ \$(grep -c 'shared state: Redis at .* unavailable' '$b_log') -eq 1 ]"
for i in 1 2 3 4; do
	ag_check "alone, each instance counts for itself: failure $i from 127.0.0.12: 535" -- \
		is 535 "$(via 127.0.0.12 "k$i" no)"
done
ag_check "failure 5: 421 (the instance that saw 3)" -- is 421 "$(via 127.0.0.12 k5 no)"

# --- Redis restarted (empty): shared again
redis_start
must "redis-server restarted with the README's file" -- wait_for 10 redis_up
back() { # an AUTH through HAProxy until both logs say Redis answers again (bounded by the caller)
	via 127.0.0.21 "$AG_USER2" "$AG_PASS2" >/dev/null
	grep -q 'shared state: Redis at .* answers again' "$a_log" &&
		grep -q 'shared state: Redis at .* answers again' "$b_log"
}
ag_check "both share again (one line each: answers again)" -- wait_for 20 back
ag_check "from 127.0.0.13: 535" -- is 535 "$(via 127.0.0.13 s1 no)"
ag_check "535" -- is 535 "$(via 127.0.0.13 s2 no)"
ag_check "421: shared again" -- is 421 "$(via 127.0.0.13 s3 no)"
ag_check "both instances and HAProxy still running" -- kill -0 "$a_pid" "$b_pid" "$AG_HAPROXY_PID"
tap_done
