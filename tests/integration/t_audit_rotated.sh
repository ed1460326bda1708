#!/usr/bin/env bash
# t_audit_rotated.sh: logrotate cut the log mid-day (and gzipped the oldest part); the admin
# passes the pieces in any order, or one path with --rotated: same answers as the whole log.
set -euo pipefail
# shellcheck source=tests/data/audit/common.sh
. "$(cd "$(dirname "$0")/../data/audit" && pwd)/common.sh"

command -v gzip >/dev/null || skip_all "gzip is not installed"

G=$WORK/g
gen "$G" 2 3000 5 0
WHOLE=$G/log.jsonl
n=$(wc -l <"$WHOLE")
a=$((n / 3)) b=$((2 * n / 3)) # both cuts fall inside a day
R=$WORK/rot
mkdir -p "$R"
head -n "$a" "$WHOLE" | gzip -c >"$R/audit.jsonl.2.gz"
sed -n "$((a + 1)),${b}p" "$WHOLE" >"$R/audit.jsonl.1"
sed -n "$((b + 1)),\$p" "$WHOLE" >"$R/audit.jsonl"
diag "cut at lines $a and $b of $n: $(sed -n "${a}p" "$WHOLE" | cut -c8-30) / $(sed -n "${b}p" "$WHOLE" | cut -c8-30)"

"$AUDIT" -l "$WHOLE" who --format csv >"$WORK/who.whole" 2>/dev/null
"$AUDIT" -l "$WHOLE" trend --format csv >"$WORK/trend.whole" 2>/dev/null
same "the whole log matches the answers" "$G/answers.trend.csv" "$WORK/trend.whole"

"$AUDIT" -l "$R/audit.jsonl" -l "$R/audit.jsonl.2.gz" -l "$R/audit.jsonl.1" trend --format csv \
	>"$WORK/out" 2>"$WORK/err"
same "pieces in any order: read oldest first" "$G/answers.trend.csv" "$WORK/out"
is "no complaints" "" "$(cat "$WORK/err")"
"$AUDIT" -l "$R/audit.jsonl.1" -l "$R/audit.jsonl" -l "$R/audit.jsonl.2.gz" who --format csv \
	>"$WORK/out" 2>/dev/null
same "who across the cuts: same rows, same order, pairs joined across files" "$WORK/who.whole" "$WORK/out"
"$AUDIT" -l "$R/audit.jsonl" --rotated who --format csv >"$WORK/out" 2>/dev/null
same "--rotated finds audit.jsonl.1 and audit.jsonl.2.gz" "$WORK/who.whole" "$WORK/out"
"$AUDIT" -l "$R/audit.jsonl" who --format csv >"$WORK/out" 2>/dev/null
check "without --rotated only the live file is read" -- \
	test "$(wc -l <"$WORK/out")" -lt "$(wc -l <"$WORK/who.whole")"
"$AUDIT" -l "$R/audit.jsonl" --rotated trend --format json >"$WORK/out" 2>/dev/null
is "--rotated: three files" 3 "$(json_summary "$WORK/out" files)"

# logrotate's dateext naming, and a gzip file whose name does not say so (zlib reads the magic).
D=$WORK/dateext
mkdir -p "$D"
cp "$R/audit.jsonl.2.gz" "$D/audit.jsonl-20261101.gz"
gzip -c "$R/audit.jsonl.1" >"$D/audit.jsonl-20261102"
cp "$R/audit.jsonl" "$D/audit.jsonl"
"$AUDIT" -l "$D/audit.jsonl" --rotated who --format csv >"$WORK/out" 2>/dev/null
same "--rotated with dateext names, gzip detected by content" "$WORK/who.whole" "$WORK/out"

# A .gz cut short (copied while being written): reported, exit 1, the rest still counted.
T=$WORK/trunc
mkdir -p "$T"
size=$(stat -c %s "$R/audit.jsonl.2.gz")
head -c $((size / 2)) "$R/audit.jsonl.2.gz" >"$T/audit.jsonl.2.gz"
cp "$R/audit.jsonl.1" "$R/audit.jsonl" "$T/"
set +e
"$AUDIT" -l "$T/audit.jsonl" --rotated trend --format csv >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
is "truncated gzip: exit 1" 1 "$rc"
check "truncated gzip: named on stderr" -- grep -q "audit.jsonl.2.gz: read error after line" "$WORK/err"
check "truncated gzip: the report is still written" -- test "$(wc -l <"$WORK/out")" -eq 3
"$AUDIT" -l "$R/audit.jsonl.1" -l "$R/audit.jsonl" trend --format csv >"$WORK/partial" 2>/dev/null
# shellcheck disable=SC2016 # an awk program
check "truncated gzip: later files fully counted" -- \
	awk -F, 'NR == FNR { if (FNR == 3) want = $2; next } FNR == 3 { exit !($2 == want) }' \
	"$WORK/partial" "$WORK/out"

tap_done
