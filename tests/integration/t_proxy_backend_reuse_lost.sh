#!/usr/bin/env bash
# t_proxy_backend_reuse_lost: a session's kept backend connection (issue 16), against a backend
# that logs what it reads: the same HELO name again reuses it, another one makes a new
# connection whose XCLIENT carries the new name; a backend that closes the idle connection
# (421, as Postfix after smtpd_timeout) costs the next message nothing; one that drops the kept
# connection when MAIL arrives, or answers it 421, gets the message over a new connection and
# the client never sees a 4xx.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"
command -v python3 >/dev/null || skip_all "python3 not installed"

work=$(mktemp -d /tmp/ag-reuselost-XXXXXX)
fake_pid=""
stop_fake() {
	[ -n "$fake_pid" ] || return 0
	kill "$fake_pid" 2>/dev/null || true
	wait "$fake_pid" 2>/dev/null || true
	fake_pid=""
}
trap 'stop_fake; ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

fport=$(free_port)
flog=$work/fake.log
# One mode per transaction, in the order of the parts below (then "serve").
python3 "$AG_SRCDIR/tests/integration/fakebackend.py" "$fport" "$flog" "$work/fake.ready" \
	serve serve serve idle-timeout serve serve die-at-batch serve serve 421-at-mail \
	>>"$work/fake.out" 2>&1 &
fake_pid=$!
must "the fake backend listens" -- wait_for 10 test -e "$work/fake.ready"
must "proxy and PAM service are up" -- ag_world_start "$work" "proxy.backends=127.0.0.1:$fport"

sessions() { timeout 120 python3 "$AG_SRCDIR/tests/integration/sessclient.py" "$AG_SMTPS" "$@" 2>&1; }
# connects: the proxy's connections so far, by their XCLIENT (its start-up probes send none).
connects() { grep -c "^read: b'XCLIENT " "$flog" || true; }
# all_250 N OUT: the session's N messages each got 250, and no reply was a 4xx or 5xx.
all_250() {
	[ "$(grep -c ': 250 ' <<<"$2")" = "$1" ] && ! grep -q ': [45][0-9][0-9] ' <<<"$2" && return 0
	diag "the client saw:"
	while IFS= read -r l; do diag "  $l"; done <<<"$2"
	return 1
}
# read_after PATTERN ERE: some read after the last line matching PATTERN has ERE in it.
read_after() {
	awk -v p="$1" -v e="$2" '$0 ~ p { seen = 1; found = 0 } seen && $0 ~ e { found = 1 }
		END { exit !(seen && found) }' "$flog" && return 0
	diag "no read after /$1/ has /$2/; the backend read:"
	sed 's/^/#   /' "$flog"
	return 1
}

# (b) EHLO with the same name: the same connection; another name: a new one, with that HELO.
before=$(connects)
out=$(sessions open A "$AG_USER" "$AG_PASS" msg A b1 ehlo A client.example msg A b2 \
	ehlo A other.example msg A b3 quit A) || true
ag_check "new HELO name: each message accepted" -- all_250 3 "$out"
ag_check "new HELO name: two connections for three messages" -- \
	ag_is 2 "$(($(connects) - before))"
ag_check "new HELO name: the XCLIENTs carried the first name, then the new one" -- \
	ag_is "HELO=client.example HELO=other.example" \
	"$(grep -o 'XCLIENT[^\\]*HELO=[^ \\]*' "$flog" | grep -o 'HELO=[^ \\]*' | tr '\n' ' ' | sed 's/ $//')"
ag_check "new HELO name: the third message went on the new connection" -- \
	read_after "^read: b'XCLIENT .*HELO=other" 'Message-ID: <b3@'

# (c) The backend ends the idle connection (421, then close): the next message goes on a new
# one and the client sees nothing of it.
before=$(connects)
out=$(sessions open A "$AG_USER" "$AG_PASS" msg A c1 \
	waitfor "$AG_PROXY_LOG" 'idle connection spoke: 421 4\.4\.2' msg A c2 quit A) || true
ag_check "idle connection closed by the backend: both messages accepted, no 4xx" -- \
	all_250 2 "$out"
ag_check "idle connection closed: the backend timed it out" -- grep -qx 'closed idle' "$flog"
ag_check "idle connection closed: the second message on a new connection" -- \
	ag_is 2 "$(($(connects) - before))"
ag_check "idle connection closed: the second message reached the backend" -- \
	read_after '^closed idle$' 'Message-ID: <c2@'

# (d) The backend drops the kept connection when MAIL arrives: MAIL again on a new one.
before=$(connects)
out=$(sessions open A "$AG_USER" "$AG_PASS" msg A d1 msg A d2 quit A) || true
ag_check "kept connection dropped at MAIL: both messages accepted, no 4xx" -- all_250 2 "$out"
ag_check "kept connection dropped at MAIL: the backend did drop it" -- grep -qx 'closed' "$flog"
ag_check "kept connection dropped at MAIL: the message went over a new connection" -- \
	read_after '^closed$' 'Message-ID: <d2@'
ag_check "kept connection dropped at MAIL: two connections" -- ag_is 2 "$(($(connects) - before))"
ag_check "kept connection dropped at MAIL: the proxy says why at LOG_INFO" -- \
	grep -q 'kept connection lost before MAIL was answered' "$AG_PROXY_LOG"

# (d') The same race seen as a 421 reply to MAIL (the backend's timeout message came first).
before=$(connects)
out=$(sessions open A "$AG_USER" "$AG_PASS" msg A e1 msg A e2 quit A) || true
ag_check "421 to MAIL on the kept connection: both messages accepted, no 4xx" -- \
	all_250 2 "$out"
ag_check "421 to MAIL on the kept connection: the message went over a new connection" -- \
	read_after '^closed$' 'Message-ID: <e2@'
ag_check "421 to MAIL: the audit log names the backend for every message" -- \
	ag_is 9 "$(ag_audit_count "$work/audit.jsonl" "\"event\":\"message\".*\"backend\":\"127\\.0\\.0\\.1:$fport\"")"

tap_done
