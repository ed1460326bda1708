#!/usr/bin/env bash
# ag-run: alone (measures memory per connection: tests/integration/run starts nothing beside it)
# t_proxy_idle_tls_connections: many idle TLS sessions on 465 are held open at once; the proxy keeps
# serving new clients meanwhile, every held session still answers afterwards, and its descriptors
# come back. Reports the memory per connection. Smoke: 500 sessions; AG_LONG=1: 5000.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

N=500
[ "${AG_LONG:-0}" = 1 ] && N=5000
# Each side needs a descriptor per session (and the proxy inherits our limit).
want=$((N + 1000))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$want" ]; then
	skip_all "hard limit on open files $(ulimit -Hn) < $want"
fi
ulimit -n "$want"

work=$(mktemp -d /tmp/ag-idletls-XXXXXX)
holder=""
trap '[ -z "$holder" ] || kill "$holder" 2>/dev/null || true; ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT
agc_build "$work" || skip_all "cannot build the test client (gcc, libssl-dev)"

must "proxy up (max_connections $((N + 100)), open files $(ulimit -n))" -- ag_world_start "$work" proxy.max_connections=$((N + 100)) proxy.max_connections_per_ip=$((N + 100))
pid=$AG_PROXY_PID

# Warm up (first TLS handshake, first relay) so the baseline is a serving process.
out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --header 'Subject: warm-up')
ag_check "a first message goes through" -- ag_reply_in "$out" '^250 '
sleep 1
rss0=$(ag_pid_rss_kb "$pid") fds0=$(ag_pid_fds "$pid")
diag "network process before: VmRSS ${rss0} kB, $fds0 descriptors"

mkfifo "$work/go"
"$AGC" -H "$N" -t "$AG_SMTPS" <"$work/go" >"$work/hold.out" 2>"$work/hold.err" &
holder=$!
exec {go}>"$work/go"
t0=$SECONDS
ag_check "$N TLS sessions opened, each with its banner" -- \
	wait_for $((N / 20 + 60)) grep -qx "held $N" "$work/hold.out"
diag "opened in $((SECONDS - t0)) s"
sleep 1
rss1=$(ag_pid_rss_kb "$pid") fds1=$(ag_pid_fds "$pid")
diag "network process with $N idle TLS sessions: VmRSS ${rss1} kB, $fds1 descriptors"
diag "memory per idle TLS connection: $(((rss1 - rss0) * 1024 / N)) bytes (VmRSS delta / $N)"
ag_check "one descriptor per session" -- test $((fds1 - fds0)) -ge "$N"

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --header 'Subject: while-held')
ag_check "with them all open, a new client still sends a message" -- ag_reply_in "$out" '^250 '
out=$(ag_swaks --port "$AG_SUB" --tls --auth LOGIN --auth-user "$AG_USER2" \
	--auth-password "$AG_PASS2" --from "$AG_USER2@authgate.test" --header 'Subject: while-held-587')
ag_check "and on 587 with STARTTLS" -- ag_reply_in "$out" '^250 '

exec {go}>&-
ag_check "every held session still answers NOOP with 250" -- \
	wait_for $((N / 20 + 60)) grep -qx "served $N" "$work/hold.out"
grep -q '^served' "$work/hold.out" && diag "holder: $(tail -n 1 "$work/hold.out")"
wait "$holder" || true
holder=""
settled() { [ "$(ag_pid_fds "$pid")" -le "$fds0" ]; }
ag_check "descriptors back to the baseline ($fds0)" -- wait_for 20 settled
diag "after: $(ag_pid_fds "$pid") descriptors, VmRSS $(ag_pid_rss_kb "$pid") kB"
ag_check "the proxy is alive" -- kill -0 "$pid"
ag_check "both messages were delivered" -- ag_wait_delivered "$AG_SINK" 3 30
tap_done
