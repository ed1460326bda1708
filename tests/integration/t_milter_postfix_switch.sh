#!/usr/bin/env bash
# t_milter_postfix_switch: the day authentication becomes mandatory needs no restart
# (mandatory_from is compared with the clock per message); SIGHUP reloads a changed
# configuration and refuses a broken one; SIGUSR1 reopens a rotated audit log.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"

ag_require "private Postfix instance" postfix smtp-sink swaks -- milter/authgate-milter

work=$(mktemp -d /tmp/ag-mswitch-XXXXXX)
trap 'ag_cleanup_all; rm -rf "$work"' EXIT
ag_milter_stack_start "$work" phase=voluntary mandatory_from=2999-01-01T00:00:00Z
p=$AG_PF_PORT audit=$work/milter/audit.jsonl conf=$work/milter/ag.conf
pid=$(cat "$work/milter/milter.pid")

relay() { ag_swaks "$p" --from someone@example.org --to friend@example.net "$@"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# Before the instant: voluntary. The instant is set (by a reload) a little ahead, and the
# message counts only if its reply came before it; on a machine too slow for that, again
# with a wider window (bounded), so the check never depends on how long start-up took.
window=5 out="" switch_at=0
for _ in 1 2 3 4; do
	switch_at=$(($(date +%s) + window))
	ag_milter_conf "$conf" socket="inet:$AG_MILTER_PORT@127.0.0.1" phase=voluntary \
		mandatory_from="$(iso "$switch_at")"
	ag_milter_reload "$work/milter" || break
	out=$(relay --header 'Subject: t-before')
	[ "$(date +%s)" -lt "$switch_at" ] && break
	diag "the message took until after the instant ($window s window): again, wider"
	out="" window=$((window * 3))
done
check "before mandatory_from: unauthenticated relay accepted" -- grep -q '^<- *250 .*queued as' <<<"$out"

# After it: mandatory, same process, same configuration, no signal in between.
while [ "$(date +%s)" -le "$switch_at" ]; do sleep 0.2; done
out=$(relay)
check "after mandatory_from: 530, without a restart" -- grep -qF '<** 530 5.7.0' <<<"$out"
check "the milter process is the same one" -- kill -0 "$pid"
check "audit: the rejection says mandatory" -- \
	grep -qE '"event":"reject".*"phase":"mandatory"' "$audit"

# SIGHUP: a changed configuration takes effect.
ag_milter_conf "$conf" socket="inet:$AG_MILTER_PORT@127.0.0.1" phase=voluntary
check "SIGHUP reloads a valid configuration" -- ag_milter_reload "$work/milter"
out=$(relay)
check "the reloaded configuration is in effect (voluntary again)" -- \
	grep -q '^<- *250 .*queued as' <<<"$out"

# SIGHUP with a broken file: refused, logged with file and line, old configuration stays.
ag_milter_conf "$conf" socket="inet:$AG_MILTER_PORT@127.0.0.1" phase=sometimes
check "SIGHUP refuses a broken configuration" -- eval "! ag_milter_reload '$work/milter'"
check "the refusal names file, line and key" -- grep -qE \
	"reload refused.*$conf:[0-9]+: \[policy\] phase: 'sometimes'" "$work/milter/milter.log"
out=$(relay)
check "the running configuration stayed" -- grep -q '^<- *250 .*queued as' <<<"$out"
check "the milter survived it" -- kill -0 "$pid"

# SIGUSR1 after logrotate moved the file away.
mv "$audit" "$audit.1"
before=$(wc -l <"$audit.1")
kill -USR1 "$pid"
wait_for 5 grep -q 'SIGUSR1: reopening' "$work/milter/milter.log" || true
out=$(relay --header 'Subject: t-rotated')
check "SIGUSR1: new records go to a new audit log" -- \
	wait_for 10 grep -q '"event":"message"' "$audit"
check "the rotated file got nothing new" -- test "$(wc -l <"$audit.1")" -eq "$before"

tap_done
