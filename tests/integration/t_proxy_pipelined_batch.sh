#!/usr/bin/env bash
# t_proxy_pipelined_batch: MAIL, three RCPTs (Postfix refuses one) and DATA in one TLS write
# get their replies in order, all in one TLS record when Postfix offers PIPELINING (RFC 2920),
# and the message reaches the two accepted recipients only; the same with a Postfix that does
# not offer PIPELINING, which gets one command at a time.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"
command -v python3 >/dev/null || skip_all "python3 not installed"

work=$(mktemp -d /tmp/ag-pipebatch-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work"
must "Postfix refuses refused@example.org" -- ag_postfix_set "$AG_PF" \
	'smtpd_recipient_restrictions = check_recipient_access inline:{refused@example.org=REJECT}'
must "Postfix reloaded" -- ag_postfix_reload "$AG_PF"

batch() {
	ag_pipe_batch "$AG_USER@authgate.test" one@example.org refused@example.org two@example.org
}

# delivered_to_accepted_only: the last message smtp-sink got went to one@ and two@ only.
delivered_to_accepted_only() {
	local f rcpts
	f=$(ag_sink_files "$AG_SINK" | tail -n 1)
	if [ -z "$f" ] || ! grep -q 'batch body 7c4e' "$f"; then
		diag "no message"
		return 1
	fi
	rcpts=$(sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$f" | sort | tr '\n' ' ')
	[ "$rcpts" = "one@example.org two@example.org " ] && return 0
	diag "delivered to: $rcpts"
	return 1
}

out=$(batch)
ag_check "PIPELINING: each command gets its reply, in order" -- \
	ag_pipe_codes "$out" "250 250 554 250 354 250"
ag_check "PIPELINING: the replies to MAIL, the RCPTs and DATA come in one TLS record" -- \
	grep -qx 'group records 1' <<<"$out"
ag_check "PIPELINING: delivered" -- ag_wait_delivered "$AG_SINK" 1 20
ag_check "PIPELINING: to the accepted recipients only" -- delivered_to_accepted_only

# Twenty bad RCPTs pipelined behind MAIL and a good RCPT: the twentieth error closes the
# session with 421, but only after the replies to everything before it, in order (the 421
# once overtook them and they were lost); DATA behind it is never read, nothing delivered.
printf 'MAIL FROM:<%s@authgate.test>\r\nRCPT TO:<one@example.org>\r\n' "$AG_USER" >"$work/raw"
for _ in $(seq 1 20); do printf 'RCPT X\r\n' >>"$work/raw"; done
printf 'DATA\r\nSubject: never\r\n\r\nnever\r\n.\r\n' >>"$work/raw"
out=$(PIPECLIENT_RAW=$work/raw timeout 60 python3 "$AG_SRCDIR/tests/integration/pipeclient.py" \
	"$AG_SMTPS" "$AG_USER" "$AG_PASS" 2>&1 || true)
want="250 250$(printf ' 501%.0s' $(seq 1 20)) 421"
raw_codes() {
	local got
	got=$(sed -n 's/^line: \([0-9]\{3\}\).*/\1/p' <<<"$out" | tr '\n' ' ')
	[ "$got" = "$want " ] && grep -qx closed <<<"$out" && return 0
	diag "replies were: $got(wanted $want, then the close)"
	while IFS= read -r l; do diag "  $l"; done <<<"$out"
	return 1
}
ag_check "20 errors in a batch: every reply in order, then 421 and the close" -- raw_codes
ag_check "20 errors in a batch: the 421 says why" -- \
	grep -q '^line: 421 4\.7\.0 .*too many errors' <<<"$out"
# The session is over once the client saw the close: its audit records are written.
ag_check "20 errors in a batch: no message accepted (one in the audit log, the first batch's)" -- \
	test "$(grep -c '"event":"message"' "$work/audit.jsonl")" -eq 1

# Postfix without PIPELINING (that it then gets one command at a time is checked against a
# backend that shows how commands arrive: t_proxy_pipelined_backend_lost).
must "Postfix stops offering PIPELINING" -- ag_postfix_set "$AG_PF" \
	'smtpd_discard_ehlo_keywords = pipelining'
must "Postfix reloaded" -- ag_postfix_reload "$AG_PF"
out=$(batch)
ag_check "no PIPELINING: each command gets its reply, in order" -- \
	ag_pipe_codes "$out" "250 250 554 250 354 250"
ag_check "no PIPELINING: delivered" -- ag_wait_delivered "$AG_SINK" 2 20
ag_check "no PIPELINING: to the accepted recipients only" -- delivered_to_accepted_only

tap_done
