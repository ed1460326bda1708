#!/usr/bin/env bash
# tap.sh: TAP helpers for integration scenarios; source it, call ok/fail, end with tap_done.
# Each scenario is a standalone script printing TAP; tests/integration/run counts them all.

TAP_N=0
TAP_FAILED=0

# Killed by a signal (tests/integration/run's timeout sends TERM), bash would skip the
# scenario's EXIT trap and leave its Postfix, proxy and PAM service behind: exit instead,
# so the EXIT trap stops what the scenario started.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

ok() { # ok CONDITION-EXIT-STATUS DESCRIPTION  e.g.  ok $? "delivered"
	local status=$1
	shift
	TAP_N=$((TAP_N + 1))
	if [ "$status" -eq 0 ]; then
		echo "ok $TAP_N - $*"
	else
		TAP_FAILED=$((TAP_FAILED + 1))
		echo "not ok $TAP_N - $*"
	fi
}

# tap_run DESCRIPTION -- COMMAND...: runs the command (in this shell, so it may set
# variables), ok if it exits 0. On failure the command line, its exit status and the last
# lines of its output follow as TAP diagnostics, so a failed check explains itself in CI.
tap_run() {
	# Bash locals are visible to the command run here (dynamic scope): names no scenario uses.
	local _tap_desc=$1 _tap_out _tap_rc _tap_cmd
	shift
	[ "${1:-}" = "--" ] && shift
	_tap_out=$(mktemp /tmp/ag-check-XXXXXX) || {
		ok 1 "$_tap_desc (no temp file for the output)"
		return 0
	}
	if "$@" >"$_tap_out" 2>&1; then
		ok 0 "$_tap_desc"
	else
		_tap_rc=$?
		ok 1 "$_tap_desc"
		_tap_cmd="$*"
		_tap_cmd=${_tap_cmd%%$'\n'*}
		[ "${#_tap_cmd}" -le 200 ] || _tap_cmd="${_tap_cmd:0:200}..."
		diag "  command: $_tap_cmd (exit $_tap_rc)"
		if [ -s "$_tap_out" ]; then
			tail -n "${TAP_DIAG_LINES:-25}" "$_tap_out" | sed 's/^/#   | /'
		else
			diag "  (no output)"
		fi
	fi
	rm -f "$_tap_out"
}

# check DESCRIPTION -- COMMAND...: the same (the name the scenarios use).
check() { tap_run "$@"; }

# must DESCRIPTION -- COMMAND...: a check the rest of the scenario cannot do without (the
# daemons start, say): on failure it says why, as tap_run does, and stops the scenario.
must() {
	local _tap_before=$TAP_FAILED
	tap_run "$@"
	if [ "$TAP_FAILED" -gt "$_tap_before" ]; then
		echo "Bail out! $1"
		exit 1
	fi
}

skip_all() { # the whole scenario cannot run here: say why (counted as skipped)
	echo "1..0 # SKIP $*"
	exit 0
}

diag() { printf '# %s\n' "$*"; }

tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

# A TCP port on 127.0.0.1 that nothing listens on now (bounded tries): in this job's range
# when tests/integration/run gave one (AG_PORT_LOW..AG_PORT_HIGH), else 20000-31999, below
# the kernel's ephemeral range (32768-60999), so no outgoing connection takes it.
free_port() {
	local p _ low=${AG_PORT_LOW:-20000} high=${AG_PORT_HIGH:-32000}
	for _ in $(seq 1 200); do
		p=$((low + (RANDOM % (high - low))))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_port PORT [SECONDS]: until something listens on 127.0.0.1:PORT.
wait_port() {
	local p=$1 t=${2:-10} _
	for _ in $(seq 1 $((t * 10))); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

# wait_for SECONDS COMMAND...: until the command succeeds.
wait_for() {
	local t=$1 _
	shift
	for _ in $(seq 1 $((t * 10))); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	return 1
}
