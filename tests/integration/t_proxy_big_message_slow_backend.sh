#!/usr/bin/env bash
# t_proxy_big_message_slow_backend: a 12 MB message to a backend that stops reading after its
# 354. The proxy's output to it backs up past its high-water mark (1 MB), so the proxy stops
# reading the client (the client's bytes wait in the proxy's socket) instead of buffering
# the message; once the backend reads again, the proxy resumes, and the message arrives
# whole and in order, ending with 250. A lost "drained" signal stalls the session here.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"
command -v python3 >/dev/null || skip_all "python3 not installed"
command -v ss >/dev/null || skip_all "ss (iproute2) not installed"

work=$(mktemp -d /tmp/ag-bigmsg-XXXXXX)
slow_pid="" client_pid=""
stop_pids() {
	local p
	for p in $client_pid $slow_pid; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	client_pid="" slow_pid=""
}
trap 'stop_pids; ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

bport=$(free_port)
python3 "$AG_SRCDIR/tests/integration/slowbackend.py" "$bport" "$work/ready" "$work/go" \
	"$work/saved" >"$work/slow.out" 2>&1 &
slow_pid=$!
must "the slow backend listens" -- wait_for 10 test -e "$work/ready"
must "proxy and PAM service are up" -- ag_world_start "$work" "proxy.backends=127.0.0.1:$bport"

# 12 MB of 78-octet lines, some starting with a dot (stuffed on the wire, not in the text).
python3 - "$work/message" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"Subject: big\r\nMessage-ID: <big@authgate.test>\r\n\r\n")
    for i in range(160000):
        lead = b"." if i % 1000 == 0 else b"x"
        f.write(lead + (b"%09d " % i) + b"y" * 66 + b"\r\n")
PY
size=$(stat -c %s "$work/message")
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$AG_PROXY_PID/status"; }
rss_before=$(rss)

# The client sends as fast as the proxy reads (swaks is too slow on a busy machine to fill
# the buffers in time).
PIPECLIENT_BODY=$work/message python3 "$AG_SRCDIR/tests/integration/pipeclient.py" "$AG_SMTPS" \
	"$AG_USER" "$AG_PASS" "$AG_USER@authgate.test" rcpt@example.org >"$work/client.out" 2>&1 &
client_pid=$!

# client_backlog: bytes the client sent that the proxy has not read: the proxy socket's Recv-Q
# and the client socket's Send-Q (which of the two holds them depends on how far the kernel
# grew the receive window, which depends on how fast the proxy read until then).
client_backlog() {
	ss -Htn state established "( sport = :$AG_SMTPS or dport = :$AG_SMTPS )" |
		awk -v p=":$AG_SMTPS" '$3 ~ p "$" { n += $1 } $4 ~ p "$" { n += $2 } END { print n + 0 }'
}
paused() { [ "$(client_backlog)" -gt 100000 ]; }
ag_check "the proxy stopped reading the client while the backend did not read" -- \
	wait_for 60 paused
queued=$(ss -Htn state established "( dport = :$bport )" | awk '{ n += $2 } END { print n + 0 }')
diag "backlog: client -> proxy $(client_backlog) bytes, proxy -> backend (kernel) $queued bytes"
rss_paused=$(rss)
diag "the proxy's resident memory: $rss_before KiB before, $rss_paused KiB while paused"
if ldd "$AG_BUILDDIR/proxy/authgate-proxy" | grep -q libasan; then
	# ASan keeps freed buffers in quarantine: resident memory says nothing there.
	diag "sanitizer build: the memory check is left out"
else
	ag_check "the proxy did not take the message into memory (less than 6 MB more)" -- \
		test "$((rss_paused - rss_before))" -lt 6144
fi
touch "$work/go"
done_ok() { ! kill -0 "$client_pid" 2>/dev/null; }
ag_check "the client's session ends (no stall after the backend resumes)" -- wait_for 180 done_ok
wait "$client_pid" 2>/dev/null || true
client_pid=""
ag_check "the message is accepted with 250 after the final dot" -- \
	grep -q '^end: 250 2\.0\.0 Ok: queued as SLOW' "$work/client.out"
# same_text: what the backend saved, from the message's first line on, is the message
# the proxy's headers come before it).
same_text() {
	python3 - "$work/saved" "$work/message" <<'PY' && return 0
import sys
saved, msg = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
start = saved.find(b"Subject: big\r\n")
got, want = saved[max(start, 0):].rstrip(b"\r\n"), msg.rstrip(b"\r\n")
if start > 0 and got == want:
    sys.exit(0)
at = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), min(len(got), len(want)))
print("saved %d bytes, the message starts at %d; %d vs %d bytes compared, first difference at %d: %r"
      % (len(saved), start, len(got), len(want), at, got[at:at + 40]))
sys.exit(1)
PY
	diag "the backend did not get the message as sent (line above)"
	return 1
}
ag_check "the backend got the whole message, in order, after the proxy's own headers" -- same_text

tap_done
