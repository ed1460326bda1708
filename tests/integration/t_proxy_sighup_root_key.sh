#!/usr/bin/env bash
# t_proxy_sighup_root_key: the certificate is renewed with a key readable by root only (0600), and
# SIGHUP makes the proxy serve it: the auth process (root) reads the key for the network side
# (which runs as nobody and cannot). A new certificate whose key does not match is refused on
# SIGHUP, logged, and the running pair stays.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"
command -v runuser >/dev/null || skip_all "runuser (util-linux) not installed"

work=$(mktemp -d /tmp/ag-rootkey-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

ag_world_start "$work"
ok $? "proxy up"
certs=$work/certs

served() { # the SHA-256 fingerprint of the certificate on 465
	timeout 10 openssl s_client -connect "127.0.0.1:$AG_SMTPS" -servername localhost \
		</dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 2>/dev/null |
		sed 's/.*=//'
}
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }
serves() { [ "$(served)" = "$1" ]; }
reloads() { grep -c 'configuration reloaded' "$AG_PROXY_LOG" || true; }
reloaded_since() { [ "$(reloads)" -gt "$1" ]; } # evaluated on each try of wait_for

fp1=$(fp "$certs/cert.pem")
ag_check "the first certificate is served" -- serves "$fp1"

# --- renew: a new pair, the key root-only as most installs have it
ag_make_cert "$work/new"
install -m 600 -o root -g root "$work/new/key.pem" "$certs/key.pem"
install -m 644 "$work/new/cert.pem" "$certs/cert.pem"
fp2=$(fp "$certs/cert.pem")
ag_check "the new key is root:root 0600" -- \
	test "$(stat -c '%U:%G %a' "$certs/key.pem")" = "root:root 600"
ag_check "and nobody (the proxy's user) cannot read it" -- \
	ag_not runuser -u nobody -- cat "$certs/key.pem"
n=$(reloads)
kill -HUP "$AG_PROXY_PID"
ag_check "SIGHUP: the reload is done" -- wait_for 10 reloaded_since "$n"
ag_check "the new certificate is served" -- serves "$fp2"
ag_check "a message goes through with it" -- \
	ag_has_reply "$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN \
		--auth-user "$AG_USER" --auth-password "$AG_PASS")" '^250 .*queued as'
ag_check "the proxy log has no key error" -- ag_not grep -q 'reload refused' "$AG_PROXY_LOG"

# --- a certificate whose key is not the one in tls_key
ag_make_cert "$work/other"
install -m 644 "$work/other/cert.pem" "$certs/cert.pem"
kill -HUP "$AG_PROXY_PID"
ag_check "SIGHUP with a mismatched pair is refused and logged" -- \
	wait_for 10 grep -q 'reload refused, keeping the running configuration: .*does not match' \
	"$AG_PROXY_LOG"
ag_check "the previous certificate is still served" -- serves "$fp2"
ag_check "the proxy is still running" -- kill -0 "$AG_PROXY_PID"

# --- the matching key put back: served again
install -m 600 -o root -g root "$work/other/key.pem" "$certs/key.pem"
n=$(reloads)
kill -HUP "$AG_PROXY_PID"
ag_check "SIGHUP with the matching key: reloaded" -- wait_for 10 reloaded_since "$n"
ag_check "the third certificate is served" -- serves "$(fp "$certs/cert.pem")"
tap_done
