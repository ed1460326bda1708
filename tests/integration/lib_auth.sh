#!/usr/bin/env bash
# lib_auth.sh: PAM test services, test certificates, and the proxy under test, for scenarios.
#
# Source it after tap.sh and lib.sh:
#	. "$AG_SRCDIR/tests/integration/tap.sh"
#	. "$AG_SRCDIR/tests/integration/lib.sh"
#	. "$AG_SRCDIR/tests/integration/lib_auth.sh"
#	trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT
#
# PAM services live in /etc/pam.d (libpam looks nowhere else), so each one gets a unique
# name (authgate-test-PID-N) and ag_auth_cleanup_all removes it again.

# shellcheck disable=SC2034 # AG_* results are read by the scenarios that source this
AG_AUTH_STARTED=()
AG_PROXY_PID=""
AG_PROXY_LOG=""

# ag_pam_setup NAME USER PASSWORD [USER PASSWORD...]: /etc/pam.d/NAME checking the pairs
# with pam_pwdfile (sha512-crypt). AG_PAM_PRE (optional) holds PAM lines put before it,
# e.g. AG_PAM_PRE='auth required pam_exec.so quiet /bin/sleep 3' for a slow backend.
# AG_PAM_PWDFILE (optional) overrides the password file path (a missing file: PAM down).
ag_pam_setup() {
	local name=$1 dir pwd
	shift
	case $name in
	authgate-test-*) ;;
	*)
		echo "lib_auth.sh: PAM test services must be named authgate-test-*" >&2
		return 1
		;;
	esac
	dir=$(mktemp -d /tmp/ag-pam-XXXXXX) || return 1
	pwd=${AG_PAM_PWDFILE:-$dir/passwd}
	"$AG_SRCDIR/tests/integration/pam/mkpwdfile" "$dir/passwd" "$@" || return 1
	AG_AUTH_STARTED+=("pam:$name:$dir")
	awk -v pre="${AG_PAM_PRE:-}" -v pwd="$pwd" '
		/@PRE@/ { if (pre != "") print pre; next }
		{ gsub(/@PWDFILE@/, pwd); print }
	' "$AG_SRCDIR/tests/integration/pam/service.in" >"/etc/pam.d/$name.tmp" &&
		mv "/etc/pam.d/$name.tmp" "/etc/pam.d/$name"
}

# ag_pam_teardown NAME: remove the service and its password file.
ag_pam_teardown() {
	local name=$1 x keep=()
	for x in "${AG_AUTH_STARTED[@]}"; do
		case $x in
		"pam:$name:"*)
			rm -rf "${x#pam:"$name":}"
			rm -f "/etc/pam.d/$name" "/etc/pam.d/$name.tmp"
			;;
		*) keep+=("$x") ;;
		esac
	done
	AG_AUTH_STARTED=("${keep[@]}")
}

# A fresh service name for this scenario run (callers use $(...), so no counter survives).
ag_pam_name() {
	local i n
	for i in $(seq 1 100); do
		n=authgate-test-$$-$RANDOM
		[ -e "/etc/pam.d/$n" ] || {
			echo "$n"
			return 0
		}
	done
	return 1
}

# ag_make_cert DIR: DIR/cert.pem + DIR/key.pem, self-signed P-256 for localhost, valid for
# AG_CERT_DAYS days (2 by default; the demo asks for a year).
ag_make_cert() {
	local dir=$1
	mkdir -p "$dir" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "${AG_CERT_DAYS:-2}" \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 || return 1
	# On SIGHUP the auth process (root) re-reads the key, so 0600 root would do
	# (t_proxy_sighup_root_key); group-readable keys, as older installs have, work too.
	chgrp nogroup "$dir/key.pem" && chmod 640 "$dir/key.pem"
}

# ag_proxy_conf FILE SMTPS_PORT SUB_PORT BACKENDS PAM_SERVICE CERTDIR [section.key=value...]
# writes a complete authgate.conf; the pairs override or add keys (e.g.
# proxy.timeout_command=3, general.audit_log=/tmp/x/audit.jsonl).
ag_proxy_conf() {
	local file=$1 smtps=$2 sub=$3 backends=$4 pam=$5 certs=$6 kv key sec
	shift 6
	declare -A v=(
		[general.hostname]=smtp.authgate.test
		[general.authserv_id]=smtp.authgate.test
		[general.audit_log]="$(dirname "$file")/audit.jsonl"
		[general.user]=nobody
		[proxy.listen_smtps]="127.0.0.1:$smtps"
		[proxy.listen_submission]="127.0.0.1:$sub"
		[proxy.tls_cert]="$certs/cert.pem"
		[proxy.tls_key]="$certs/key.pem"
		[proxy.backends]=$backends
		[proxy.backend_xclient]=yes
		[proxy.pam_service]=$pam
		[proxy.login_domains]=authgate.test
		[proxy.auth_workers]=2
		# The machine's DNS must not decide what a scenario sees in Received (a
		# resolver may well name 127.0.0.1 "localhost"): t_proxy_fcrdns turns it on
		# against a responder of its own.
		[proxy.client_name_lookup]=no
		[policy.phase]=voluntary
		[policy.local_domains]=authgate.test
		[policy.trusted_networks]=10.255.255.0/24
		[policy.sender_login]=off
	)
	for kv in "$@"; do
		v[${kv%%=*}]=${kv#*=}
	done
	{
		echo "; written by tests/integration/lib_auth.sh"
		for sec in general proxy policy lists milter; do
			echo "[$sec]"
			for key in $(printf '%s\n' "${!v[@]}" | sort); do
				[ "${key%%.*}" = "$sec" ] || continue
				echo "${key#*.} = ${v[$key]}"
			done
		done
	} >"$file"
}

ag__conf_port() { # ag__conf_port FILE KEY: the port of "KEY = host:port"
	sed -n "s/^$2 *= *.*:\([0-9][0-9]*\) *\$/\1/p" "$1" | tail -n 1
}

# ag_proxy_start CONF: run authgate-proxy -f -c CONF in the background (output to
# AG_PROXY_LOG, default CONF's directory/proxy.log) and wait for its ports.
# AG_PROXY_WRAPPER (optional) is put in front, e.g. "valgrind --leak-check=full ...".
ag_proxy_start() {
	local conf=$1 p wrapper=()
	AG_PROXY_LOG=${AG_PROXY_LOG:-$(dirname "$conf")/proxy.log}
	if [ -n "${AG_PROXY_WRAPPER:-}" ]; then read -r -a wrapper <<<"$AG_PROXY_WRAPPER"; fi
	"${wrapper[@]}" "$AG_BUILDDIR/proxy/authgate-proxy" -f -c "$conf" >>"$AG_PROXY_LOG" 2>&1 &
	AG_PROXY_PID=$!
	AG_AUTH_STARTED+=("proxy:$AG_PROXY_PID")
	for p in $(ag__conf_port "$conf" listen_smtps) $(ag__conf_port "$conf" listen_submission); do
		if ! wait_port "$p" "${AG_PROXY_START_WAIT:-10}"; then
			echo "lib_auth.sh: authgate-proxy did not listen on 127.0.0.1:$p" >&2
			cat "$AG_PROXY_LOG" >&2
			return 1
		fi
	done
}

# ag_proxy_stop: SIGTERM, wait (bounded), SIGKILL if it would not go.
ag_proxy_stop() {
	local pid=$AG_PROXY_PID i x keep=()
	[ -n "$pid" ] || return 0
	for x in "${AG_AUTH_STARTED[@]}"; do
		[ "$x" = "proxy:$pid" ] || keep+=("$x")
	done
	AG_AUTH_STARTED=("${keep[@]}")
	AG_PROXY_PID=""
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# ag_proxy_children: pids of the proxy's auth process (its direct children).
ag_proxy_auth_pid() {
	pgrep -P "$AG_PROXY_PID" -x authgate-auth | head -n 1
}

# ag_proxy_pam_workers: pids of the PAM workers under the auth process.
ag_proxy_pam_workers() {
	local a
	a=$(ag_proxy_auth_pid) || return 1
	pgrep -P "$a" -x authgate-pam
}

# ag_auth_cleanup_all: close the scripted client, stop the proxy, remove PAM services
# (for the EXIT trap, before lib.sh's ag_cleanup_all).
ag_auth_cleanup_all() {
	local x
	ag_c_close || true
	if [ "${TAP_FAILED:-0}" -gt 0 ] && [ -s "${AG_PROXY_LOG:-}" ]; then
		diag "authgate-proxy log (last 60 lines):"
		tail -n 60 "$AG_PROXY_LOG" | sed 's/^/#   /'
	fi
	ag_proxy_stop || true
	for x in "${AG_AUTH_STARTED[@]}"; do
		case $x in
		pam:*)
			x=${x#pam:}
			ag_pam_teardown "${x%%:*}"
			;;
		esac
	done
	AG_AUTH_STARTED=()
}

# ag_b64 STRING: base64 without line breaks (printf %b-free: the string is taken literally).
ag_b64() { printf '%s' "$1" | base64 -w0; }

# ag_auth_plain USER PASSWORD: the AUTH PLAIN initial response (RFC 4616).
ag_auth_plain() { printf '\0%s\0%s' "$1" "$2" | base64 -w0; }

# ---- one proxy in front of a private Postfix, for a scenario ----

AG_USER=alice
AG_PASS='Alice pw 1'
AG_USER2=bob
AG_PASS2='b0b:secret'

# ag_world_start WORK [section.key=value...]: certificate, PAM service (alice, bob), smtp-sink,
# a private Postfix (lib.sh) and authgate-proxy relaying to it. Sets AG_SINK, AG_PF,
# AG_PFPORT, AG_SMTPS, AG_SUB, AG_PAM, AG_CONF. Extra pairs go to the proxy's config
# (use proxy.backends=... to change the backends; "@PF@" in a value is the Postfix port).
ag_world_start() {
	local work=$1 sport kv args=()
	shift
	AG_SINK=$work/sink AG_PF=$work/pf
	chmod o+x "$work" # the proxy, as `user`, re-reads its certificate there on SIGHUP
	ag_make_cert "$work/certs" || return 1
	AG_PAM=$(ag_pam_name) || return 1
	ag_pam_setup "$AG_PAM" "$AG_USER" "$AG_PASS" "$AG_USER2" "$AG_PASS2" || return 1
	sport=$(free_port) && ag_sink_start "$AG_SINK" "$sport" || return 1
	AG_PFPORT=$(free_port) && ag_postfix_start "$AG_PF" "$AG_PFPORT" "$sport" || return 1
	AG_SMTPS=$(free_port) && AG_SUB=$(free_port) || return 1
	for kv in "$@"; do
		args+=("${kv//@PF@/$AG_PFPORT}")
	done
	AG_CONF=$work/authgate.conf
	ag_proxy_conf "$AG_CONF" "$AG_SMTPS" "$AG_SUB" "127.0.0.1:$AG_PFPORT" "$AG_PAM" \
		"$work/certs" "${args[@]}" || return 1
	ag_proxy_start "$AG_CONF"
}

# ag_swaks ARGS...: swaks against the proxy, transcript on stdout (never fails by itself).
# Server replies are lines "<- 250 ..." (plain), "<~ 250 ..." (TLS), "<** 535 ..." (error).
ag_swaks() {
	swaks --server 127.0.0.1 --timeout 30 --from "$AG_USER@authgate.test" \
		--to rcpt@example.org "$@" 2>&1 || true
}

# ag_has_reply TRANSCRIPT REGEX: a server reply line whose text (after the arrow) matches
# REGEX, e.g. ag_has_reply "$out" '^235 2\.7\.0'.
ag_has_reply() {
	sed -n 's/^ *<[-~*]* *//p' <<<"$1" | grep -Eq -- "$2"
}

# ---- checks that keep going under set -e and say what they saw when they fail ----

# ag_check DESCRIPTION -- COMMAND...: ok if COMMAND succeeds (its diagnostics are kept).
ag_check() { tap_run "$@"; }

ag_not() { ! "$@"; } # for ag_check: ag_check "no X" -- ag_not grep -q X FILE

ag__show_replies() {
	sed -n 's/^ *\(<[-~*]* *[0-9].*\)/#   \1/p' <<<"$1" | head -n 40
}

# ag_reply_in TRANSCRIPT REGEX / ag_no_reply_in TRANSCRIPT REGEX: for ag_check.
ag_reply_in() {
	ag_has_reply "$1" "$2" && return 0
	diag "no server reply matches /$2/; replies were:"
	ag__show_replies "$1"
	return 1
}

ag_no_reply_in() {
	ag_has_reply "$1" "$2" || return 0
	diag "unexpected server reply matching /$2/; replies were:"
	ag__show_replies "$1"
	return 1
}

# ag_c_expect REGEX [SECONDS]: the next reply's last line matches REGEX (ERE).
ag_c_expect() {
	if ag_c_reply "${2:-15}" && [[ $AG_C_LAST =~ $1 ]]; then
		return 0
	fi
	diag "expected a reply matching /$1/, got: ${AG_C_REPLY:-(nothing)}"
	return 1
}

# ag_sink_has REGEX: a delivered message has a line matching REGEX (ERE).
ag_sink_has() {
	ag_sink_grep "$AG_SINK" "$1" -q && return 0
	diag "no delivered message has a line matching /$1/"
	return 1
}

ag_sink_lacks() {
	! ag_sink_grep "$AG_SINK" "$1" -q && return 0
	diag "a delivered message has a line matching /$1/:"
	ag_sink_grep "$AG_SINK" "$1" -h | sed 's/^/#   /'
	return 1
}

# ag_sink_exactly N: exactly N messages delivered (after a short settle time).
ag_sink_exactly() {
	local n
	sleep 1
	n=$(ag_sink_count "$AG_SINK")
	[ "$n" -eq "$1" ] && return 0
	diag "expected $1 delivered message(s), the sink has $n"
	return 1
}

# ---- a scripted SMTP client: ag_c_open_tls PORT | ag_c_open_plain PORT, then
# ag_c_send LINE..., ag_c_reply [SECONDS] (the next complete reply in AG_C_REPLY, its
# last line in AG_C_LAST), ag_c_close. One connection at a time.

AG_C_CPID="" AG_C_IN="" AG_C_OUT="" AG_C_EOL=""

ag_c_open_tls() { # implicit TLS (465); s_client -crlf turns our LF into CRLF
	coproc AG_C { exec openssl s_client -connect "127.0.0.1:$1" -quiet -crlf -nocommands \
		-verify_quiet -no_ign_eof 2>/dev/null; }
	ag__c_adopt
}

ag_c_open_starttls() { # 587 after STARTTLS: s_client does EHLO/STARTTLS, then we speak
	coproc AG_C { exec openssl s_client -connect "127.0.0.1:$1" -starttls smtp -quiet -nocommands \
		-crlf -verify_quiet -no_ign_eof 2>/dev/null; }
	ag__c_adopt
}

# The same without -crlf: bytes go out exactly as sent (ag_c_send still ends lines with
# CRLF; ag_c_send_raw can send a bare LF or CR), for the SMTP smuggling scenarios.
ag_c_open_tls_raw() {
	coproc AG_C { exec openssl s_client -connect "127.0.0.1:$1" -quiet -nocommands \
		-verify_quiet -no_ign_eof 2>/dev/null; }
	ag__c_adopt
	AG_C_EOL=$'\r\n'
}

ag_c_open_starttls_raw() {
	coproc AG_C { exec openssl s_client -connect "127.0.0.1:$1" -starttls smtp -quiet -nocommands \
		-verify_quiet -no_ign_eof 2>/dev/null; }
	ag__c_adopt
	AG_C_EOL=$'\r\n'
}

# bash closes a coproc's descriptors (and unsets AG_C_PID) as soon as it exits, which
# would lose a last reply such as 221 still in the pipe: keep our own copies.
ag__c_adopt() {
	# shellcheck disable=SC2153 # AG_C_PID is set by coproc
	AG_C_CPID=$AG_C_PID
	exec {AG_C_IN}<&"${AG_C[0]}" {AG_C_OUT}>&"${AG_C[1]}"
	AG_C_EOL=$'\n'
}

ag_c_open_plain() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
	AG_C_CPID="" AG_C_IN=$fd AG_C_OUT=$fd AG_C_EOL=$'\r\n'
}

ag_c_send() { # each argument is one line
	local l
	for l in "$@"; do
		printf '%s%s' "$l" "$AG_C_EOL" >&"$AG_C_OUT" || return 1
	done
}

ag_c_send_raw() { printf '%s' "$1" >&"$AG_C_OUT"; }

# ag_c_reply [SECONDS]: read one reply (continuation lines "250-" up to the final "250 ").
# Returns 1 on timeout or EOF (AG_C_REPLY holds what came, "" if nothing).
ag_c_reply() {
	local t=${1:-15} line
	AG_C_REPLY="" AG_C_LAST=""
	for _ in $(seq 1 200); do
		IFS= read -r -t "$t" line <&"$AG_C_IN" || return 1
		line=${line%$'\r'}
		AG_C_REPLY+="$line"$'\n'
		if [[ $line =~ ^[0-9]{3}\ |^[0-9]{3}$ ]]; then
			AG_C_LAST=$line
			return 0
		fi
	done
	return 1
}

# ag_c_eof [SECONDS]: 0 if the server closed the connection (nothing more to read).
ag_c_eof() {
	local line="" rc=0
	IFS= read -r -t "${1:-5}" line <&"$AG_C_IN" || rc=$?
	[ "$rc" -eq 1 ] && [ -z "$line" ]
}

ag_c_close() {
	if [ -n "$AG_C_CPID" ]; then
		kill "$AG_C_CPID" 2>/dev/null || true
		wait "$AG_C_CPID" 2>/dev/null || true
	fi
	[ -z "$AG_C_IN" ] || exec {AG_C_IN}<&- || true
	[ -z "$AG_C_OUT" ] || [ "$AG_C_OUT" = "$AG_C_IN" ] || exec {AG_C_OUT}>&- || true
	AG_C_CPID="" AG_C_IN="" AG_C_OUT=""
}
