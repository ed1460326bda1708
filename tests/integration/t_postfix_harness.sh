#!/usr/bin/env bash
# t_postfix_harness: the shared harness works: a private Postfix relays one mail to smtp-sink.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"

command -v postfix >/dev/null || skip_all "postfix not installed"
command -v smtp-sink >/dev/null || skip_all "smtp-sink not installed"
command -v swaks >/dev/null || skip_all "swaks not installed"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (private Postfix instance)"

work=$(mktemp -d /tmp/ag-harness-XXXXXX)
trap 'ag_cleanup_all; rm -rf "$work"' EXIT

sport=$(ag_free_port)
check "smtp-sink listens on 127.0.0.1:$sport" -- ag_sink_start "$work/sink" "$sport"
pport=$(ag_free_port)
if ag_postfix_start "$work/pf" "$pport" "$sport"; then r=0; else r=1; fi
ok $r "private postfix listens on 127.0.0.1:$pport"

out=$(swaks --server 127.0.0.1 --port "$pport" --from alice@example.org \
	--to bob@example.net --header 'Subject: harness smoke' --body 'hello sink' 2>&1) || true
check "postfix queued the message" -- grep -q '^<- *250 .*queued as' <<<"$out"
check "the sink received it" -- ag_wait_delivered "$work/sink" 1 20
check "the dump holds the headers" -- ag_sink_grep "$work/sink" '^Subject: harness smoke'
check "the dump holds the body" -- ag_sink_grep "$work/sink" '^hello sink'
check "the envelope recipient is recorded" -- \
	ag_sink_grep "$work/sink" '^X-Rcpt-Args: <bob@example.net>'
check "maillog records the delivery" -- grep -q 'status=sent' "$(ag_postfix_log "$work/pf")"
check "queue is empty" -- ag_postfix_wait_queue_empty "$work/pf" 10

ag_postfix_sasl_user "$work/pf" jdoe secret
out=$(swaks --server 127.0.0.1 --port "$pport" -a PLAIN -au jdoe -ap secret \
	--from jdoe@example.org --to carol@example.net 2>&1) || true
check "SMTP AUTH against the instance's sasldb" -- grep -q '^<- *235 ' <<<"$out"

check "postfix stops" -- ag_postfix_stop "$work/pf"
check "nothing listens on $pport any more" -- eval "! wait_port $pport 1"

tap_done
