#!/usr/bin/env bash
# t_465_auth_plain: a client on 465 logs in with AUTH PLAIN; the message reaches Postfix with XCLIENT LOGIN.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-465plain-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work"

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --header 'Subject: t_465_auth_plain' --body 'plain body 7f3a')
ag_check "AUTH PLAIN with the right password gets 235 2.7.0" -- ag_reply_in "$out" '^235 2\.7\.0'
ag_check "the message is accepted with Postfix's queue id" -- ag_reply_in "$out" '^250 .*queued as'

ag_check "the message reaches the sink" -- ag_wait_delivered "$AG_SINK" 1 20
ag_sink_files "$AG_SINK" | head -n 1 | xargs -r sed -n '1,/^$/s/^/#   /p' # the headers, for the log
ag_check "the body arrives intact" -- ag_sink_has '^plain body 7f3a'
ag_check "our Authentication-Results names the login" -- \
	ag_sink_has '^Authentication-Results: smtp\.authgate\.test; auth=pass smtp\.auth=alice'
ag_check "our Received header names the login" -- ag_sink_has '\(Authenticated sender: alice\)'
ag_check "our Received header says ESMTPSA" -- ag_sink_has 'with ESMTPSA id '

# XCLIENT LOGIN=alice: Postfix's smtpd logs the SASL identity it was handed.
log=$(ag_postfix_log "$AG_PF")
ag_check "Postfix logged sasl_username=alice (XCLIENT LOGIN)" -- \
	wait_for 10 grep -q 'sasl_username=alice$' "$log"
ag_check "Postfix logged the real client address on the same line (XCLIENT ADDR)" -- \
	grep -q 'client=[^ ]*\[127\.0\.0\.1\].*sasl_username=alice$' "$log"

ag_check "the audit log records the login" -- \
	grep -q '"event":"auth".*"auth_user":"alice"\|"auth_user":"alice".*"event":"auth"' "$work/audit.jsonl"
ag_check "the audit log records the message and the backend's reply" -- \
	grep -q '"event":"message".*"backend_reply":"250 ' "$work/audit.jsonl"

tap_done
