#!/usr/bin/env bash
# t_readme_scaling: README "Scaling out", followed literally on loopback: HAProxy (the README's
# haproxy.cfg) in front of two authgate-proxy instances with the README's [general]/[proxy]
# lines (proxy_protocol = yes, audit_log = syslog:mail); the proxies and the milter log
# through a "node" rsyslog (the README's /etc/rsyslog.d/authgate.conf) to a "log host" rsyslog
# (the README's log host lines), and authgate-audit reads the collected file.
#
# Substitutions: addresses and ports (HAProxy's binds, 10.1.0.11/12:465/587, the log host
# and 514) -> loopback and free ports, with imtcp bound to 127.0.0.1; /var/log/authgate ->
# this scenario's directory. Each rsyslogd gets a private main file (work directory; for the
# node, its socket instead of /dev/log) that includes the README's lines. The daemons run in a
# private mount namespace where /dev/log is the node's socket, so nothing on the machine
# is touched; the client connects from 127.0.0.2, HAProxy from 127.0.0.1.
# PROXY protocol details are t_proxy_haproxy.sh's; this is about the README's set-up.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"
. "$AG_SRCDIR/tests/integration/t_readme_blocks.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (mount namespace, PAM service, private Postfix)"
for c in postfix smtp-sink swaks haproxy rsyslogd unshare; do
	command -v "$c" >/dev/null || skip_all "$c not installed (apt-get install haproxy rsyslog)"
done
for p in proxy/authgate-proxy milter/authgate-milter audit/authgate-audit; do
	[ -x "$AG_BUILDDIR/$p" ] || skip_all "$p not built"
done
unshare -m --propagation private true 2>/dev/null || skip_all "cannot make a mount namespace here"

w=$(mktemp -d /tmp/ag-rscale-XXXXXX)
started=() # pid:what, stopped newest first
cleanup() {
	local i x
	for ((i = ${#started[@]} - 1; i >= 0; i--)); do
		x=${started[i]%%:*}
		if kill "$x" 2>/dev/null; then wait "$x" 2>/dev/null || true; fi
	done
	ag_diag_tails "$w"/p2/proxy.log "$w"/milter/milter.log "$w"/node/rsyslogd.log \
		"$w"/loghost/rsyslogd.log "$w"/haproxy.log
	ag_auth_cleanup_all
	ag_cleanup_all
	rm -rf "$w"
}
trap cleanup EXIT
chmod 755 "$w"
mkdir -p "$w/node" "$w/loghost" "$w/ns" "$w/run" "$w/p1" "$w/p2"

# --- /dev/log for the daemons: a private mount namespace where it is the node's socket
{
	printf '#!/usr/bin/env bash\n'
	printf '# ns-run SOCKET DIR PROGRAM ARGS...: PROGRAM in its own mount namespace, /dev/log -> SOCKET.\n'
	printf 'lib=%q\n' "$AG_SRCDIR/tests/integration/lib_ns.sh"
	cat <<'EOF'
set -euo pipefail
exec unshare -m --propagation private bash -c '
	set -euo pipefail
	. "$1"
	ag_ns_dev_log "$2" "$3"
	shift 3
	exec "$@"' ns-run "$lib" "$@"
EOF
} >"$w/ns-run"
chmod 755 "$w/ns-run"
# lib.sh and lib_auth.sh start $AG_BUILDDIR/{proxy,milter}/...: the same programs, in it.
real=$AG_BUILDDIR
AG_BUILDDIR=$w/build
mkdir -p "$AG_BUILDDIR/proxy" "$AG_BUILDDIR/milter" "$AG_BUILDDIR/audit"
for p in proxy/authgate-proxy milter/authgate-milter; do
	printf '#!/bin/sh\nexec "%s" "%s" "%s" "%s" "$@"\n' "$w/ns-run" "$w/node/log.sock" \
		"$w/ns" "$real/$p" >"$AG_BUILDDIR/$p"
	chmod 755 "$AG_BUILDDIR/$p"
done
ln -s "$real/audit/authgate-audit" "$AG_BUILDDIR/audit/authgate-audit"

# --- the log host, then the node
lport=$(ag_free_port)
cat >"$w/loghost/rsyslog.conf" <<EOF
global(workDirectory="$w/loghost")
$(readme_block scaling-rsyslog-loghost | sed -e "s/port=\"514\"/port=\"$lport\" address=\"127.0.0.1\"/" \
	-e "s|/var/log/authgate/|$w/loghost/|")
EOF
cat >"$w/node/rsyslog.conf" <<EOF
global(workDirectory="$w/node")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$w/node/log.sock")
$(readme_block scaling-rsyslog-node | sed -e "s/target=\"loghost\.example\.ac\.uk\"/target=\"127.0.0.1\"/" \
	-e "s/port=\"514\"/port=\"$lport\"/")
# The node's own mail.log, for what the README's rule leaves local.
*.* action(type="omfile" file="$w/node/mail.log")
EOF
ag_check "the log host's rsyslog accepts the README's lines" -- \
	rsyslogd -N1 -f "$w/loghost/rsyslog.conf"
ag_check "the node's too" -- rsyslogd -N1 -f "$w/node/rsyslog.conf"
rsyslogd -n -f "$w/loghost/rsyslog.conf" -i "$w/loghost/rsyslogd.pid" >"$w/loghost/rsyslogd.log" 2>&1 &
started+=("$!:loghost")
ag_check "the log host listens on 127.0.0.1:$lport" -- wait_port "$lport" 10
rsyslogd -n -f "$w/node/rsyslog.conf" -i "$w/node/rsyslogd.pid" >"$w/node/rsyslogd.log" 2>&1 &
started+=("$!:node")
ag_check "the node's socket is there" -- wait_for 10 test -S "$w/node/log.sock"

# --- Postfix + milter, two proxies with the README's lines
pam=$(ag_pam_name)
ag_pam_setup "$pam" alice 'Alice pw 1'
ag_make_cert "$w/certs"
sport=$(ag_free_port) pport=$(ag_free_port) mport=$(ag_free_port)
p1s=$(ag_free_port) p1u=$(ag_free_port) p2s=$(ag_free_port) p2u=$(ag_free_port)
h465=$(ag_free_port) h587=$(ag_free_port)
# The README's INI lines as section.key=value pairs for ag_proxy_conf.
ini_pairs() {
	awk '/^\[.*\]$/ { sec = substr($0, 2, length($0) - 2); next }
	     /^[a-z_]+ *=/ { k = $1; sub(/^[^=]*= */, ""); sub(/ *;.*$/, ""); print sec "." k "=" $0 }'
}
mapfile -t pairs1 < <(readme_block scaling-authgate.conf |
	sed -e "s/10\.1\.0\.11:465/127.0.0.1:$p1s/; s/10\.1\.0\.11:587/127.0.0.1:$p1u/" \
		-e "s|10\.1\.0\.5/32|127.0.0.1/32|" | ini_pairs)
mapfile -t pairs2 < <(readme_block scaling-authgate.conf |
	sed -e "s/10\.1\.0\.11:465/127.0.0.1:$p2s/; s/10\.1\.0\.11:587/127.0.0.1:$p2u/" \
		-e "s|10\.1\.0\.5/32|127.0.0.1/32|" | ini_pairs)
ag_check "the README's lines: audit_log, two listeners, proxy_protocol(_from) (${pairs1[*]})" -- \
	test "${#pairs1[@]}" -eq 5
common=(proxy.login_domains=example.ac.uk policy.local_domains=example.ac.uk
	policy.sender_login=strict "milter.socket=inet:$mport@127.0.0.1")
for i in 1 2; do
	if [ "$i" -eq 1 ]; then pairs=("${pairs1[@]}"); else pairs=("${pairs2[@]}"); fi
	ag_proxy_conf "$w/p$i/authgate.conf" 0 0 "127.0.0.1:$pport" "$pam" "$w/certs" \
		"${common[@]}" "${pairs[@]}"
	chmod 644 "$w/p$i/authgate.conf"
done
ag_check "p1's file has them" -- eval "grep -qx 'audit_log = syslog:mail' '$w/p1/authgate.conf' &&
	grep -qx 'proxy_protocol = yes' '$w/p1/authgate.conf' &&
	grep -qx 'listen_smtps = 127.0.0.1:$p1s' '$w/p1/authgate.conf'"

ag_sink_start "$w/sink" "$sport"
ag_milter_start "$w/milter" "$w/p1/authgate.conf" "$mport"
ag_postfix_start "$w/pf" "$pport" "$sport" "smtpd_milters=inet:127.0.0.1:$mport" \
	milter_default_action=tempfail milter_protocol=6
AG_PROXY_LOG=$w/p1/proxy.log
ag_proxy_start "$w/p1/authgate.conf"
pid1=$AG_PROXY_PID
started+=("$pid1:p1") # lib_auth.sh stops only the last one started (p2)
AG_PROXY_PID="" AG_PROXY_LOG=$w/p2/proxy.log
ag_proxy_start "$w/p2/authgate.conf"
pid2=$AG_PROXY_PID
ok 0 "two proxies, Postfix and the milter, logging to the node"

# --- HAProxy with the README's configuration
readme_block scaling-haproxy.cfg | sed \
	-e "s/bind :465\$/bind 127.0.0.1:$h465/; s/bind :587\$/bind 127.0.0.1:$h587/" \
	-e "s/10\.1\.0\.11:465/127.0.0.1:$p1s/; s/10\.1\.0\.11:587/127.0.0.1:$p1u/" \
	-e "s/10\.1\.0\.12:465/127.0.0.1:$p2s/; s/10\.1\.0\.12:587/127.0.0.1:$p2u/" >"$w/haproxy.cfg"
ag_check "haproxy accepts the README's configuration" -- haproxy -c -q -f "$w/haproxy.cfg"
haproxy -db -f "$w/haproxy.cfg" >"$w/haproxy.log" 2>&1 &
started+=("$!:haproxy")
ag_check "haproxy listens on 127.0.0.1:$h465 and :$h587" -- \
	eval "wait_port $h465 10 && wait_port $h587 10"

# --- mail through HAProxy from 127.0.0.2
sent() { grep -q '^<[-~] *250 .*queued as' <<<"$1"; }
send() { # PORT TLS-OPTION SUBJECT
	swaks --server 127.0.0.1:"$1" "$2" --local-interface 127.0.0.2 --auth PLAIN \
		--auth-user alice@example.ac.uk --auth-password 'Alice pw 1' \
		--from alice@example.ac.uk --to friend@example.org --header "Subject: $3" \
		--timeout 30 2>&1 || true
}
bad=""
for i in 1 2; do
	out=$(send "$h465" --tls-on-connect "sc-465-$i")
	sent "$out" || bad+=" sc-465-$i"
	out=$(send "$h587" --tls "sc-587-$i")
	sent "$out" || bad+=" sc-587-$i"
done
ok "$([ -z "$bad" ] && echo 0 || echo 1)" "4 messages through haproxy (465 and 587) accepted${bad:+ (not:$bad)}"
ag_check "and delivered" -- ag_wait_delivered "$w/sink" 4 30
s1=$(grep -c 'authenticated "alice" from \[127\.0\.0\.2\]' "$w/p1/proxy.log" || true)
s2=$(grep -c 'authenticated "alice" from \[127\.0\.0\.2\]' "$w/p2/proxy.log" || true)
ag_check "both instances served, each seeing the client 127.0.0.2 (p1 $s1, p2 $s2)" -- \
	test "$s1" -ge 1 -a "$s2" -ge 1 -a $((s1 + s2)) -eq 4

# --- the collected file
all=$w/loghost/all.jsonl
ag_check "the log host collects 4 proxy and 4 milter message records" -- wait_for 20 eval \
	"[ \$(grep -c '\"component\":\"proxy\".*\"event\":\"message\"' '$all') -eq 4 ] &&
	 [ \$(grep -c '\"component\":\"milter\".*\"event\":\"message\"' '$all') -eq 4 ]"
pids=$(grep '"component":"proxy".*"event":"message"' "$all" | sed -n 's/^.*\[\([0-9]*\)\]: {.*/\1/p' | sort -u | wc -l)
ag_check "from two proxy processes ($pids)" -- test "$pids" -eq 2
ag_check "the records name the client, not HAProxy" -- eval \
	"! grep '\"component\":\"proxy\".*\"event\":\"message\"' '$all' | grep -qv '\"client_ip\":\"127.0.0.2\"'"
ag_check "every collected line is a syslog line with one JSON object" -- \
	eval "! grep -v ': {\"ts\":\".*}\$' '$all'"
ag_check "the node kept the records out of its mail.log" -- eval "! grep -q ': {\"ts\"' '$w/node/mail.log'"
ag_check "but logged the daemons' other lines there" -- \
	grep -q 'authgate-milter\[[0-9]*\]: .*accept: client=127\.0\.0\.2 auth=alice' "$w/node/mail.log"

# The README's authgate-audit command on the collected file.
readme_shims "$w" "$w/p1/authgate.conf" "$w/pf"
cmd=$(readme_block scaling-audit | sed "s|/var/log/authgate/|$w/loghost/|")
ag_check "the README's command reads it: $(readme_block scaling-audit)" -- \
	eval "(cd '$w/run' && PATH=\$AG_README_BIN:\$PATH $cmd >'$w/run/who.txt' 2>&1)"
ag_check "4 rows of alice, no bad lines" -- eval \
	"[ \$(grep -c ' alice ' '$w/run/who.txt') -eq 4 ] && grep -q '; 0 bad lines' '$w/run/who.txt'"
csv=$(cd "$w/run" && PATH=$AG_README_BIN:$PATH eval "${cmd/ who / who --format csv --strict }" 2>&1) &&
	rc=0 || rc=$?
ag_check "--strict: every line was a record (exit $rc)" -- test "$rc" -eq 0
joined=$(sed 1d <<<"$csv" | grep -c ',127\.0\.0\.2,.*,default' || true)
ag_check "each row joins a proxy record (client 127.0.0.2) with the milter's (route default): $joined" -- \
	test "$joined" -eq 4

ag_check "both proxies are still running" -- kill -0 "$pid1" "$pid2"
tap_done
