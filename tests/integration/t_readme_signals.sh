#!/usr/bin/env bash
# t_readme_signals: README "Reload, rotation, signals", followed literally against the proxy
# and the milter (with Postfix and PAM, as installed): the reload commands with a good and a
# broken authgate.conf, the shipped etc/logrotate.d/authgate run by logrotate twice, and the
# stop command while a message is in flight.
#
# Substitutions: /etc/authgate/authgate.conf -> this scenario's file (the shims add -c);
# systemctl -> a shim that signals the daemons this scenario started, as the units do
# (reload = SIGHUP, kill -s SIG, stop = SIGTERM and wait); in the logrotate file,
# /var/log/authgate -> this scenario's log directory and the user authgate -> nobody.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/t_readme_blocks.sh"

ag_require "PAM service in /etc/pam.d, private Postfix" postfix smtp-sink swaks logrotate openssl -- \
	proxy/authgate-proxy milter/authgate-milter audit/authgate-audit

w=$(mktemp -d /tmp/ag-rsignals-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$w"' EXIT
chmod 755 "$w"
url1=https://www.example.ac.uk/it/authenticated-smtp
url2=https://help.example.ac.uk/smtp

sport=$(ag_free_port) pport=$(ag_free_port) mport=$(ag_free_port)
s465=$(ag_free_port) s587=$(ag_free_port)
pam=$(ag_pam_name)
ag_pam_setup "$pam" alice 'Alice pw 1'
ag_make_cert "$w/certs"
mkdir -p "$w/log" "$w/run"
install -o nobody -g adm -m 0640 /dev/null "$w/log/audit.jsonl"
conf=$w/authgate.conf
write_conf() { # write_conf HELP_URL [PHASE]
	{
		readme_conf "$w" "$s465" "$s587" "$pam" "$pport"
		cat <<-EOF
			[policy]
			phase            = ${2:-voluntary}
			local_domains    = example.ac.uk
			trusted_networks = 192.0.2.0/28
			help_url         = $1
			[milter]
			socket = inet:$mport@127.0.0.1
		EOF
	} >"$conf.new"
	chmod 644 "$conf.new"
	mv "$conf.new" "$conf"
}
write_conf "$url1"

readme_stack "$w" "$conf" "$sport" "$pport" "$mport"
mpid=$(cat "$w/milter/milter.pid") ppid_=$AG_PROXY_PID
ok 0 "proxy, Postfix and milter running"

sent() { grep -q '^<[-~] *250 .*queued as' <<<"$1"; }
nmsg=0
auth465() { # SUBJECT
	local out
	out=$(swaks --server 127.0.0.1:"$s465" --tls-on-connect --auth PLAIN --auth-user alice \
		--auth-password 'Alice pw 1' --from alice@example.ac.uk --to friend@example.org \
		--header "Subject: $1" --timeout 30 2>&1 || true)
	sent "$out" && nmsg=$((nmsg + 1))
}
unauth() { # SUBJECT: a client that relays without AUTH, straight to Postfix
	swaks --server 127.0.0.1:"$pport" --xclient-addr 198.51.100.23 --from jdoe@example.ac.uk \
		--to friend@example.org --header "Subject: $1" --timeout 30 2>&1 || true
}
proxy_530() { # the proxy's reply to MAIL without AUTH (after STARTTLS)
	swaks --server 127.0.0.1:"$s587" --tls --from jdoe@example.ac.uk --to friend@example.org \
		--timeout 30 2>&1 | sed -n 's/^<~\* *//p' | head -n 1 || true
}

# --- SIGHUP: the README's reload lines, with a changed file
mapfile -t cmds < <(readme_block signals-commands)
ag_check "the README block has the two reload lines and the stop line" -- eval \
	"[ \${#cmds[@]} -eq 3 ] && grep -q 'systemctl reload authgate-proxy' <<<\"\${cmds[0]}\" &&
	 grep -q 'systemctl reload authgate-milter' <<<\"\${cmds[1]}\" &&
	 grep -q '^systemctl stop authgate-proxy authgate-milter' <<<\"\${cmds[2]}\""
cmdname() { sed -e 's/ *#.*//' <<<"$1"; } # the command, without its comment
run_line() { (cd "$w/run" && PATH=$AG_README_BIN:$PATH bash -euo pipefail -c "$1"); }
count() { grep -c "$1" "$2" 2>/dev/null || true; }

write_conf "$url2"
m0=$(count 'reload: configuration' "$w/milter/milter.log") p0=$(count 'configuration reloaded' "$AG_PROXY_LOG")
ag_check "'$(cmdname "${cmds[0]}")' runs" -- run_line "${cmds[0]}"
ag_check "'$(cmdname "${cmds[1]}")' runs" -- run_line "${cmds[1]}"
ag_check "the proxy reloaded" -- wait_for 10 eval \
	"[ \$(grep -c 'configuration reloaded' '$AG_PROXY_LOG') -gt $p0 ]"
ag_check "the milter reloaded" -- wait_for 10 eval \
	"[ \$(grep -c 'reload: configuration' '$w/milter/milter.log') -gt $m0 ]"
ag_check "the proxy answers with the new help_url" -- grep -qF "$url2" <<<"$(proxy_530)"
unauth sig-reloaded >/dev/null
f=$(ag_wait_sink_find "$w/sink" '^Subject: sig-reloaded$' 20 | head -n 1 || true)
ag_check "the milter's warning has the new help_url" -- \
	grep -qF "$url2" <<<"$(grep '^X-Authgate-Warning:' "${f:-/dev/null}")"

# A broken file: -t stops the README's line before any signal; a signal anyway is refused.
write_conf "$url1" sometimes
m0=$(count 'reload refused' "$w/milter/milter.log") p0=$(count 'reload refused' "$AG_PROXY_LOG")
out=$(run_line "${cmds[0]}" 2>&1) && rc=0 || rc=$?
ag_check "broken file: the proxy line fails at -t (exit $rc)" -- test "$rc" -ne 0
ag_check "saying file, line and key" -- grep -qE "$conf:[0-9]+: \[policy\] phase" <<<"$out"
out=$(run_line "${cmds[1]}" 2>&1) && rc=0 || rc=$?
ag_check "the milter line too (exit $rc)" -- eval "[ $rc -ne 0 ] && grep -qE '$conf:[0-9]+: \\[policy\\] phase' <<<\"\$out\""
run_line "systemctl reload authgate-proxy authgate-milter"
ag_check "SIGHUP without -t: the proxy refuses, naming file and line" -- wait_for 10 \
	grep -qE "reload refused.*$conf:[0-9]+: \[policy\] phase" "$AG_PROXY_LOG"
ag_check "and so does the milter" -- wait_for 10 \
	grep -qE "reload refused.*$conf:[0-9]+: \[policy\] phase" "$w/milter/milter.log"
# Exactly one refusal each, the one just signalled: the failed -t lines sent no signal.
ag_check "so the -t lines attempted no reload" -- eval \
	"[ $(count 'reload refused' "$AG_PROXY_LOG") -eq $((p0 + 1)) ] && [ $(count 'reload refused' "$w/milter/milter.log") -eq $((m0 + 1)) ]"
ag_check "both keep running with the configuration they had" -- eval \
	"kill -0 $ppid_ && kill -0 $mpid && grep -qF '$url2' <<<\"\$(proxy_530)\""
write_conf "$url2"

# --- SIGUSR1: the shipped logrotate file, run twice
lr=$w/logrotate.conf
sed -e "s|/var/log/authgate|$w/log|g" -e 's/create 0640 authgate adm/create 0640 nobody adm/' \
	"$AG_SRCDIR/etc/logrotate.d/authgate" >"$lr"
chmod 644 "$lr"
ag_check "etc/logrotate.d/authgate names the audit logs and signals both daemons" -- eval \
	"grep -q '^$w/log/\*\.jsonl {' '$lr' && grep -q 'systemctl kill --kill-whom=main -s USR1 authgate-proxy.service authgate-milter.service' '$lr'"
rotate() { PATH=$AG_README_BIN:$PATH logrotate -f -s "$w/logrotate.state" "$lr"; }
audit=$w/log/audit.jsonl
auth465 sig-r0-a
auth465 sig-r0-b
ag_check "logrotate runs" -- rotate
ag_check "postrotate sent SIGUSR1 to both (systemctl kill ...)" -- \
	grep -qx 'systemctl kill --kill-whom=main -s USR1 authgate-proxy.service authgate-milter.service' \
	"$w/units/calls.log"
ag_check "audit.jsonl.1 holds the old records" -- grep -q '"event":"message"' "$audit.1"
ag_check "a new audit.jsonl, 0640 nobody:adm" -- \
	test "$(stat -c '%a %U %G' "$audit")" = "640 nobody adm"
lines1=$(wc -l <"$audit.1")
auth465 sig-r1-a
ag_check "the proxy writes to the new file" -- wait_for 10 grep -q '"component":"proxy".*"event":"message"' "$audit"
ag_check "the milter too" -- wait_for 10 grep -q '"component":"milter".*"event":"message"' "$audit"
ag_check "the rotated file got nothing new" -- test "$(wc -l <"$audit.1")" -eq "$lines1"
ag_check "logrotate runs again" -- rotate
ag_check "delaycompress: audit.jsonl.2.gz and audit.jsonl.1" -- eval \
	"gzip -t '$audit.2.gz' && test -s '$audit.1'"
auth465 sig-r2-a
wait_for 10 grep -q '"component":"milter".*"event":"message"' "$audit" || true
got=$(PATH=$AG_README_BIN:$PATH authgate-audit --rotated who --format csv 2>&1)
ag_check "authgate-audit --rotated reads the set: $nmsg messages" -- \
	test "$(grep -c ',alice,' <<<"$got")" -eq "$nmsg"

# --- SIGTERM: the README's stop line while a message is in its DATA phase
# A write to a connection the proxy closed must fail, not kill this script (SIGPIPE skips
# the EXIT trap and leaves everything running).
trap '' PIPE
ag_c_open_tls "$s465"
if ag_c_expect '^220 ' &&
	ag_c_send 'EHLO client.example' && ag_c_expect '^250 ' &&
	ag_c_send "AUTH PLAIN $(ag_auth_plain alice 'Alice pw 1')" && ag_c_expect '^235 ' &&
	ag_c_send 'MAIL FROM:<alice@example.ac.uk>' && ag_c_expect '^250 ' &&
	ag_c_send 'RCPT TO:<friend@example.org>' && ag_c_expect '^250 ' &&
	ag_c_send 'DATA' && ag_c_expect '^354 ' &&
	ag_c_send 'Subject: sig-inflight' '' 'in flight when the daemons were told to stop'; then
	ok 0 "a transaction in DATA"
else
	ok 1 "a transaction in DATA"
fi
(run_line "${cmds[2]}" >"$w/stop.out" 2>&1; echo $? >"$w/stop.rc") &
stopper=$!
ag_check "the proxy stops listening" -- wait_for 10 eval "! (exec 3<>/dev/tcp/127.0.0.1/$s465) 2>/dev/null"
ag_c_send '.'
ag_check "the message in flight is still accepted" -- ag_c_expect '^250 ' 30
ag_c_send 'QUIT' || true
ag_c_expect '^221 ' 10 || true
ag_c_close
trap - PIPE
wait "$stopper" || true
ag_check "'$(cmdname "${cmds[2]}")' returned 0" -- test "$(cat "$w/stop.rc" 2>/dev/null)" = 0
rc=0
wait "$ppid_" || rc=$?
ag_check "the proxy exited with status 0" -- test "$rc" -eq 0
rc=0
wait "$mpid" || rc=$?
ag_check "the milter exited with status 0" -- test "$rc" -eq 0
ag_check "and the message was delivered" -- ag_wait_sink_find "$w/sink" '^Subject: sig-inflight$' 20

tap_done
