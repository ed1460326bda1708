#!/usr/bin/env bash
# lib_sendmail.sh: a real Sendmail 8.17 on loopback, next to Postfix, never installed.
#
# Debian's sendmail and postfix packages conflict, so the packages named in scripts/lib.sh
# (AG_TEST_DOWNLOADS) are fetched with `apt-get download` and unpacked with `dpkg -x` into a
# cache shared by runs (AG_SENDMAIL_CACHE); nothing is installed. Source after tap.sh and
# lib.sh (whose ag_cleanup_all stops what is started here):
#	sm=$work/sm; smport=$(ag_free_port)
#	ag_sendmail_start "$sm" "$smport" "$sinkport" "$milterport" exhub.example.ac.uk "$work/extra.mc"
#	swaks --server 127.0.0.1:"$smport" ...; grep ... "$(ag_sendmail_log "$sm")"
#
# What this machine's kind of host needs, and how it is given without touching the host:
#   - sendmail runs in its own UTS and mount namespaces (unshare -m -u): its hostname is
#     mx.authgate.test (with an unqualified name it sleeps 60 s before reading its .cf);
#   - it logs only to syslog: in its mount namespace /dev is a tmpfs of links to the real
#     /dev with /dev/log -> DIR/log.sock, read by a private rsyslogd into DIR/maillog, so the
#     machine's own /dev/log (if any) is never touched;
#   - /etc/hosts there maps the hub's name to 127.0.0.2 (the hub sink listens there, on the
#     relay port: one relay mailer, two addresses);
#   - Cyrus SASL: sendmail reads Sendmail.conf only from fixed directories; the first of
#     /etc/sasl2 or /usr/lib/sasl2 that exists is replaced there by DIR/sasl (sasldb in DIR);
#   - maps in DIR (under /tmp) need confDONT_BLAME_SENDMAIL=MapInUnsafeDirPath, and makemap
#     -C DIR/sendmail.cf; FEATURE(no_default_msa) keeps it off port 587.

AG_SENDMAIL_CACHE=${AG_SENDMAIL_CACHE:-/var/tmp/authgate-test-sendmail}
AG_SENDMAIL_HOST=mx.authgate.test
AG_SENDMAIL_HUB_ADDR=127.0.0.2

# ag_sendmail_unpack: the directory the packages are unpacked into (printed); fetched and
# unpacked once, under a lock, so parallel runs share one copy.
ag_sendmail_unpack() {
	local cache=$AG_SENDMAIL_CACHE
	mkdir -p "$cache" || return 1
	(
		flock -w 300 9 || exit 1
		root=$cache/root
		if [ -x "$root/usr/libexec/sendmail/sendmail" ] &&
			[ -f "$root/usr/share/sendmail/cf/m4/cf.m4" ]; then
			exit 0
		fi
		# shellcheck source=scripts/lib.sh
		. "${AG_SRCDIR:?}/scripts/lib.sh"
		rm -f "$cache"/*.deb
		ag_download "$cache" "${AG_TEST_DOWNLOADS[@]}" || exit 1
		tmp=$(mktemp -d "$cache/root.XXXXXX") || exit 1
		for d in "$cache"/*.deb; do
			dpkg -x "$d" "$tmp" || exit 1
		done
		rm -rf "$root"
		mv "$tmp" "$root"
	) 9>"$cache/lock" || return 1
	echo "$cache/root"
}

ag_sendmail_log() { echo "$1/maillog"; }

# ag_sendmail_version DIR: what the binary says it was built with (-d0.1), in its namespace.
ag_sendmail_version() {
	"$1/ns-run" "$1" "$(ag_sendmail_bin "$1" sendmail)" -C "$1/sendmail.cf" -d0.1 -bt </dev/null 2>&1
}

# ag_sendmail_bin DIR PROGRAM: the unpacked binaries, recorded by ag_sendmail_start.
ag_sendmail_bin() { echo "$(cat "$1/root")/usr/libexec/sendmail/$2"; }

# ag_sendmail_sasl_user DIR USER PASSWORD: a user for real SMTP AUTH (PLAIN/LOGIN).
ag_sendmail_sasl_user() {
	printf '%s' "$3" | saslpasswd2 -p -c -f "$1/sasldb2" -u "$AG_SENDMAIL_HOST" "$2"
}

# ag_sendmail_makemap DIR NAME < TEXT: a hash map DIR/NAME.db (makemap needs the test .cf).
ag_sendmail_makemap() {
	"$(ag_sendmail_bin "$1" makemap)" -C "$1/sendmail.cf" hash "$1/$2"
}

# ag_sendmail_mc DIR PORT RELAYPORT MILTERPORT [EXTRA.mc]: write DIR/sendmail.mc and build
# DIR/sendmail.cf with m4 from the unpacked sendmail-cf. Everything goes to the smart host
# [127.0.0.1]:RELAYPORT unless EXTRA routes it (the relay mailer's port is RELAYPORT for
# every host). Relaying is open (promiscuous_relay): the milter is what enforces, as with
# lib.sh's Postfix. The milter line is the README's, with the test's port.
ag_sendmail_mc() {
	local dir=$1 port=$2 relay=$3 mport=$4 extra=${5:-} root cf
	root=$(cat "$dir/root")
	cf=$root/usr/share/sendmail/cf
	{
		echo "divert(-1)"
		echo "# Written by tests/integration/lib_sendmail.sh: a private test instance."
		echo "divert(0)dnl"
		echo "OSTYPE(\`linux')dnl"
		echo "define(\`confDONT_BLAME_SENDMAIL', \`MapInUnsafeDirPath')dnl"
		echo "define(\`QUEUE_DIR', \`$dir/queue')dnl"
		echo "define(\`confPID_FILE', \`$dir/sendmail.pid')dnl"
		echo "define(\`ALIAS_FILE', \`$dir/aliases')dnl"
		echo "define(\`STATUS_FILE', \`$dir/statistics')dnl"
		echo "define(\`HELP_FILE', \`$dir/helpfile')dnl"
		echo "define(\`confCW_FILE', \`$dir/local-host-names')dnl"
		echo "define(\`confSERVICE_SWITCH_FILE', \`$dir/service.switch')dnl"
		echo "define(\`confHOSTS_FILE', \`$dir/hosts')dnl"
		echo "define(\`confLOG_LEVEL', \`9')dnl"
		echo "define(\`confMILTER_LOG_LEVEL', \`9')dnl"
		echo "define(\`confDELIVERY_MODE', \`background')dnl"
		echo "define(\`confTO_QUEUERETURN', \`1h')dnl"
		echo "define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl"
		echo "TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl"
		# With a mailer: a bare [127.0.0.1] is in class w (this host) and would be dropped.
		echo "define(\`SMART_HOST', \`relay:[127.0.0.1]')dnl"
		echo "define(\`RELAY_MAILER_ARGS', \`TCP \$h $relay')dnl"
		echo "FEATURE(\`no_default_msa')dnl"
		echo "FEATURE(\`promiscuous_relay')dnl"
		echo "FEATURE(\`nocanonify')dnl"
		echo "FEATURE(\`accept_unresolvable_domains')dnl"
		echo "DAEMON_OPTIONS(\`Port=$port, Addr=127.0.0.1, Name=MTA')dnl"
		echo "INPUT_MAIL_FILTER(\`authgate', \`S=inet:$mport@127.0.0.1, F=T, T=S:30s;R:30s;E:5m')dnl"
		# Before MAILER, as FEATUREs must be (its LOCAL_CONFIG lines go to their own place).
		[ -z "$extra" ] || cat "$extra"
		echo "MAILER(\`smtp')dnl"
	} >"$dir/sendmail.mc"
	# promiscuous_relay warns on stderr; the warning is the point of the test set-up.
	m4 -D_CF_DIR_="$cf/" "$cf/m4/cf.m4" "$dir/sendmail.mc" >"$dir/sendmail.cf" 2>"$dir/m4.err" ||
		{
			cat "$dir/m4.err" >&2
			return 1
		}
}

# ag_sendmail_prepare DIR PORT RELAYPORT MILTERPORT HUBNAME [EXTRA.mc]: the instance's files
# and .cf (maps can then be made with ag_sendmail_makemap before ag_sendmail_run).
ag_sendmail_prepare() {
	local dir=$1 port=$2 relay=$3 mport=$4 hub=$5 extra=${6:-} root
	root=$(ag_sendmail_unpack) || return 1
	mkdir -p "$dir/queue" "$dir/ns" "$dir/sasl" || return 1
	chmod 755 "$dir"
	chmod 700 "$dir/queue"
	echo "$root" >"$dir/root"
	: >"$dir/aliases"
	: >"$dir/local-host-names"
	: >"$dir/maillog"
	printf 'hosts files\naliases files\n' >"$dir/service.switch"
	{
		echo "127.0.0.1 localhost $AG_SENDMAIL_HOST"
		[ "$hub" = - ] || echo "$AG_SENDMAIL_HUB_ADDR $hub"
	} >"$dir/hosts"
	cat >"$dir/sasl/Sendmail.conf" <<-EOF
		pwcheck_method: auxprop
		auxprop_plugin: sasldb
		sasldb_path: $dir/sasldb2
		mech_list: PLAIN LOGIN
	EOF
	if [ ! -e "$dir/sasldb2" ]; then
		echo x | saslpasswd2 -p -c -f "$dir/sasldb2" -u "$AG_SENDMAIL_HOST" agdummy &&
			saslpasswd2 -d -f "$dir/sasldb2" -u "$AG_SENDMAIL_HOST" agdummy || return 1
	fi
	chmod 600 "$dir/sasldb2"
	{
		printf '#!/usr/bin/env bash\n'
		printf '# ns-run DIR PROGRAM ARGS...: PROGRAM in its own UTS and mount namespaces (see lib_sendmail.sh).\n'
		printf 'lib=%q\n' "$AG_SRCDIR/tests/integration/lib_ns.sh"
		cat <<-'EOF'
			set -euo pipefail
			exec unshare -m -u --propagation private bash -c '
				set -euo pipefail
				. "$1"
				dir=$2
				shift 2
				hostname "$(cat "$dir/hostname")"
				ag_ns_dev_log "$dir/log.sock" "$dir/ns"
				mount --bind "$dir/hosts" /etc/hosts
				for s in /etc/sasl2 /usr/lib/sasl2; do
					if [ -d "$s" ]; then
						mount --bind "$dir/sasl" "$s"
						break
					fi
				done
				exec "$@"' ns-run "$lib" "$@"
		EOF
	} >"$dir/ns-run"
	chmod 755 "$dir/ns-run"
	echo "$AG_SENDMAIL_HOST" >"$dir/hostname"
	ag_sendmail_mc "$dir" "$port" "$relay" "$mport" "$extra"
}

# ag_sendmail_run DIR PORT: the syslog reader, then sendmail -bd; wait until it listens.
ag_sendmail_run() {
	local dir=$1 port=$2
	ag__track "sendmail:$dir"
	cat >"$dir/rsyslog.conf" <<-EOF
		global(workDirectory="$dir")
		module(load="imuxsock" SysSock.Use="off")
		input(type="imuxsock" Socket="$dir/log.sock")
		*.* action(type="omfile" file="$dir/maillog")
	EOF
	rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" >"$dir/rsyslogd.log" 2>&1 &
	echo $! >"$dir/rsyslogd.pid.ours"
	wait_for 10 test -S "$dir/log.sock" || {
		echo "lib_sendmail.sh: rsyslogd made no socket" >&2
		cat "$dir/rsyslogd.log" >&2
		return 1
	}
	if ! "$dir/ns-run" "$dir" "$(ag_sendmail_bin "$dir" sendmail)" -C "$dir/sendmail.cf" \
		-bd -q10s >"$dir/sendmail.out" 2>&1; then
		echo "lib_sendmail.sh: sendmail -bd failed:" >&2
		cat "$dir/sendmail.out" "$dir/maillog" >&2
		return 1
	fi
	if ! wait_port "$port" 15; then
		echo "lib_sendmail.sh: sendmail did not listen on 127.0.0.1:$port" >&2
		cat "$dir/sendmail.out" "$dir/maillog" >&2
		return 1
	fi
}

# ag_sendmail_start DIR PORT RELAYPORT MILTERPORT HUBNAME [EXTRA.mc]: prepare and run.
ag_sendmail_start() {
	ag_sendmail_prepare "$@" || return 1
	ag_sendmail_run "$1" "$2"
}

ag__sendmail_pid() {
	local pid
	[ -r "$1/sendmail.pid" ] || return 1
	pid=$(head -n 1 "$1/sendmail.pid" | tr -dc '0-9')
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# ag_sendmail_stop DIR: SIGTERM to the daemon (it stops its children), then the syslog
# reader; bounded waits.
ag_sendmail_stop() {
	local dir=$1 pid
	ag__untrack "sendmail:$dir"
	if pid=$(ag__sendmail_pid "$dir"); then
		kill -TERM "$pid" 2>/dev/null || true
		wait_for 10 ag_not_alive "$pid" || kill -KILL "$pid" 2>/dev/null || true
	fi
	if [ -r "$dir/rsyslogd.pid.ours" ]; then
		pid=$(cat "$dir/rsyslogd.pid.ours")
		rm -f "$dir/rsyslogd.pid.ours"
		kill -TERM "$pid" 2>/dev/null || true
		wait_for 10 ag_not_alive "$pid" || kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
}

ag_not_alive() { ! kill -0 "$1" 2>/dev/null; }

# ag_sendmail_queue_id DIR REGEX: the queue id of the last logged line matching REGEX
# ("QID: from=<...>" and the like).
ag_sendmail_queue_id() {
	grep -E -- "$2" "$1/maillog" | sed -n 's/.*sendmail\[[0-9]*\]: \([0-9A-Za-z]\{10,\}\): .*/\1/p' |
		tail -n 1
}

# ag_sendmail_wait_log DIR REGEX SECONDS: until the log has a line matching REGEX.
ag_sendmail_wait_log() { wait_for "$3" grep -qE -- "$2" "$1/maillog"; }

# ag_sendmail_require: skip the scenario (skip_all) when this machine cannot run Sendmail here.
ag_sendmail_require() {
	local c
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (namespaces, PAM, smtp-sink as postfix)"
	for c in swaks smtp-sink m4 rsyslogd unshare saslpasswd2 flock python3; do
		command -v "$c" >/dev/null || skip_all "$c not installed"
	done
	unshare -m -u --propagation private true 2>/dev/null || skip_all "cannot make namespaces here"
}

# ag_sendmail_routes DIR CONF: the protected-list routes exactly as `authgate-milter -c CONF
# -T sendmail` prints them, with /etc/mail/ -> DIR/: the sendmail.mc lines of its step 2
# into DIR.routes.mc (for ag_sendmail_prepare), the address lines of step 1 into the hash
# map DIR/authgate_lists.db once the .cf exists (ag_sendmail_routes_map DIR).
ag_sendmail_routes() {
	local dir=$1 conf=$2 routes
	routes=$("${AG_BUILDDIR:?}/milter/authgate-milter" -c "$conf" -T sendmail) || return 1
	sed -n '/^# 2\. /,/^# 3\. /{/^#      /s/^#      //p}' <<<"$routes" |
		sed "s|/etc/mail/|$dir/|g" >"$dir.routes.mc"
	grep -v '^#' <<<"$routes" | grep -v '^$' >"$dir.routes.map" || true
	grep -q ldap_routing "$dir.routes.mc"
}
ag_sendmail_routes_map() { ag_sendmail_makemap "$1" authgate_lists <"$1.routes.map"; }

# ag_sendmail_diag FILE...: the last lines of each log, as TAP diagnostics.
ag_sendmail_diag() {
	local f
	for f in "$@"; do
		[ -s "$f" ] || continue
		diag "$f (last 30 lines):"
		tail -n 30 "$f" | sed 's/^/#   /'
	done
}

# ag_sink_total DIR REGEX: lines matching REGEX across the sink's messages.
ag_sink_total() {
	local n
	n=$(ag_sink_grep "$1" "$2" -c -h | paste -sd+) || n=0
	echo $((${n:-0}))
}
