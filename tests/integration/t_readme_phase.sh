#!/usr/bin/env bash
# t_readme_phase: README "Phase in mandatory authentication", followed literally on loopback:
# smtp-sink <- Postfix + authgate-milter <- authgate-proxy (PAM users alice, bob), with the
# README's [policy] block. Unauthenticated clients on campus are simulated on the Postfix
# listener with XCLIENT ADDR (allowed from loopback in the test instance only).
#
# Substitutions (nothing else is changed): /etc/authgate/authgate.conf -> this scenario's
# file (the shims add -c), `systemctl reload UNIT` -> SIGHUP to the daemon (its ExecReload),
# and the date in mandatory_from -> a few seconds from now.
# AG_README_SHOW=DIR keeps the outputs there, to paste into README.md.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/t_readme_blocks.sh"

ag_require "PAM service in /etc/pam.d, private Postfix" postfix smtp-sink swaks -- \
	proxy/authgate-proxy milter/authgate-milter audit/authgate-audit

w=$(mktemp -d /tmp/ag-rphase-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$w"' EXIT
chmod 755 "$w"

# --- the service: one authgate.conf, the README's [policy] in it
sport=$(ag_free_port) pport=$(ag_free_port) mport=$(ag_free_port)
s465=$(ag_free_port) s587=$(ag_free_port)
pam=$(ag_pam_name)
ag_pam_setup "$pam" alice 'Alice pw 1' bob 'b0b:secret'
ag_make_cert "$w/certs"
mkdir -p "$w/log" "$w/run"
touch "$w/log/audit.jsonl"
chown nobody "$w/log" "$w/log/audit.jsonl"
conf=$w/authgate.conf
{
	readme_conf "$w" "$s465" "$s587" "$pam" "$pport"
	cat <<-EOF
		[milter]
		socket = inet:$mport@127.0.0.1

	EOF
	readme_block phase-policy
} >"$conf"
chmod 644 "$conf"
ag_check "authgate.conf with the README's [policy] block" -- grep -q '^phase *= *voluntary' "$conf"

readme_stack "$w" "$conf" "$sport" "$pport" "$mport"
ok 0 "proxy, Postfix and milter running"
start_day=$(date -u +%F)

# --- traffic: the same every run, so the README's tables can be compared
n=0
sent() { grep -q '^<[-~] *250 .*queued as' <<<"$1"; }
auth465() { # USER PASS FROM TO SUBJECT
	swaks --server 127.0.0.1:"$s465" --tls-on-connect --auth PLAIN --auth-user "$1" \
		--auth-password "$2" --from "$3" --to "$4" --header "Subject: $5" --timeout 30 2>&1 || true
}
auth587() {
	swaks --server 127.0.0.1:"$s587" --tls --auth LOGIN --auth-user "$1" \
		--auth-password "$2" --from "$3" --to "$4" --header "Subject: $5" --timeout 30 2>&1 || true
}
unauth() { # CLIENT-ADDRESS FROM TO SUBJECT: a client that does not authenticate
	swaks --server 127.0.0.1:"$pport" --xclient-addr "$1" --from "$2" --to "$3" \
		--header "Subject: $4" --timeout 30 2>&1 || true
}
bad=""
for i in 1 2; do
	out=$(auth465 alice 'Alice pw 1' alice@example.ac.uk friend@example.org "ph-auth-$i")
	sent "$out" && n=$((n + 1)) || bad+=" ph-auth-$i"
done
out=$(auth587 bob@example.ac.uk 'b0b:secret' bob@example.ac.uk colleague@example.net ph-auth-3)
sent "$out" && n=$((n + 1)) || bad+=" ph-auth-3"
for i in 1 2 3; do
	rc=friend@example.org
	[ "$i" -ne 3 ] || rc=friend@example.org,family@example.net
	out=$(unauth 198.51.100.23 jdoe@example.ac.uk "$rc" "ph-tag-jdoe-$i")
	sent "$out" && n=$((n + 1)) || bad+=" ph-tag-jdoe-$i"
done
out=$(unauth 198.51.100.77 jdoe@example.ac.uk friend@example.org ph-tag-jdoe-4)
sent "$out" && n=$((n + 1)) || bad+=" ph-tag-jdoe-4"
for i in 1 2; do
	out=$(unauth 203.0.113.45 scanner@example.ac.uk scans@example.com "ph-tag-scan-$i")
	sent "$out" && n=$((n + 1)) || bad+=" ph-tag-scan-$i"
done
out=$(unauth 203.0.113.45 scanner@example.ac.uk staff@example.ac.uk ph-local)
sent "$out" && n=$((n + 1)) || bad+=" ph-local"
out=$(unauth 192.0.2.5 noreply@example.ac.uk partner@example.org ph-trusted)
sent "$out" && n=$((n + 1)) || bad+=" ph-trusted"
ok "$([ -z "$bad" ] && echo 0 || echo 1)" "voluntary: all 10 messages accepted${bad:+ (not:$bad)}"
ag_check "all 10 delivered" -- ag_wait_delivered "$w/sink" 10 30

tagged=$(ag_sink_grep "$w/sink" '^X-Authgate-Warning:' -l | wc -l)
ag_check "the 6 unauthenticated relays, and only they, carry X-Authgate-Warning (got $tagged)" -- \
	test "$tagged" -eq 6
untagged_ok=0
for s in ph-auth-1 ph-auth-2 ph-auth-3 ph-local ph-trusted; do
	f=$(ag_sink_find "$w/sink" "^Subject: $s\$" | head -n 1)
	if [ -z "$f" ] || grep -q '^X-Authgate-Warning:' "$f"; then
		diag "$s: missing or tagged"
		untagged_ok=1
	fi
done
ok $untagged_ok "authenticated, local and trusted mail is not tagged"

# The header as delivered (with any continuation lines) is the README's.
f=$(ag_sink_find "$w/sink" '^Subject: ph-tag-scan-1$' | head -n 1)
hdr=$(awk '/^X-Authgate-Warning:/ { on = 1; print; next } on && /^[ \t]/ { print; next } { on = 0 }' \
	"${f:-/dev/null}")
readme_keep warning <<<"$hdr"
ag_check "the warning is the one the README quotes" -- \
	diff <(readme_block phase-warning) <(printf '%s\n' "$hdr")
ag_check "audit: 6 records with action tag" -- \
	test "$(grep -c '"action":"tag"' "$w/log/audit.jsonl")" -eq 6

# --- 2. authgate-audit unauth, as shown
cmd=$(readme_command phase-unauth)
ag_check "the README runs '$cmd'" -- test "$cmd" = "authgate-audit unauth"
got=$(cd "$w/run" && PATH=$AG_README_BIN:$PATH bash -c "$cmd" 2>&1) || true
readme_keep unauth <<<"$got"
ag_check "its output is the README's table (times masked)" -- \
	diff <(readme_output phase-unauth | readme_mask) <(readme_mask <<<"$got")

# --- 3. the CSV for contacting the senders
ag_check "the CSV command runs" -- readme_run "$w/run" '' phase-csv
csv=$w/run/unauth.csv
ag_check "unauth.csv has the documented header (CSV lines end in CRLF)" -- \
	test "$(head -n 1 "$csv")" = $'network,sender,messages,first_seen,last_seen,sample_rcpts\r'
ag_check "one row per client network and sender (2)" -- test "$(sed 1d "$csv" | wc -l)" -eq 2
ag_check "jdoe from 198.51.100.0/24: 4 messages" -- \
	grep -q '^198\.51\.100\.0/24,jdoe@example\.ac\.uk,4,' "$csv"

# --- 4. the date: added to [policy], a reload, then the clock does the rest
at=$(($(date +%s) + 20))
instant=$(date -u -d "@$at" +%Y-%m-%dT%H:%M:%SZ)
line=$(readme_block phase-mandatory-from | sed -E "s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z/$instant/")
sed -i "/^phase *=/a $line" "$conf"
ag_check "mandatory_from = $instant added after phase" -- grep -qx "mandatory_from *= *$instant" "$conf"
mreloads=$(grep -c 'reload: configuration' "$w/milter/milter.log" || true)
preloads=$(grep -c 'configuration reloaded' "$AG_PROXY_LOG" || true)
ag_check "the reload command runs (check both, then systemctl reload)" -- \
	readme_run "$w/run" '' phase-reload
ag_check "the milter reloaded" -- wait_for 10 eval \
	"[ \$(grep -c 'reload: configuration' '$w/milter/milter.log') -gt $mreloads ]"
ag_check "the proxy reloaded" -- wait_for 10 eval \
	"[ \$(grep -c 'configuration reloaded' '$AG_PROXY_LOG') -gt $preloads ]"

[ "$(date +%s)" -lt "$at" ] || diag "the reload took longer than 20 s: the next check is void"
out=$(unauth 198.51.100.23 jdoe@example.ac.uk friend@example.org ph-before)
ag_check "before the instant: still accepted" -- sent "$out"
f=$(ag_wait_sink_find "$w/sink" '^Subject: ph-before$' 20 | head -n 1 || true)
ag_check "and the warning names the date" -- grep -q "^X-Authgate-Warning:.*$instant" "${f:-/dev/null}"

pid_before=$(cat "$w/milter/milter.pid")
while [ "$(date +%s)" -le "$at" ]; do sleep 0.2; done
out=$(unauth 198.51.100.23 jdoe@example.ac.uk friend@example.org ph-after)
refused=$(sed -n 's/^<\*\* *//p' <<<"$out" | head -n 1)
readme_keep refused <<<"$refused"
ag_check "after it, no restart: refused with the README's reply" -- \
	test "$refused" = "$(readme_block phase-530)"
ag_check "same milter process" -- kill -0 "$pid_before"
out=$(auth465 alice 'Alice pw 1' alice@example.ac.uk friend@example.org ph-after-auth)
ag_check "authenticated mail keeps flowing" -- sent "$out"
out=$(unauth 192.0.2.5 noreply@example.ac.uk partner@example.org ph-after-trusted)
ag_check "and so does mail from trusted_networks" -- sent "$out"
ag_check "audit: the refusal says phase mandatory" -- \
	grep -qE '"client_ip":"198\.51\.100\.23".*"event":"reject".*"phase":"mandatory"' \
	"$w/log/audit.jsonl"

# The refusal is what unauth and trend are for after the switch (authgate-audit(1): "messages
# the milter tagged in phase voluntary or refused in phase mandatory").
got=$(PATH=$AG_README_BIN:$PATH authgate-audit unauth --format csv 2>&1 || true)
ag_check "unauth counts the refused message too (jdoe: 4 + 1 tagged + 1 refused)" -- \
	grep -q '^198\.51\.100\.0/24,jdoe@example\.ac\.uk,6,' <<<"$got"
got=$(PATH=$AG_README_BIN:$PATH authgate-audit trend --format csv 2>&1 || true)
ag_check "trend counts it as rejected" -- \
	test "$(sed 1d <<<"$got" | awk -F, '{ n += $6 } END { print n + 0 }')" = 1

# --- 5. trend and the HTML report
cmd=$(readme_command phase-trend)
ag_check "the README runs '$cmd'" -- test "$cmd" = "authgate-audit trend"
got=$(cd "$w/run" && PATH=$AG_README_BIN:$PATH bash -c "$cmd" 2>&1) || true
readme_keep trend <<<"$got"
if [ "$(date -u +%F)" = "$start_day" ]; then
	ag_check "its output is the README's table (dates masked)" -- \
		diff <(readme_output phase-trend | readme_mask) <(readme_mask <<<"$got")
else
	diag "the run crossed midnight UTC: two days, compare the header only"
	ag_check "its header is the README's" -- \
		test "$(head -n 1 <<<"$got")" = "$(readme_output phase-trend | head -n 1)"
fi

ag_check "the HTML command runs" -- readme_run "$w/run" '' phase-html
html=$w/run/report.html
ag_check "report.html is an HTML page with the trend chart" -- \
	eval "grep -qi '<!doctype html' '$html' && grep -q '<svg' '$html'"
ag_check "its top unauthenticated senders list jdoe" -- grep -q 'jdoe@example\.ac\.uk' "$html"
ag_check "the README shows doc/audit-report.png, and it is a PNG" -- eval \
	"grep -qF '](doc/audit-report.png)' '$readme_file' &&
	 head -c 8 '$AG_SRCDIR/doc/audit-report.png' | od -An -c | grep -q 'P   N   G'"

tap_done
