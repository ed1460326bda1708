#!/usr/bin/env bash
# t_milter_miltertest: drive authgate-milter with miltertest, one Lua scenario per file
# (tests/miltertest/*.lua), then check the audit records those scenarios left.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"

command -v miltertest >/dev/null || skip_all "miltertest not installed"
[ -x "$AG_BUILDDIR/milter/authgate-milter" ] || skip_all "milter/authgate-milter not built"

work=$(mktemp -d /tmp/ag-miltertest-XXXXXX)
trap 'ag_cleanup_all; rm -rf "$work"' EXIT
mkdir -p "$work/mand" "$work/vol"
future=2099-01-15T00:00:00Z
lists="staff-all@example.ac.uk,students-*@example.ac.uk"

pm=$(ag_free_port)
ag_milter_conf "$work/mand/ag.conf" socket="inet:$pm@127.0.0.1" phase=mandatory \
	hub=127.0.0.1:25 protected="$lists" proxy_addresses=198.51.100.25/32
ag_milter_start "$work/mand" "$work/mand/ag.conf" "$pm"
pv=$(ag_free_port)
ag_milter_conf "$work/vol/ag.conf" socket="inet:$pv@127.0.0.1" phase=voluntary \
	mandatory_from=$future hub=127.0.0.1:25 protected="$lists"
ag_milter_start "$work/vol" "$work/vol/ag.conf" "$pv"

for script in "$AG_SRCDIR"/tests/miltertest/*.lua; do
	name=$(basename "$script" .lua)
	[ "$name" = common ] && continue
	if out=$(timeout 60 miltertest -D sock_mandatory="inet:$pm@127.0.0.1" \
		-D sock_voluntary="inet:$pv@127.0.0.1" -D mandatory_from=$future \
		-D common="$AG_SRCDIR/tests/miltertest/common.lua" -s "$script" 2>&1); then
		ok 0 "miltertest $name"
	else
		ok 1 "miltertest $name"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
done

# The audit trail those scenarios must have left, one JSON object per decision.
mand=$work/mand/audit.jsonl vol=$work/vol/audit.jsonl
has() { # has FILE QUEUE_ID FRAGMENT...: one line with that queue id holds every fragment
	local f=$1 q=$2 line
	shift 2
	while IFS= read -r line; do
		local all=0 frag
		for frag in "$@"; do
			[[ $line == *"$frag"* ]] || all=1
		done
		[ "$all" -eq 0 ] && return 0
	done < <(grep -F "\"queue_id\":\"$q\"" "$f")
	return 1
}
check "audit: relay refused in the mandatory phase" -- has "$mand" MT0001 \
	'"component":"milter"' '"event":"reject"' '"action":"reject"' '"rcpts":["friend@example.net"]' \
	'"phase":"mandatory"' '"client_ip":"203.0.113.7"'
check "audit: inbound mail accepted" -- has "$mand" MT0001 '"event":"message"' '"action":"accept"' \
	'"rcpts":["Someone@Example.AC.UK"]'
check "audit: voluntary relay tagged" -- has "$vol" MT0002 '"event":"message"' '"action":"tag"' \
	'"phase":"voluntary"' '"route":"default"'
check "audit: authenticated message names the user" -- has "$mand" MT0004 '"event":"message"' \
	'"auth_user":"jdoe"' '"action":"accept"'
check "audit: list rejection recorded per recipient" -- has "$vol" MT0008 '"event":"reject"' \
	'"rcpts":["Students-2027@example.ac.uk"]'
check "audit: authenticated list post routed to the hub" -- has "$mand" MT0009 \
	'"event":"message"' '"route":"hub"' '"rcpts":["staff-all@example.ac.uk","students-2027@example.ac.uk"]'
check "audit: sender-login rejection" -- has "$mand" MT0010 '"event":"reject"' \
	'"mail_from":"rector@example.ac.uk"' '"auth_user":"jdoe"'
check "audit: from the proxy, the login of its header, routed to the hub" -- has "$mand" MT0101 \
	'"event":"message"' '"auth_user":"jdoe"' '"client_ip":"198.51.100.25"' '"route":"hub"'
check "audit: from the proxy without its header, relay refused" -- has "$mand" MT0102 \
	'"event":"reject"' '"rcpts":["friend@example.net"]' '"reason":"unauthenticated relay"'
check "audit: from the proxy, sender-login rejection at end of message" -- has "$mand" MT0103 \
	'"event":"reject"' '"mail_from":"rector@example.ac.uk"' '"auth_user":"jdoe"'
check "every audit line is one JSON object" -- ag_json_lines_ok "$mand" "$vol"
check "milter log names the rejection" -- grep -q 'MT0001: reject recipient: 530 5.7.0' "$work/mand/milter.log"

# Reload under load: connections keep the snapshot they started with, nothing breaks.
pids=()
for i in $(seq 1 20); do
	timeout 60 miltertest -D sock_mandatory="inet:$pm@127.0.0.1" \
		-D common="$AG_SRCDIR/tests/miltertest/common.lua" \
		-s "$AG_SRCDIR/tests/miltertest/authenticated_authres.lua" >"$work/par.$i" 2>&1 &
	pids+=($!)
done
for i in $(seq 1 10); do
	kill -HUP "$(cat "$work/mand/milter.pid")"
	sleep 0.05
done
bad=0
for pid in "${pids[@]}"; do wait "$pid" || bad=$((bad + 1)); done
check "20 parallel sessions during 10 reloads all pass" -- test "$bad" -eq 0
check "the milter reloaded meanwhile" -- \
	wait_for 10 grep -q 'reload: configuration' "$work/mand/milter.log"
check "and is still serving" -- kill -0 "$(cat "$work/mand/milter.pid")"

ag_milter_stop "$work/mand"
check "SIGTERM stops the milter" -- eval "! wait_port $pm 1"
check "milter logged a clean stop" -- grep -q ': stopped$' "$work/mand/milter.log"

tap_done
