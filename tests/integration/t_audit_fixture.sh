#!/usr/bin/env bash
# t_audit_fixture.sh: an admin runs authgate-audit on a small hand-checked log: exact output
# of every subcommand and format, filters, bad lines, usage errors.
set -euo pipefail
# shellcheck source=tests/data/audit/common.sh
. "$(cd "$(dirname "$0")/../data/audit" && pwd)/common.sh"

LOG=$DATA/small.jsonl
EXP=$DATA/expected

# Every subcommand in every format, against answers checked by hand (see small.jsonl).
for cmd in who unauth trend; do
	for fmt in text csv json; do
		"$AUDIT" -l "$LOG" "$cmd" --format "$fmt" >"$WORK/out" 2>"$WORK/err" || true
		same "$cmd --format $fmt" "$EXP/small.$cmd.$fmt" "$WORK/out"
	done
done
"$AUDIT" -l "$LOG" who --by user >"$WORK/out" 2>/dev/null
same "who --by user" "$EXP/small.who-by-user.text" "$WORK/out"
"$AUDIT" -l "$LOG" who --by client >"$WORK/out" 2>/dev/null
same "who --by client" "$EXP/small.who-by-client.text" "$WORK/out"
"$AUDIT" -l "$LOG" who --by rcpt --format csv >"$WORK/out" 2>/dev/null
same "who --by rcpt --format csv" "$EXP/small.who-by-rcpt.csv" "$WORK/out"
"$AUDIT" -l "$LOG" trend --hourly >"$WORK/out" 2>/dev/null
same "trend --hourly (empty hours filled)" "$EXP/small.trend-hourly.text" "$WORK/out"

# Bad lines: named with file, line and column on stderr, counted, never fatal.
set +e
(cd "$DATA" && "$AUDIT" -l small.jsonl trend >/dev/null 2>"$WORK/err")
rc=$?
set -e
ok "$rc" "bad lines do not change the exit status"
same "bad lines reported as FILE:LINE: bad record: why" "$EXP/small.stderr" "$WORK/err"
set +e
"$AUDIT" -l "$LOG" --strict trend >/dev/null 2>&1
rc=$?
set -e
is "--strict exits 2 when a line was bad" 2 "$rc"

# Filters (who --format csv: header + one line per message).
rows() { "$AUDIT" -l "$LOG" who --format csv "$@" 2>/dev/null | tail -n +2 | cut -d, -f2,3 | tr -d '\r' | tr '\n' ' '; }
is "--user jdoe" "jdoe,203.0.113.7 " "$(rows --user jdoe)"
is "--user is case-insensitive" "alice,192.0.2.44 " "$(rows --user ALICE)"
is "--client CIDR" ",198.51.100.23 ,198.51.100.99 " "$(rows --client 198.51.100.0/24)"
is "--client IPv6 network" ",2001:db8:1:2::5 " "$(rows --client 2001:db8::/32)"
is "--client single address" "alice,192.0.2.44 " "$(rows --client 192.0.2.44)"
is "--rcpt address" ",198.51.100.99 " "$(rows --rcpt Z@example.net)"
is "--rcpt @domain" "alice,192.0.2.44 " "$(rows --rcpt @example.com)"
is "--since a date" ",2001:db8:1:2::5 alice,192.0.2.44 " "$(rows --since 2026-11-24)"
is "--until a date includes that day" "jdoe,203.0.113.7 ,198.51.100.23 ,198.51.100.99 " \
	"$(rows --until 2026-11-23)"
is "--since/--until instants" ",198.51.100.23 ,198.51.100.99 " \
	"$(rows --since 2026-11-23T11:00:00Z --until 2026-11-23T14:00:00+00:00)"
"$AUDIT" -l "$LOG" unauth --format csv --client 2001:db8::/32 >"$WORK/out" 2>/dev/null
is "unauth with --client" 2 "$(wc -l <"$WORK/out")"
"$AUDIT" -l "$LOG" unauth --top 1 >"$WORK/out" 2>/dev/null
is "unauth --top 1" 1 "$(grep -c '/24\|/64' "$WORK/out")"

# Usage and I/O errors: exit 1 with a message, never a report of nothing.
usage_fails() { # DESCRIPTION EXPECTED-STDERR-PATTERN ARGS...
	local desc=$1 pat=$2 rc
	shift 2
	set +e
	"$AUDIT" "$@" >/dev/null 2>"$WORK/err"
	rc=$?
	set -e
	if [ "$rc" -eq 1 ] && grep -q -- "$pat" "$WORK/err"; then ok 0 "$desc"; else
		ok 1 "$desc"
		diag "rc=$rc: $(head -n 2 "$WORK/err")"
	fi
}
usage_fails "unknown subcommand" 'unknown subcommand "whom"' -l "$LOG" whom
usage_fails "missing subcommand" 'missing subcommand' -l "$LOG"
usage_fails "--by outside who" '--by is for who' -l "$LOG" trend --by user
usage_fails "--hourly outside trend/html" '--hourly is for' -l "$LOG" who --hourly
usage_fails "--format with html" 'does not apply' -l "$LOG" html --format csv
usage_fails "bad --since" '--since 2026-13-01' -l "$LOG" who --since 2026-13-01
usage_fails "bad --client" '--client 10.0.0.1/33' -l "$LOG" who --client 10.0.0.1/33
usage_fails "--since after --until" 'before --until' -l "$LOG" who --since 2026-11-24 --until 2026-11-23
usage_fails "bad --format" 'expected text, csv or json' -l "$LOG" who --format xml
usage_fails "missing log file" "$WORK/nope.jsonl: cannot open" -l "$WORK/nope.jsonl" trend
usage_fails "-o into a missing directory" "$WORK/no/dir/r.txt" -l "$LOG" trend -o "$WORK/no/dir/r.txt"
# -c: the log named by audit_log; a syslog target needs -l; a broken config is named.
printf '[general]\nhostname = smtp.example.ac.uk\naudit_log = %s\n[policy]\nlocal_domains = example.ac.uk\n' \
	"$LOG" >"$WORK/file.conf"
"$AUDIT" -c "$WORK/file.conf" trend --format csv >"$WORK/out" 2>/dev/null
same "-c: reads the config's audit_log" "$EXP/small.trend.csv" "$WORK/out"
sed 's|^audit_log = .*|audit_log = syslog:mail|' "$WORK/file.conf" >"$WORK/syslog.conf"
usage_fails "-c with audit_log = syslog:...: asks for -l" 'audit_log is "syslog:mail"' -c "$WORK/syslog.conf" trend
"$AUDIT" -c "$WORK/syslog.conf" -l "$LOG" trend --format csv >"$WORK/out" 2>/dev/null
same "-l overrides the config's audit_log" "$EXP/small.trend.csv" "$WORK/out"
printf '[general]\nhostname = smtp.example.ac.uk\nfrobnicate = yes\n' >"$WORK/bad.conf"
usage_fails "a broken config: FILE:LINE: message" "$WORK/bad.conf:3:" -c "$WORK/bad.conf" trend
check "-V prints the version" -- bash -c "'$AUDIT' -V | grep -Eq '^authgate-audit [0-9]+\.[0-9]+'"

# -o replaces the file only when the report is complete.
"$AUDIT" -l "$LOG" trend --format csv -o "$WORK/t.csv" 2>/dev/null
same "-o writes the report" "$EXP/small.trend.csv" "$WORK/t.csv"
is "-o leaves no temporary file" 1 "$(find "$WORK" -maxdepth 1 -name 't.csv*' | wc -l)"

# Standard input, and records that went through syslog (audit_log = syslog:mail).
"$AUDIT" -l - trend --format csv <"$LOG" >"$WORK/out" 2>/dev/null
same "-l - reads standard input" "$EXP/small.trend.csv" "$WORK/out"
sed 's/^{/Nov 23 10:00:00 mx1 authgate[4242]: {/' "$LOG" >"$WORK/syslog"
"$AUDIT" -l "$WORK/syslog" trend --format csv >"$WORK/out" 2>/dev/null
same "syslog-prefixed records" "$EXP/small.trend.csv" "$WORK/out"

# Lines over 1 MiB (one that fits the read buffer, one that does not) are reported and
# skipped; the reader resynchronises on the next line.
long_line() {
	printf '{"ts":"2026-11-23T10:30:00Z","component":"proxy","event":"connect","helo":"'
	head -c "$1" /dev/zero | tr '\0' 'a'
	printf '"}\n'
}
{
	head -n 3 "$LOG"
	long_line 1200000
	long_line 3000000
	sed -n '4,$p' "$LOG"
} >"$WORK/long.jsonl"
"$AUDIT" -l "$WORK/long.jsonl" trend --format csv >"$WORK/out" 2>"$WORK/err"
same "overlong lines skipped, the rest read" "$EXP/small.trend.csv" "$WORK/out"
check "overlong lines named with their line numbers" -- \
	bash -c "grep -q 'long.jsonl:4: bad record: line too long' '$WORK/err' &&
		grep -q 'long.jsonl:5: bad record: line too long' '$WORK/err' &&
		grep -q 'long.jsonl:12: bad record: column 109' '$WORK/err'"

# Client-controlled strings: CSV formula injection, quoting, terminal control characters.
cat >"$WORK/hostile.jsonl" <<'EOF'
{"ts":"2026-11-23T10:00:00Z","component":"milter","client_ip":"198.51.100.1","event":"message","mail_from":"=HYPERLINK(\"http://x\")@evil.example","rcpts":["a,b@example.org"],"action":"tag","phase":"voluntary"}
{"ts":"2026-11-23T10:00:01Z","component":"milter","client_ip":"198.51.100.2","event":"message","mail_from":"esc\u001b[31mred@evil.example","rcpts":["c@example.org"],"action":"tag","phase":"voluntary"}
EOF
"$AUDIT" -l "$WORK/hostile.jsonl" who --format csv >"$WORK/out" 2>/dev/null
check "CSV: a leading = is neutralised and quotes doubled" -- \
	grep -qF '"'"'"'=hyperlink(""http://x"")@evil.example"' <(tr '[:upper:]' '[:lower:]' <"$WORK/out")
check "CSV: a comma inside a field is quoted" -- grep -qF '"a,b@example.org"' "$WORK/out"
"$AUDIT" -l "$WORK/hostile.jsonl" who >"$WORK/out" 2>/dev/null
check "text: no raw ESC reaches the terminal" -- bash -c "! grep -q \$'\\x1b' '$WORK/out' && grep -qF 'esc?[31mred' '$WORK/out'"
"$AUDIT" -l "$WORK/hostile.jsonl" who --format json >"$WORK/out" 2>/dev/null
check "JSON: control characters escaped" -- grep -qF 'esc\u001b[31mred' "$WORK/out"

tap_done
