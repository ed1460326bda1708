#!/usr/bin/env bash
# t_tls_cipher_policy: with an RSA certificate, a scanner's client asking for TLS 1.2 suites
# without forward secrecy (RSA key exchange) or with CBC gets no handshake, on 465 and on 587
# after STARTTLS; ECDHE with AES-GCM or ChaCha20-Poly1305, and the TLS 1.3 AEAD suites, work.
# A control openssl s_server with the same certificate shows the client could have used them.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-tlsciph-XXXXXX)
ctl_pid=""
trap '[ -z "$ctl_pid" ] || kill "$ctl_pid" 2>/dev/null; ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

mkdir -p "$work/rsa"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
	-keyout "$work/rsa/key.pem" -out "$work/rsa/cert.pem" >/dev/null 2>&1
ok $? "an RSA certificate"
chgrp nogroup "$work/rsa/key.pem" && chmod 640 "$work/rsa/key.pem"

ag_world_start "$work" "proxy.tls_cert=$work/rsa/cert.pem" "proxy.tls_key=$work/rsa/key.pem"
ok $? "proxy up with the RSA certificate and the default cipher policy"

# tls_try PORT S_CLIENT-ARGS...: 0 if the handshake completed and the banner (465) or the
# answer to QUIT came through it. The client's own security level is lowered so that only
# the server can be the one saying no.
tls_try() {
	local port=$1 out
	shift
	# Lower case: s_client takes a line starting with "Q" as its own command to quit.
	out=$(printf 'quit\n' | timeout 15 openssl s_client -connect "127.0.0.1:$port" \
		-servername localhost -ign_eof -crlf "$@" 2>&1) || true
	grep -q '^221 ' <<<"$out" &&
		grep -Eq "^(New|Reused), (SSLv3|TLSv1\.[0-3]), Cipher is [A-Z]" <<<"$out"
}

weak=(AES256-SHA AES128-SHA AES128-GCM-SHA256 AES256-GCM-SHA384 AES128-SHA256 AES256-SHA256
	ECDHE-RSA-AES128-SHA ECDHE-RSA-AES256-SHA ECDHE-RSA-AES128-SHA256 ECDHE-RSA-AES256-SHA384
	DHE-RSA-AES128-GCM-SHA256 DHE-RSA-AES256-SHA)

# --- control: the same client and certificate against a server that offers everything
cport=$(ag_free_port)
openssl s_server -accept "$cport" -cert "$work/rsa/cert.pem" -key "$work/rsa/key.pem" \
	-cipher 'ALL:@SECLEVEL=0' -dhparam <(openssl dhparam 1024 2>/dev/null) -quiet \
	>"$work/ctl.log" 2>&1 </dev/null &
ctl_pid=$!
ag_check "control s_server listens" -- wait_port "$cport" 10
ctl_try() {
	local out
	out=$(timeout 10 openssl s_client -connect "127.0.0.1:$cport" -tls1_2 \
		-cipher "$1:@SECLEVEL=0" </dev/null 2>&1) || true
	# OpenSSL names the version a suite first came with (SSLv3, TLSv1), though TLS 1.2 was spoken.
	grep -Eq "^New, (SSLv3|TLSv1\.[0-2]), Cipher is $1\$" <<<"$out"
}
n=0
for c in "${weak[@]}"; do
	if ctl_try "$c"; then n=$((n + 1)); else diag "control: $c not negotiated"; fi
done
ag_check "control: the client negotiates all ${#weak[@]} weak suites with a permissive server ($n)" -- \
	test "$n" -eq "${#weak[@]}"
kill "$ctl_pid" 2>/dev/null || true
wait "$ctl_pid" 2>/dev/null || true
ctl_pid=""

# --- the proxy, 465
for c in "${weak[@]}"; do
	ag_check "465: -tls1_2 -cipher $c is refused" -- \
		ag_not tls_try "$AG_SMTPS" -tls1_2 -cipher "$c:@SECLEVEL=0"
done
for c in ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-CHACHA20-POLY1305; do
	ag_check "465: -tls1_2 -cipher $c works" -- tls_try "$AG_SMTPS" -tls1_2 -cipher "$c"
done
ag_check "465: TLS 1.3 TLS_AES_256_GCM_SHA384 works" -- \
	tls_try "$AG_SMTPS" -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
ag_check "465: TLS 1.3 TLS_AES_128_CCM_SHA256 (not in the default) is refused" -- \
	ag_not tls_try "$AG_SMTPS" -tls1_3 -ciphersuites TLS_AES_128_CCM_SHA256

# --- the proxy, 587 after STARTTLS
ag_check "587: STARTTLS -tls1_2 -cipher AES256-SHA is refused" -- \
	ag_not tls_try "$AG_SUB" -starttls smtp -tls1_2 -cipher 'AES256-SHA:@SECLEVEL=0'
ag_check "587: STARTTLS -tls1_2 -cipher AES128-GCM-SHA256 is refused" -- \
	ag_not tls_try "$AG_SUB" -starttls smtp -tls1_2 -cipher 'AES128-GCM-SHA256:@SECLEVEL=0'
ag_check "587: STARTTLS -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 works" -- \
	tls_try "$AG_SUB" -starttls smtp -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256

# --- an admin's own list replaces the default; one with nothing usable is refused
ag_proxy_stop
ag_proxy_conf "$AG_CONF" "$AG_SMTPS" "$AG_SUB" "127.0.0.1:$AG_PFPORT" "$AG_PAM" "$work/rsa" \
	proxy.tls_ciphers=ECDHE-RSA-AES256-GCM-SHA384
ag_proxy_start "$AG_CONF"
ok $? "proxy up with tls_ciphers = ECDHE-RSA-AES256-GCM-SHA384"
ag_check "465: ECDHE-RSA-AES256-GCM-SHA384 works" -- \
	tls_try "$AG_SMTPS" -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
ag_check "465: ECDHE-RSA-AES128-GCM-SHA256 (not in the list) is refused" -- \
	ag_not tls_try "$AG_SMTPS" -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
ag_proxy_stop
ag_proxy_conf "$work/bad.conf" "$AG_SMTPS" "$AG_SUB" "127.0.0.1:$AG_PFPORT" "$AG_PAM" \
	"$work/rsa" proxy.tls_ciphers=NOSUCHCIPHER
set +e
timeout 20 "$AG_BUILDDIR/proxy/authgate-proxy" -f -c "$work/bad.conf" >"$work/bad.log" 2>&1
rc=$?
set -e
ag_check "a tls_ciphers with nothing usable stops the start (exit $rc)" -- test "$rc" -ne 0
ag_check "and says so" -- grep -q 'tls_ciphers' "$work/bad.log"
tap_done
