#!/usr/bin/env bash
# t_proxy_pam_workers_stop: when the proxy stops, idle PAM workers exit by themselves (nothing
# is reported killed), and a worker stuck in PAM does not hold the shutdown up: it is killed
# after a bounded wait and the log says so.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-pamstop-XXXXXX)
stuck=""
trap '[ -z "$stuck" ] || kill $stuck 2>/dev/null || true; ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

gone() { ! kill -0 "$1" 2>/dev/null; }
all_gone() {
	local p
	for p in "$@"; do gone "$p" || return 1; done
}
login() {
	ag_swaks --port "$1" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
		--auth-password "$AG_PASS" --quit-after AUTH
}

must "proxy up with 2 PAM workers" -- ag_world_start "$work" proxy.auth_workers=2
ag_check "a login gets 235" -- ag_has_reply "$(login "$AG_SMTPS")" '^235 '
auth=$(ag_proxy_auth_pid)
workers=$(ag_proxy_pam_workers | tr '\n' ' ')
ag_check "the auth process has 2 PAM workers" -- test "$(wc -w <<<"$workers")" -eq 2
log=$AG_PROXY_LOG
ag_proxy_stop
# shellcheck disable=SC2086 # pids
ag_check "idle: the auth process and its workers are gone" -- wait_for 10 all_gone $auth $workers
ag_check "idle: no worker had to be killed" -- ag_not grep -q 'at shutdown, killed' "$log"

# The same proxy with a PAM stack that hangs: a login keeps one worker in PAM.
slow=$(ag_pam_name)
AG_PAM_PRE='auth required pam_exec.so quiet /bin/sleep 60' \
	must "a PAM service that hangs" -- ag_pam_setup "$slow" "$AG_USER" "$AG_PASS"
conf2=$work/slow/authgate.conf
port=$(free_port) sub=$(free_port)
mkdir -p "$work/slow"
must "proxy config" -- ag_proxy_conf "$conf2" "$port" "$sub" "127.0.0.1:$AG_PFPORT" "$slow" \
	"$work/certs" proxy.auth_workers=2
AG_PROXY_LOG=$work/slow/proxy.log
must "proxy up on the hanging stack" -- ag_proxy_start "$conf2"
auth=$(ag_proxy_auth_pid)
workers=$(ag_proxy_pam_workers | tr '\n' ' ')
login "$port" >/dev/null 2>&1 &
client=$!
in_pam() { pgrep -P "$(tr ' ' , <<<"$workers" | sed 's/,$//')" -x sleep; }
ag_check "a worker is in PAM (pam_exec's sleep runs)" -- wait_for 10 in_pam
stuck=$(in_pam | tr '\n' ' ')
ag_proxy_stop
# shellcheck disable=SC2086 # pids
ag_check "busy: the auth process and its workers are gone" -- wait_for 20 all_gone $auth $workers
ag_check "busy: the log says the worker in PAM was killed" -- \
	grep -q 'still in PAM at shutdown, killed' "$AG_PROXY_LOG"
kill "$client" 2>/dev/null || true
wait "$client" 2>/dev/null || true
tap_done
