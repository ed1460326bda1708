#!/usr/bin/env bash
# t_programs_usage: every program answers -h/--help (usage on stdout, exit 0) and
# -V/--version ("NAME VERSION"), in the same layout: "usage: NAME ..." lines, then the
# options, the compiled-in config file named; a wrong option gets the usage on stderr.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"

b=$AG_BUILDDIR
progs=(proxy/authgate-proxy milter/authgate-milter audit/authgate-audit)
for p in "${progs[@]}"; do
	[ -x "$b/$p" ] || skip_all "$p not built"
done
work=$(mktemp -d /tmp/ag-usage-XXXXXX)
trap 'rm -rf "$work"' EXIT

for p in "${progs[@]}"; do
	name=$(basename "$p")
	for h in -h --help; do
		rc=0
		"$b/$p" "$h" >"$work/out" 2>"$work/err" || rc=$?
		check "$name $h: exit 0" -- test "$rc" -eq 0
		check "$name $h: first line 'usage: $name ...' on stdout" -- \
			grep -q "^usage: $name " <(head -n 1 "$work/out")
		check "$name $h: -V, --version and -h, --help listed" -- eval \
			"grep -qE '^  -V, --version +print the version' '$work/out' &&
			 grep -qE '^  -h, --help +print this help' '$work/out'"
		check "$name $h: names the default config file" -- \
			grep -qE '^  -c FILE +.*\(default /.*/authgate/authgate\.conf\)$' "$work/out"
		check "$name $h: nothing on stderr" -- test ! -s "$work/err"
	done
	for v in -V --version; do
		check "$name $v: '$name VERSION'" -- eval "'$b/$p' $v | grep -qE '^$name [0-9]+\.[0-9]+\.[0-9]+'"
	done
	rc=0
	"$b/$p" --no-such-option >"$work/out" 2>"$work/err" || rc=$?
	check "$name --no-such-option: exit non-zero" -- test "$rc" -ne 0
	check "$name --no-such-option: says so on stderr, nothing on stdout" -- eval \
		"test -s '$work/err' && test ! -s '$work/out'"
done

tap_done
