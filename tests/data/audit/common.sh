# shellcheck shell=bash
# common.sh: what the t_audit_*.sh scenarios share; source it after setting -euo pipefail.
# Needs AG_SRCDIR and AG_BUILDDIR (tests/integration/run sets both).

AG_SRCDIR=${AG_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
AG_BUILDDIR=${AG_BUILDDIR:?AG_BUILDDIR: the build directory}
# shellcheck source=tests/integration/tap.sh
. "$AG_SRCDIR/tests/integration/tap.sh"

AUDIT=$AG_BUILDDIR/audit/authgate-audit
DATA=$AG_SRCDIR/tests/data/audit
export LC_ALL=C TZ=UTC
unset SOURCE_DATE_EPOCH

[ -x "$AUDIT" ] || skip_all "authgate-audit is not built ($AUDIT)"

WORK=$(mktemp -d /tmp/ag-audit.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# same DESCRIPTION EXPECTED-FILE GOT-FILE: ok when identical; the diff goes to the TAP log.
same() {
	if diff -u "$2" "$3" >"$WORK/.diff" 2>&1; then
		ok 0 "$1"
	else
		ok 1 "$1"
		head -n 40 "$WORK/.diff" | sed 's/^/# /'
	fi
}

# is DESCRIPTION EXPECTED GOT: string equality.
is() {
	if [ "$2" = "$3" ]; then
		ok 0 "$1"
	else
		ok 1 "$1"
		diag "want: $2"
		diag " got: $3"
	fi
}

# gen DIR DAYS PER_DAY SEED BAD [RAMP]: a synthetic log DIR/log.jsonl and its answers
# DIR/answers.*; RAMP=1 makes the authenticated share grow day by day.
gen() {
	mkdir -p "$1"
	awk -v days="$2" -v per_day="$3" -v seed="$4" -v bad="$5" -v ramp="${6:-0}" \
		-v out="$1/log.jsonl" -v answers="$1/answers" -f "$DATA/gen.awk"
}

# The answers' unauth table in the order the tool sorts: messages desc, network, sender.
sorted_unauth() {
	sort -t, -k3,3nr -k1,1 -k2,2 "$1"
}

# A JSON summary field, e.g. json_summary FILE records (the tool prints it on one line).
json_summary() {
	sed -n 's/.*"summary":{.*"'"$2"'":\([0-9]*\).*/\1/p' "$1"
}
