#!/usr/bin/env bash
# t_audit_generated.sh: a few days of synthetic traffic (proxy + milter, joined on the Postfix
# queue id, with bad lines mixed in); every report must match the answers gen.awk computed.
set -euo pipefail
# shellcheck source=tests/data/audit/common.sh
. "$(cd "$(dirname "$0")/../data/audit" && pwd)/common.sh"

G=$WORK/g
gen "$G" 4 2500 11 1
LOG=$G/log.jsonl
read -r want_records want_bad want_messages <"$G/answers.counts"
diag "generated: $want_records records, $want_bad bad lines, $want_messages messages"

"$AUDIT" -l "$LOG" trend --format csv >"$WORK/trend.csv" 2>"$WORK/err"
same "trend per day" "$G/answers.trend.csv" "$WORK/trend.csv"
is "every bad line reported on stderr" "$want_bad" "$(grep -c ': bad record: ' "$WORK/err")"
check "the summary line counts them" -- grep -q "^authgate-audit: $want_bad of [0-9]* lines were not valid records" "$WORK/err"

"$AUDIT" -l "$LOG" unauth --format csv >"$WORK/unauth.csv" 2>/dev/null
{
	printf 'network,sender,messages,first_seen,last_seen,sample_rcpts\r\n'
	sorted_unauth "$G/answers.unauth.csv"
} >"$WORK/unauth.want"
same "unauth: groups, counts, first/last seen, samples, order" "$WORK/unauth.want" "$WORK/unauth.csv"

"$AUDIT" -l "$LOG" who --by user --format csv 2>/dev/null | tail -n +2 | cut -d, -f1,2 |
	tr -d '\r' | sort >"$WORK/byuser"
sort "$G/answers.byuser.csv" >"$WORK/byuser.want"
same "who --by user (proxy and milter records joined: each message once)" "$WORK/byuser.want" "$WORK/byuser"

"$AUDIT" -l "$LOG" who --format json >"$WORK/who.json" 2>/dev/null
is "who: one row per message" "$want_messages" "$(grep -c '^{"time"' "$WORK/who.json")"
is "JSON summary: records" "$want_records" "$(json_summary "$WORK/who.json" records)"
is "JSON summary: bad" "$want_bad" "$(json_summary "$WORK/who.json" bad)"
if command -v python3 >/dev/null; then
	check "JSON output is valid JSON" -- python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/who.json"
else
	ok 0 "JSON output is valid JSON # SKIP python3 not installed"
fi
is "joined rows carry the backend reply and the milter's route" \
	"$(grep -c '"reply":"250 2.0.0 Ok: queued as \(Q[0-9A-F]*\)","queue_id":"Q[0-9A-F]*","route":"default"' "$WORK/who.json")" \
	"$(grep -c '"reply":"250' "$WORK/who.json")"
check "no proxy row left unjoined" -- bash -c "! grep -q '\"reply\":\"250[^}]*\"route\":null' '$WORK/who.json'"

# Hourly buckets add up to the daily ones.
"$AUDIT" -l "$LOG" trend --hourly --format csv 2>/dev/null | tail -n +2 | tr -d '\r' |
	awk -F, '{ d = substr($1, 1, 10); m[d] += $2; a[d] += $3; r[d] += $6; t[d] += $7 }
		END { for (d in m) print d "," m[d] "," a[d] "," r[d] "," t[d] }' | sort >"$WORK/hourly"
tail -n +2 "$G/answers.trend.csv" | tr -d '\r' | cut -d, -f1,2,3,6,7 | sort >"$WORK/daily"
same "hourly trend sums to the daily one" "$WORK/daily" "$WORK/hourly"
is "24 hourly rows per day" 96 "$("$AUDIT" -l "$LOG" trend --hourly --format csv 2>/dev/null | tail -n +2 | wc -l)"

# A time window: the answers for the days inside it, nothing else.
"$AUDIT" -l "$LOG" trend --format csv --since 2026-11-02 --until 2026-11-03 >"$WORK/win.csv" 2>/dev/null
sed -n '1p;3,4p' "$G/answers.trend.csv" >"$WORK/win.want"
same "trend --since/--until keeps whole days" "$WORK/win.want" "$WORK/win.csv"

tap_done
