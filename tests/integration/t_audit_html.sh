#!/usr/bin/env bash
# t_audit_html.sh: the admin mails the HTML report around: it must be self-contained, its chart
# must say what the log says (read back from the SVG's data-* attributes), and a hostile
# envelope must not become markup.
set -euo pipefail
# shellcheck source=tests/data/audit/common.sh
. "$(cd "$(dirname "$0")/../data/audit" && pwd)/common.sh"

G=$WORK/g
gen "$G" 10 800 3 1
LOG=$G/log.jsonl
read -r want_records want_bad _ <"$G/answers.counts"
cat >"$WORK/authgate.conf" <<'EOF'
[general]
hostname = smtp.example.ac.uk
audit_log = /var/log/authgate/audit.jsonl

[policy]
phase = voluntary
mandatory_from = 2027-01-15T00:00:00Z
local_domains = example.ac.uk, *.example.ac.uk
EOF
NOW=1796000000 # 2026-11-30T...: SOURCE_DATE_EPOCH makes the page reproducible
SWITCH=1799971200 # 2027-01-15T00:00:00Z

SOURCE_DATE_EPOCH=$NOW "$AUDIT" -c "$WORK/authgate.conf" -l "$LOG" html -o "$WORK/r.html" 2>/dev/null
H=$WORK/r.html
check "html -o writes the page" -- test -s "$H"
check "an HTML5 document" -- bash -c "head -n 1 '$H' | grep -qx '<!DOCTYPE html>' && tail -n 1 '$H' | grep -qx '</html>'"
check "no script" -- bash -c "! grep -qi '<script' '$H'"
check "nothing fetched: no src, href, url() or @import" -- bash -c "! grep -Eqi '(src|href)=|url\(|@import' '$H'"
is "the only URL is the SVG namespace" "http://www.w3.org/2000/svg" "$(grep -Eo 'https?://[^"]*' "$H" | sort -u)"
check "a Content-Security-Policy forbids fetches anyway" -- grep -q "content=\"default-src 'none'" "$H"

# The chart's numbers, bucket by bucket, against gen.awk's answers.
grep -o 'data-bucket="[^"]*" data-total="[0-9]*" data-auth="[0-9]*" data-unauth="[0-9]*" data-rejected="[0-9]*" data-tagged="[0-9]*"' "$H" |
	sed 's/data-[a-z]*="\([^"]*\)"/\1/g; s/ /,/g' >"$WORK/chart.csv"
tail -n +2 "$G/answers.trend.csv" | tr -d '\r' | cut -d, -f1,2,3,5,6,7 >"$WORK/chart.want"
same "chart data: day, total, authenticated, unauthenticated, rejected, tagged" "$WORK/chart.want" "$WORK/chart.csv"
is "one bar group per day" 10 "$(grep -c '<g class="bucket"' "$H")"
# Bar heights are proportional to the counts: auth height / unauth height = auth / unauth.
bars_ok() {
	awk -F'"' '/<g class="bucket"/ {
		for (i = 1; i < NF; i++) {
			if ($i ~ /data-auth=$/) a = $(i + 1)
			if ($i ~ /data-unauth=$/) u = $(i + 1)
		}
		match($0, /class="auth"[^>]*height="[0-9.]*"/); ha = substr($0, RSTART, RLENGTH); sub(/.*height="/, "", ha); sub(/"/, "", ha)
		match($0, /class="unauth"[^>]*height="[0-9.]*"/); hu = substr($0, RSTART, RLENGTH); sub(/.*height="/, "", hu); sub(/"/, "", hu)
		if (hu + 0 == 0 || u == 0) next
		d = ha / hu - a / u; if (d < 0) d = -d
		if (d > 0.01 * (a / u) + 0.01) bad++
		n++
	}
	END { exit !(n == 10 && bad == 0) }' "$H"
}
check "bar heights match the counts" -- bars_ok
check "axis labels and legend" -- bash -c "grep -q '>messages per day</text>' '$H' && grep -q '>Authenticated</text>' '$H' && grep -q '>Unauthenticated</text>' '$H' && grep -q '>01 Nov</text>' '$H'"

total=$(tail -n +2 "$G/answers.trend.csv" | awk -F, '{ s += $2 } END { print s }')
check "the Messages card holds the total" -- grep -q "<div class=\"label\">Messages</div><div class=\"value\">$total</div>" "$H"
is "footer: records and bad lines" "data-records=\"$want_records\" data-bad=\"$want_bad\"" \
	"$(grep -o 'data-records="[0-9]*" data-bad="[0-9]*"' "$H")"

# Phase: from the config (-c), with the switch date and the days left at the report's time.
is "phase from the config" 'data-phase="voluntary"' "$(grep -o 'data-phase="[a-z]*"' "$H")"
is "switch date from mandatory_from" 'data-switch="2027-01-15 00:00"' "$(grep -o 'data-switch="[^"]*"' "$H")"
check "days until the switch" -- grep -q "(in $(((SWITCH * 1000 - NOW * 1000 + 86399999) / 86400000)) days)" "$H"
check "the log disagrees (milter already mandatory): said so" -- grep -q 'data-log-phase="mandatory"' "$H"
# Without -c: the latest milter record's phase, and when the log first shows mandatory.
"$AUDIT" -l "$LOG" html -o "$WORK/nocfg.html" 2>/dev/null
first_mandatory=$(grep -m 1 '"phase":"mandatory"' "$LOG" | sed 's/^{"ts":"\(....-..-..\)T\(..:..\).*/\1 \2/')
is "phase from the log" 'data-phase="mandatory"' "$(grep -o 'data-phase="[a-z]*"' "$WORK/nocfg.html")"
is "first mandatory record from the log" "data-switch=\"$first_mandatory\"" \
	"$(grep -o 'data-switch="[^"]*"' "$WORK/nocfg.html")"

# Failed logins by user: every login gen.awk failed, with its count.
sed -n '/id="fail-user"/,/<\/section>/p' "$H" |
	sed -n 's/.*<td class="mono key">\([^<]*\)<\/td><td class="num">\([0-9]*\)<.*/\1,\2/p' | sort >"$WORK/fails"
sort "$G/answers.fails.csv" >"$WORK/fails.want"
same "failed logins by user" "$WORK/fails.want" "$WORK/fails"
first_unauth=$(sorted_unauth "$G/answers.unauth.csv" | sed -n 1p | cut -d, -f1-3)
got_unauth=$(sed -n '/id="unauth"/,/<\/section>/p' "$H" | grep '<tr><td' | sed -n 1p |
	sed 's/<tr><td class="mono key">\([^<]*\)<\/td><td class="mono key">\([^<]*\)<\/td><td class="num">\([0-9]*\)<.*/\1,\2,\3/; s/&lt;/</g; s/&gt;/>/g')
is "top unauthenticated sender first" "$first_unauth" "$got_unauth"
is "top unauthenticated table cut at 25 rows" 25 "$(sed -n '/id="unauth"/,/<\/section>/p' "$H" | grep -c '^<tr><td')"

# Reproducible: same log, same SOURCE_DATE_EPOCH, same bytes.
SOURCE_DATE_EPOCH=$NOW "$AUDIT" -c "$WORK/authgate.conf" -l "$LOG" html >"$WORK/again.html" 2>/dev/null
check "same input, same page" -- cmp -s "$H" "$WORK/again.html"

# A hostile envelope is text, not markup.
{
	cat "$LOG"
	printf '%s\n' '{"ts":"2026-11-05T12:00:00Z","component":"milter","client_ip":"198.51.100.66","event":"message","mail_from":"<script>alert(1)</script>\"@evil.example","rcpts":["<b>x</b>@example.org"],"action":"tag","phase":"voluntary"}' \
		'{"ts":"2026-11-05T12:00:01Z","component":"proxy","client_ip":"198.51.100.66","auth_user":"x\" onmouseover=\"alert(1)","event":"auth","action":"reject"}'
} >"$WORK/hostile.jsonl"
"$AUDIT" -l "$WORK/hostile.jsonl" html --top 1000 -o "$WORK/hostile.html" 2>/dev/null
check "sender escaped" -- grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;&quot;@evil.example' "$WORK/hostile.html"
check "recipient escaped" -- grep -qF '&lt;b&gt;x&lt;/b&gt;@example.org' "$WORK/hostile.html"
check "login escaped (no attribute injection)" -- grep -qF 'x&quot; onmouseover=&quot;alert(1)' "$WORK/hostile.html"
check "still no script element" -- bash -c "! grep -qi '<script' '$WORK/hostile.html'"

# Hourly, and an empty period.
"$AUDIT" -l "$LOG" html --hourly --since 2026-11-02 --until 2026-11-03 -o "$WORK/hourly.html" 2>/dev/null
is "--hourly: 48 buckets for two days" 48 "$(grep -c '<g class="bucket"' "$WORK/hourly.html")"
"$AUDIT" -l "$LOG" html --since 2030-01-01 -o "$WORK/empty.html" 2>/dev/null
check "an empty period still makes a page" -- grep -q 'No messages in this period' "$WORK/empty.html"
if command -v python3 >/dev/null; then
	check "the SVG is well-formed XML" -- python3 -c '
import re, sys, xml.dom.minidom
page = open(sys.argv[1], encoding="utf-8").read()
xml.dom.minidom.parseString(re.search(r"<svg.*?</svg>", page, re.S).group(0))' "$H"
else
	ok 0 "the SVG is well-formed XML # SKIP python3 not installed"
fi

tap_done
