#!/usr/bin/env bash
# t_audit_screenshot.sh: the HTML report opened in a real browser (headless Chromium, no
# network) renders to a full, non-blank page.
set -euo pipefail
# shellcheck source=tests/data/audit/common.sh
. "$(cd "$(dirname "$0")/../data/audit" && pwd)/common.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || skip_all "chromium is not installed (apt-get install chromium: large, optional)"

# shot HTML PNG: a 1200x1600 screenshot; the browser gets its own profile and no network.
shot() {
	local profile
	profile=$(mktemp -d "$WORK/profile.XXXXXX")
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
		--user-data-dir="$profile" --screenshot="$2" --window-size=1200,1600 \
		"file://$1" >"$WORK/chromium.log" 2>&1
}

# png_size FILE: "WIDTHxHEIGHT" from the IHDR chunk.
png_size() {
	local w h
	w=$(od -An -tu1 -j16 -N4 "$1" | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
	h=$(od -An -tu1 -j20 -N4 "$1" | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
	echo "${w}x${h}"
}

G=$WORK/g
gen "$G" 21 600 4 1 1 # three weeks of a migration; the milter turns mandatory on day 11
cat >"$WORK/authgate.conf" <<'EOF'
[general]
hostname = smtp.example.ac.uk
[policy]
phase = voluntary
mandatory_from = 2026-11-11T00:00:00Z
local_domains = example.ac.uk
EOF
SOURCE_DATE_EPOCH=1795392000 "$AUDIT" -c "$WORK/authgate.conf" -l "$G/log.jsonl" html \
	-o "$WORK/report.html" 2>/dev/null
"$AUDIT" -l "$G/log.jsonl" html --since 2030-01-01 -o "$WORK/empty.html" 2>/dev/null

if shot "$WORK/report.html" "$WORK/report.png"; then ok 0 "chromium renders the report"; else
	ok 1 "chromium renders the report"
	tail -n 5 "$WORK/chromium.log" | sed 's/^/# /'
fi
check "a PNG" -- bash -c "head -c 8 '$WORK/report.png' | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
is "at the window size" "1200x1600" "$(png_size "$WORK/report.png")"
if shot "$WORK/empty.html" "$WORK/empty.png"; then ok 0 "chromium renders an empty report"; else
	ok 1 "chromium renders an empty report"
fi
full=$(stat -c %s "$WORK/report.png")
empty=$(stat -c %s "$WORK/empty.png")
diag "report.png: $full bytes; empty report: $empty bytes"
check "non-trivial: over 60 KB" -- test "$full" -gt 61440
check "the chart and tables add to the picture (over 1.5x an empty report)" -- test $((full * 2)) -gt $((empty * 3))
if [ -n "${AG_AUDIT_SCREENSHOT:-}" ]; then
	cp "$WORK/report.png" "$AG_AUDIT_SCREENSHOT" # e.g. doc/audit-report.png
fi

tap_done
