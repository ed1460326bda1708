#!/usr/bin/env bash
# t_proxy_auth_cache: a client that logs in for every message asks PAM once per auth_cache_ttl;
# a wrong password, a changed password, expiry and a reload with the cache off all go to PAM.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-authcache-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

cat >"$work/pamlog.sh" <<EOF
#!/bin/sh
echo "\$PAM_USER" >>"$work/pam.calls"
EOF
chmod 755 "$work/pamlog.sh"
: >"$work/pam.calls"
chmod 666 "$work/pam.calls"
ttl=20 # long enough that a loaded machine does not expire an entry between two logins
AG_PAM_PRE="auth optional pam_exec.so quiet $work/pamlog.sh" must "proxy up with auth_cache_ttl = $ttl" -- ag_world_start "$work" \
	proxy.auth_cache_ttl=$ttl proxy.auth_cache_size=10
audit=$work/audit.jsonl
pamdir=""
for x in "${AG_AUTH_STARTED[@]}"; do
	case $x in "pam:$AG_PAM:"*) pamdir=${x#pam:"$AG_PAM":} ;; esac
done

# login USER PASSWORD: one session, AUTH PLAIN; prints the reply code.
login() {
	local out
	out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$1" \
		--auth-password "$2" --quit-after AUTH)
	sed -n 's/^ *<[-~*]* *\(235\|535\|454\|421\).*/\1/p' <<<"$out" | head -n 1
}
is() {
	[ "$1" = "$2" ] && return 0
	diag "expected $1, got '${2:-nothing}'"
	return 1
}
calls() { wc -l <"$work/pam.calls"; }
same_calls() { # same_calls N: PAM was asked N times in all
	[ "$(calls)" -eq "$1" ] && return 0
	diag "PAM was asked $(calls) times, expected $1"
	return 1
}

ag_check "alice logs in: 235" -- is 235 "$(login "$AG_USER" "$AG_PASS")"
ag_check "PAM was asked once" -- same_calls 1
ag_check "alice again: 235" -- is 235 "$(login "$AG_USER" "$AG_PASS")"
ag_check "without PAM (cache)" -- same_calls 1
ag_check "audited as accepted with reason cache" -- \
	grep -q '"auth_user":"alice".*"event":"auth","action":"accept","reason":"cache"' "$audit"
ag_check "alice@authgate.test is the same normalised login: cached too" -- \
	is 235 "$(login "$AG_USER@authgate.test" "$AG_PASS")"
ag_check "still one PAM call" -- same_calls 1
ag_check "bob is not alice: PAM is asked" -- is 235 "$(login "$AG_USER2" "$AG_PASS2")"
ag_check "two PAM calls" -- same_calls 2

ag_check "alice with a wrong password: 535 (a miss goes to PAM)" -- \
	is 535 "$(login "$AG_USER" 'not her password')"
ag_check "three PAM calls" -- same_calls 3
ag_check "alice's right password now goes to PAM again (her entry was dropped)" -- \
	is 235 "$(login "$AG_USER" "$AG_PASS")"
ag_check "four PAM calls" -- same_calls 4

# A password change: the new one goes to PAM; the old one stops working once PAM says no.
"$AG_SRCDIR/tests/integration/pam/mkpwdfile" "$pamdir/passwd" "$AG_USER" 'new pw 2' \
	"$AG_USER2" "$AG_PASS2"
ag_check "after a change, the new password: 235 via PAM" -- is 235 "$(login "$AG_USER" 'new pw 2')"
ag_check "five PAM calls" -- same_calls 5
ag_check "the old password is refused (a miss, PAM says no)" -- \
	is 535 "$(login "$AG_USER" "$AG_PASS")"
ag_check "six PAM calls" -- same_calls 6
ag_check "new password again: PAM (the no dropped the entry)" -- \
	is 235 "$(login "$AG_USER" 'new pw 2')"
ag_check "seven PAM calls" -- same_calls 7
ag_check "and now from the cache" -- is 235 "$(login "$AG_USER" 'new pw 2')"
ag_check "still seven" -- same_calls 7

sleep $((ttl + 1))
ag_check "after the ttl: 235" -- is 235 "$(login "$AG_USER" 'new pw 2')"
ag_check "through PAM (eight calls)" -- same_calls 8

# A reload that turns the cache off empties it: every login goes to PAM.
sed -i 's/^auth_cache_ttl = .*/auth_cache_ttl = 0/' "$AG_CONF"
kill -HUP "$AG_PROXY_PID"
ag_check "reloaded" -- wait_for 10 grep -q 'configuration reloaded' "$AG_PROXY_LOG"
ag_check "cache off: 235" -- is 235 "$(login "$AG_USER" 'new pw 2')"
ag_check "cache off: 235 again" -- is 235 "$(login "$AG_USER" 'new pw 2')"
ag_check "both through PAM (ten calls)" -- same_calls 10

ag_check "the proxy is still running" -- kill -0 "$AG_PROXY_PID"
tap_done
