#!/usr/bin/env bash
# t_smuggling: SMTP smuggling (CVE-2023-51764 class) on 465 and 587: every malformed end of DATA
# and every bare CR or LF (or NUL) in the text gets 554 5.6.0 at the real CRLF.CRLF; nothing is relayed
# and nothing hidden after a fake end runs as a command.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, private Postfix)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-smuggle-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT

ag_world_start "$work"
ok $? "proxy, PAM service and Postfix are up"

CRLF='\r\n'
# name|what ends the cover text, as printf %b escapes (a NUL cannot live in a shell variable)
variants=(
	'LF.LF|\n.\n'
	'LF.CR|\n.\r'
	'CR.LF|\r.\n'
	'LF.CRLF|\n.\r\n'
	'CRLF.LF|\r\n.\n'
	'CR.CR|\r.\r'
	'CR.CRLF|\r.\r\n'
	'CRLF.CR|\r\n.\r'
	'CRLF.CRCRLF|\r\n.\r\r\n'
	'CRCRLF.CRCRLF|\r\r\n.\r\r\n'
	'LF.CRCRLF|\n.\r\r\n'
	'CRLF-NUL.CRLF|\r\n\x00.\r\n'
	'bare-LF-in-text|\nmore text\r\n'
	'bare-CR-in-text|\rmore text\r\n'
)

send_b() { printf '%b' "$1" >&"$AG_C_OUT"; }

# open_session KIND PORT: banner, EHLO, AUTH, MAIL, RCPT, DATA up to 354 (KIND 465 or 587).
open_session() {
	if [ "$1" = 465 ]; then
		ag_c_open_tls_raw "$2"
		ag_c_expect '^220 ' || return 1
	else
		ag_c_open_starttls_raw "$2" # s_client has read the banner and done STARTTLS
	fi
	ag_c_send "EHLO smuggler.example" && ag_c_expect '^250 ' &&
		ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")" &&
		ag_c_expect '^235 ' &&
		ag_c_send "MAIL FROM:<$AG_USER@authgate.test>" && ag_c_expect '^250 ' &&
		ag_c_send "RCPT TO:<cover@example.org>" && ag_c_expect '^250 ' &&
		ag_c_send "DATA" && ag_c_expect '^354 '
}

for kind in 465 587; do
	port=$AG_SMTPS
	[ "$kind" = 465 ] || port=$AG_SUB
	for v in "${variants[@]}"; do
		name=${v%%|*} fake=${v#*|}
		tag="$kind-$name"
		if ! open_session "$kind" "$port"; then
			ok 1 "$tag: session up to 354"
			ag_c_close
			continue
		fi
		# The cover message, the fake end, then a whole second transaction and the real end.
		send_b "Subject: cover $tag${CRLF}${CRLF}cover body $tag${fake}MAIL FROM:<$AG_USER@authgate.test>${CRLF}RCPT TO:<smuggled@example.org>${CRLF}DATA${CRLF}Subject: smuggled $tag${CRLF}${CRLF}smuggled body $tag${CRLF}.${CRLF}"
		ag_check "$tag: the real end of DATA gets 554 5.6.0, nothing else came first" -- \
			ag_c_expect '^554 5\.6\.0 '
		ag_c_send "NOOP"
		ag_check "$tag: the session is back at commands (NOOP 250, no smuggled replies)" -- \
			ag_c_expect '^250 2\.0\.0'
		ag_c_send "QUIT"
		ag_c_expect '^221 ' >/dev/null || true
		ag_c_close
	done
done

# A clean message still goes through, on a session that saw a refused one first.
open_session 465 "$AG_SMTPS"
send_b "Subject: bare${CRLF}${CRLF}x\ny${CRLF}.${CRLF}"
ag_check "a bare LF in an ordinary message is refused too" -- ag_c_expect '^554 5\.6\.0 '
# An overlong line ending in a bare LF: the dot after it is not an end either.
ag_c_send "MAIL FROM:<$AG_USER@authgate.test>" "RCPT TO:<long@example.org>" "DATA"
ag_check "MAIL gets 250" -- ag_c_expect '^250 '
ag_check "RCPT gets 250" -- ag_c_expect '^250 '
ag_check "DATA gets 354" -- ag_c_expect '^354 '
long=$(head -c 1500 /dev/zero | tr '\0' x)
send_b "Subject: long${CRLF}${CRLF}${long}\n.${CRLF}QUIT${CRLF}more text${CRLF}.${CRLF}"
ag_check "an overlong line then LF . CRLF: one refusal, at the real end (500 5.5.2)" -- \
	ag_c_expect '^500 5\.5\.2 '
ag_c_send "NOOP"
ag_check "the QUIT inside the text was text: NOOP gets 250" -- ag_c_expect '^250 2\.0\.0'

ag_c_send "MAIL FROM:<$AG_USER@authgate.test>" "RCPT TO:<clean@example.org>" "DATA"
ag_check "MAIL after the refusal gets 250" -- ag_c_expect '^250 '
ag_check "RCPT gets 250" -- ag_c_expect '^250 '
ag_check "DATA gets 354" -- ag_c_expect '^354 '
send_b "Subject: clean${CRLF}${CRLF}clean body 7f1c${CRLF}.${CRLF}"
ag_check "a clean message gets 250 queued" -- ag_c_expect '^250 .*queued as' 30
ag_c_send "QUIT"
ag_c_expect '^221 ' >/dev/null || true
ag_c_close

ag_check "the clean message is delivered" -- ag_wait_delivered "$AG_SINK" 1 20
ag_check "no cover text reached Postfix" -- ag_sink_lacks 'cover body'
ag_check "no smuggled message reached Postfix" -- ag_sink_lacks 'smuggled'
ag_check "exactly one message delivered" -- ag_sink_exactly 1
ag_check "nor the overlong one" -- ag_sink_lacks 'Subject: long'
ag_check "the refusals are logged" -- grep -q 'not relayed: 554 5\.6\.0' "$AG_PROXY_LOG"

tap_done
