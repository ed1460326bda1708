#!/usr/bin/env bash
# t_fuzz_smoke: every libFuzzer target builds and survives 5 seconds (scripts/fuzz 5).
# One TAP line per target; the long runs are described in tests/FUZZING.md.
set -euo pipefail
# shellcheck source=tests/integration/tap.sh
. "$AG_SRCDIR/tests/integration/tap.sh"

command -v clang >/dev/null || skip_all "clang not installed (apt-get install clang libclang-rt-14-dev)"
probe=$(mktemp -d /tmp/ag-fuzzprobe-XXXXXX)
work=$(mktemp -d /tmp/ag-fuzz-XXXXXX)
trap 'rm -rf "$probe" "$work"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n){(void)d;(void)n;return 0;}\n' \
	>"$probe/p.c"
clang -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" >/dev/null 2>&1 ||
	skip_all "clang cannot link libFuzzer (apt-get install libclang-rt-14-dev)"

seconds=${AG_FUZZ_SMOKE_SECONDS:-5}
for f in "$AG_SRCDIR"/tests/fuzz/fuzz_*.c; do
	t=$(basename "$f" .c)
	set +e
	out=$(AG_FUZZ_BUILD="$work" "$AG_SRCDIR/scripts/fuzz" "$seconds" "$t" 2>&1)
	rc=$?
	set -e
	line=$(grep "^$t " <<<"$out" | tail -n 1 || true)
	if grep -q ' skipped$' <<<"$line"; then
		echo "ok $((TAP_N + 1)) - $t # SKIP a source it needs does not exist yet"
		TAP_N=$((TAP_N + 1))
		continue
	fi
	ok "$rc" "$t: builds and runs ${seconds}s without a crash ($(awk '{print $2}' <<<"$line") execs)"
	if [ "$rc" -ne 0 ]; then
		# Keep what failed where the log points: the crash input and the build/run log.
		keep=${AG_BUILDDIR:-/tmp}/tests/fuzz-crashes
		mkdir -p "$keep"
		cp -f "$work"/crashes/* "$keep"/ 2>/dev/null || true
		cp -f "$work/logs/$t.log" "$work/logs/$t.build.log" "$keep"/ 2>/dev/null || true
		diag "crash input and log kept in $keep"
		tail -n 20 <<<"$out" | while IFS= read -r l; do diag "$l"; done
	fi
done
tap_done
