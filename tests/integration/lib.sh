#!/usr/bin/env bash
# lib.sh: a private Postfix instance and smtp-sink receivers on loopback, for scenarios.
#
# Source it after tap.sh:
#	. "$AG_SRCDIR/tests/integration/tap.sh"
#	. "$AG_SRCDIR/tests/integration/lib.sh"
#	work=$(mktemp -d /tmp/ag-XXXXXX); trap 'ag_cleanup_all; rm -rf "$work"' EXIT
#	sport=$(ag_free_port); ag_sink_start "$work/sink" "$sport"
#	pport=$(ag_free_port); ag_postfix_start "$work/pf" "$pport" "$sport" smtpd_milters=inet:127.0.0.1:8891
#	swaks --server 127.0.0.1:"$pport" --to x@example.org ...
#	ag_wait_delivered "$work/sink" 1 20
#
# The instance never touches /etc/postfix nor the system's Postfix: it runs with
# `postfix -c DIR/etc` (allowed for root without alternate_config_directories, which only
# gates the set-gid commands for non-root users), its own queue_directory, data_directory
# and maillog_file, no chroot, and listens only on 127.0.0.1:PORT. Everything it accepts is
# relayed to [127.0.0.1]:SINKPORT unless a transport_maps entry says otherwise.
#
# Everything started is recorded (postfix:DIR, sink:DIR, milter:DIR) in the file
# $AG_TRACK_FILE, not in a shell variable, so that a start inside $(...) or a pipeline is
# still stopped; ag_cleanup_all stops it all: call it from the scenario's EXIT trap.

if [ -z "${AG_TRACK_FILE:-}" ]; then
	# Only a name: the file appears with the first start, so a scenario that starts
	# nothing leaves nothing behind.
	AG_TRACK_FILE=$(mktemp -u /tmp/ag-track-XXXXXX)
	export AG_TRACK_FILE
fi

# ag_require WHY CMD... [-- PROGRAM...]: skip the whole scenario unless it runs as root (WHY
# says what for), every CMD is installed and every PROGRAM ($AG_BUILDDIR/PROGRAM) is built.
ag_require() {
	local why=$1 p
	shift
	[ "$(id -u)" -eq 0 ] || skip_all "needs root ($why)"
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		command -v "$1" >/dev/null || skip_all "$1 not installed"
		shift
	done
	[ "$#" -eq 0 ] || shift
	for p in "$@"; do
		[ -x "$AG_BUILDDIR/$p" ] || skip_all "$p not built"
	done
}

# ag_free_port: like tap.sh's free_port, but below the kernel's ephemeral range (an
# outgoing connection's local port there makes a later bind fail although nothing listens)
# and never the same port twice in one scenario, even across $(...) subshells; in this
# job's range when tests/integration/run gave one (AG_PORT_LOW..AG_PORT_HIGH).
ag_free_port() {
	local low high p used=${AG_TRACK_FILE}.ports
	high=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	[ "$high" -gt 12000 ] || high=32768
	low=${AG_PORT_LOW:-10000} high=${AG_PORT_HIGH:-$high}
	for _ in $(seq 1 200); do
		p=$((low + RANDOM % (high - low)))
		grep -qx "$p" "$used" 2>/dev/null && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p" >>"$used"
			echo "$p"
			return 0
		fi
	done
	return 1
}

ag__track() { echo "$1" >>"$AG_TRACK_FILE"; }

ag__untrack() {
	local rest
	[ -f "$AG_TRACK_FILE" ] || return 0
	rest=$(grep -vxF -- "$1" "$AG_TRACK_FILE" || true)
	printf '%s\n' "$rest" | grep -v '^$' >"$AG_TRACK_FILE.new" || true
	mv -f "$AG_TRACK_FILE.new" "$AG_TRACK_FILE"
}

# ag_postfix_set DIR key=value...: change main.cf (postconf -e); reload with ag_postfix_reload.
ag_postfix_set() {
	local dir=$1
	shift
	[ "$#" -gt 0 ] || return 0
	postconf -c "$dir/etc" -e "$@"
}

# ag_postfix_reload DIR: reload, and return once the master has logged that it reloaded
# (new smtpd processes read the new main.cf from then on), at most 15 s.
ag_postfix_reload() {
	local n
	n=$(grep -c 'reload -- version' "$1/maillog" 2>/dev/null) || n=0
	postfix -c "$1/etc" reload >/dev/null 2>&1 || return 1
	wait_for 15 ag__postfix_reloaded "$1" "$n"
}
ag__postfix_reloaded() { [ "$(grep -c 'reload -- version' "$1/maillog")" -gt "$2" ]; }

ag_postfix_log() { echo "$1/maillog"; }

ag__postfix_master_pid() {
	local f=$1/queue/pid/master.pid pid
	[ -r "$f" ] || return 1
	pid=$(tr -dc '0-9' <"$f")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# postfix(1) prints its errors only to a terminal (and to the log, which may not be up yet):
# rerun the failed command under script(1) so the reason reaches the scenario's log.
ag__postfix_why() {
	local dir=$1 cmd=$2
	echo "lib.sh: postfix -c $dir/etc $cmd failed:" >&2
	script -qec "postfix -c $dir/etc $cmd" /dev/null >&2 </dev/null || true
	tail -n 20 "$dir/maillog" >&2 2>/dev/null || true
}

# The postfix user must reach DIR (mktemp -d makes 0700 directories): open DIR and any
# parent under /tmp for traversal; elsewhere, say what is wrong instead of chmod-ing it.
ag__let_postfix_in() {
	local d
	d=$(cd "$1" && pwd) || return 1
	chmod 755 "$d"
	while d=$(dirname "$d") && [ "$d" != / ]; do
		[ "$(($(stat -c %a "$d") % 2))" -eq 1 ] && continue
		case $d in
		/tmp/?*) chmod o+x "$d" ;;
		*)
			echo "lib.sh: the postfix user cannot traverse $d" >&2
			return 1
			;;
		esac
	done
}

# ag_postfix_start DIR PORT SINKPORT [key=value ...]: start a private Postfix whose smtpd
# listens on 127.0.0.1:PORT and relays everything to [127.0.0.1]:SINKPORT. Extra
# key=value pairs go to main.cf (smtpd_milters=..., milter_default_action=...,
# transport_maps=...). Relay rules trust no network and refuse nothing: every domain is a
# relay domain (relay_domains = static:ALL, because smtpd refuses to start without some
# reject_unauth_destination), so the milter is what enforces. XCLIENT is allowed from
# 127.0.0.0/8 (XCLIENT LOGIN=... reaches milters as {auth_authen}, SASL or not), and Cyrus
# SASL is on with a private sasldb so scenarios can also use real SMTP AUTH
# (ag_postfix_sasl_user).
ag_postfix_start() {
	local dir=$1 port=$2 sinkport=$3
	shift 3
	local etc=$dir/etc
	if ag__postfix_master_pid "$dir" >/dev/null; then
		ag_postfix_stop "$dir" || return 1
	fi
	mkdir -p "$etc" "$dir/queue" "$dir/data" "$etc/sasl" || return 1
	ag__let_postfix_in "$dir" || return 1
	# postfix(1) runs post-install, which wants these names in config_directory.
	chown postfix "$dir/data"
	: >"$dir/maillog"

	# Cyrus SASL: smtpd reads $config_directory/sasl/smtpd.conf (Debian). sasldb keeps it
	# self-contained; users are added with ag_postfix_sasl_user.
	cat >"$etc/sasl/smtpd.conf" <<-EOF
		pwcheck_method: auxprop
		auxprop_plugin: sasldb
		sasldb_path: $dir/sasldb2
		mech_list: PLAIN LOGIN
	EOF
	if [ ! -e "$dir/sasldb2" ]; then
		# An empty sasldb: create one user and delete it, so the file exists.
		echo x | saslpasswd2 -p -c -f "$dir/sasldb2" -u authgate.test agdummy &&
			saslpasswd2 -d -f "$dir/sasldb2" -u authgate.test agdummy || return 1
	fi
	chown postfix "$dir/sasldb2"
	chmod 600 "$dir/sasldb2"

	cat >"$etc/main.cf" <<-EOF
		# Written by tests/integration/lib.sh: a private test instance.
		compatibility_level = 3.6
		queue_directory = $dir/queue
		data_directory = $dir/data
		mail_owner = postfix
		setgid_group = postdrop
		myhostname = mx.authgate.test
		mydomain = authgate.test
		myorigin = \$myhostname
		inet_interfaces = 127.0.0.1
		inet_protocols = ipv4
		mydestination =
		local_recipient_maps =
		relay_domains = static:ALL
		alias_maps =
		alias_database =
		biff = no
		append_dot_mydomain = no
		relayhost = [127.0.0.1]:$sinkport
		mynetworks = 127.0.0.0/8
		smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
		smtpd_authorized_xclient_hosts = 127.0.0.0/8
		smtpd_peername_lookup = no
		smtp_dns_support_level = disabled
		smtpd_sasl_auth_enable = yes
		smtpd_sasl_type = cyrus
		smtpd_sasl_path = smtpd
		cyrus_sasl_config_path = $etc/sasl
		smtpd_sasl_security_options = noanonymous
		smtpd_tls_security_level = none
		smtp_tls_security_level = none
		maillog_file = $dir/maillog
		maillog_file_prefixes = $dir
		syslog_name = postfix-ag-test
		queue_run_delay = 1s
		minimal_backoff_time = 1s
		maximal_backoff_time = 2s
		milter_default_action = tempfail
	EOF
	cat >"$etc/master.cf" <<-EOF
		# Written by tests/integration/lib.sh. No chroot: the queue is a temp directory.
		127.0.0.1:$port inet n - n - - smtpd
		pickup    unix  n       -       n       60      1       pickup
		cleanup   unix  n       -       n       -       0       cleanup
		qmgr      unix  n       -       n       300     1       qmgr
		rewrite   unix  -       -       n       -       -       trivial-rewrite
		bounce    unix  -       -       n       -       0       bounce
		defer     unix  -       -       n       -       0       bounce
		trace     unix  -       -       n       -       0       bounce
		verify    unix  -       -       n       -       1       verify
		flush     unix  n       -       n       1000?   0       flush
		proxymap  unix  -       -       n       -       -       proxymap
		proxywrite unix -       -       n       -       1       proxymap
		smtp      unix  -       -       n       -       -       smtp
		relay     unix  -       -       n       -       -       smtp
		showq     unix  n       -       n       -       -       showq
		error     unix  -       -       n       -       -       error
		retry     unix  -       -       n       -       -       error
		discard   unix  -       -       n       -       -       discard
		local     unix  -       n       n       -       -       local
		virtual   unix  -       n       n       -       -       virtual
		lmtp      unix  -       -       n       -       -       lmtp
		anvil     unix  -       -       n       -       1       anvil
		scache    unix  -       -       n       -       1       scache
		postlog   unix-dgram n  -       n       -       1       postlogd
	EOF
	ag_postfix_set "$dir" "$@" || return 1
	# check creates the queue subdirectories with the right owners (post-install).
	if ! postfix -c "$etc" check >/dev/null 2>&1; then
		ag__postfix_why "$dir" check
		return 1
	fi
	if ! postfix -c "$etc" start >/dev/null 2>&1; then
		ag__postfix_why "$dir" start
		return 1
	fi
	ag__track "postfix:$dir"
	if ! wait_port "$port" 15; then
		echo "lib.sh: postfix did not listen on 127.0.0.1:$port" >&2
		cat "$dir/maillog" >&2
		return 1
	fi
}

# ag_postfix_sasl_user DIR USER PASSWORD: a user for real SMTP AUTH (PLAIN/LOGIN) in the
# instance's sasldb. USER is "name" or "name@realm" (realm defaults to myhostname).
ag_postfix_sasl_user() {
	local dir=$1 user=$2 pass=$3 realm=mx.authgate.test
	case $user in
	*@*)
		realm=${user#*@}
		user=${user%%@*}
		;;
	esac
	printf '%s' "$pass" | saslpasswd2 -p -c -f "$dir/sasldb2" -u "$realm" "$user"
	chown postfix "$dir/sasldb2"
}

# ag_postfix_stop DIR: stop the instance and wait (bounded) for its master to go.
ag_postfix_stop() {
	local dir=$1 pid
	ag__untrack "postfix:$dir"
	pid=$(ag__postfix_master_pid "$dir") || return 0
	postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	# The master did not go in 10 s: abort it (SIGTERM to our own master pid only).
	postfix -c "$dir/etc" abort >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# ag_postfix_queue_count DIR: messages in the instance's queue (any state).
ag_postfix_queue_count() {
	postqueue -c "$1/etc" -j 2>/dev/null | grep -c '"queue_id"' || true
}

# ag_postfix_wait_queue_empty DIR SECONDS
ag_postfix_wait_queue_empty() {
	local dir=$1 t=$2
	for _ in $(seq 1 $((t * 5))); do
		[ "$(ag_postfix_queue_count "$dir")" -eq 0 ] && return 0
		sleep 0.2
	done
	return 1
}

# ag_postfix_flush DIR: retry deferred mail now.
ag_postfix_flush() { postqueue -c "$1/etc" -f >/dev/null 2>&1; }

# ag_sink_start DIR PORT [ADDR]: smtp-sink on ADDR (127.0.0.1):PORT writing each message (smtp-sink's
# X-Client-Addr/X-Mail-Args/X-Rcpt-Args lines, then the message as received with its
# headers) to its own file DIR/mail/msg.*; a file is only renamed into place once the
# message is complete, so counting files never sees half a message.
ag_sink_start() {
	local dir=$1 port=$2 addr=${3:-127.0.0.1}
	mkdir -p "$dir/spool" "$dir/mail" || return 1
	ag__let_postfix_in "$dir" || return 1
	chown postfix "$dir/spool" "$dir/mail"
	# smtp-sink keeps a capture file open per transaction; ag__sink_publish moves it to
	# mail/ once smtp-sink has closed it.
	smtp-sink -u postfix -d "$dir/spool/%Y%m%d%H%M%S." "$addr:$port" 64 \
		>"$dir/sink.log" 2>&1 &
	echo $! >"$dir/sink.pid"
	ag__track "sink:$dir"
	wait_for 10 bash -c "exec 3<>/dev/tcp/$addr/$port" || {
		echo "lib.sh: smtp-sink did not listen on $addr:$port" >&2
		cat "$dir/sink.log" >&2
		return 1
	}
}

# Publish finished capture files: smtp-sink (one process) closes a file when the final "."
# arrives, so a spool file that is not among its open descriptors is complete.
ag__sink_publish() {
	local dir=$1 f pid open="" files
	# List first, then look at the descriptors: a file created in between is not listed.
	files=("$dir"/spool/*)
	if [ -r "$dir/sink.pid" ]; then
		pid=$(cat "$dir/sink.pid")
		open=$(readlink /proc/"$pid"/fd/* 2>/dev/null || true)
	fi
	for f in "${files[@]}"; do
		[ -f "$f" ] || continue
		if ! grep -qxF -- "$f" <<<"$open"; then
			mv "$f" "$dir/mail/msg.${f##*/}" 2>/dev/null || true
		fi
	done
}

ag_sink_stop() {
	local dir=$1 pid
	ag__untrack "sink:$dir"
	[ -r "$dir/sink.pid" ] || return 0
	pid=$(cat "$dir/sink.pid")
	rm -f "$dir/sink.pid"
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$pid" 2>/dev/null || true
	ag__sink_publish "$dir"
}

# ag_sink_count DIR: complete messages received.
ag_sink_count() {
	ag__sink_publish "$1"
	find "$1/mail" -maxdepth 1 -type f -name 'msg.*' | wc -l
}

# ag_sink_files DIR: paths of the complete messages, oldest first.
ag_sink_files() {
	ag__sink_publish "$1"
	# shellcheck disable=SC2012 # our own file names: no spaces or newlines
	ls -1tr "$1"/mail/msg.* 2>/dev/null || true
}

# ag_sink_grep DIR PATTERN [grep options...]: grep -E across received messages
# (exit 0 if any matches). Example: ag_sink_grep "$sink" '^X-Authgate-Warning:'
ag_sink_grep() {
	local dir=$1 pat=$2
	shift 2
	ag__sink_publish "$dir"
	local files
	files=$(ag_sink_files "$dir")
	[ -n "$files" ] || return 1
	# shellcheck disable=SC2086 # file names are ours, no spaces
	grep -E "$@" -- "$pat" $files
}

# ag_wait_delivered DIR N SECONDS: until at least N complete messages are in the sink.
ag_wait_delivered() {
	local dir=$1 n=$2 t=$3
	for _ in $(seq 1 $((t * 5))); do
		[ "$(ag_sink_count "$dir")" -ge "$n" ] && return 0
		sleep 0.2
	done
	return 1
}

# ag_cleanup_all: stop everything this file started (for the scenario's EXIT trap).
ag_cleanup_all() {
	local x
	rm -f "$AG_TRACK_FILE.ports"
	[ -f "$AG_TRACK_FILE" ] || return 0
	# Newest first: Postfix goes before the milter and the sinks it talks to.
	while IFS= read -r x; do
		case $x in
		postfix:*) ag_postfix_stop "${x#postfix:}" || true ;;
		milter:*) ag_milter_stop "${x#milter:}" || true ;;
		sendmail:*) ag_sendmail_stop "${x#sendmail:}" || true ;; # lib_sendmail.sh
		sink:*) ag_sink_stop "${x#sink:}" || true ;;
		esac
	done < <(tac "$AG_TRACK_FILE")
	rm -f "$AG_TRACK_FILE"
}

# --- authgate-milter ---------------------------------------------------------------

# ag_milter_conf FILE key=value...: write an authgate.conf for a test milter. Known keys
# (defaults in brackets): hostname/authserv_id [mx.example.ac.uk], audit_log [DIR/audit.jsonl],
# user [nobody as root, else you], phase [mandatory], mandatory_from [none],
# local_domains [example.ac.uk], trusted_networks [192.0.2.0/24: 127.0.0.1 is NOT trusted,
# so loopback clients count as the Internet; use XCLIENT ADDR=192.0.2.x for a trusted one],
# sender_login [strict], help_url [https://www.example.ac.uk/it/authenticated-smtp],
# hub [none], protected [none], socket [required, e.g. inet:PORT@127.0.0.1],
# proxy_addresses [none: authgate-proxy hosts whose Authentication-Results count].
ag_milter_conf() {
	local file=$1 kv k v
	shift
	local -A c=(
		[hostname]=mx.example.ac.uk [authserv_id]=mx.example.ac.uk
		[audit_log]="$(dirname "$file")/audit.jsonl" [phase]=mandatory
		[local_domains]=example.ac.uk [trusted_networks]=192.0.2.0/24
		[sender_login]=strict [help_url]=https://www.example.ac.uk/it/authenticated-smtp
	)
	if [ "$(id -u)" -eq 0 ]; then c[user]=nobody; else c[user]=$(id -un); fi
	for kv in "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		c[$k]=$v
	done
	{
		echo "# Written by tests/integration/lib.sh (ag_milter_conf)."
		echo "[general]"
		for k in hostname authserv_id audit_log user; do
			[ -n "${c[$k]:-}" ] && echo "$k = ${c[$k]}"
		done
		echo "[policy]"
		for k in phase mandatory_from local_domains trusted_networks sender_login help_url; do
			[ -n "${c[$k]:-}" ] && echo "$k = ${c[$k]}"
		done
		if [ -n "${c[hub]:-}${c[protected]:-}" ]; then
			echo "[lists]"
			for k in hub protected; do
				[ -n "${c[$k]:-}" ] && echo "$k = ${c[$k]}"
			done
		fi
		echo "[milter]"
		echo "socket = ${c[socket]:?ag_milter_conf: socket=... is required}"
		if [ -n "${c[proxy_addresses]:-}" ]; then
			echo "proxy_addresses = ${c[proxy_addresses]}"
		fi
	} >"$file"
	chmod 644 "$file"
	# The milter drops to c[user]: it must read the config (SIGHUP) and write the audit log.
	ag__let_postfix_in "$(dirname "$file")" || return 1
	if [ "$(id -u)" -eq 0 ]; then
		touch "${c[audit_log]}" && chown "${c[user]}" "${c[audit_log]}" "$(dirname "${c[audit_log]}")"
	fi
}

# ag_milter_start DIR CONFIG PORT: run authgate-milter -f (from $AG_BUILDDIR) with its log in
# DIR/milter.log; wait until it listens on 127.0.0.1:PORT.
ag_milter_start() {
	local dir=$1 conf=$2 port=$3
	mkdir -p "$dir" || return 1
	"${AG_BUILDDIR:?}/milter/authgate-milter" -f -c "$conf" >>"$dir/milter.log" 2>&1 &
	echo $! >"$dir/milter.pid"
	ag__track "milter:$dir"
	wait_port "$port" 10 || {
		echo "lib.sh: authgate-milter did not listen on 127.0.0.1:$port" >&2
		cat "$dir/milter.log" >&2
		return 1
	}
}

# ag_milter_reload DIR: SIGHUP, then wait (bounded) for the worker to say it reloaded or
# refused. Returns 0 if the new configuration is in effect, 1 if refused or no answer.
ag_milter_reload() {
	local dir=$1 before
	before=$(grep -cE 'reload: configuration|reload refused' "$dir/milter.log" || true)
	kill -HUP "$(cat "$dir/milter.pid")" || return 1
	for _ in $(seq 1 50); do
		if [ "$(grep -cE 'reload: configuration|reload refused' "$dir/milter.log" || true)" -gt "$before" ]; then
			tail -n 1 "$dir/milter.log" | grep -q 'reload: configuration'
			return
		fi
		sleep 0.1
	done
	return 1
}

# ag_milter_stop DIR: SIGTERM and wait (bounded) for the process to go.
ag_milter_stop() {
	local dir=$1 pid
	ag__untrack "milter:$dir"
	[ -r "$dir/milter.pid" ] || return 0
	pid=$(cat "$dir/milter.pid")
	rm -f "$dir/milter.pid"
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# ag_json_lines_ok FILE...: every line of every file is one JSON object (jq, else python3).
ag_json_lines_ok() {
	local f
	if command -v jq >/dev/null; then
		for f in "$@"; do
			# -e fails on a non-object; one input per line, so a split line fails too.
			local line
			while IFS= read -r line; do
				jq -e 'type == "object"' <<<"$line" >/dev/null 2>&1 || return 1
			done <"$f"
		done
		return 0
	fi
	python3 -c 'import json,sys
for f in sys.argv[1:]:
    for l in open(f):
        assert isinstance(json.loads(l), dict)' "$@"
}

# ag_sink_find DIR PATTERN: the received message file(s) matching grep -E PATTERN (for a
# unique Subject, say); exit 1 if none.
ag_sink_find() {
	local files
	files=$(ag_sink_files "$1")
	[ -n "$files" ] || return 1
	# shellcheck disable=SC2086 # our own file names, no spaces
	grep -lE -- "$2" $files
}

# ag_wait_sink_find DIR PATTERN SECONDS: until a message matching PATTERN arrived; prints it.
ag_wait_sink_find() {
	local dir=$1 pat=$2 t=$3
	for _ in $(seq 1 $((t * 5))); do
		ag_sink_find "$dir" "$pat" && return 0
		sleep 0.2
	done
	return 1
}

# ag_milter_stack_start WORK [milter conf key=value...]: smtp-sink (WORK/sink) <- Postfix
# (WORK/pf) -> authgate-milter (WORK/milter, config WORK/milter/ag.conf). Sets AG_SINK_PORT,
# AG_PF_PORT, AG_MILTER_PORT. Postfix uses milter_default_action = tempfail and
# milter_protocol 6; extra Postfix settings: ag_postfix_set WORK/pf ... + ag_postfix_reload.
ag_milter_stack_start() {
	local work=$1
	shift
	AG_SINK_PORT=$(ag_free_port) && AG_MILTER_PORT=$(ag_free_port) &&
		AG_PF_PORT=$(ag_free_port) ||
		return 1
	mkdir -p "$work/milter" || return 1
	ag_sink_start "$work/sink" "$AG_SINK_PORT" || return 1
	ag_milter_conf "$work/milter/ag.conf" socket="inet:$AG_MILTER_PORT@127.0.0.1" "$@" ||
		return 1
	ag_milter_start "$work/milter" "$work/milter/ag.conf" "$AG_MILTER_PORT" || return 1
	ag_postfix_start "$work/pf" "$AG_PF_PORT" "$AG_SINK_PORT" \
		"smtpd_milters=inet:127.0.0.1:$AG_MILTER_PORT" milter_default_action=tempfail \
		milter_protocol=6 milter_macro_daemon_name=ORIGINATING
}

# ag_swaks PORT swaks-options...: one SMTP transaction against 127.0.0.1:PORT; prints the
# transcript (swaks' own exit status is ignored: check the replies in the transcript).
ag_swaks() {
	local port=$1
	shift
	timeout 60 swaks --server 127.0.0.1 --port "$port" --timeout 20 "$@" 2>&1 || true
}

# ag_queued_id TRANSCRIPT: the Postfix queue id from "250 2.0.0 Ok: queued as ID".
ag_queued_id() {
	sed -n 's/^<- *250 .*queued as \([0-9A-Za-z]*\).*/\1/p' <<<"$1" | tail -n 1
}

# ag_diag_tails FILE...: after a failed check, the last 15 lines of each non-empty FILE as TAP
# diagnostics (for a cleanup trap: what the daemons said).
ag_diag_tails() {
	local x
	[ "${TAP_FAILED:-0}" -gt 0 ] || return 0
	for x in "$@"; do
		[ -s "$x" ] || continue
		diag "$x (last 15 lines):"
		tail -n 15 "$x" | sed 's/^/#   /'
	done
}
