#!/usr/bin/env bash
# t_465_forged_auth_results: a client's Authentication-Results claiming our authserv-id is removed; ours is added.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-465forged-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work"

# RFC 8601 5: ours (any case), also folded over two lines; another server's stays.
cat >"$work/forged.eml" <<-'MSG'
	Authentication-Results: smtp.authgate.test; auth=pass smtp.auth=ceo-forged1
	From: <alice@authgate.test>
	authentication-results: SMTP.AUTHGATE.TEST; auth=pass smtp.auth=ceo-forged2
	To: <rcpt@example.org>
	Authentication-Results: smtp.authgate.test;
	 auth=pass smtp.auth=ceo-forged3
	Authentication-Results: mx.other.example; spf=pass smtp.mailfrom=other.example
	Subject: forged

	forged body 3b8e
	Authentication-Results: smtp.authgate.test; auth=pass smtp.auth=in-body-stays
MSG
out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --data "@$work/forged.eml")
ag_check "the message is accepted" -- ag_reply_in "$out" '^250 .*queued as'
ag_check "it is delivered" -- ag_wait_delivered "$AG_SINK" 1 20
ag_check "the forged header with our authserv-id is gone" -- ag_sink_lacks 'ceo-forged1'
ag_check "the forged one in other case is gone" -- ag_sink_lacks 'ceo-forged2'
ag_check "the folded forged one is gone, continuation line and all" -- ag_sink_lacks 'ceo-forged3'
ag_check "another server's Authentication-Results stays" -- \
	ag_sink_has '^Authentication-Results: mx\.other\.example; spf=pass'
ag_check "ours is there, naming the real login" -- \
	ag_sink_has '^Authentication-Results: smtp\.authgate\.test; auth=pass smtp\.auth=alice$'
# Header lines only (up to the first empty line), any case.
ours=$(awk 'NF == 0 { exit } tolower($0) ~ /^authentication-results: smtp\.authgate\.test;/' \
	"$(ag_sink_files "$AG_SINK" | head -n 1)" | wc -l)
ag_check "exactly one Authentication-Results header carries our authserv-id (got $ours)" -- \
	test "$ours" -eq 1
ag_check "the body is intact" -- ag_sink_has '^forged body 3b8e'
ag_check "a look-alike line in the body is not touched" -- ag_sink_has 'smtp\.auth=in-body-stays'

tap_done
