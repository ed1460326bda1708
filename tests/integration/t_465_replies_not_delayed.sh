#!/usr/bin/env bash
# t_465_replies_not_delayed: the proxy's sockets to the client and to the backend have
# TCP_NODELAY, so no small reply waits for the peer's delayed ACK (Nagle: about 40 ms a
# reply, bench/RESULTS.md). Read from the live sockets (pidfd_getfd), since accepted
# sockets get it from the listening socket rather than from a call of their own.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-465nodelay-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

# nodelay_all local|peer PORT: every established TCP socket of the proxy's network process
# whose local (or peer) port is PORT has TCP_NODELAY; prints what it found.
nodelay_all() {
	python3 - "$AG_PROXY_PID" "$1" "$2" <<'PY'
import ctypes, os, socket, sys
pid, side, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
pidfd = libc.syscall(434, pid, 0)  # pidfd_open
if pidfd < 0:
    sys.exit("pidfd_open: " + os.strerror(ctypes.get_errno()))
found = []
for name in os.listdir(f"/proc/{pid}/fd"):
    try:
        if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
            continue
    except OSError:
        continue
    fd = libc.syscall(438, pidfd, int(name), 0)  # pidfd_getfd
    if fd < 0:
        continue
    with socket.socket(fileno=fd) as s:
        if s.type != socket.SOCK_STREAM or s.family not in (socket.AF_INET, socket.AF_INET6):
            continue
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            continue
        try:
            addr = s.getsockname() if side == "local" else s.getpeername()
        except OSError:
            continue
        if addr[1] == port:
            found.append((name, s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))
print(" ".join(f"fd {n}: TCP_NODELAY={v}" for n, v in found) or "no such socket")
sys.exit(0 if found and all(v for _, v in found) else 1)
PY
}

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work"

ag_c_open_tls "$AG_SMTPS"
ag_check "banner 220 over implicit TLS" -- ag_c_expect '^220 '
ag_check "the client's socket in the proxy has TCP_NODELAY" -- nodelay_all local "$AG_SMTPS"
ag_c_send "EHLO client.example"
ag_check "EHLO gets 250" -- ag_c_expect '^250 '
ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")"
ag_check "AUTH PLAIN gets 235" -- ag_c_expect '^235 2\.7\.0'
ag_c_send "MAIL FROM:<$AG_USER@authgate.test>"
ag_check "MAIL gets 250 (the backend is connected)" -- ag_c_expect '^250 '
ag_check "the proxy's socket to the backend has TCP_NODELAY" -- nodelay_all peer "$AG_PFPORT"
ag_c_send "QUIT"
ag_check "QUIT gets 221" -- ag_c_expect '^221 '
ag_c_close

tap_done
