#!/usr/bin/env bash
# t_readme_blocks: the README's admin sections are tested by following them literally. Each
# command or configuration snippet a t_readme_*.sh scenario runs is a fenced block preceded
# by a marker line:
#
#	<!-- test: NAME -->
#	```sh
#	...
#	```
#
# Sourced (by the other t_readme_*.sh), this file gives them the tools to do that:
#	readme_block NAME          print the block verbatim (exit 1 if there is none)
#	readme_shims DIR CONF PF   DIR/bin with authgate-proxy, authgate-milter, authgate-audit
#	                           (each with -c CONF), postfix (-c PF/etc) and a systemctl
#	                           that signals the daemons this scenario started
#	readme_unit NAME PID       tell that systemctl which process NAME(.service) is
#	readme_run DIR SEDSCRIPT NAME
#	                           run block NAME with bash -e in DIR, PATH=shims first, after
#	                           the sed substitutions (ports and paths only)
#	readme_mask                mask dates, times and record counts in a report (stdin)
#	readme_output NAME         the expected output of a "$ command" block (line 2 on)
#	readme_keep NAME           save stdin as AG_README_SHOW/NAME (when that is set)
#	readme_stack DIR CONF SINK_PORT PF_PORT MILTER_PORT
#	                           smtp-sink <- Postfix + milter <- proxy, all on CONF, with
#	                           the shims and units (DIR/milter, DIR/pf, DIR/proxy.log)
#	readme_conf DIR SMTPS SUB PAM [BACKEND_PORT]
#	                           the [general] and [proxy] sections every scenario's
#	                           authgate.conf starts with (stdout; the scenario adds the rest)
#	readme_command NAME        its command (line 1, without "$ ")
#
# Run as a scenario, it checks the markers themselves: each one is followed by a block,
# no name is used twice, and every name is used by some t_readme_*.sh scenario.
set -euo pipefail

readme_file=${AG_SRCDIR:?}/README.md

readme_block() {
	awk -v m="<!-- test: $1 -->" '
		$0 == m { armed = 1; next }
		# Only blank lines between the marker and its fence.
		armed && !inside && /^```/ { inside = 1; next }
		armed && !inside && NF { exit }
		inside && /^```/ { found = 1; exit }
		inside { print }
		END { exit !found }
	' "$readme_file"
}

readme_command() { readme_block "$1" | sed -n '1s/^\$ //p'; }
readme_output() { readme_block "$1" | sed 1d; }

# Report times and counts differ from run to run; the layout and the rows must not.
# readme_conf DIR SMTPS SUB PAM [BACKEND_PORT]: the README's example service on loopback: its
# names, DIR/certs (ag_make_cert) and DIR/log/audit.jsonl, user nobody, the proxy on the two
# ports with PAM service PAM, relaying to 127.0.0.1:BACKEND_PORT (none: a README block adds
# backends). Each scenario appends its [policy], [lists] and [milter], or the README's.
readme_conf() {
	local w=$1 smtps=$2 sub=$3 pam=$4 backend=${5:-}
	cat <<-EOF
		[general]
		hostname    = smtp.example.ac.uk
		authserv_id = smtp.example.ac.uk
		audit_log   = $w/log/audit.jsonl
		user        = nobody

		[proxy]
		listen_smtps      = 127.0.0.1:$smtps
		listen_submission = 127.0.0.1:$sub
		tls_cert          = $w/certs/cert.pem
		tls_key           = $w/certs/key.pem
	EOF
	[ -z "$backend" ] || echo "backends          = 127.0.0.1:$backend"
	cat <<-EOF
		pam_service       = $pam
		login_domains     = example.ac.uk
		auth_workers      = 2

	EOF
}

readme_mask() {
	sed -E -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z?/TIME/g' \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}/DAY/g' -e 's/from [0-9]+ records/from N records/'
}

# readme_shims DIR CONF PFDIR: programs as the README calls them, pointed at this scenario's
# configuration and Postfix instance instead of /etc/authgate and /etc/postfix.
readme_shims() {
	local dir=$1 conf=$2 pf=$3 p
	mkdir -p "$dir/bin" "$dir/units"
	AG_README_BIN=$dir/bin AG_README_UNITS=$dir/units
	for p in proxy/authgate-proxy milter/authgate-milter audit/authgate-audit; do
		printf '#!/bin/sh\nexec "%s" -c "%s" "$@"\n' "$AG_BUILDDIR/$p" "$conf" \
			>"$dir/bin/${p#*/}"
	done
	# Postfix's tools read /etc/postfix/main.cf unless told otherwise, and a new machine
	# with Postfix installed "No configuration" has none: every one gets -c.
	for p in postfix postmap postconf postalias; do
		printf '#!/bin/sh\nexec /usr/sbin/%s -c "%s/etc" "$@"\n' "$p" "$pf" >"$dir/bin/$p"
	done
	# systemctl: what the units' ExecReload and logrotate's postrotate do, on our pids.
	cat >"$dir/bin/systemctl" <<-EOF
		#!/usr/bin/env bash
		# systemctl for a scenario: reload = SIGHUP (the units' ExecReload), kill -s SIG,
		# stop = SIGTERM and wait; units are the daemons the scenario registered.
		set -euo pipefail
		units=$dir/units
		echo "systemctl \$*" >>"\$units/calls.log"
		verb=\$1 sig=""
		shift
		case \$verb in
		reload) sig=HUP ;;
		stop) sig=TERM ;;
		kill) ;;
		*) echo "systemctl shim: \$verb not supported" >&2; exit 1 ;;
		esac
		pids=()
		while [ \$# -gt 0 ]; do
			case \$1 in
			-s) sig=\$2; shift 2; continue ;;
			--kill-whom=main) shift; continue ;;
			-*) echo "systemctl shim: \$1 not supported" >&2; exit 1 ;;
			esac
			u=\${1%.service}
			[ -r "\$units/\$u.pid" ] || { echo "Unit \$u.service not loaded." >&2; exit 5; }
			pids+=("\$(cat "\$units/\$u.pid")")
			shift
		done
		[ -n "\$sig" ] || { echo "systemctl shim: no signal" >&2; exit 1; }
		for pid in "\${pids[@]}"; do kill -s "\$sig" "\$pid"; done
		if [ "\$verb" = stop ]; then
			for pid in "\${pids[@]}"; do
				for _ in \$(seq 1 450); do kill -0 "\$pid" 2>/dev/null || break; sleep 0.1; done
			done
		fi
		exit 0
	EOF
	chmod 755 "$dir"/bin/*
}

readme_unit() { echo "$2" >"$AG_README_UNITS/$1.pid"; }

# AG_README_SHOW=DIR keeps the outputs a scenario compares, to paste into README.md.
readme_keep() {
	[ -z "${AG_README_SHOW:-}" ] || { mkdir -p "$AG_README_SHOW" && cat >"$AG_README_SHOW/$1"; }
}

# readme_stack DIR CONF SINK_PORT PF_PORT MILTER_PORT: the whole service of the README's
# examples, started (lib.sh and lib_auth.sh stop it), with systemctl's units pointed at it.
readme_stack() {
	local w=$1 conf=$2 sport=$3 pport=$4 mport=$5
	ag_sink_start "$w/sink" "$sport"
	ag_milter_start "$w/milter" "$conf" "$mport"
	ag_postfix_start "$w/pf" "$pport" "$sport" "smtpd_milters=inet:127.0.0.1:$mport" \
		milter_default_action=tempfail milter_protocol=6
	# shellcheck disable=SC2034 # read by ag_proxy_start (lib_auth.sh)
	AG_PROXY_LOG=$w/proxy.log
	ag_proxy_start "$conf"
	readme_shims "$w" "$conf" "$w/pf"
	readme_unit authgate-milter "$(cat "$w/milter/milter.pid")"
	readme_unit authgate-proxy "$AG_PROXY_PID"
}

# readme_run DIR SEDSCRIPT NAME: the block's commands, substituted, in DIR.
readme_run() {
	local dir=$1 subst=$2 name=$3 script
	script=$(readme_block "$name") || {
		echo "README.md has no block <!-- test: $name -->" >&2
		return 1
	}
	script=$(sed -e "$subst" <<<"$script")
	(cd "$dir" && PATH=$AG_README_BIN:$PATH bash -euo pipefail -c "$script")
}

# When run, not sourced: check the markers.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	. "$AG_SRCDIR/tests/integration/tap.sh"
	names=$(sed -n 's/^<!-- test: \(.*\) -->$/\1/p' "$readme_file")
	ok "$([ -n "$names" ] && echo 0 || echo 1)" "README.md has test markers"
	dups=$(sort <<<"$names" | uniq -d)
	ok "$([ -z "$dups" ] && echo 0 || echo 1)" "no marker name is used twice ${dups:+($dups)}"
	missing="" unused=""
	for n in $names; do
		readme_block "$n" >/dev/null || missing+=" $n"
		grep -lqF -- "$n" "$AG_SRCDIR"/tests/integration/t_readme_[!b]*.sh 2>/dev/null ||
			unused+=" $n"
	done
	ok "$([ -z "$missing" ] && echo 0 || echo 1)" "every marker is followed by a fenced block${missing:+ (not:$missing)}"
	ok "$([ -z "$unused" ] && echo 0 || echo 1)" "every block is used by a scenario${unused:+ (unused:$unused)}"
	# The documentation stands alone: every link is a file of this repository.
	badlinks=""
	for md in "$readme_file" "$AG_SRCDIR"/doc/*.md "$AG_SRCDIR"/bench/*.md "$AG_SRCDIR"/tests/*.md; do
		[ -f "$md" ] || continue
		while IFS= read -r target; do
			target=${target%%#*}
			[ -n "$target" ] || continue
			case $target in
			*://* | mailto:*) badlinks+=" ${md#"$AG_SRCDIR"/}:$target" ;;
			*)
				resolved=$(realpath -m "$(dirname "$md")/$target")
				case $resolved in
				"$AG_SRCDIR"/*) [ -e "$resolved" ] || badlinks+=" ${md#"$AG_SRCDIR"/}:$target" ;;
				*) badlinks+=" ${md#"$AG_SRCDIR"/}:$target" ;;
				esac
				;;
			esac
		done < <(grep -oE '\]\([^)]+\)' "$md" | sed -E 's/^\]\((.*)\)$/\1/')
	done
	ok "$([ -z "$badlinks" ] && echo 0 || echo 1)" "every link in README.md and doc/ is a file of this repository${badlinks:+ (not:$badlinks)}"
	leftover=$(grep -nE '@[A-Z]+@' "$readme_file" || true)
	ok "$([ -z "$leftover" ] && echo 0 || echo 1)" "no unfilled @PLACEHOLDER@ in README.md${leftover:+ ($leftover)}"
	tap_done
fi
