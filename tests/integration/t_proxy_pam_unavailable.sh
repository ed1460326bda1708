#!/usr/bin/env bash
# t_proxy_pam_unavailable: when PAM cannot check passwords the client gets 454 4.7.0, never 535.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-pamdown-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

# pam_pwdfile answers PAM_AUTHINFO_UNAVAIL when its file is missing (think: LDAP down).
AG_PAM_PWDFILE=$work/missing-passwd must "proxy up with a PAM service whose password file is missing" -- ag_world_start "$work"

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS")
ag_check "AUTH gets 454 4.7.0" -- ag_reply_in "$out" '^454 4\.7\.0 Temporary authentication failure'
ag_check "not 535" -- ag_no_reply_in "$out" '^535 '
ag_check "the audit log records a tempfail" -- grep -q '"action":"tempfail"' "$work/audit.jsonl"

# PAM comes back: the same proxy, no restart.
"$AG_SRCDIR/tests/integration/pam/mkpwdfile" "$work/missing-passwd" "$AG_USER" "$AG_PASS"
out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --body 'pam is back')
ag_check "once PAM works again, AUTH gets 235" -- ag_reply_in "$out" '^235 2\.7\.0'
ag_check "and the message is delivered" -- ag_wait_delivered "$AG_SINK" 1 20

tap_done
