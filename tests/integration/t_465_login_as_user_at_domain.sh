#!/usr/bin/env bash
# t_465_login_as_user_at_domain: "alice@authgate.test" logs in as PAM user alice (login_domains).
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-465domain-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

must "proxy, PAM service and Postfix are up" -- ag_world_start "$work"

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN \
	--auth-user "$AG_USER@authgate.test" --auth-password "$AG_PASS" --body 'at domain')
ag_check "alice@authgate.test with alice's password gets 235" -- ag_reply_in "$out" '^235 2\.7\.0'
ag_check "its message is accepted" -- ag_reply_in "$out" '^250 .*queued as'
ag_check "and delivered" -- ag_wait_delivered "$AG_SINK" 1 20
ag_check "Authentication-Results names the PAM user alice" -- \
	ag_sink_has '^Authentication-Results: smtp\.authgate\.test; auth=pass smtp\.auth=alice$'
ag_check "Postfix got XCLIENT LOGIN=alice (the normalised login)" -- \
	wait_for 10 grep -q 'sasl_username=alice$' "$(ag_postfix_log "$AG_PF")"

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth LOGIN \
	--auth-user "$AG_USER@AUTHGATE.TEST" --auth-password "$AG_PASS" --body 'upper case')
ag_check "the domain matches case-insensitively (AUTH LOGIN alice@AUTHGATE.TEST)" -- \
	ag_reply_in "$out" '^235 2\.7\.0'

out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN \
	--auth-user "$AG_USER@other.example" --auth-password "$AG_PASS")
ag_check "a domain not in login_domains is not stripped: 535" -- ag_reply_in "$out" '^535 5\.7\.8'

tap_done
