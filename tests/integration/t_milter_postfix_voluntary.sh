#!/usr/bin/env bash
# t_milter_postfix_voluntary: voluntary phase behind a real Postfix: unauthenticated relay
# is delivered but tagged, with the date authentication becomes mandatory.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"

ag_require "private Postfix instance" postfix smtp-sink swaks -- milter/authgate-milter

work=$(mktemp -d /tmp/ag-mvol-XXXXXX)
trap 'ag_cleanup_all; rm -rf "$work"' EXIT
when=2099-01-15T00:00:00Z
ag_milter_stack_start "$work" phase=voluntary mandatory_from=$when sender_login=warn
p=$AG_PF_PORT sink=$work/sink audit=$work/milter/audit.jsonl

out=$(ag_swaks "$p" --from someone@example.org --to friend@example.net \
	--header 'Subject: t-voluntary')
check "unauthenticated relay is accepted in the voluntary phase" -- \
	grep -q '^<- *250 .*queued as' <<<"$out"
qid=$(ag_queued_id "$out")
f=$(ag_wait_sink_find "$sink" '^Subject: t-voluntary' 20 || true)
check "and delivered" -- test -n "$f"
w=$(grep '^X-Authgate-Warning:' "${f:-/dev/null}" || true)
check "it carries X-Authgate-Warning" -- test -n "$w"
check "the warning says what and when" -- eval \
	"grep -q 'unauthenticated relay' <<<\"\$w\" && grep -qF '$when' <<<\"\$w\""
check "the warning points to the help page" -- \
	grep -qF 'https://www.example.ac.uk/it/authenticated-smtp' <<<"$w"
check "audit: tag record with the queue id" -- grep -qE \
	"\"event\":\"message\".*\"action\":\"tag\",\"queue_id\":\"$qid\",\"phase\":\"voluntary\",\"route\":\"default\"" \
	"$audit"

out=$(ag_swaks "$p" --xclient-login jdoe --from jdoe@example.ac.uk --to friend@example.net \
	--header 'Subject: t-vol-auth')
f=$(ag_wait_sink_find "$sink" '^Subject: t-vol-auth' 20 || true)
check "authenticated mail is delivered" -- test -n "$f"
check "authenticated mail is not tagged" -- eval "test -n '$f' && ! grep -q '^X-Authgate-Warning:' $f"

# sender_login = warn: delivered, tagged for the sender, not refused.
out=$(ag_swaks "$p" --xclient-login jdoe --from rector@example.ac.uk --to friend@example.net \
	--header 'Subject: t-vol-sender')
check "sender_login=warn accepts someone else's address" -- grep -q '^<- *250 .*queued as' <<<"$out"
f=$(ag_wait_sink_find "$sink" '^Subject: t-vol-sender' 20 || true)
check "and tags it" -- grep -q '^X-Authgate-Warning: sender address not owned' "${f:-/dev/null}"

tap_done
