#!/usr/bin/env bash
# t_sendmail_milter: authgate-milter in a real Sendmail 8.17 (lib_sendmail.sh), as the Postfix
# scenarios do it in Postfix: unauthenticated relaying refused (mandatory) and tagged
# (voluntary), a trusted network exempt, a protected list refused unauthenticated and routed
# to the hub after real SMTP AUTH (Cyrus SASL) by exactly what `authgate-milter -T sendmail`
# prints, a forged Authentication-Results removed, MAIL FROM's AUTH= parameter worth nothing,
# and audit records carrying Sendmail's queue id.
# Clients: 127.0.0.1 is the Internet, 127.0.0.3 the trusted network; the hub is
# exhub.example.ac.uk = 127.0.0.2 in Sendmail's /etc/hosts (its own mount namespace).
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_sendmail.sh"

ag_sendmail_require
[ -x "$AG_BUILDDIR/milter/authgate-milter" ] || skip_all "milter/authgate-milter not built"

work=$(mktemp -d /tmp/ag-sendmail-XXXXXX)
cleanup() {
	[ "${TAP_FAILED:-0}" -eq 0 ] || ag_sendmail_diag "$work/sm/maillog" "$work/milter/milter.log"
	ag_cleanup_all
	rm -rf "$work"
}
trap cleanup EXIT
sm=$work/sm sink=$work/sink hub=$work/hub milter=$work/milter
rport=$(ag_free_port) mport=$(ag_free_port) smport=$(ag_free_port)
mkdir -p "$milter"
must "sink on 127.0.0.1:$rport" -- ag_sink_start "$sink" "$rport"
must "hub sink on 127.0.0.2:$rport" -- ag_sink_start "$hub" "$rport" "$AG_SENDMAIL_HUB_ADDR"
conf=$milter/ag.conf
lists="staff-all@example.ac.uk, students-*@example.ac.uk"
milter_conf() { # milter_conf PHASE
	ag_milter_conf "$conf" socket="inet:$mport@127.0.0.1" phase="$1" \
		mandatory_from=2099-01-15T00:00:00Z trusted_networks=127.0.0.3/32 \
		hub=exhub.example.ac.uk:25 protected="$lists"
}
milter_conf mandatory
must "authgate-milter starts (mandatory)" -- ag_milter_start "$milter" "$conf" "$mport"

# --- the routes exactly as -T sendmail prints them (paths to the test's directory)
check "-T sendmail gives sendmail.mc lines" -- ag_sendmail_routes "$sm" "$conf"
must "sendmail.cf built with m4 from sendmail-cf" -- \
	ag_sendmail_prepare "$sm" "$smport" "$rport" "$mport" exhub.example.ac.uk "$sm.routes.mc"
must "the address lines made into a map (makemap -C)" -- ag_sendmail_routes_map "$sm"
must "SASL user alice" -- ag_sendmail_sasl_user "$sm" alice 'Alice pw 1'
t0=$(date +%s%N)
must "sendmail runs on 127.0.0.1:$smport" -- ag_sendmail_run "$sm" "$smport"
diag "syslog reader and sendmail listening after $((($(date +%s%N) - t0) / 1000000)) ms"
built_with() { # built_with WORD...: sendmail -d0.1 names each
	local v w
	v=$(ag_sendmail_version "$sm")
	grep -q '^Version 8\.17' <<<"$v" || return 1
	for w in "$@"; do grep -qw "$w" <<<"$v" || return 1; done
}
check "Sendmail 8.17, built with MILTER and SASLv2" -- built_with MILTER SASLv2

sw() { # sw ARGS...: swaks against sendmail; transcript out
	timeout 60 swaks --server 127.0.0.1 --port "$smport" --timeout 30 --helo client.example.org "$@" 2>&1 || true
}
has() { # has REGEX TRANSCRIPT
	grep -Eq -- "$1" <<<"$2" && return 0
	diag "no line /$1/ in:"
	tail -n 20 <<<"$2"
	return 1
}

# --- mandatory
out=$(sw --from someone@example.org --to friend@example.net)
check "unauthenticated relay: 530 5.7.0" -- has '^<\*\* +530 5\.7\.0 Authentication required' "$out"
out=$(sw --from someone@example.org --to staff-all@example.ac.uk)
check "unauthenticated, to a protected list: 550 5.7.1" -- has '^<\*\* +550 5\.7\.1' "$out"
# MAIL FROM:<x> AUTH=<alice@...> reaches the milter as {auth_author}: it is no identity.
out=$(timeout 30 python3 - "$smport" <<'PY' 2>&1 || true
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.ehlo("client.example.org")
print(s.mail("alice@example.ac.uk", ["AUTH=<alice@example.ac.uk>"]))
print(s.rcpt("friend@example.net"))
s.quit()
PY
)
check "MAIL FROM ... AUTH=<alice> without SMTP AUTH: still 530" -- has "^\(530, b'5\.7\.0" "$out"
out=$(sw --local-interface 127.0.0.3 --from someone@example.org --to friend@example.net \
	--header 'Subject: trusted')
check "trusted network (127.0.0.3): accepted" -- has '^<- +250 .*queued as|^<- +250 2\.0\.0 .*Message accepted' "$out"
out=$(sw --from alice@example.ac.uk --to friend@example.net --auth PLAIN --auth-user alice \
	--auth-password 'Alice pw 1' --header 'Subject: sasl relay')
check "SMTP AUTH (Cyrus SASL) alice: relay accepted" -- has '^<~? *2?[- ]*235|^<- +235 ' "$out"
check "... and the message too" -- has '^<- +250 2\.0\.0' "$out"
qid_auth=$(sed -n 's/^<- *250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted.*/\1/p' <<<"$out" | tail -n 1)
out=$(sw --from alice@example.ac.uk --to staff-all@example.ac.uk --auth PLAIN --auth-user alice \
	--auth-password 'Alice pw 1' --header 'Subject: to the list')
check "authenticated, to staff-all@: accepted" -- has '^<- +250 2\.0\.0' "$out"
out=$(sw --from alice@example.ac.uk --to students-2026@example.ac.uk --auth PLAIN \
	--auth-user alice --auth-password 'Alice pw 1' --header 'Subject: to the students')
check "authenticated, to students-2026@: accepted" -- has '^<- +250 2\.0\.0' "$out"
out=$(sw --from someone@example.org --to someone@example.ac.uk --header 'Subject: forged' \
	--add-header 'Authentication-Results: mx.example.ac.uk; auth=pass smtp.auth=rector' \
	--add-header 'Authentication-Results: mx.google.com; dkim=pass header.d=example.org')
check "unauthenticated, local recipient, with a forged Authentication-Results: accepted" -- \
	has '^<- +250 2\.0\.0' "$out"

check "hub sink: both list messages" -- ag_wait_delivered "$hub" 2 30
check "relay sink: trusted, SASL relay and inbound" -- ag_wait_delivered "$sink" 3 30
check "the lists went to the hub, nothing else did" -- \
	test "$(ag_sink_total "$hub" '^Subject: to the')" -eq 2 -a \
	"$(ag_sink_total "$hub" '^Subject: (trusted|sasl relay|forged)')" -eq 0
check "the hub got them as addressed (staff-all@)" -- \
	ag_sink_grep "$hub" "^X-Rcpt-Args: <staff-all@example.ac.uk>" -q
check "the hub got them as addressed (students-2026@)" -- \
	ag_sink_grep "$hub" "^X-Rcpt-Args: <students-2026@example.ac.uk>" -q
check "SASL relay: Authentication-Results smtp.auth=alice added" -- \
	ag_sink_grep "$sink" '^Authentication-Results: mx\.example\.ac\.uk; auth=pass smtp\.auth=alice' -q
check "forged Authentication-Results removed" -- test "$(ag_sink_total "$sink" 'smtp\.auth=rector')" -eq 0
check "another server's Authentication-Results kept" -- ag_sink_grep "$sink" 'mx\.google\.com; dkim=pass' -q
check "trusted: no warning header" -- test "$(ag_sink_total "$sink" '^X-Authgate-Warning')" -eq 0

# --- audit records with Sendmail's queue ids
audit=$milter/audit.jsonl
check "Sendmail's queue id for the SASL relay ($qid_auth)" -- test -n "$qid_auth"
check "audit: that message, auth_user alice, Sendmail's queue id" -- \
	grep -q "\"queue_id\":\"$qid_auth\".*\"auth_user\":\"alice\"\|\"auth_user\":\"alice\".*\"queue_id\":\"$qid_auth\"" "$audit"
check "Sendmail logged that queue id with the milter" -- grep -q "$qid_auth: " "$sm/maillog"
qid_rej=$(grep '"action":"reject"' "$audit" | grep -o '"queue_id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
logged_with_milter() { [ -n "$1" ] && grep -q "$1: .*[Mm]ilter" "$sm/maillog"; }
check "audit: the refused relay has a Sendmail queue id (${qid_rej:-none}) that Sendmail logged" -- \
	logged_with_milter "$qid_rej"

# --- voluntary: tagged, not refused
milter_conf voluntary
must "milter reloaded into voluntary" -- ag_milter_reload "$milter"
out=$(sw --from someone@example.org --to friend@example.net --header 'Subject: voluntary relay')
check "voluntary: unauthenticated relay accepted" -- has '^<- +250 2\.0\.0' "$out"
check "... and tagged X-Authgate-Warning" -- wait_for 30 ag_sink_grep "$sink" '^X-Authgate-Warning: unauthenticated relay' -q
check "audit: tag record" -- grep -q '"action":"tag".*"phase":"voluntary"' "$audit"
tap_done
