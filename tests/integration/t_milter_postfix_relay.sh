#!/usr/bin/env bash
# t_milter_postfix_relay: a real Postfix with authgate-milter, mandatory phase: who may
# relay, what the client is told, which headers arrive, what the audit log says.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"

ag_require "private Postfix instance" postfix smtp-sink swaks -- milter/authgate-milter

work=$(mktemp -d /tmp/ag-mrelay-XXXXXX)
trap 'ag_cleanup_all; rm -rf "$work"' EXIT
ag_milter_stack_start "$work" phase=mandatory
ag_postfix_sasl_user "$work/pf" jdoe secret
p=$AG_PF_PORT sink=$work/sink audit=$work/milter/audit.jsonl
url=https://www.example.ac.uk/it/authenticated-smtp

# 1. Unauthenticated relay from an untrusted client (127.0.0.1 is not in trusted_networks).
out=$(ag_swaks "$p" --from someone@example.org --to friend@example.net)
check "unauthenticated relay gets 530 5.7.0 with the help URL" -- \
	grep -qF "<** 530 5.7.0 Authentication required to relay (see $url)" <<<"$out"
check "Postfix logged the milter's rejection" -- \
	grep -qE 'milter-reject: RCPT from .*: 530 5.7.0 .*to=<friend@example.net>' "$(ag_postfix_log "$work/pf")"
check "audit: reject record for the relay attempt" -- grep -qE \
	'"component":"milter".*"client_ip":"127.0.0.1".*"event":"reject".*"rcpts":\["friend@example.net"\].*"action":"reject".*"phase":"mandatory".*"reason":"unauthenticated relay"' \
	"$audit"

# 2. Inbound mail to a local domain is not relaying.
out=$(ag_swaks "$p" --from someone@example.org --to staff@example.ac.uk \
	--header 'Subject: t-inbound')
check "inbound mail to a local domain is accepted" -- grep -q '^<- *250 .*queued as' <<<"$out"
f=$(ag_wait_sink_find "$sink" '^Subject: t-inbound' 20 || true)
check "inbound mail is delivered" -- test -n "$f"
check "inbound mail is not tagged" -- eval "! grep -q '^X-Authgate-Warning:' $f"
check "inbound mail gets no Authentication-Results of ours" -- \
	eval "! grep -q '^Authentication-Results: mx.example.ac.uk' $f"

# 3. A trusted client (XCLIENT ADDR in trusted_networks) relays without AUTH.
out=$(ag_swaks "$p" --xclient-addr 192.0.2.10 --from webmail@example.ac.uk \
	--to friend@example.net --header 'Subject: t-trusted')
check "a trusted client may relay" -- grep -q '^<- *250 .*queued as' <<<"$out"
check "trusted relay is delivered" -- ag_wait_sink_find "$sink" '^Subject: t-trusted' 20

# 4. XCLIENT LOGIN (what authgate-proxy sends): authenticated, Authentication-Results added.
out=$(ag_swaks "$p" --xclient-login jdoe --xclient-addr 203.0.113.9 \
	--from jdoe@example.ac.uk --to friend@example.net --header 'Subject: t-xclient')
check "XCLIENT LOGIN may relay" -- grep -q '^<- *250 .*queued as' <<<"$out"
qid=$(ag_queued_id "$out")
f=$(ag_wait_sink_find "$sink" '^Subject: t-xclient' 20 || true)
check "XCLIENT LOGIN relay is delivered" -- test -n "$f"
check "it carries our Authentication-Results" -- \
	grep -qx 'Authentication-Results: mx.example.ac.uk; auth=pass smtp.auth=jdoe' "${f:-/dev/null}"
# At the top of the message: before Postfix's own Received line for this hop.
ar_line=$(grep -n '^Authentication-Results: mx.example.ac.uk' "${f:-/dev/null}" | head -n 1 | cut -d: -f1 || true)
rcv_line=$(grep -n 'by mx.authgate.test (Postfix)' "${f:-/dev/null}" | head -n 1 | cut -d: -f1 || true)
check "Authentication-Results is inserted at the top" -- test "${ar_line:-99}" -lt "${rcv_line:-0}"
check "audit: message record with Postfix's queue id and the login" -- grep -qE \
	"\"client_ip\":\"203.0.113.9\",\"auth_user\":\"jdoe\",\"event\":\"message\",\"mail_from\":\"jdoe@example.ac.uk\",\"rcpts\":\[\"friend@example.net\"\],\"action\":\"accept\",\"queue_id\":\"$qid\"" \
	"$audit"

# 5. Real SMTP AUTH at Postfix (Cyrus SASL): the same {auth_authen} reaches the milter.
out=$(ag_swaks "$p" -a PLAIN -au jdoe -ap secret --from jdoe@example.ac.uk \
	--to friend@example.net --header 'Subject: t-sasl')
check "SMTP AUTH PLAIN may relay" -- grep -q '^<- *250 .*queued as' <<<"$out"
f=$(ag_wait_sink_find "$sink" '^Subject: t-sasl' 20 || true)
check "SASL-authenticated mail carries our Authentication-Results" -- \
	grep -qx 'Authentication-Results: mx.example.ac.uk; auth=pass smtp.auth=jdoe' "${f:-/dev/null}"

# 6. sender_login = strict.
out=$(ag_swaks "$p" --xclient-login jdoe --from rector@example.ac.uk --to friend@example.net)
check "someone else's sender address gets 553 5.7.1" -- \
	grep -qF '<** 553 5.7.1 Sender address rejected: not owned by user' <<<"$out"
check "audit: sender rejection names login and sender" -- grep -qE \
	'"auth_user":"jdoe","event":"reject","mail_from":"rector@example.ac.uk"' "$audit"

# 7. Forged Authentication-Results claiming our authserv-id are removed.
out=$(ag_swaks "$p" --from someone@example.org --to staff@example.ac.uk \
	--header 'Subject: t-forged' \
	--add-header 'Authentication-Results: mx.example.ac.uk; auth=pass smtp.auth=rector' \
	--add-header 'Authentication-Results: mx.google.com; dkim=pass header.d=example.org')
check "a message with a forged header is accepted" -- grep -q '^<- *250 .*queued as' <<<"$out"
f=$(ag_wait_sink_find "$sink" '^Subject: t-forged' 20 || true)
check "the forged Authentication-Results is gone" -- \
	eval "test -n '$f' && ! grep -qi '^Authentication-Results: *mx.example.ac.uk' $f"
check "another server's Authentication-Results is kept" -- \
	grep -q '^Authentication-Results: mx.google.com; dkim=pass' "${f:-/dev/null}"

# Issue 11: the RFC 8601 2.2 forms the milter used to keep (one recogniser with the proxy now).
out=$(ag_swaks "$p" --from someone@example.org --to staff@example.ac.uk \
	--header 'Subject: t-forged-forms' \
	--add-header 'Authentication-Results: (comment) mx.example.ac.uk; auth=pass smtp.auth=forged-comment' \
	--add-header 'Authentication-Results: mx.example.ac.uk 1; auth=pass smtp.auth=forged-version' \
	--add-header 'Authentication-Results: "mx.example.ac.uk"; auth=pass smtp.auth=forged-quoted' \
	--add-header 'Authentication-Results: (c) "MX.Example.AC.UK" 1; auth=pass smtp.auth=forged-mixed' \
	--add-header 'Authentication-Results: mx.google.com; dkim=pass header.d=example.org')
check "a message with forged headers in RFC 8601 forms is accepted" -- \
	grep -q '^<- *250 .*queued as' <<<"$out"
f=$(ag_wait_sink_find "$sink" '^Subject: t-forged-forms' 20 || true)
for form in comment version quoted mixed; do
	check "the forged header with a $form authserv-id is gone" -- \
		eval "test -n '$f' && ! grep -q 'smtp.auth=forged-$form' $f"
done
check "another server's Authentication-Results is still kept" -- \
	grep -q '^Authentication-Results: mx.google.com; dkim=pass' "${f:-/dev/null}"

out=$(ag_swaks "$p" --xclient-login jdoe --from jdoe@example.ac.uk --to friend@example.net \
	--header 'Subject: t-forged-auth' \
	--add-header 'Authentication-Results: mx.example.ac.uk; auth=pass smtp.auth=rector')
f=$(ag_wait_sink_find "$sink" '^Subject: t-forged-auth' 20 || true)
check "authenticated: another user's Authentication-Results is replaced by ours" -- eval \
	"test -n '$f' && ! grep -q 'smtp.auth=rector' $f && test \"\$(grep -c '^Authentication-Results: mx.example.ac.uk; auth=pass smtp.auth=jdoe\$' $f)\" -eq 1"

check "every audit line is one JSON object" -- ag_json_lines_ok "$audit"

# 8. No milter: Postfix applies milter_default_action = tempfail, nothing passes unchecked.
ag_milter_stop "$work/milter"
out=$(ag_swaks "$p" --from someone@example.org --to friend@example.net)
# (the transcript is the diagnostic when it fails)
milter_down_4xx() {
	grep -qE '^<\*\* *4[0-9][0-9] ' <<<"$out" && ! grep -q 'queued as' <<<"$out" && return 0
	printf '%s\n' "$out"
	return 1
}
check "with the milter down the client gets a 4xx, not a 250" -- milter_down_4xx

tap_done
