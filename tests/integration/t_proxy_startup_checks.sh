#!/usr/bin/env bash
# t_proxy_startup_checks: an admin's install mistakes are named at start and by -t, as
# "FILE:LINE: [section] key: ...": no such user, a listen address that does not resolve, a
# certificate path that is a directory, a key not matching the certificate, no PAM service,
# audit log not writable (fatal); certificate about to expire, backend down (warnings).
# The audit log is handed to `user`, so SIGUSR1 reopens work after rotation.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/lib_proxy.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (PAM service in /etc/pam.d, ports, chown)"
[ -x "$AG_BUILDDIR/proxy/authgate-proxy" ] || skip_all "authgate-proxy not built"

work=$(mktemp -d /tmp/ag-startup-XXXXXX)
trap 'ag_auth_cleanup_all; ag_cleanup_all; rm -rf "$work"' EXIT
chmod 755 "$work"
proxy=$AG_BUILDDIR/proxy/authgate-proxy

ag_make_cert "$work/short" # 2 days
ag_make_cert "$work/other"
mkdir -p "$work/long"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 400 \
	-subj /CN=localhost -keyout "$work/long/key.pem" -out "$work/long/cert.pem" >/dev/null 2>&1
pam=$(ag_pam_name)
ag_pam_setup "$pam" "$AG_USER" "$AG_PASS"
sink=$(free_port)
ag_sink_start "$work/sink" "$sink"
dead=$(free_port)

# conf NAME [section.key=value...]: a config in WORK/NAME/authgate.conf (own ports, audit log there)
conf() {
	local d=$work/$1
	shift
	mkdir -p "$d" && chmod 755 "$d"
	ag_proxy_conf "$d/authgate.conf" "$(free_port)" "$(free_port)" "127.0.0.1:$sink" "$pam" \
		"$work/long" "$@"
	echo "$d/authgate.conf"
}
# t CONF: run -t; stdout+stderr in $out, exit status in $rc
t() {
	rc=0
	out=$("$proxy" -t -c "$1" 2>&1) || rc=$?
}
# start CONF: run the daemon in the foreground for a moment; its output in $out, status in $rc
start_fails() {
	rc=0
	out=$(timeout 10 "$proxy" -f -c "$1" 2>&1) || rc=$?
	[ "$rc" -eq 1 ] && return 0
	diag "exit status $rc (expected 1); output: $out"
	return 1
}
says() { # says ERE: $out has a line matching
	grep -qE -- "$1" <<<"$out" && return 0
	diag "no line matches /$1/ in: $out"
	return 1
}

# --- a good config: -t says ok; an unreachable backend is only a warning
c=$(conf good "proxy.backends=127.0.0.1:$dead")
t "$c"
ag_check "-t on a good config with a dead backend: exit 0" -- test "$rc" -eq 0
ag_check "it prints ok" -- says '^ok$'
ag_check "it warns the backend cannot be reached" -- \
	says "^$c:[0-9]+: \[proxy\] backends: warning: cannot reach 127\.0\.0\.1:$dead \(Connection refused\)"
lacks() { ! grep -qE -- "$1" <<<"$out"; }
ag_check "no certificate warning for a 400-day certificate" -- lacks 'tls_cert'

# --- certificate expiring in under 14 days: a warning, not an error
c=$(conf short "proxy.tls_cert=$work/short/cert.pem" "proxy.tls_key=$work/short/key.pem")
t "$c"
ag_check "-t with a 2-day certificate: exit 0" -- test "$rc" -eq 0
ag_check "warning: expires in 1 or 2 days" -- \
	says "^$c:[0-9]+: \[proxy\] tls_cert: warning: .*/short/cert\.pem expires in [12] days?: renew it"

# --- key and certificate that do not belong together: fatal
c=$(conf mismatch "proxy.tls_cert=$work/long/cert.pem" "proxy.tls_key=$work/other/key.pem")
t "$c"
ag_check "-t with a key not matching the certificate: exit 1" -- test "$rc" -eq 1
ag_check "it says so, naming file, line, key and certificate" -- \
	says "^$c:[0-9]+: \[proxy\] tls_key: key .*/other/key\.pem does not match certificate .*/long/cert\.pem"
ag_check "the daemon refuses to start, with the same reason" -- start_fails "$c"
ag_check "(logged)" -- says 'does not match certificate'

# --- the user to drop to does not exist: fatal (the daemon would find out only after binding)
c=$(conf nouser "general.user=agnosuch$$")
t "$c"
ag_check "-t with a user that does not exist: exit 1" -- test "$rc" -eq 1
ag_check "it names file, line, key and user" -- \
	says "^$c:[0-9]+: \[general\] user: user \"agnosuch$$\" does not exist"
ag_check "the daemon refuses to start" -- start_fails "$c"

# --- a listen address that does not resolve: fatal
c=$(conf badlisten "proxy.listen_smtps=nonsense")
t "$c"
ag_check "-t with listen_smtps = nonsense: exit 1" -- test "$rc" -eq 1
ag_check "it names file, line and key" -- says "^$c:[0-9]+: \[proxy\] listen_smtps: nonsense:465: "
ag_check "the daemon refuses to start" -- start_fails "$c"
c=$(conf badlisten6 "proxy.listen_submission=no-such-host.invalid:587")
t "$c"
ag_check "-t with listen_submission naming no host: exit 1" -- test "$rc" -eq 1
ag_check "(listen_submission named)" -- says "^$c:[0-9]+: \[proxy\] listen_submission: no-such-host\.invalid:587: "

# --- certificate path that is a directory, key file missing: fatal, in the same form
c=$(conf certdir "proxy.tls_cert=$work/long")
t "$c"
ag_check "-t with tls_cert a directory: exit 1" -- test "$rc" -eq 1
ag_check "it says it is a directory, naming file, line and key" -- \
	says "^$c:[0-9]+: \[proxy\] tls_cert: .*/long is a directory, not a file"
ag_check "the daemon refuses to start" -- start_fails "$c"
c=$(conf nokey "proxy.tls_key=$work/long/missing.pem")
t "$c"
ag_check "-t with a tls_key that does not exist: exit 1" -- test "$rc" -eq 1
ag_check "it names file, line and key" -- \
	says "^$c:[0-9]+: \[proxy\] tls_key: .*/long/missing\.pem: No such file or directory"

# --- no PAM service: fatal, with the file named
c=$(conf nopam "proxy.pam_service=authgate-test-missing-$$")
t "$c"
ag_check "-t with a missing PAM service: exit 1" -- test "$rc" -eq 1
ag_check "it names /etc/pam.d/SERVICE and what PAM would do" -- \
	says "^$c:[0-9]+: \[proxy\] pam_service: /etc/pam.d/authgate-test-missing-$$ does not exist .*\"other\""
ag_check "the daemon refuses to start" -- start_fails "$c"

# --- audit log in a directory that is not there / a path that is a directory: fatal
c=$(conf noaudit "general.audit_log=$work/no-such-dir/audit.jsonl")
t "$c"
ag_check "-t with the audit log in a missing directory: exit 1" -- test "$rc" -eq 1
ag_check "it says the directory does not exist" -- says "audit_log: cannot create .*does not exist"
ag_check "-t created nothing" -- test ! -e "$work/no-such-dir"
ag_check "the daemon refuses to start" -- start_fails "$c"
ag_check "(saying why)" -- says "audit_log: cannot open .*no-such-dir"
mkdir -p "$work/isdir.jsonl"
c=$(conf diraudit "general.audit_log=$work/isdir.jsonl")
t "$c"
ag_check "-t with the audit log path a directory: exit 1" -- test "$rc" -eq 1
ag_check "it says it is not a regular file" -- says 'audit_log: .* is not a regular file'

# --- several problems are all reported at once
c=$(conf many "proxy.pam_service=authgate-test-missing-$$" "general.audit_log=$work/none/a.jsonl" \
	"proxy.tls_key=$work/other/key.pem")
t "$c"
ag_check "-t reports all three problems in one go" -- \
	test "$(grep -cE '\] tls_key: key .* does not match|\] pam_service: |\] audit_log: ' <<<"$out")" -eq 3

# --- the daemon starts with a dead backend (warning) and gives the audit log to `user`
c=$(conf run "proxy.backends=127.0.0.1:$dead, 127.0.0.1:$sink")
must "the daemon starts although the first backend is down" -- ag_proxy_start "$c"
ag_check "and logs a warning naming it" -- \
	grep -qE "\[proxy\] backends: warning: cannot reach 127\.0\.0\.1:$dead" "$AG_PROXY_LOG"
log=$work/run/audit.jsonl
ag_check "the audit log belongs to nobody (user), not root" -- test "$(stat -c %U "$log")" = nobody
banner() { printf 'QUIT\n' | agc_session "$(ag__conf_port "$c" listen_submission)"; }
agc_build "$work" || true
ag_check "it serves" -- grep -q '^220 ' <<<"$(banner)"

# logrotate with "create 0640 authgate adm": a new file of the user's; SIGUSR1 reopens it.
mv "$log" "$log.1"
install -m 0640 -o nobody /dev/null "$log"
kill -USR1 "$AG_PROXY_PID"
ag_check "SIGUSR1: reopened" -- wait_for 5 grep -q 'audit log reopened' "$AG_PROXY_LOG"
banner >/dev/null
ag_check "new records go to the new file" -- wait_for 5 grep -q '"event":"connect"' "$log"
# Without "create": the user needs the directory to make the file itself.
chown nobody "$work/run"
mv "$log" "$log.2"
kill -USR1 "$AG_PROXY_PID"
ag_check "SIGUSR1 with no file: the user creates it in its writable directory" -- \
	wait_for 5 test -e "$log"
banner >/dev/null
ag_check "and writes to it" -- wait_for 5 grep -q '"event":"connect"' "$log"
ag_check "the proxy is still running" -- kill -0 "$AG_PROXY_PID"

tap_done
