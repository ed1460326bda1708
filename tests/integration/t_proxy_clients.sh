#!/usr/bin/env bash
# t_proxy_clients: the mail clients users actually run send through 465 (implicit TLS) and
# 587 (STARTTLS) with AUTH; each message arrives with the login in our headers, and a wrong
# password gives each client a failure it reports (non-zero exit, the 535 in its words).
# Clients: curl (smtps:// and smtp:// --ssl-reqd), msmtp, Python's smtplib, mutt, swaks.
# Each trusts the test certificate (CA file), as a configured client trusts a real one.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"
for c in curl msmtp mutt python3 swaks; do
	command -v "$c" >/dev/null || skip_all "$c not installed"
done

work=$(mktemp -d /tmp/ag-clients-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

# Five clients each try a wrong password once: room for that in the failure limits.
must "proxy, PAM service and Postfix are up" -- ag_world_start "$work" proxy.max_connections_per_ip=50 \
	proxy.auth_fail_limit=20
ca=$work/certs/cert.pem
from=$AG_USER@authgate.test
export HOME=$work # mutt and msmtp read no user's own configuration

# message NAME: a small RFC 5322 message whose Subject names the client.
message() {
	printf 'From: %s\r\nTo: rcpt@example.org\r\nSubject: client %s\r\nDate: %s\r\nMessage-ID: <%s.%s@authgate.test>\r\n\r\nsent by %s\r\n' \
		"$from" "$1" "$(date -R)" "$1" "$$" "$1"
}

# delivered NAME: the message of client NAME reached the sink, with the login in both of
# our headers (the file is shown when it does not).
delivered() {
	local f
	f=$(ag_wait_sink_find "$AG_SINK" "^Subject: client $1[[:space:]]*\$" 20) || {
		echo "no delivered message has Subject: client $1"
		return 1
	}
	grep -q "^Authentication-Results: smtp\.authgate\.test; auth=pass smtp\.auth=$AG_USER[[:space:]]*\$" "$f" &&
		grep -q "(Authenticated sender: $AG_USER)" "$f" && return 0
	sed -n '1,/^\r\?$/p' "$f"
	return 1
}

# fails_535 OUTPUT-FILE: the client exited non-zero (checked by the caller) and said why:
# the server's 535, or the client's own words for an authentication failure.
says_auth_failed() { grep -qiE '535|authentication (failed|credentials)|login denied' "$1" || { cat "$1"; return 1; }; }

# ---- curl
curl_send() { # curl_send NAME URL PASSWORD [extra curl options]
	local name=$1 url=$2 pw=$3
	shift 3
	message "$name" | curl -sS --max-time 30 --cacert "$ca" --url "$url" --user "$AG_USER:$pw" \
		--mail-from "$from" --mail-rcpt rcpt@example.org --upload-file - "$@"
}
check "curl smtps:// (465) sends" -- curl_send curl465 "smtps://localhost:$AG_SMTPS" "$AG_PASS"
check "curl smtps:// message delivered with the login" -- delivered curl465
check "curl smtp:// --ssl-reqd (587 STARTTLS) sends" -- \
	curl_send curl587 "smtp://localhost:$AG_SUB" "$AG_PASS" --ssl-reqd
check "curl STARTTLS message delivered with the login" -- delivered curl587
if curl_send curlbad "smtps://localhost:$AG_SMTPS" wrong-password >"$work/curl.out" 2>&1; then
	ok 1 "curl with a wrong password fails"
else
	ok 0 "curl with a wrong password fails (exit $?)"
fi
check "curl says the login was denied" -- says_auth_failed "$work/curl.out"

# ---- msmtp
msmtp_conf() { # msmtp_conf FILE PORT TLS_STARTTLS(on|off) PASSWORD
	cat >"$1" <<-EOF
		defaults
		auth on
		tls on
		tls_trust_file $ca
		tls_starttls $3
		logfile -
		account test
		host localhost
		port $2
		from $from
		user $AG_USER
		password $4
		account default : test
	EOF
	chmod 600 "$1"
}
msmtp_conf "$work/msmtp465" "$AG_SMTPS" off "$AG_PASS"
msmtp_conf "$work/msmtp587" "$AG_SUB" on "$AG_PASS"
msmtp_conf "$work/msmtpbad" "$AG_SMTPS" off wrong-password
msmtp_send() { message "$1" | timeout 30 msmtp -C "$2" rcpt@example.org; }
check "msmtp on 465 (tls_starttls off) sends" -- msmtp_send msmtp465 "$work/msmtp465"
check "msmtp 465 message delivered with the login" -- delivered msmtp465
check "msmtp on 587 (STARTTLS) sends" -- msmtp_send msmtp587 "$work/msmtp587"
check "msmtp 587 message delivered with the login" -- delivered msmtp587
if msmtp_send msmtpbad "$work/msmtpbad" >"$work/msmtp.out" 2>&1; then
	ok 1 "msmtp with a wrong password fails"
else
	ok 0 "msmtp with a wrong password fails (exit $?)"
fi
check "msmtp says the login was denied" -- says_auth_failed "$work/msmtp.out"

# ---- Python smtplib (SMTP_SSL on 465; SMTP + starttls on 587; login picks PLAIN or LOGIN)
cat >"$work/send.py" <<'EOF'
import smtplib, ssl, sys
mode, port, user, pw, sender, name, cafile = sys.argv[1:8]
ctx = ssl.create_default_context(cafile=cafile)
msg = ("From: %s\r\nTo: rcpt@example.org\r\nSubject: client %s\r\n\r\nsent by %s\r\n"
       % (sender, name, name))
try:
    if mode == "ssl":
        s = smtplib.SMTP_SSL("localhost", int(port), context=ctx, timeout=30)
    else:
        s = smtplib.SMTP("localhost", int(port), timeout=30)
        s.starttls(context=ctx)
    s.login(user, pw)
    s.sendmail(sender, ["rcpt@example.org"], msg)
    s.quit()
except smtplib.SMTPAuthenticationError as e:
    print("authentication failed:", e.smtp_code, e.smtp_error.decode())
    sys.exit(3)
EOF
py_send() { timeout 30 python3 "$work/send.py" "$1" "$2" "$AG_USER" "$3" "$from" "$4" "$ca"; }
check "Python smtplib SMTP_SSL (465) sends" -- py_send ssl "$AG_SMTPS" "$AG_PASS" py465
check "smtplib 465 message delivered with the login" -- delivered py465
check "Python smtplib starttls (587) sends" -- py_send starttls "$AG_SUB" "$AG_PASS" py587
check "smtplib 587 message delivered with the login" -- delivered py587
if py_send ssl "$AG_SMTPS" wrong-password pybad >"$work/py.out" 2>&1; then
	ok 1 "smtplib with a wrong password fails"
else
	ok 0 "smtplib with a wrong password fails (exit $?)"
fi
check "smtplib reports SMTPAuthenticationError 535" -- grep -q 'authentication failed: 535' "$work/py.out"

# ---- mutt, batch mode (smtp_url; smtps:// is implicit TLS, smtp:// with ssl_force_tls STARTTLS)
mutt_send() { # mutt_send NAME URL PASSWORD
	cat >"$work/muttrc.$1" <<-EOF
		set from = "$from"
		set smtp_url = "$2"
		set smtp_pass = "$3"
		set ssl_force_tls = yes
		set ssl_starttls = yes
		set certificate_file = "$work/mutt-certs"
		set ssl_verify_host = yes
		set record = ""
		set folder = "$work"
		set spoolfile = "$work/spool"
		set hostname = authgate.test
		set tmpdir = "$work/mutt-tmp"
	EOF
	mkdir -p "$work/mutt-tmp"
	cp "$ca" "$work/mutt-certs"
	printf 'sent by %s\n' "$1" | timeout 30 mutt -n -F "$work/muttrc.$1" -s "client $1" -- rcpt@example.org
}
check "mutt smtps:// (465) sends" -- mutt_send mutt465 "smtps://$AG_USER@localhost:$AG_SMTPS" "$AG_PASS"
check "mutt 465 message delivered with the login" -- delivered mutt465
check "mutt smtp:// + STARTTLS (587) sends" -- mutt_send mutt587 "smtp://$AG_USER@localhost:$AG_SUB" "$AG_PASS"
check "mutt 587 message delivered with the login" -- delivered mutt587
if mutt_send muttbad "smtps://$AG_USER@localhost:$AG_SMTPS" wrong-password >"$work/mutt.out" 2>&1; then
	ok 1 "mutt with a wrong password fails"
else
	ok 0 "mutt with a wrong password fails (exit $?)"
fi
check "mutt says authentication failed" -- says_auth_failed "$work/mutt.out"
# A failed send leaves mutt's copy of the message behind: in the test's dir, not /var/tmp.
mutt_tmp_here() { find "$work/mutt-tmp" -name 'mutt-*' | grep -q .; }
check "mutt keeps its temporary files in the test's own directory" -- mutt_tmp_here

# ---- swaks (what the README prints), for completeness of the matrix
out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --header 'Subject: client swaks465')
check "swaks 465 AUTH PLAIN sends" -- ag_reply_in "$out" '^250 .*queued as'
check "swaks 465 message delivered with the login" -- delivered swaks465
out=$(ag_swaks --port "$AG_SUB" --tls --auth LOGIN --auth-user "$AG_USER" \
	--auth-password "$AG_PASS" --header 'Subject: client swaks587')
check "swaks 587 STARTTLS AUTH LOGIN sends" -- ag_reply_in "$out" '^250 .*queued as'
check "swaks 587 message delivered with the login" -- delivered swaks587
out=$(ag_swaks --port "$AG_SMTPS" --tls-on-connect --auth PLAIN --auth-user "$AG_USER" \
	--auth-password wrong-password)
check "swaks with a wrong password gets 535 5.7.8" -- ag_reply_in "$out" '^535 5\.7\.8'

check "no message of a failed login was delivered" -- \
	ag_not ag_sink_grep "$AG_SINK" '^Subject: client (curl|msmtp|py|mutt)bad'

tap_done
