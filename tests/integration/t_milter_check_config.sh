#!/usr/bin/env bash
# t_milter_check_config: `authgate-milter -t` accepts good files, and for every broken one
# exits 1 with "file:line: [section] key: what"; -n shows the effective settings; -V.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"

milter=$AG_BUILDDIR/milter/authgate-milter
[ -x "$milter" ] || skip_all "milter/authgate-milter not built"
data=$AG_SRCDIR/tests/data
work=$(mktemp -d /tmp/ag-mcheck-XXXXXX)
trap 'rm -rf "$work"' EXIT

check "-t accepts good.conf" -- "$milter" -t -c "$data/good.conf"
check "-t accepts minimal.conf" -- "$milter" -t -c "$data/minimal.conf"
"$milter" -t -n -c "$data/good.conf" >"$work/dump" 2>&1 || true
check "-t -n prints the effective configuration" -- grep -qE 'phase *= *voluntary' "$work/dump"
"$milter" -t -n -c "$data/minimal.conf" >"$work/dump" 2>&1 || true
check "-t -n shows defaults of keys not in the file" -- \
	grep -qE 'socket *= *inet:8891@127.0.0.1' "$work/dump"

n=0
for f in "$data"/bad_*.conf; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	set +e
	msg=$("$milter" -t -c "$f" 2>&1 >/dev/null)
	rc=$?
	set -e
	# "FILE:LINE: ..." or, for a key that is missing altogether, "FILE: [section] key: ...".
	if [ "$rc" -eq 1 ] && [[ $msg == "$f:"* ]] &&
		grep -qE "^$f(:[0-9]+)?: .+" <<<"$msg"; then
		ok 0 "-t rejects $(basename "$f")"
	else
		ok 1 "-t rejects $(basename "$f") (rc=$rc: $msg)"
	fi
done
[ "$n" -gt 0 ] || diag "no tests/data/bad_*.conf found"

# A broken file of our own: line and key are named.
cat >"$work/mine.conf" <<'CONF'
[general]
hostname = mx.example.org

[policy]
local_domains = example.org
phase = sometimes
CONF
set +e
msg=$("$milter" -t -c "$work/mine.conf" 2>&1 >/dev/null)
rc=$?
set -e
check "a bad phase exits 1" -- test "$rc" -eq 1
check "the message names file, line and key" -- grep -qF "$work/mine.conf:6: [policy] phase:" <<<"$msg"
check "a missing file exits 1" -- eval "! '$milter' -t -c '$work/nonexistent.conf' 2>/dev/null"
check "an unknown option exits non-zero" -- eval "! '$milter' -Q 2>/dev/null"
check "-T with an unknown MTA exits non-zero" -- eval "! '$milter' -c '$data/good.conf' -T exim 2>/dev/null"
check "-T without [lists] hub exits 1" -- eval "! '$milter' -c '$data/minimal.conf' -T postfix 2>/dev/null"
check "-V prints the version" -- eval "'$milter' -V | grep -qE '^authgate-milter [0-9]+\.[0-9]+'"

tap_done
