#!/usr/bin/env bash
# t_milter_check_config: `authgate-milter -t` accepts good files (and says ok), and for every
# broken one exits 1 with "file:line: [section] key: what": syntax and values, and what startup
# would refuse (no such user, audit log not writable, a socket host that does not resolve);
# a hub that does not answer is a warning. -n shows the effective settings; -h, -V.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"

milter=$AG_BUILDDIR/milter/authgate-milter
[ -x "$milter" ] || skip_all "milter/authgate-milter not built"
data=$AG_SRCDIR/tests/data
work=$(mktemp -d /tmp/ag-mcheck-XXXXXX)
trap 'rm -rf "$work"' EXIT

# The shipped examples name the production user and log; -t checks both exist, so run it
# on copies that name this machine's (nobody as root, else whoever runs this).
me=nobody
[ "$(id -u)" -eq 0 ] || me=$(id -un)
chmod 755 "$work"
mkdir -m 1777 "$work/log"
# local_copy FILE NAME [sed args...]: FILE with the user and audit log of this machine, as NAME
local_copy() {
	local f=$1 name=$2
	shift 2
	sed -e "s|^user .*|user = $me|" -e "s|^audit_log .*|audit_log = $work/log/audit.jsonl|" \
		"$@" "$f" >"$work/$name"
	grep -q '^user' "$work/$name" || sed -i "s|^\[general\]|[general]\nuser = $me\naudit_log = $work/log/audit.jsonl|" "$work/$name"
	echo "$work/$name"
}
# The hub of good.conf is a real name elsewhere: point it at a port that answers here.
hubport=$(free_port)
python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(120)' "$hubport" &
hubpid=$!
trap 'kill "$hubpid" 2>/dev/null || true; rm -rf "$work"' EXIT
wait_port "$hubport" 5 || diag "the stand-in hub did not listen"
good=$(local_copy "$data/good.conf" good.conf -e "s|^hub .*|hub = 127.0.0.1:$hubport|")
minimal=$(local_copy "$data/minimal.conf" minimal.conf)
check "-t accepts good.conf" -- "$milter" -t -c "$good"
check "-t accepts minimal.conf" -- "$milter" -t -c "$minimal"
out=$("$milter" -t -c "$good" 2>&1) || true
check "-t prints exactly ok" -- test "$out" = ok
"$milter" -t -n -c "$good" >"$work/dump" 2>&1 || true
check "-t -n prints the effective configuration" -- grep -qE 'phase *= *voluntary' "$work/dump"
"$milter" -t -n -c "$minimal" >"$work/dump" 2>&1 || true
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
check "--version too" -- eval "'$milter' --version | grep -qE '^authgate-milter [0-9]+\.[0-9]+'"
for h in -h --help; do
	check "$h: usage on stdout, exit 0" -- eval "'$milter' $h | grep -q '^usage: authgate-milter '"
done
check "--help names the compiled-in config file" -- eval "'$milter' --help | grep -q 'default /.*/authgate/authgate.conf'"

# What startup would refuse, -t finds: "FILE:LINE: [section] key: ..." and exit 1.
# tfail NAME REGEX FILE: -t on FILE exits 1 with a line matching ^FILE:LINE: REGEX
tfail() {
	local name=$1 re=$2 f=$3 rc=0 msg
	msg=$("$milter" -t -c "$f" 2>&1) || rc=$?
	if [ "$rc" -eq 1 ] && grep -qE -- "^$f:[0-9]+: $re" <<<"$msg"; then
		ok 0 "$name"
	else
		ok 1 "$name"
		diag "exit $rc (expected 1), output (expected /^$f:LINE: $re/):"
		while IFS= read -r l; do echo "#   | $l"; done <<<"$msg"
	fi
}
f=$(local_copy "$data/good.conf" nouser.conf -e "s|^user .*|user = agnosuch$$|" \
	-e "s|^hub .*|hub = 127.0.0.1:$hubport|")
tfail "-t: a user that does not exist" "\[general\] user: user \"agnosuch$$\" does not exist" "$f"
f=$(local_copy "$data/good.conf" noaudit.conf -e "s|^hub .*|hub = 127.0.0.1:$hubport|")
sed -i "s|^audit_log .*|audit_log = $work/no-such-dir/audit.jsonl|" "$f"
tfail "-t: an audit log in a directory that does not exist" \
	"\[general\] audit_log: cannot create .*no-such-dir.* does not exist" "$f"
check "(-t created nothing)" -- test ! -e "$work/no-such-dir"
f=$(local_copy "$data/good.conf" badsock.conf -e "s|^hub .*|hub = 127.0.0.1:$hubport|" \
	-e "s|^socket .*|socket = inet:8891@no-such-host.invalid|")
tfail "-t: a milter socket host that does not resolve" "\[milter\] socket: no-such-host\.invalid:8891: " "$f"

# A hub that does not answer: a warning, still exit 0.
dead=$(free_port)
f=$(local_copy "$data/good.conf" deadhub.conf -e "s|^hub .*|hub = 127.0.0.1:$dead|")
rc=0
hout=$("$milter" -t -c "$f" 2>&1) || rc=$?
check "-t with a hub that does not answer: exit 0" -- test "$rc" -eq 0
check "it warns, naming file, line and key" -- \
	grep -qE "^$f:[0-9]+: \[lists\] hub: warning: cannot reach 127\.0\.0\.1:$dead \(Connection refused\)" <<<"$hout"
# (not $out: tap_run has a local of that name)
last_is_ok() { [ "$(tail -n 1 <<<"$hout")" = ok ]; }
check "and still says ok" -- last_is_ok

tap_done
