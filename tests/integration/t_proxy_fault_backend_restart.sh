#!/usr/bin/env bash
# t_proxy_fault_backend_restart: the backend is killed and restarted while several clients send
# N messages through the proxy; every message a client saw 250 for is delivered exactly once, every
# other one got a 4xx, and the proxy lives on. Smoke: 200 messages; AG_LONG=1: 2000 (two kills).
# AG_FAULT_BACKEND=postfix puts the private Postfix between proxy and sink (stopped and started
# instead of smtp-sink being killed with SIGKILL).
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

N=200 CLIENTS=8 KILLS=1
if [ "${AG_LONG:-0}" = 1 ]; then N=2000 KILLS=2; fi
mode=${AG_FAULT_BACKEND:-sink}

work=$(mktemp -d /tmp/ag-bkrestart-XXXXXX)
trap 'kill $(cat "$work"/client.*.pid 2>/dev/null) 2>/dev/null || true; ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM and Postfix up" -- ag_world_start "$work" proxy.max_connections_per_ip=50
if [ "$mode" = postfix ]; then
	sinkport=$(postconf -c "$AG_PF/etc" -h relayhost | sed 's/.*://')
else
	# The proxy talks to smtp-sink itself: no queue in between, so "250" means "in the sink".
	ag_proxy_stop
	ag_postfix_stop "$AG_PF"
	sinkport=$(postconf -c "$AG_PF/etc" -h relayhost | sed 's/.*://')
	sed -i "s/^backends = .*/backends = 127.0.0.1:$sinkport/" "$AG_CONF"
	# smtp-sink offers XCLIENT without LOGIN and ADDR: the proxy would (rightly) refuse it.
	sed -i "s/^backend_xclient = .*/backend_xclient = no/" "$AG_CONF"
	must "proxy up in front of the sink itself" -- ag_proxy_start "$AG_CONF"
fi
diag "backend $mode, $N messages from $CLIENTS clients, $KILLS kill(s)"

backend_kill() {
	if [ "$mode" = postfix ]; then
		ag_postfix_stop "$AG_PF"
	else
		kill -KILL "$(cat "$AG_SINK/sink.pid")"
		rm -f "$AG_SINK/sink.pid"
		ag__untrack "sink:$AG_SINK"
	fi
}
backend_start() {
	if [ "$mode" = postfix ]; then
		ag_postfix_start "$AG_PF" "$AG_PFPORT" "$sinkport"
	else
		ag_sink_start "$AG_SINK" "$sinkport"
	fi
}

# client W FIRST LAST: messages FIRST..LAST one after the other, each its own swaks session;
# one line per message in results.W: "ID CODE" (the reply to "." or the first error).
client() {
	local w=$1 i id out code
	for ((i = $2; i <= $3; i++)); do
		id=agf-$i
		out=$(timeout 60 swaks --server 127.0.0.1 --port "$AG_SMTPS" --tls-on-connect \
			--timeout 30 --auth PLAIN --auth-user "$AG_USER" --auth-password "$AG_PASS" \
			--from "$AG_USER@authgate.test" --to rcpt@example.org --header "Subject: $id" \
			--body "message $id"$'\n'"END-$id" 2>&1 || true)
		code=$(awk '/^ *~> \.$/ { dot = 1; next }
			dot && /^ *<~/ { sub(/^ *<~\*? */, ""); print substr($0, 1, 3); exit }
			/^ *<(~|-)?\*/ { sub(/^ *<[~-]?\* */, ""); print substr($0, 1, 3); exit }' <<<"$out")
		[ -n "$code" ] || code=none
		echo "$id $code" >>"$work/results.$w"
		[ "$code" = 250 ] || [ "${code:0:1}" = 4 ] || printf '%s\n' "$out" >"$work/bad.$id"
	done
}
done_count() { cat "$work"/results.* 2>/dev/null | wc -l; }

per=$(((N + CLIENTS - 1) / CLIENTS))
for ((w = 0; w < CLIENTS; w++)); do
	first=$((w * per + 1)) last=$(((w + 1) * per))
	[ "$last" -le "$N" ] || last=$N
	: >"$work/results.$w"
	client "$w" "$first" "$last" &
	echo $! >"$work/client.$w.pid"
done

for ((k = 1; k <= KILLS; k++)); do
	target=$((N * k / (KILLS + 1)))
	for _ in $(seq 1 600); do # bounded: 5 minutes per stage at most
		[ "$(done_count)" -ge "$target" ] && break
		sleep 0.5
	done
	at=$(done_count)
	must "backend killed after $at results" -- backend_kill
	sleep 2 # the fault itself: the backend stays down for 2 s while the clients go on
	must "backend restarted" -- backend_start
done
for ((w = 0; w < CLIENTS; w++)); do
	wait "$(cat "$work/client.$w.pid")" || true
	rm -f "$work/client.$w.pid"
done

cat "$work"/results.* >"$work/results"
accepted=$(awk '$2 == 250' "$work/results" | wc -l)
temp=$(awk '$2 ~ /^4/' "$work/results" | wc -l)
other=$(awk '$2 != 250 && $2 !~ /^4/' "$work/results" | wc -l)
diag "results: $accepted accepted (250), $temp tempfailed (4xx), $other other"
ag_check "every one of the $N messages has a result" -- test "$(wc -l <"$work/results")" -eq "$N"
ag_check "none got anything but 250 or 4xx" -- test "$other" -eq 0
for f in "$work"/bad.*; do
	[ -e "$f" ] || break
	diag "unexpected transcript ($f):"
	tail -n 8 "$f" | sed 's/^/#   /'
	break
done
ag_check "the kill was felt (some 4xx)" -- test "$temp" -gt 0
ag_check "and many got through ($accepted of $N)" -- test "$accepted" -ge $((N / 4))
lastok=0
for ((w = 0; w < CLIENTS; w++)); do
	[ "$(tail -n 1 "$work/results.$w" | cut -d' ' -f2)" = 250 ] && lastok=$((lastok + 1))
done
ag_check "after the restart every client gets through again ($lastok of $CLIENTS last messages: 250)" -- \
	test "$lastok" -eq "$CLIENTS"

# The delivered set: complete messages only (a kill mid-DATA leaves a file without the END line).
[ "$mode" = postfix ] && ag_postfix_flush "$AG_PF" && ag_postfix_wait_queue_empty "$AG_PF" 60
ag_wait_delivered "$AG_SINK" "$accepted" 60 || true
ag_sink_files "$AG_SINK" | xargs -r grep -ho '^END-agf-[0-9]*' | sed 's/^END-//' | sort |
	uniq -c | awk '{ print $2, $1 }' >"$work/delivered"
missing=0 twice=0 extra=0
while read -r id code; do
	n=$(awk -v id="$id" '$1 == id { print $2 }' "$work/delivered")
	n=${n:-0}
	if [ "$code" = 250 ] && [ "$n" -ne 1 ]; then
		[ "$n" -eq 0 ] && missing=$((missing + 1)) || twice=$((twice + 1))
		diag "$id: client saw 250, delivered $n time(s)"
	elif [ "$code" != 250 ] && [ "$n" -gt 0 ]; then
		extra=$((extra + 1)) # allowed: the backend had it, its 250 was lost (SMTP's at-least-once)
	fi
done <"$work/results"
diag "delivered: $(wc -l <"$work/delivered") distinct; $extra of them had been answered 4xx"
ag_check "every 250 is delivered ($missing missing)" -- test "$missing" -eq 0
ag_check "none twice ($twice)" -- test "$twice" -eq 0
ag_check "no message delivered more than once at all" -- \
	test "$(awk '$2 > 1' "$work/delivered" | wc -l)" -eq 0

ag_check "the proxy never crashed (pid $AG_PROXY_PID alive)" -- kill -0 "$AG_PROXY_PID"
out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --header 'Subject: after-the-storm')
ag_check "a message after it all is accepted" -- ag_reply_in "$out" '^250 '
tap_done
