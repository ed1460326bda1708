#!/usr/bin/env bash
# t_readme_postfix: README "Postfix", followed literally on a private Postfix: the main.cf
# lines, the routing tables made with authgate-milter -T, the master.cf listener for the
# proxy, and the replies the README's table promises (phase mandatory).
#
# Substitutions: ports 8891 (milter), 10025 (proxy listener) and exhub.example.ac.uk:25
# (hub) -> free loopback ports; /etc/postfix -> the instance's config directory (the postfix
# shim adds -c); /etc/authgate/authgate.conf -> this scenario's file (the shims add -c).
# The instance is lib.sh's: its own listener stands for port 25, where Postfix lets every
# client relay (like mynetworks for the campus) so that the milter decides; campus clients are
# simulated there with XCLIENT ADDR. AG_README_SHOW=DIR keeps the outputs to paste.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/t_readme_blocks.sh"

ag_require "PAM service in /etc/pam.d, private Postfix" postfix postmap smtp-sink swaks -- \
	proxy/authgate-proxy milter/authgate-milter audit/authgate-audit

w=$(mktemp -d /tmp/ag-rpostfix-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$w"' EXIT
chmod 755 "$w"
url=https://www.example.ac.uk/it/authenticated-smtp

sport=$(ag_free_port) hport=$(ag_free_port) pport=$(ag_free_port) mport=$(ag_free_port)
xport=$(ag_free_port) s465=$(ag_free_port) s587=$(ag_free_port)
pf=$w/pf
subst="s/8891/$mport/g; s/10025/$xport/g; s/exhub\.example\.ac\.uk:25/127.0.0.1:$hport/g; s|/etc/postfix/|$pf/etc/|g"

pam=$(ag_pam_name)
ag_pam_setup "$pam" alice 'Alice pw 1'
ag_make_cert "$w/certs"
mkdir -p "$w/log" "$w/run"
touch "$w/log/audit.jsonl"
chown nobody "$w/log" "$w/log/audit.jsonl"
conf=$w/authgate.conf
{
	readme_conf "$w" "$s465" "$s587" "$pam"
	cat <<-EOF
		[policy]
		phase            = mandatory
		local_domains    = example.ac.uk
		trusted_networks = 127.0.0.0/8, ::1/128, 192.0.2.0/28
		help_url         = $url

	EOF
	readme_block postfix-authgate.conf | sed -e "$subst"
} >"$conf"
chmod 644 "$conf"
ag_check "authgate.conf with the README's [proxy]/[lists]/[milter] lines" -- \
	grep -qx "socket = inet:$mport@127.0.0.1" "$conf"

ag_sink_start "$w/sink" "$sport"
ag_sink_start "$w/hub" "$hport"
ag_milter_start "$w/milter" "$conf" "$mport"
ag_postfix_start "$pf" "$pport" "$sport"
readme_shims "$w" "$conf" "$pf"

# main.cf: the README's lines, each through postconf -e.
mapfile -t lines < <(readme_block postfix-main.cf | sed -e "$subst")
ag_check "the README has 4 main.cf lines" -- test "${#lines[@]}" -eq 4
postconf -c "$pf/etc" -e "${lines[@]}"
bad=""
for l in "${lines[@]}"; do
	k=${l%% =*}
	[ "$(postconf -c "$pf/etc" -h "$k")" = "${l#*= }" ] || bad+=" $k"
done
ok "$([ -z "$bad" ] && echo 0 || echo 1)" "main.cf has them${bad:+ (not:$bad)}"
# master.cf: the listener block, appended.
readme_block postfix-master.cf | sed -e "$subst" >>"$pf/etc/master.cf"
ag_check "master.cf: the proxy's listener is valid" -- postfix -c "$pf/etc" check

# The routing tables, as the README makes them (the block ends with postfix reload).
ag_check "the README's commands run (authgate-milter -t, -T, postmap, postfix reload)" -- \
	readme_run "$w/run" "$subst" postfix-routes
ag_check "the proxy's listener is up after the reload" -- wait_port "$xport" 15
hop="smtp:[127.0.0.1]:$hport"
ag_check "hash table: staff-all@example.ac.uk -> $hop" -- \
	test "$(postmap -c "$pf/etc" -q staff-all@example.ac.uk "hash:$pf/etc/authgate_lists")" = "$hop"
ag_check "regexp table: Students-2026@Example.AC.UK -> $hop" -- \
	test "$(postmap -c "$pf/etc" -q Students-2026@Example.AC.UK "regexp:$pf/etc/authgate_lists.regexp")" = "$hop"
ag_check "neither has other addresses" -- eval \
	"! postmap -c $pf/etc -q jdoe@example.ac.uk hash:$pf/etc/authgate_lists &&
	 ! postmap -c $pf/etc -q staff-all@example.ac.uk.evil regexp:$pf/etc/authgate_lists.regexp"

AG_PROXY_LOG=$w/proxy.log
ag_check "authgate-proxy up, relaying to the README's listener" -- ag_proxy_start "$conf"

# What the README's table says each client sees.
row() { # the reply in the README table row starting with "| TEXT |", help_url filled in
	sed -n "s/^| $1 | \`\\(.*\\)\` |\$/\\1/p" "$readme_file" | sed "s|help_url|$url|"
}
sent() { grep -q '^<[-~] *250 .*queued as' <<<"$1"; }
first_err() { sed -n 's/^<[*~]\* *//p' <<<"$1" | head -n 1; } # "<** " plain, "<~* " TLS
unauth() { # CLIENT FROM TO SUBJECT
	swaks --server 127.0.0.1:"$pport" --xclient-addr "$1" --from "$2" --to "$3" \
		--header "Subject: $4" --timeout 30 2>&1 || true
}
auth465() { # TO SUBJECT
	swaks --server 127.0.0.1:"$s465" --tls-on-connect --auth PLAIN --auth-user alice \
		--auth-password 'Alice pw 1' --from alice@example.ac.uk --to "$1" \
		--header "Subject: $2" --timeout 30 2>&1 || true
}

want=$(row 'not authenticated, not trusted, relaying')
out=$(unauth 198.51.100.23 jdoe@example.ac.uk friend@example.org pf-relay)
ag_check "unauthenticated relay: '$want'" -- test "$(first_err "$out")" = "$want"
want=$(row 'not authenticated, to a protected list')
out=$(unauth 198.51.100.23 jdoe@example.ac.uk staff-all@example.ac.uk pf-list)
ag_check "unauthenticated, to a protected list: '$want'" -- test "$(first_err "$out")" = "$want"
out=$(unauth 192.0.2.5 noreply@example.ac.uk partner@example.org pf-trusted)
ag_check "trusted_networks relays without AUTH" -- sent "$out"
ag_check "and it is delivered the usual way" -- ag_wait_sink_find "$w/sink" '^Subject: pf-trusted$' 20

out=$(auth465 staff-all@example.ac.uk pf-staff)
ag_check "authenticated through the proxy, to staff-all: accepted" -- sent "$out"
ag_check "delivered at the hub" -- ag_wait_sink_find "$w/hub" '^Subject: pf-staff$' 20
out=$(auth465 Students-2026@Example.AC.UK pf-students)
ag_check "to Students-2026@Example.AC.UK (wildcard, other case): accepted" -- sent "$out"
ag_check "delivered at the hub" -- ag_wait_sink_find "$w/hub" '^Subject: pf-students$' 20
out=$(auth465 friend@example.org pf-outside)
ag_check "authenticated, to the outside: accepted" -- sent "$out"
ag_check "delivered the usual way, not to the hub" -- eval \
	"ag_wait_sink_find '$w/sink' '^Subject: pf-outside\$' 20 && ! ag_sink_find '$w/hub' '^Subject: pf-outside\$'"
ag_check "the hub got only the two list messages" -- test "$(ag_sink_count "$w/hub")" -eq 2
f=$(ag_sink_find "$w/hub" '^Subject: pf-staff$' | head -n 1)
ag_check "with the identity: Authentication-Results smtp.auth=alice" -- \
	grep -q '^Authentication-Results: smtp\.example\.ac\.uk; auth=pass smtp\.auth=alice' "${f:-/dev/null}"
ag_check "the proxy's mail came in through the README's listener (postfix/authgate)" -- \
	grep -q 'postfix/authgate/smtpd\[[0-9]*\]: .*sasl_username=alice' "$(ag_postfix_log "$pf")"
ag_check "audit: the milter routed them to the hub" -- \
	test "$(grep -c '"component":"milter".*"auth_user":"alice".*"route":"hub"' "$w/log/audit.jsonl")" -eq 2

# milter_default_action = tempfail: a dead milter lets nothing through.
ag_milter_stop "$w/milter"
before=$(ag_sink_count "$w/sink")
want=$(row 'any, while the milter is down')
out=$(unauth 198.51.100.23 jdoe@example.ac.uk friend@example.org pf-down)
got=$(first_err "$out")
readme_keep milterdown <<<"$got"
ag_check "milter down, unauthenticated relay: '$want'" -- test "$got" = "$want"
out=$(auth465 friend@example.org pf-down-auth)
got=$(first_err "$out")
ag_check "milter down, through the proxy: 4xx too ($got)" -- grep -q '^4[0-9][0-9] ' <<<"$got"
out=$(unauth 192.0.2.5 noreply@example.ac.uk partner@example.org pf-down-trusted)
ag_check "milter down, trusted: 4xx too" -- grep -q '^4[0-9][0-9] ' <<<"$(first_err "$out")"
# Refused in the SMTP dialogue: with the queue empty nothing can arrive later.
ag_check "Postfix's queue is empty" -- ag_postfix_wait_queue_empty "$pf" 20
ag_check "nothing was delivered meanwhile" -- test "$(ag_sink_count "$w/sink")" -eq "$before"
ag_milter_start "$w/milter" "$conf" "$mport"
out=$(auth465 friend@example.org pf-back)
ag_check "milter back: mail flows again" -- sent "$out"

tap_done
