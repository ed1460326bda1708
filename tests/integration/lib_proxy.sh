#!/usr/bin/env bash
# lib_proxy.sh: helpers for the t_proxy_* hardening and fault scenarios (source after lib_auth.sh).
#
#	agc_build WORK            compile tests/integration/agclient.c into WORK (sets AGC)
#	agc_open ARGS...          agclient as the scripted client of lib_auth.sh (ag_c_send,
#	                          ag_c_expect, ag_c_close), e.g. agc_open -P 2 -S 192.0.2.7 -t PORT
#	ag_pid_rss_kb PID         VmRSS of a process, in kB
#	ag_pid_fds PID            open descriptors of a process
#	ag_audit_count FILE ERE   audit records (lines) matching ERE
#	ag_pam_logger WORK        WORK/pamlog.sh logs "user rhost" per PAM conversation to
#	                          WORK/pam.calls; prints the AG_PAM_PRE line that runs it
#	ag_pam_calls WORK         PAM conversations so far
#	agc_try_auth SRC USER PW  one session via a PROXY header naming SRC on 465, one AUTH
#	                          PLAIN; prints the reply code (235, 535, 421, 454)
#	agc_auth USER PW ARGS...  the same with agclient ARGS (e.g. -B 127.0.0.5 -t PORT: from
#	                          127.0.0.5 to PORT, TLS on connect, no PROXY header)
#	ag_haproxy_start CFG      check CFG, start haproxy -db on it (AG_HAPROXY_PID, log next
#	                          to CFG), wait for every 127.0.0.1 bind in it
#	ag_is WANT GOT            for ag_check: equal, or a diagnostic saying what came
#	ag_pipe_batch FROM RCPT.. one session on $AG_SMTPS as $AG_USER with MAIL, the RCPTs and
#	                          DATA in one TLS write (pipeclient.py); its transcript
#	ag_pipe_codes OUT CODES   for ag_check: the reply codes in that transcript, in order,
#	                          are CODES ("250 250 354 250"), or a diagnostic with it

# agc_build WORK: gcc + libssl are what the proxy is built with anyway.
agc_build() {
	AGC=$1/agclient
	gcc -O2 -o "$AGC" "$AG_SRCDIR/tests/integration/agclient.c" -lssl -lcrypto
}

agc_open() {
	# shellcheck disable=SC2034 # AG_C is read by ag__c_adopt (lib_auth.sh)
	coproc AG_C { exec "$AGC" "$@" 2>/dev/null; }
	ag__c_adopt
}

ag_pid_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

ag_pid_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

ag_audit_count() { grep -cE -- "$2" "$1" || true; }

# agc_session ARGS... <<<SCRIPT: one non-interactive session (pipelined lines), transcript out.
agc_session() { timeout 60 "$AGC" -T 5 "$@" 2>&1 || true; }

# agc_message SUBJECT AGCLIENT-ARGS...: one message from $AG_USER (AUTH PLAIN) through agclient;
# 0 if the final "." got 250. With -s the banner was read by agclient before STARTTLS.
agc_message() {
	local subj=$1 a banner=1 rc=1
	shift
	for a in "$@"; do [ "$a" != -s ] || banner=0; done
	agc_open "$@" || return 1
	if { [ "$banner" -eq 0 ] || ag_c_expect '^220 '; } &&
		ag_c_send "EHLO client.example" && ag_c_expect '^250 ' &&
		ag_c_send "AUTH PLAIN $(ag_auth_plain "$AG_USER" "$AG_PASS")" && ag_c_expect '^235 ' &&
		ag_c_send "MAIL FROM:<$AG_USER@authgate.test>" && ag_c_expect '^250 ' &&
		ag_c_send "RCPT TO:<rcpt@example.org>" && ag_c_expect '^250 ' &&
		ag_c_send "DATA" && ag_c_expect '^354 ' &&
		ag_c_send "Subject: $subj" "" "body of $subj" "." && ag_c_expect '^250 ' 30; then
		rc=0
	fi
	ag_c_send "QUIT" 2>/dev/null || true
	ag_c_close
	return "$rc"
}

ag_pam_logger() {
	# shellcheck disable=SC2016 # $PAM_USER and $PAM_RHOST are for the script, not for us
	printf '#!/bin/sh\necho "$PAM_USER $PAM_RHOST" >>"%s/pam.calls"\n' "$1" >"$1/pamlog.sh"
	chmod 755 "$1/pamlog.sh"
	: >"$1/pam.calls"
	chmod 666 "$1/pam.calls"
	echo "auth optional pam_exec.so quiet $1/pamlog.sh"
}

ag_pam_calls() { wc -l <"$1/pam.calls"; }

agc_try_auth() { agc_auth "$2" "$3" -P 1 -S "$1" -t "$AG_SMTPS"; }

agc_auth() {
	local out user=$1 pw=$2
	shift 2
	out=$(printf 'EHLO c.example\nAUTH PLAIN %s\nQUIT\n' "$(ag_auth_plain "$user" "$pw")" |
		timeout 60 "$AGC" -T 20 "$@" 2>/dev/null || true)
	grep -oE '^(235|535|421|454)' <<<"$out" | head -n 1
}

# The caller stops it: kill "$AG_HAPROXY_PID" in its trap.
ag_haproxy_start() {
	local cfg=$1 p ports
	haproxy -c -q -f "$cfg" || return 1
	haproxy -db -f "$cfg" >"${cfg%.cfg}.log" 2>&1 &
	# shellcheck disable=SC2034 # for the caller's trap
	AG_HAPROXY_PID=$!
	mapfile -t ports < <(sed -n 's/^[[:space:]]*bind 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$cfg")
	for p in "${ports[@]}"; do
		wait_port "$p" 10 || return 1
	done
}

ag_is() {
	[ "$1" = "$2" ] && return 0
	diag "expected $1, got '${2:-nothing}'"
	return 1
}

ag_pipe_batch() {
	timeout 60 python3 "$AG_SRCDIR/tests/integration/pipeclient.py" "$AG_SMTPS" "$AG_USER" \
		"$AG_PASS" "$@" 2>&1 || true
}

ag_pipe_codes() {
	local got
	got=$(sed -n 's/^\(reply [0-9]*\|end\): \([0-9]\{3\}\).*/\2/p' <<<"$1" | tr '\n' ' ')
	[ "$got" = "$2 " ] && return 0
	diag "reply codes were: $got(wanted $2)"
	while IFS= read -r l; do diag "  $l"; done <<<"$1"
	return 1
}
