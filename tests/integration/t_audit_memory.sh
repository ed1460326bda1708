#!/usr/bin/env bash
# t_audit_memory.sh: a month of a busy site (over 1,000,000 records, ~300 MB) is read in
# bounded memory: every subcommand stays under 64 MiB of peak RSS, and the answers stay exact.
set -euo pipefail
# shellcheck source=tests/data/audit/common.sh
. "$(cd "$(dirname "$0")/../data/audit" && pwd)/common.sh"

LIMIT_KB=$((64 * 1024))
[ -x /usr/bin/time ] || skip_all "/usr/bin/time is not installed (Debian package: time)"
avail_kb=$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')
[ "$avail_kb" -gt $((1024 * 1024)) ] || skip_all "less than 1 GiB free in $WORK"

G=$WORK/m
gen "$G" 30 21600 9 1 # 30 days x 21600 events: ~1,005,000 records
read -r want_records want_bad _ <"$G/answers.counts"
diag "log: $want_records records, $(($(stat -c %s "$G/log.jsonl") / 1048576)) MiB"
check "at least 1,000,000 records" -- test "$want_records" -ge 1000000

for args in "trend --format csv" "trend --hourly" "unauth --format csv" "who --by sender" \
	"who --by rcpt" "who --format csv" "html"; do
	# shellcheck disable=SC2086 # the words are the arguments
	/usr/bin/time -f '%M %e' -o "$WORK/time" "$AUDIT" -l "$G/log.jsonl" $args >"$WORK/out" 2>"$WORK/err"
	read -r kb secs <"$WORK/time"
	check "$args: peak RSS ${kb} kB < $LIMIT_KB kB (${secs} s)" -- test "$kb" -lt "$LIMIT_KB"
	case $args in
	"trend --format csv")
		same "trend over 1M records still exact" "$G/answers.trend.csv" "$WORK/out"
		;;
	"who --format csv")
		is "who streams one row per message" "$(awk '{ print $3 }' "$G/answers.counts")" \
			"$(($(wc -l <"$WORK/out") - 1))"
		;;
	esac
done
"$AUDIT" -l "$G/log.jsonl" unauth --format json >"$WORK/out" 2>/dev/null
is "records counted" "$want_records" "$(json_summary "$WORK/out" records)"
is "bad lines counted" "$want_bad" "$(json_summary "$WORK/out" bad)"
rm -f "$G/log.jsonl"

# A spam run where every message has a new sender, network and recipient: the tables stop at
# their caps (65536 keys) instead of growing with the log, and say so.
awk 'BEGIN {
	for (i = 0; i < 300000; i++)
		printf "{\"ts\":\"2026-11-%02dT%02d:%02d:%02d.000Z\",\"component\":\"milter\",\"client_ip\":\"10.%d.%d.1\",\"event\":\"message\",\"mail_from\":\"s%d@spam.example\",\"rcpts\":[\"r%d@example.org\"],\"action\":\"tag\",\"queue_id\":\"Q%X\",\"phase\":\"voluntary\"}\n",
			1 + int(i / 86400) % 28, int(i / 3600) % 24, int(i / 60) % 60, i % 60,
			int(i / 256) % 256, i % 256, i, i, i
}' >"$G/spam.jsonl"
for args in "unauth --format csv" "who --by rcpt" "trend" "html"; do
	# shellcheck disable=SC2086 # the words are the arguments
	/usr/bin/time -f '%M %e' -o "$WORK/time" "$AUDIT" -l "$G/spam.jsonl" $args >"$WORK/out" 2>"$WORK/err"
	read -r kb secs <"$WORK/time"
	check "300,000 distinct keys, $args: peak RSS ${kb} kB < $LIMIT_KB kB (${secs} s)" -- \
		test "$kb" -lt "$LIMIT_KB"
	case $args in
	unauth*) is "unauth stops at 65536 groups" 65537 "$(wc -l <"$WORK/out")" ;;
	"who --by rcpt")
		check "who --by says what it dropped" -- grep -q '^note: more than 65536 keys: 234464 counts' "$WORK/out"
		;;
	trend)
		check "distinct senders exact under their own cap (1,000,000)" -- \
			bash -c "grep -q '^2026-11-01 .* 86400\$' '$WORK/out' && grep -q '^2026-11-04 .* 40800\$' '$WORK/out'"
		;;
	esac
done
rm -f "$G/spam.jsonl"

tap_done
