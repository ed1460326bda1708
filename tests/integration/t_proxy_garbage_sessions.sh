#!/usr/bin/env bash
# t_proxy_garbage_sessions: random bytes thrown at both listeners (in clear, into the TLS port,
# inside TLS on 465 and after STARTTLS on 587); afterwards the proxy is alive, a normal message is
# delivered, and the process holds no more descriptors than before. Smoke: 500; AG_LONG=1: 10000.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

N=500 P=20
[ "${AG_LONG:-0}" = 1 ] && N=10000

work=$(mktemp -d /tmp/ag-garbage-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT
agc_build "$work" || skip_all "cannot build the test client (gcc, libssl-dev)"

must "proxy up; $N garbage sessions, $P at a time" -- ag_world_start "$work" proxy.max_connections_per_ip=1000
pid=$AG_PROXY_PID

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --header 'Subject: before-garbage')
ag_check "a message before the garbage" -- ag_reply_in "$out" '^250 '
sleep 1
fds0=$(ag_pid_fds "$pid") rss0=$(ag_pid_rss_kb "$pid")
diag "baseline: $fds0 descriptors, VmRSS $rss0 kB"

# garbage KIND BYTES: one session of random bytes; the client may or may not read what comes back.
garbage() {
	local fd port=$AG_SUB wait=$((RANDOM % 2))
	case $1 in
	raw465 | plain587)
		[ "$1" = raw465 ] && port=$AG_SMTPS
		exec {fd}<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || return 0
		head -c "$2" /dev/urandom 2>/dev/null 1>&"$fd" || true
		[ "$wait" -eq 0 ] || timeout 1 cat <&"$fd" >/dev/null 2>&1 || true
		exec {fd}>&-
		;;
	tls465) timeout 10 "$AGC" -t -g "$2" -T "$wait" "$AG_SMTPS" >/dev/null 2>&1 || true ;;
	tls587) timeout 10 "$AGC" -s -g "$2" -T "$wait" "$AG_SUB" >/dev/null 2>&1 || true ;;
	esac
}
kinds=(raw465 plain587 tls465 tls587)
declare -A count=()
pids=()
t0=$SECONDS
for ((i = 0; i < N; i++)); do
	kind=${kinds[RANDOM % 4]}
	case $((RANDOM % 10)) in
	0) size=0 ;;
	1) size=$((20000 + RANDOM)) ;; # far past any line limit
	*) size=$((1 + RANDOM % 4096)) ;;
	esac
	count[$kind]=$((${count[$kind]:-0} + 1))
	garbage "$kind" "$size" &
	pids+=($!)
	# A sliding window of P clients (wait -n on our own pids: the proxy is our child too).
	while [ "${#pids[@]}" -ge "$P" ]; do
		wait -n "${pids[@]}" || true
		alive=()
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
		pids=("${alive[@]}")
	done
	if [ $((i % 100)) -eq 99 ] && ! kill -0 "$pid" 2>/dev/null; then
		break
	fi
done
for p in "${pids[@]}"; do wait "$p" || true; done
diag "sent in $((SECONDS - t0)) s: $(for k in "${kinds[@]}"; do printf '%s=%s ' "$k" "${count[$k]:-0}"; done)"

ag_check "the proxy is alive (pid $pid)" -- kill -0 "$pid"
out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --header 'Subject: after-garbage-465')
ag_check "a normal message on 465 is accepted" -- ag_reply_in "$out" '^250 '
out=$(ag_swaks --port "$AG_SUB" --tls --auth LOGIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --header 'Subject: after-garbage-587')
ag_check "and on 587" -- ag_reply_in "$out" '^250 '
ag_check "both delivered" -- ag_wait_delivered "$AG_SINK" 3 30
ag_check "the garbage delivered nothing" -- ag_sink_exactly 3

settled() { [ "$(ag_pid_fds "$pid")" -le "$fds0" ]; }
ag_check "descriptors back to the baseline ($fds0) once the sessions are gone" -- wait_for 30 settled
diag "after: $(ag_pid_fds "$pid") descriptors, VmRSS $(ag_pid_rss_kb "$pid") kB"
ag_check "no session left behind in the audit log's eyes (every connect has an end)" -- \
	test "$(grep -c 'disconnect from' "$AG_PROXY_LOG")" -ge "$(grep -c ': connect from' "$AG_PROXY_LOG")"
tap_done
