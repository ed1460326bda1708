#!/usr/bin/env bash
# bench/shared_auth.sh BUILDDIR [N]: the AUTH latency shared_state adds (issue 15; goal: p50
# at most 0.3 ms over local). Two authgate-proxy instances in one loopback world (the
# integration kit: private Postfix, smtp-sink, a PAM service; needs root), one with
# shared_state on a real redis-server, one without; both with auth_cache_ttl, so a repeated
# AUTH costs the proxy's own work (and the Redis round trip) and not PAM's. smtpload, one
# connection at a time, N AUTHs (default 2000) per case, 3 rounds interleaved; prints the
# auth-phase p50 of each round and the median difference.
set -euo pipefail
build=$(cd "${1:?usage: bench/shared_auth.sh BUILDDIR [N]}" && pwd)
n=${2:-2000}
export AG_BUILDDIR=$build AG_SRCDIR
AG_SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (PAM service, private Postfix)" >&2; exit 1; }
load=$build/bench/smtpload
[ -x "$load" ] || { echo "build bench/smtpload first (make)" >&2; exit 1; }

work=$(mktemp -d /tmp/ag-bench-shared-XXXXXX)
redis_pid="" b_pid=""
cleanup() {
	[ -z "$b_pid" ] || kill "$b_pid" 2>/dev/null || true
	[ -z "$redis_pid" ] || kill "$redis_pid" 2>/dev/null || true
	ag_auth_cleanup_all
	ag_cleanup_all
	rm -rf "$work"
}
trap cleanup EXIT

rport=$(ag_free_port)
mkdir -p "$work/redis"
redis-server --port "$rport" --bind 127.0.0.1 --dir "$work/redis" --save '' --appendonly no \
	--daemonize no >"$work/redis/log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 100); do
	[ "$(redis-cli -p "$rport" ping 2>/dev/null)" = PONG ] && break
	sleep 0.1
done
common=(proxy.auth_cache_ttl=300 proxy.auth_fail_limit=1000 proxy.auth_user_fail_limit=100000)
ag_world_start "$work" "${common[@]}" "proxy.shared_state=127.0.0.1:$rport" >/dev/null
shared_port=$AG_SMTPS a_pid=$AG_PROXY_PID a_log=$AG_PROXY_LOG
mkdir -p "$work/b"
chmod o+x "$work/b"
local_port=$(ag_free_port)
ag_proxy_conf "$work/b/authgate.conf" "$local_port" "$(ag_free_port)" "127.0.0.1:$AG_PFPORT" \
	"$AG_PAM" "$work/certs" "${common[@]}" "general.audit_log=$work/b/audit.jsonl"
AG_PROXY_LOG=$work/b/proxy.log
ag_proxy_start "$work/b/authgate.conf" >/dev/null
b_pid=$AG_PROXY_PID AG_PROXY_PID=$a_pid AG_PROXY_LOG=$a_log

p50() { # p50 PORT: the auth phase's median over n connections, in ms
	"$load" --port "$1" --mode smtps --user "$AG_USER" --password "$AG_PASS" \
		--from "$AG_USER@authgate.test" --to rcpt@example.org --concurrency 1 \
		--total "$n" --size 512 | awk '$1 == "auth" { print $4 }'
}
p50 "$local_port" >/dev/null # warm-up: PAM once, then the cache answers
p50 "$shared_port" >/dev/null
diffs=()
for r in 1 2 3; do
	l=$(p50 "$local_port")
	s=$(p50 "$shared_port")
	d=$(awk -v s="$s" -v l="$l" 'BEGIN { printf "%.3f", s - l }')
	diffs+=("$d")
	echo "round $r: AUTH p50 local $l ms, shared_state $s ms, added $d ms"
done
med=$(printf '%s\n' "${diffs[@]}" | sort -g | sed -n 2p)
echo "shared_state (Redis on loopback): AUTH p50 added $med ms (median of 3 rounds, $n AUTHs each; goal <= 0.3 ms)"
if grep -q 'unavailable' "$a_log"; then
	echo "note: the shared proxy logged a Redis outage during the run (local decisions)"
fi
