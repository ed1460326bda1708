#!/usr/bin/env bash
# t_proxy_pipelined_backend_lost: the backend (one that offers PIPELINING) gets MAIL and the
# client's three RCPTs in one read, and hangs up before it has answered them all: the client
# gets a 4xx for every command still outstanding, in order, and nothing reaches DATA. A
# backend that does not offer PIPELINING gets the same batch one command at a time.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"
command -v python3 >/dev/null || skip_all "python3 not installed"

work=$(mktemp -d /tmp/ag-pipelost-XXXXXX)
fake_pid=""
stop_fake() {
	[ -n "$fake_pid" ] || return 0
	kill "$fake_pid" 2>/dev/null || true
	wait "$fake_pid" 2>/dev/null || true
	fake_pid=""
}
trap 'stop_fake; ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

# start_fake [--no-pipelining] MODE...: the fake backend on $fport, logging to $flog.
start_fake() {
	local opt=()
	if [ "$1" = --no-pipelining ]; then
		opt=("$1")
		shift
	fi
	rm -f "$work/fake.ready"
	python3 "$AG_SRCDIR/tests/integration/fakebackend.py" "${opt[@]}" "$fport" "$flog" \
		"$work/fake.ready" "$@" >>"$work/fake.out" 2>&1 &
	fake_pid=$!
	wait_for 10 test -e "$work/fake.ready"
}

fport=$(free_port)
flog=$work/fake.log
must "the fake backend listens" -- start_fake die-after-mail die-at-batch
must "proxy, PAM service and Postfix are up" -- ag_world_start "$work" \
	"proxy.backends=127.0.0.1:$fport"

batch() {
	ag_pipe_batch "$AG_USER@authgate.test" one@example.org two@example.org three@example.org
}

# batch_in_one_read: the backend read MAIL with all three RCPTs at once.
batch_in_one_read() {
	grep "^read: .*MAIL FROM:" "$flog" | tail -n 1 |
		grep -q 'RCPT TO:<one@example.org>.*RCPT TO:<two@example.org>.*RCPT TO:<three@example.org>' &&
		return 0
	diag "the backend read:"
	sed 's/^/#   /' "$flog"
	return 1
}

# MAIL accepted, then the connection lost: the three RCPTs get 451, DATA has no recipient.
out=$(batch)
ag_check "lost after MAIL: 250, then 451 for each RCPT, DATA refused" -- \
	ag_pipe_codes "$out" "250 451 451 451 554"
ag_check "lost after MAIL: the replies to MAIL and the RCPTs in one TLS record" -- \
	grep -qx 'records 1' <<<"$out"
ag_check "lost after MAIL: MAIL and the RCPTs went to the backend in one write" -- \
	batch_in_one_read
ag_check "lost after MAIL: the client can go on (QUIT gets 221)" -- grep -q '^quit: 221' <<<"$out"

# Lost before any reply, and no other backend: 451 for MAIL and for each RCPT behind it.
out=$(batch)
ag_check "lost at the batch: 451 for MAIL and each RCPT, then DATA without MAIL" -- \
	ag_pipe_codes "$out" "451 451 451 451 503"
ag_check "lost at the batch: MAIL and the RCPTs went to the backend in one write" -- \
	batch_in_one_read
ag_check "the backend hung up on both transactions" -- test "$(grep -c '^closed' "$flog")" -eq 2
ag_check "nothing reached DATA at the backend" -- ag_not grep -q 'DATA' "$flog"
ag_check "the audit log has no accepted message" -- \
	ag_not grep -q '"event":"message"' "$work/audit.jsonl"

# one_per_read: each command of the transaction came in a read of its own.
one_per_read() {
	local verb
	for verb in 'MAIL FROM:<[^>]*>' 'RCPT TO:<one@example.org>' 'RCPT TO:<two@example.org>' \
		'RCPT TO:<three@example.org>' 'DATA'; do
		grep -Eq "^read: b'$verb"'[^\\]*\\r\\n'"'\$" "$flog" && continue
		diag "no read of its own for $verb; the backend read:"
		sed 's/^/#   /' "$flog"
		return 1
	done
}

stop_fake
flog=$work/fake-nopipe.log
must "the fake backend listens again, without PIPELINING" -- start_fake --no-pipelining serve
out=$(batch)
ag_check "no PIPELINING: each command gets its reply, in order" -- \
	ag_pipe_codes "$out" "250 250 250 250 354 250"
ag_check "no PIPELINING: the backend got one command at a time" -- one_per_read

tap_done
