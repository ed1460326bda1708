#!/usr/bin/env bash
# t_proxy_smart_lockout: a distributed password guess against alice (10 addresses, one wrong
# password each, in four spellings of her login) locks strangers out of her account, even with
# her right password (454 4.7.0, PAM not asked), while she keeps logging in and sending from her
# familiar address; other users are not affected. Default limits. The audit log names the rule,
# and authgate-audit's HTML report counts the refusals apart from the wrong passwords.
# Client addresses come from PROXY headers (proxy_protocol = yes), all over loopback.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-lockout-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT
agc_build "$work" || skip_all "cannot build the test client (gcc, libssl-dev)"
# Every PAM conversation leaves a line "user rhost": what PAM was asked, and for whom.
pampre=$(ag_pam_logger "$work")

# Only what the scenario needs; auth_fail_limit (5), auth_user_fail_limit (10), the window
# and the familiar-network keys keep their defaults.
AG_PAM_PRE=$pampre ag_world_start "$work" \
	proxy.proxy_protocol=yes proxy.proxy_protocol_from=127.0.0.1/32
ok $? "proxy up with the default limits"
audit=$work/audit.jsonl
"$AG_BUILDDIR/proxy/authgate-proxy" -t -n -c "$AG_CONF" >"$work/effective" 2>&1 || true
ag_check "defaults: auth_fail_limit 5, auth_user_fail_limit 10" -- eval \
	"grep -qx 'proxy.auth_fail_limit = 5' '$work/effective' &&
	grep -qx 'proxy.auth_user_fail_limit = 10' '$work/effective'"

try() { agc_try_auth "$@"; }
is() { ag_is "$@"; }
pam_calls() { ag_pam_calls "$work"; }
home=192.0.2.10

# --- alice at home: her usual address becomes familiar
ag_check "alice logs in from home ($home): 235" -- is 235 "$(try "$home" "$AG_USER" "$AG_PASS")"

# --- the attack: ten addresses, one guess each, spread over four spellings (at most three
# each, so no spelling alone reaches ten). In parallel: each 535 comes after a growing pause.
spell=(alice ALICE Alice aLiCe@authgate.test)
pids=()
for i in $(seq 1 10); do
	try "198.51.100.$i" "${spell[$((i % 4))]}" "guess$i" >"$work/attack.$i" &
	pids+=("$!")
done
for p in "${pids[@]}"; do wait "$p" || true; done # only these: the sink and Postfix run on
n535=0
for i in $(seq 1 10); do
	[ "$(cat "$work/attack.$i")" = 535 ] && n535=$((n535 + 1))
done
ag_check "the ten guesses were each checked and refused: 535 ($n535 of 10)" -- test "$n535" -eq 10
ag_check "no address reached its own limit (one failure each)" -- \
	ag_not grep -q '"reason":"too many failures (auth_fail_limit)"' "$audit"

# --- a stranger with alice's right password, in any spelling
n=$(pam_calls)
ag_check "a stranger (203.0.113.9) with alice's right password: 454" -- \
	is 454 "$(try 203.0.113.9 "$AG_USER" "$AG_PASS")"
ag_check "the stranger as ALICE@authgate.test: 454 (one counter for every spelling)" -- \
	is 454 "$(try 203.0.113.10 ALICE@authgate.test "$AG_PASS")"
ag_check "a guessing address with her right password: 454" -- \
	is 454 "$(try 198.51.100.1 "$AG_USER" "$AG_PASS")"
ag_check "PAM was not asked for any of them" -- test "$(pam_calls)" -eq "$n"
out=$(printf 'EHLO c.example\nAUTH PLAIN %s\nQUIT\n' "$(ag_auth_plain "$AG_USER" "$AG_PASS")" |
	timeout 60 "$AGC" -T 20 -P 1 -S 203.0.113.11 -t "$AG_SMTPS" 2>/dev/null || true)
ag_check "the reply is 454 4.7.0 and the session goes on (QUIT answered)" -- eval \
	"grep -q '^454 4\.7\.0 ' <<<\"\$out\" && grep -q '^221 ' <<<\"\$out\""

# --- alice herself, from home, during the attack: logs in and sends
ag_check "alice at home during the attack: 235" -- is 235 "$(try "$home" "$AG_USER" "$AG_PASS")"
ag_check "and her message goes through" -- agc_message lockout-home -P 1 -S "$home" -t "$AG_SMTPS"
ag_check "delivered" -- ag_wait_sink_find "$AG_SINK" '^Subject: lockout-home' 20
ag_check "bob from the stranger's address is not affected: 235" -- \
	is 235 "$(try 203.0.113.9 "$AG_USER2" "$AG_PASS2")"

# --- the audit log says which rule fired
rule='"event":"auth","action":"tempfail","reason":"locked out from unfamiliar networks (auth_user_fail_limit)"'
ag_check "audit: the stranger's refusal names auth_user_fail_limit" -- \
	grep -q "\"client_ip\":\"203.0.113.9\",\"auth_user\":\"alice\".*$rule" "$audit"
ag_check "audit: four such refusals" -- test "$(grep -cF -- "$rule" "$audit")" -eq 4
ag_check "audit: ten rejected logins, the wrong passwords" -- \
	test "$(ag_audit_count "$audit" '"event":"auth","action":"reject"')" -eq 10

# --- authgate-audit's report tells refusals from wrong passwords
"$AG_BUILDDIR/audit/authgate-audit" -l "$audit" html >"$work/report.html" 2>"$work/report.err"
ok $? "authgate-audit html"
card() { grep -o "<div class=\"label\">$1</div><div class=\"value\">[0-9]*" "$work/report.html" | sed 's/.*>//'; }
ag_check "the report: 10 failed logins ($(card 'Failed logins'))" -- test "$(card 'Failed logins')" = 10
ag_check "the report: 4 logins refused by limits ($(card 'Refused by limits'))" -- \
	test "$(card 'Refused by limits')" = 4
ag_check "the report lists alice among the logins refused by limits" -- eval \
	"sed -n '/id=\"limit-user\"/,/<\/section>/p' '$work/report.html' | grep -q '>alice<'"

ag_check "the proxy is still running" -- kill -0 "$AG_PROXY_PID"
tap_done
