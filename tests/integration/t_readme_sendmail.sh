#!/usr/bin/env bash
# t_readme_sendmail: README "Sendmail", its blocks checked as text (the live Sendmail runs are
# t_sendmail_milter.sh and t_sendmail_proxy.sh, through lib_sendmail.sh):
#   - m4 reads the README's INPUT_MAIL_FILTER line into the two arguments meant, and its
#     socket is the sample configuration's [milter] socket;
#   - authgate-milter -T sendmail prints, for the sample etc/authgate.conf, what the README
#     shows (only the configuration's path differs);
#   - its sendmail.mc lines are well-quoted m4 that define every map they use, its regex maps
#     match the protected patterns as the milter does (ignoring case) and nothing else, and
#     its address lines are the exact protected addresses with the hub;
#   - the "Behind authgate-proxy" keys, merged into the sample, are accepted and in effect.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/t_readme_blocks.sh"

command -v m4 >/dev/null || skip_all "m4 not installed"
[ -x "$AG_BUILDDIR/milter/authgate-milter" ] || skip_all "milter/authgate-milter not built"
sample=$AG_SRCDIR/etc/authgate.conf

# --- the INPUT_MAIL_FILTER line
mc=$(readme_block sendmail.mc)
ag_check() { # ag_check DESCRIPTION -- COMMAND... (as in lib_auth.sh, which needs PAM)
	local d=$1
	shift
	[ "${1:-}" = "--" ] && shift
	if "$@"; then ok 0 "$d"; else ok 1 "$d"; fi
}
ag_check "the README's sendmail.mc block is one INPUT_MAIL_FILTER line" -- \
	test "$(grep -c '^INPUT_MAIL_FILTER(' <<<"$mc")" -eq 1 -a "$(wc -l <<<"$mc")" -eq 1
args=$(printf '%s\n' "define(\`INPUT_MAIL_FILTER', \`[\$#][\$1][\$2]')dnl" "$mc" | timeout 10 m4)
ag_check "m4 reads it as (authgate, S=..., F=T, T=...): $args" -- \
	test "$args" = '[2][authgate][S=inet:8891@127.0.0.1, F=T, T=S:30s;R:30s;E:5m]'
sock=$(sed -n 's/^socket *= *\([^ ;]*\).*/\1/p' "$sample")
ag_check "S= is the sample configuration's socket ($sock)" -- \
	grep -qF "[S=$sock," <<<"$args"
ag_check "F=T: temporary failure when the milter is unreachable" -- grep -qF ' F=T,' <<<"$args"
ag_check "T= gives S, R and E timeouts with units" -- \
	grep -qE 'T=S:[0-9]+[sm];R:[0-9]+[sm];E:[0-9]+[sm]\]$' <<<"$args"

# --- -T sendmail for the sample configuration, as shown
cmd=$(readme_command sendmail-routes)
ag_check "the README runs '$cmd'" -- test "$cmd" = "authgate-milter -T sendmail"
if got=$("$AG_BUILDDIR/milter/authgate-milter" -c "$sample" -T sendmail); then rc=0; else rc=1; fi
ok $rc "authgate-milter -T sendmail -c etc/authgate.conf"
ag_check "its output is the README's (the configuration's path aside)" -- \
	diff <(readme_output sendmail-routes) <(sed "s|$sample|/etc/authgate/authgate.conf|" <<<"$got")

# The sendmail.mc part (comment lines of step 2, "#      " stripped) through m4.
mclines=$(sed -n '/^# 2\. /,/^# 3\. /{/^#      /s/^#      //p}' <<<"$got")
ag_check "it has sendmail.mc lines" -- test -n "$mclines"
expanded=$(printf '%s\n' \
	"define(\`FEATURE', \`feature[\$1|\$2|\$3|\$4]')dnl" \
	"define(\`LDAPROUTE_DOMAIN', \`domain[\$1]')dnl" "$mclines" | timeout 10 m4)
ag_check "FEATURE(ldap_routing) with a sequence map, no LDAP, passthru" -- \
	grep -qx 'feature\[ldap_routing|sequence authgate_lists|null|passthru\]' <<<"$expanded"
ag_check "LDAPROUTE_DOMAIN for the lists' domain" -- grep -qx 'domain\[example\.ac\.uk\]' <<<"$expanded"
undefined=""
for m in authgate_lists $(sed -n 's/^Kauthgate_lists sequence //p' <<<"$expanded"); do
	grep -q "^K$m " <<<"$expanded" || undefined+=" $m"
done
ag_check "every map the sequence names is defined${undefined:+ (not:$undefined)}" -- \
	test -z "$undefined"

# Regex maps: sendmail's regex class ignores case unless -f is given (map.c regex_map_init:
# REG_ICASE by default, "-f" = case sensitive); the milter matches protected lists ignoring case.
hub=$(sed -n 's/^hub *= *\([^: ;]*\).*/\1/p' "$sample")
re_lines=$(grep '^Kauthgate_re[0-9]* regex ' <<<"$expanded" || true)
ag_check "one regex map for the wildcard pattern" -- test "$(grep -c . <<<"$re_lines")" -eq 1
flags=$(sed -E 's/^Kauthgate_re[0-9]+ regex (.*) [^ ]+$/\1/' <<<"$re_lines")
ag_check "it returns the hub (-a$hub)" -- grep -qw -- "-a$hub" <<<"$flags"
ag_check "it ignores case like the milter (no -f flag: '$flags')" -- \
	eval "! grep -qE '(^| )-f( |\$)' <<<\"\$flags\""
re=$(sed -E 's/^.* ([^ ]+)$/\1/' <<<"$re_lines")
match_ok=0
for a in students-2026@example.ac.uk students-@example.ac.uk; do
	grep -qiE -- "$re" <<<"$a" || { diag "$re does not match $a"; match_ok=1; }
done
for a in staff-all@example.ac.uk xstudents-1@example.ac.uk students-1@example.ac.uk.evil.org \
	students-1@exampleXac.uk; do
	! grep -qiE -- "$re" <<<"$a" || { diag "$re matches $a"; match_ok=1; }
done
ok $match_ok "the regex matches students-*@example.ac.uk and nothing else"

# The address lines (step 1 keeps the lines that are not comments).
addr=$(grep -v '^#' <<<"$got" | grep -v '^$')
ag_check "address lines: the exact protected address, to the hub" -- \
	test "$addr" = "$(printf 'staff-all@example.ac.uk\t%s' "$hub")"


# --- behind authgate-proxy: the README's keys, merged into the sample, are accepted
block=$(readme_block sendmail-authgate.conf)
ag_check "the proxy relays without XCLIENT" -- grep -qx 'backend_xclient = no' <<<"$block"
ag_check "the milter believes the proxy's header from proxy_addresses" -- \
	grep -qE '^proxy_addresses = [0-9./, ]+$' <<<"$block"
# Each "key = value" of the block replaces the sample's key in that section, or is added.
merged=$(awk 'NR == FNR {
		if ($0 ~ /^\[.*\]$/) { sec = $0; next }
		if ($0 ~ /^[a-z_]+ *=/) { k = $1; v[sec, k] = $0; order[++n] = sec SUBSEP k }
		next
	}
	function flush(   i, key) {
		for (i = 1; i <= n; i++) {
			key = order[i]
			if (substr(key, 1, length(cur) + 1) == cur SUBSEP && !(key in used)) {
				print v[key]; used[key] = 1
			}
		}
	}
	/^\[.*\]$/ { flush(); cur = $0; print; next }
	/^[a-z_]+ *=/ && ((cur, $1) in v) { print v[cur, $1]; used[cur, $1] = 1; next }
	{ print }
	END { flush() }' <(printf '%s\n' "$block") "$sample")
# -t checks this machine too (issue 14): the sample's user and log directory are a real
# install's, so they are pointed at what exists here; the README's keys stay as written.
logdir=$(mktemp -d /tmp/ag-readme-sendmail-XXXXXX)
conf=$logdir/authgate.conf
printf '%s\n' "$merged" | sed -e "s|^user *=.*|user = nobody|" \
	-e "s|^audit_log *=.*|audit_log = $logdir/audit.jsonl|" >"$conf"
if effective=$("$AG_BUILDDIR/milter/authgate-milter" -c "$conf" -t -n 2>&1); then rc=0; else rc=1; fi
ok $rc "authgate-milter -t accepts the sample with the README's Sendmail keys"
[ "$rc" -eq 0 ] || printf '%s\n' "$effective" | head -n 20 | sed 's/^/#   | /'
ag_check "in effect: milter.proxy_addresses = 127.0.0.1/32" -- \
	grep -qx 'milter.proxy_addresses = 127.0.0.1/32' <<<"$effective"
ag_check "in effect: proxy.backend_xclient = no" -- grep -qx 'proxy.backend_xclient = no' <<<"$effective"
ag_check "in effect: one authserv_id for both programs" -- \
	grep -qx 'general.authserv_id = mx.example.ac.uk' <<<"$effective"
rm -rf "$logdir"

tap_done
