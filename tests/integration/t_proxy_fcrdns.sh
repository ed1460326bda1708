#!/usr/bin/env bash
# t_proxy_fcrdns: the client's name by forward-confirmed reverse DNS, in our Received header
# and XCLIENT NAME, against a DNS responder of our own (dnsstub.py): confirmed, not confirmed,
# hostile PTR names, no PTR, no answer at all, a late answer, and the cache.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"
command -v python3 >/dev/null || skip_all "python3 not installed (the DNS responder)"

work=$(mktemp -d /tmp/ag-fcrdns-XXXXXX)
dns_pid=
stop_dns() { if [ -n "$dns_pid" ]; then kill "$dns_pid" 2>/dev/null || true; fi; }
trap 'stop_dns; ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "agclient builds" -- agc_build "$work"

# One client address per case: all of 127/8 is loopback on Linux, agclient -B picks one.
long=hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh # 60: five make 304 with dots
cat >"$work/zone.json" <<EOF
{
  "ptr": {
    "2.0.0.127.in-addr.arpa": ["good", "authgate", "test"],
    "3.0.0.127.in-addr.arpa": ["liar", "authgate", "test"],
    "4.0.0.127.in-addr.arpa": ["evil name\r\nX-Injected: yes", "authgate", "test"],
    "5.0.0.127.in-addr.arpa": ["$long", "$long", "$long", "$long", "$long"],
    "6.0.0.127.in-addr.arpa": ["a(b)", "authgate", "test"],
    "10.0.0.127.in-addr.arpa": ["late", "authgate", "test"]
  },
  "a": {
    "good.authgate.test": ["127.0.0.2"],
    "liar.authgate.test": ["127.0.0.99"],
    "evil name\r\nx-injected: yes.authgate.test": ["127.0.0.4"],
    "$long.$long.$long.$long.$long": ["127.0.0.5"],
    "a(b).authgate.test": ["127.0.0.6"],
    "late.authgate.test": ["127.0.0.10"]
  },
  "silent": ["7.0.0.127.in-addr.arpa", "11.0.0.127.in-addr.arpa"],
  "delay": {"10.0.0.127.in-addr.arpa": 1.2}
}
EOF
dport=$(ag_free_port)
python3 "$AG_SRCDIR/tests/integration/dnsstub.py" 127.0.0.1 "$dport" "$work/zone.json" \
	"$work/queries.log" "$work/dns.ready" 2>"$work/dns.err" &
dns_pid=$!
must "the DNS responder is up" -- wait_for 10 test -s "$work/dns.ready"

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work" \
	proxy.client_name_lookup=yes "proxy.resolver=127.0.0.1:$dport" proxy.timeout_client_name=2
# Postfix says how it took XCLIENT NAME: a name, or no name for good (5xx) or for now (4xx).
must "Postfix warns about clients without a name" -- ag_postfix_set "$AG_PF" \
	"smtpd_client_restrictions = warn_if_reject reject_unknown_client_hostname" \
	"unknown_client_reject_code = 550"
must "Postfix reloaded" -- ag_postfix_reload "$AG_PF"
log=$(ag_postfix_log "$AG_PF")

# msg_file SUBJECT: the delivered message with that subject.
msg_file() { ag_sink_files "$AG_SINK" | xargs -r grep -l -- "^Subject: $1\$" | head -n 1; }
# our_received SUBJECT NAME IP: our Received header (the second one: Postfix's is on top).
our_received() {
	local f
	f=$(msg_file "$1")
	[ -n "$f" ] || { diag "no message with Subject: $1"; return 1; }
	grep -qE "^Received: from client\.example \($2 \[$3\]\) by smtp\.authgate\.test \(authgate\)" "$f" &&
		return 0
	diag "our Received in $f is:"
	grep -A1 '^Received:.*(authgate)' "$f" | sed 's/^/#   /'
	return 1
}
# send CASE IP: one message from IP on 465; 0 if it was accepted.
send() { agc_message "fcrdns-$1" -B "$2" -t "$AG_SMTPS"; }

# --- confirmed: PTR good.authgate.test, whose A record is the client's address ---
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
t0=$(date +%s%N)
ag_check "confirmed name: message accepted" -- send good 127.0.0.2
t_first=$(ms "$t0")
ag_check "confirmed name: delivered" -- ag_wait_delivered "$AG_SINK" 1 20
ag_check "confirmed name in our Received" -- our_received fcrdns-good 'good\.authgate\.test' 127\.0\.0\.2
ag_check "Postfix was handed it as XCLIENT NAME (client=good.authgate.test[127.0.0.2])" -- \
	wait_for 10 grep -q 'client=good\.authgate\.test\[127\.0\.0\.2\]' "$log"
ag_check "Postfix's own Received names it too" -- \
	ag_sink_has '^Received: from [^ ]+ \(good\.authgate\.test \[127\.0\.0\.2\]\)$'

# --- the cache: a second session from the same address asks nothing ---
ptr_queries() { grep -c "^$1 PTR\$" "$work/queries.log" || true; }
before=$(ptr_queries 2.0.0.127.in-addr.arpa)
t0=$(date +%s%N)
ag_check "second session from 127.0.0.2 accepted" -- send good-again 127.0.0.2
diag "a message from 127.0.0.2: $t_first ms with the lookup, $(ms "$t0") ms from the cache"
ag_check "second session: delivered" -- ag_wait_delivered "$AG_SINK" 2 20
ag_check "second session: the name from the cache" -- \
	our_received fcrdns-good-again 'good\.authgate\.test' 127\.0\.0\.2
ag_check "second session: no new PTR query (asked $before time(s) in all)" -- \
	ag_is 1 "$(ptr_queries 2.0.0.127.in-addr.arpa)"

# --- not confirmed: liar.authgate.test points elsewhere ---
ag_check "unconfirmed name: message accepted" -- send liar 127.0.0.3
ag_check "unconfirmed name: delivered" -- ag_wait_delivered "$AG_SINK" 3 20
ag_check "unconfirmed name: unknown in our Received" -- our_received fcrdns-liar unknown 127\.0\.0\.3
ag_check "unconfirmed name: the forward lookup was made" -- \
	grep -q '^liar\.authgate\.test A$' "$work/queries.log"
ag_check "unconfirmed name: NAME=[UNAVAILABLE], Postfix's 5xx warning" -- \
	wait_for 10 grep -q 'reject_warning: RCPT from unknown\[127\.0\.0\.3\]: 550 ' "$log"
ag_check "unconfirmed name: nowhere in the message" -- ag_sink_lacks 'liar\.authgate'

# --- hostile PTR names, each with an A record that would confirm it: only the syntax stops them ---
n=3
for c in 4:crlf 5:long 6:paren; do
	ip=127.0.0.${c%%:*} name=${c#*:}
	n=$((n + 1))
	ag_check "hostile PTR ($name): message accepted" -- send "$name" "$ip"
	ag_check "hostile PTR ($name): delivered" -- ag_wait_delivered "$AG_SINK" "$n" 20
	ag_check "hostile PTR ($name): unknown in our Received" -- \
		our_received "fcrdns-$name" unknown "${ip//./\\.}"
	ag_check "hostile PTR ($name): Postfix saw no name" -- \
		wait_for 10 grep -q "client=unknown\[${ip//./\\.}\]" "$log"
done
ag_check "hostile PTR: no header of the message carries any of it" -- \
	ag_sink_lacks 'X-Injected|evil|hhhhhhhhhh|a\(b\)'
ag_check "hostile PTR: never forward-resolved" -- ag_not grep -qE '^(evil|hhh|a\()' "$work/queries.log"

# --- no PTR at all (NXDOMAIN) ---
n=$((n + 1))
ag_check "no PTR: message accepted" -- send nxdomain 127.0.0.8
ag_check "no PTR: delivered" -- ag_wait_delivered "$AG_SINK" "$n" 20
ag_check "no PTR: unknown in our Received" -- our_received fcrdns-nxdomain unknown 127\.0\.0\.8
ag_check "no PTR: NAME=[UNAVAILABLE], Postfix's 5xx warning" -- \
	wait_for 10 grep -q 'reject_warning: RCPT from unknown\[127\.0\.0\.8\]: 550 ' "$log"

# --- a session that goes away while its lookup is outstanding: the lookup is cancelled ---
agc_open -B 127.0.0.11 -t "$AG_SMTPS"
ag_check "gone before its name: greeted" -- ag_c_expect '^220 '
if ag_c_send QUIT; then ag_c_expect '^221 ' || true; fi
ag_c_close
gone_sid=$(sed -n 's/.*: \([A-Za-z0-9]*\): connect from \[127\.0\.0\.11\].*/\1/p' "$AG_PROXY_LOG" | head -n 1)
ag_check "gone before its name: the session ended" -- \
	wait_for 10 grep -q "$gone_sid: disconnect from \[127\.0\.0\.11\]" "$AG_PROXY_LOG"

# --- a responder that never answers: the greeting does not wait, the message waits 2 s at most ---
n=$((n + 1))
t0=$(date +%s%N)
agc_open -B 127.0.0.7 -t "$AG_SMTPS"
ag_check "silent DNS: the greeting comes at once" -- ag_c_expect '^220 ' 1
t_banner=$(ms "$t0")
ok=0
if ag_c_send "EHLO client.example" && ag_c_expect '^250 ' &&
	ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")" && ag_c_expect '^235 ' &&
	ag_c_send "MAIL FROM:<$AG_USER@authgate.test>" && ag_c_expect '^250 ' 10 &&
	ag_c_send "RCPT TO:<rcpt@example.org>" && ag_c_expect '^250 ' &&
	ag_c_send "DATA" && ag_c_expect '^354 ' &&
	ag_c_send "Subject: fcrdns-silent" "" "body" "." && ag_c_expect '^250 ' 30; then
	ok=1
fi
t_total=$(ms "$t0")
ag_c_send QUIT 2>/dev/null || true
ag_c_close
diag "silent DNS: banner after ${t_banner} ms, message done after ${t_total} ms (bound 2000 ms)"
ag_check "silent DNS: message accepted" -- ag_is 1 "$ok"
ag_check "silent DNS: within the bound (2 s) and some slack" -- test "$t_total" -lt 4500
ag_check "silent DNS: delivered" -- ag_wait_delivered "$AG_SINK" "$n" 20
ag_check "silent DNS: unknown in our Received" -- our_received fcrdns-silent unknown 127\.0\.0\.7
ag_check "silent DNS: NAME=[TEMPUNAVAIL], Postfix's 4xx warning" -- \
	wait_for 10 grep -q 'reject_warning: RCPT from unknown\[127\.0\.0\.7\]: 450 ' "$log"
ag_check "silent DNS: the proxy logged the timeout" -- \
	grep -q 'client name unknown (temporary): no answer within timeout_client_name' "$AG_PROXY_LOG"
# More than the bound has passed since 127.0.0.11 left: its timer and lookup went with it.
ag_check "gone before its name: nothing said about it after it left" -- \
	ag_not grep -q "$gone_sid: client name" "$AG_PROXY_LOG"

# --- a late answer (1.2 s): MAIL, sent before it, waits and the name is used ---
n=$((n + 1))
ag_check "late answer: message accepted" -- send late 127.0.0.10
ag_check "late answer: delivered" -- ag_wait_delivered "$AG_SINK" "$n" 20
ag_check "late answer: the name in our Received" -- \
	our_received fcrdns-late 'late\.authgate\.test' 127\.0\.0\.10
ag_check "late answer: and in XCLIENT NAME" -- \
	wait_for 10 grep -q 'client=late\.authgate\.test\[127\.0\.0\.10\]' "$log"

ag_check "the proxy is still running" -- kill -0 "$AG_PROXY_PID"
tap_done
