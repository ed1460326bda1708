#!/usr/bin/env bash
# t_milter_postfix_lists: protected lists behind a real Postfix: unauthenticated posts get
# 550, authenticated ones reach the hub through the transport maps `authgate-milter -T`
# generates.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (private Postfix instance)"
for c in postfix postmap smtp-sink swaks; do
	command -v "$c" >/dev/null || skip_all "$c not installed"
done
milter=$AG_BUILDDIR/milter/authgate-milter
[ -x "$milter" ] || skip_all "milter/authgate-milter not built"

work=$(mktemp -d /tmp/ag-mlists-XXXXXX)
trap 'ag_cleanup_all; rm -rf "$work"' EXIT
hport=$(ag_free_port)
ag_sink_start "$work/hub" "$hport"
ag_milter_stack_start "$work" phase=voluntary hub="127.0.0.1:$hport" \
	protected="staff-all@example.ac.uk, students-*@example.ac.uk"
p=$AG_PF_PORT sink=$work/sink hub=$work/hub audit=$work/milter/audit.jsonl conf=$work/milter/ag.conf

# The tables, exactly as the README tells the admin to make them.
"$milter" -c "$conf" -T postfix >"$work/routes.txt"
check "-T postfix explains the main.cf line" -- grep -q '^#   transport_maps = hash:' "$work/routes.txt"
"$milter" -c "$conf" -T postfix-hash >"$work/pf/etc/authgate_lists"
"$milter" -c "$conf" -T postfix-regexp >"$work/pf/etc/authgate_lists.regexp"
check "postmap accepts the hash table" -- postmap -c "$work/pf/etc" "hash:$work/pf/etc/authgate_lists"
check "hash table routes the exact list to the hub" -- eval \
	"test \"\$(postmap -c $work/pf/etc -q staff-all@example.ac.uk hash:$work/pf/etc/authgate_lists)\" = 'smtp:[127.0.0.1]:$hport'"
check "regexp table routes the wildcard list to the hub" -- eval \
	"test \"\$(postmap -c $work/pf/etc -q Students-2027@example.ac.uk regexp:$work/pf/etc/authgate_lists.regexp)\" = 'smtp:[127.0.0.1]:$hport'"
check "regexp table leaves other addresses alone" -- \
	eval "! postmap -c $work/pf/etc -q staff@example.ac.uk regexp:$work/pf/etc/authgate_lists.regexp"
ag_postfix_set "$work/pf" \
	"transport_maps = hash:$work/pf/etc/authgate_lists, regexp:$work/pf/etc/authgate_lists.regexp"
check "postfix reloads with the transport maps" -- ag_postfix_reload "$work/pf"

out=$(ag_swaks "$p" --from outsider@example.org --to staff-all@example.ac.uk)
check "unauthenticated post to a list gets 550 5.7.1 (even when voluntary)" -- grep -qF \
	'<** 550 5.7.1 This list accepts only authenticated mail (see https://www.example.ac.uk/it/authenticated-smtp)' \
	<<<"$out"
out=$(ag_swaks "$p" --from outsider@example.org --to students-2027@example.ac.uk)
check "unauthenticated post to a wildcard list gets 550" -- grep -qF '<** 550 5.7.1' <<<"$out"
check "audit: list rejection" -- grep -qE \
	'"event":"reject","mail_from":"outsider@example.org","rcpts":\["students-2027@example.ac.uk"\],"action":"reject"' \
	"$audit"

out=$(ag_swaks "$p" --xclient-login jdoe --from jdoe@example.ac.uk --to staff-all@example.ac.uk \
	--header 'Subject: t-list-auth')
check "authenticated post to a list is accepted" -- grep -q '^<- *250 .*queued as' <<<"$out"
check "it is delivered to the hub" -- ag_wait_sink_find "$hub" '^Subject: t-list-auth' 20
check "not to the default relay" -- eval "! ag_sink_find '$sink' '^Subject: t-list-auth'"
check "audit: route hub" -- grep -qE \
	'"auth_user":"jdoe","event":"message".*"rcpts":\["staff-all@example.ac.uk"\],"action":"accept".*"route":"hub"' \
	"$audit"

out=$(ag_swaks "$p" --xclient-login jdoe --from jdoe@example.ac.uk \
	--to students-2027@example.ac.uk --header 'Subject: t-wild-auth')
check "authenticated post to a wildcard list reaches the hub" -- \
	ag_wait_sink_find "$hub" '^Subject: t-wild-auth' 20

out=$(ag_swaks "$p" --xclient-addr 192.0.2.10 --from webmail@example.ac.uk \
	--to staff-all@example.ac.uk --header 'Subject: t-list-trusted')
check "a trusted server's post to a list reaches the hub" -- \
	ag_wait_sink_find "$hub" '^Subject: t-list-trusted' 20

out=$(ag_swaks "$p" --from outsider@example.org --to staff@example.ac.uk \
	--header 'Subject: t-plain-local')
check "ordinary local mail goes the default way" -- \
	ag_wait_sink_find "$sink" '^Subject: t-plain-local' 20
check "and not to the hub" -- eval "! ag_sink_find '$hub' '^Subject: t-plain-local'"

tap_done
