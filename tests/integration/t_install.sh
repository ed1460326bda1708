#!/usr/bin/env bash
# ag-run: alone (installs system-wide: tests/integration/run starts nothing beside it)
# t_install: an admin runs `make install`: programs, man pages, config, systemd units, PAM
# and logrotate files land where they belong (PAM and logrotate in /etc/pam.d and
# /etc/logrotate.d whatever the prefix), the programs' default config is the installed one,
# an edited config survives, uninstall cleans up.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"

b=$AG_BUILDDIR
[ -f "$b/Makefile" ] || skip_all "$b is not a configured build directory"
command -v make >/dev/null || skip_all "make not installed"

work=$(mktemp -d /tmp/ag-install-XXXXXX)
dest=$work/root
real_installed=0
# The real install (at the end) puts PAM and logrotate files in a scratch directory.
real_dirs=(pamdir="$work/real-pam.d" logrotatedir="$work/real-logrotate.d")
cleanup() {
	# Only what this script put into the real prefix (see the end), and only if it did.
	if [ "$real_installed" -eq 1 ]; then
		make -s -C "$b" uninstall "${real_dirs[@]}" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

mk() { make -s -C "$b" --no-print-directory "$@"; }
# var NAME: an installation directory as the Makefile expands it (prefix, sbindir, ...).
# shellcheck disable=SC2016 # $($*) is make's
var() { mk --eval 'ag-print-%: ; @echo $($*)' "ag-print-$1" | tail -n 1; }

# A Makefile older than its Makefile.in regenerates itself (config.status) on the first
# make run: let that happen here, not in the middle of reading a variable.
mk Makefile >"$work/regen.log" 2>&1 || true

prefix=$(var prefix)
sbindir=$(var sbindir)
bindir=$(var bindir)
sysconfdir=$(var sysconfdir)
mandir=$(var mandir)
unitdir=$(var systemdsystemunitdir)
pamdir=$(var pamdir)
logrotatedir=$(var logrotatedir)
diag "prefix $prefix, sbindir $sbindir, sysconfdir $sysconfdir, units $unitdir, PAM $pamdir, logrotate $logrotatedir"
# Where libpam and logrotate read, unless configure was told otherwise.
if [ "$(grep -c -- '--with-pamdir\|--with-logrotatedir' "$b/config.log")" -eq 0 ]; then
	check "PAM files go to /etc/pam.d whatever the prefix" -- test "$pamdir" = /etc/pam.d
	check "logrotate files go to /etc/logrotate.d whatever the prefix" -- \
		test "$logrotatedir" = /etc/logrotate.d
fi

units=(etc/authgate-proxy.service etc/authgate-milter.service)
# The programs are built by other parts of the tree: while one does not build, install the
# data files only and say so, rather than fail the packaging checks for it.
if mk all >"$work/make-all.log" 2>&1; then
	full=1
	install_targets=(install)
else
	full=0
	diag "make all failed (a program does not build yet): installing data files only"
	tail -n 5 "$work/make-all.log" | sed 's/^/#   /'
	check "the systemd units are generated" -- mk "${units[@]}"
	install_targets=(install-data)
fi

check "make ${install_targets[*]} DESTDIR=..." -- mk "${install_targets[@]}" DESTDIR="$dest"

# [installed path] [source under $AG_SRCDIR, or "" for generated files]
data_files=(
	"$mandir/man8/authgate-proxy.8|doc/authgate-proxy.8"
	"$mandir/man8/authgate-milter.8|doc/authgate-milter.8"
	"$mandir/man1/authgate-audit.1|doc/authgate-audit.1"
	"$mandir/man5/authgate.conf.5|doc/authgate.conf.5"
	"$sysconfdir/authgate/authgate.conf|etc/authgate.conf"
	"$pamdir/authgate|etc/pam.d/authgate"
	"$logrotatedir/authgate|etc/logrotate.d/authgate"
	"$unitdir/authgate-proxy.service|"
	"$unitdir/authgate-milter.service|"
)
for entry in "${data_files[@]}"; do
	path=${entry%%|*} src=${entry#*|}
	if [ -n "$src" ]; then
		check "installed $path, same as $src" -- cmp "$AG_SRCDIR/$src" "$dest$path"
	else
		check "installed $path" -- test -s "$dest$path"
	fi
done

# Programs: those that were built are installed, daemons in sbin, the report tool in bin.
programs=("proxy/authgate-proxy|$sbindir" "milter/authgate-milter|$sbindir"
	"audit/authgate-audit|$bindir")
for entry in "${programs[@]}"; do
	built=$b/${entry%%|*} dir=${entry#*|} name=$(basename "${entry%%|*}")
	if [ "$full" -eq 1 ] && [ -x "$built" ]; then
		check "installed $dir/$name" -- test -x "$dest$dir/$name"
	else
		diag "$name not built: its install is not checked"
	fi
done

# The units run the installed programs with the installed config.
for u in proxy milter; do
	f=$dest$unitdir/authgate-$u.service
	check "authgate-$u.service: no @placeholder@ left" -- eval "! grep -q '@[a-z_]*@' '$f'"
	check "authgate-$u.service: ExecStart=$sbindir/authgate-$u -f -c $sysconfdir/authgate/authgate.conf" -- \
		grep -qx "ExecStart=$sbindir/authgate-$u -f -c $sysconfdir/authgate/authgate.conf" "$f"
	# shellcheck disable=SC2016 # $MAINPID is systemd's, literally
	check "authgate-$u.service: ExecReload sends SIGHUP" -- \
		grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$f"
	check "authgate-$u.service: Type=simple" -- grep -qx 'Type=simple' "$f"
	check "authgate-$u.service: ProtectSystem=strict" -- grep -qx 'ProtectSystem=strict' "$f"
done
check "proxy unit: starts as root, so no NoNewPrivileges" -- eval \
	"! grep -Eq '^(User|NoNewPrivileges)=' '$dest$unitdir/authgate-proxy.service'"
check "proxy unit: may bind 465/587 and drop privileges" -- grep -Eq \
	'^CapabilityBoundingSet=.*CAP_NET_BIND_SERVICE.*CAP_SETUID.*CAP_SETGID' \
	"$dest$unitdir/authgate-proxy.service"
check "milter unit: User=authgate, NoNewPrivileges, no capabilities" -- eval \
	"grep -qx User=authgate '$dest$unitdir/authgate-milter.service' &&
	 grep -qx NoNewPrivileges=yes '$dest$unitdir/authgate-milter.service' &&
	 grep -qx CapabilityBoundingSet= '$dest$unitdir/authgate-milter.service'"

# systemd-analyze verify, on copies that point at the programs under DESTDIR: any word
# from it is a finding, except that a program which was not built is missing.
if command -v systemd-analyze >/dev/null; then
	for u in proxy milter; do
		mkdir -p "$work/units"
		sed "s|$sbindir/|$dest$sbindir/|g" "$dest$unitdir/authgate-$u.service" \
			>"$work/units/authgate-$u.service"
		systemd-analyze verify --man=no "$work/units/authgate-$u.service" \
			>"$work/verify-$u.log" 2>&1 || true
		grep -v "Command $dest$sbindir/authgate-$u is not executable" "$work/verify-$u.log" \
			>"$work/verify-$u.rest" || true
		if [ -s "$work/verify-$u.rest" ]; then
			ok 1 "systemd-analyze verify authgate-$u.service"
			sed 's/^/#   /' "$work/verify-$u.rest" | head -n 10
		else
			ok 0 "systemd-analyze verify authgate-$u.service"
		fi
	done
else
	diag "systemd-analyze not installed: units not verified"
fi

# PAM: the stacks the service includes exist on Debian.
check "pam.d/authgate includes common-auth and common-account" -- eval \
	"grep -qx '@include common-auth' '$dest$pamdir/authgate' &&
	 grep -qx '@include common-account' '$dest$pamdir/authgate'"
if [ -e /etc/pam.d/common-auth ] && [ -e /etc/pam.d/common-account ]; then
	ok 0 "/etc/pam.d/common-auth and common-account exist here"
else
	diag "no /etc/pam.d/common-auth here: not a Debian PAM setup"
fi

# logrotate: a dry run (-d changes nothing) over a copy pointing at a scratch directory.
lr=$dest$logrotatedir/authgate
check "logrotate: daily, 30 rotations, compressed, created 0640 authgate adm" -- eval \
	"grep -qx '	daily' '$lr' && grep -qx '	rotate 30' '$lr' &&
	 grep -qx '	compress' '$lr' && grep -qx '	delaycompress' '$lr' &&
	 grep -qx '	create 0640 authgate adm' '$lr'"
check "logrotate: postrotate sends SIGUSR1 to both units" -- \
	grep -q 'systemctl kill .*-s USR1 authgate-proxy.service authgate-milter.service' "$lr"
if command -v logrotate >/dev/null; then
	mkdir -p "$work/log"
	echo '{}' >"$work/log/audit.jsonl"
	owner=authgate
	getent passwd authgate >/dev/null || owner=root
	sed -e "s|/var/log/authgate/|$work/log/|" -e "s/create 0640 authgate adm/create 0640 $owner adm/" \
		"$lr" >"$work/logrotate.conf"
	check "logrotate -d accepts the file" -- logrotate -d -s "$work/logrotate.state" "$work/logrotate.conf"
else
	diag "logrotate not installed: file syntax not checked by logrotate itself"
fi

# The programs read the installed config by default (one path, from sysconfdir).
for entry in "authgate-proxy|$sbindir" "authgate-milter|$sbindir" "authgate-audit|$bindir"; do
	name=${entry%%|*} dir=${entry#*|}
	if [ "$full" -ne 1 ] || [ ! -x "$dest$dir/$name" ]; then continue; fi
	check "$name --help: default config $sysconfdir/authgate/authgate.conf" -- \
		grep -qF "default $sysconfdir/authgate/authgate.conf)" <<<"$("$dest$dir/$name" --help)"
done

# The installed sample config is one the programs accept (-t), once it names what exists on
# this machine: -t checks the user, the audit log's directory and the TLS files, as startup.
me=nobody
[ "$(id -u)" -eq 0 ] || me=$(id -un)
chmod 755 "$work"
mkdir -p "$work/auditlog" && chmod 1777 "$work/auditlog"
if [ "$full" -eq 1 ] && [ -x "$dest$sbindir/authgate-milter" ]; then
	sed -e "s|^audit_log .*|audit_log = $work/auditlog/audit.jsonl|" -e "s|^user .*|user = $me|" \
		"$dest$sysconfdir/authgate/authgate.conf" >"$work/milter.conf"
	check "authgate-milter -t accepts the installed sample config" -- \
		"$dest$sbindir/authgate-milter" -t -c "$work/milter.conf"
fi
if [ "$full" -eq 1 ] && [ -x "$dest$sbindir/authgate-proxy" ] && command -v openssl >/dev/null; then
	# -t runs the startup checks too: certificate, PAM service file, audit log directory.
	openssl req -x509 -newkey rsa:2048 -nodes -days 60 -subj /CN=smtp.example.ac.uk \
		-keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
	mkdir -p "$work/auditlog"
	sed -e "s|^tls_cert .*|tls_cert = $work/cert.pem|" -e "s|^tls_key .*|tls_key = $work/key.pem|" \
		-e "s|^audit_log .*|audit_log = $work/auditlog/audit.jsonl|" \
		-e "s|^pam_service .*|pam_service = other|" -e "s|^user .*|user = $me|" \
		"$dest$sysconfdir/authgate/authgate.conf" >"$work/proxy.conf"
	check "authgate-proxy -t accepts the installed sample config" -- \
		"$dest$sbindir/authgate-proxy" -t -c "$work/proxy.conf"
fi

check "make uninstall DESTDIR=..." -- mk uninstall DESTDIR="$dest"
left=$(find "$dest" -type f -o -type l)
[ -z "$left" ] || diag "left after uninstall: $left"
check "uninstall leaves no files" -- test -z "$left"

# An admin's edits are kept: a reinstall does not overwrite the config or the PAM
# service, and uninstall leaves them (like Debian conffiles).
conf=$dest$sysconfdir/authgate/authgate.conf
pam=$dest$pamdir/authgate
mk "${units[@]}" >/dev/null
mk install-data DESTDIR="$dest" >/dev/null
echo "; edited by the admin" >>"$conf"
echo "# edited by the admin" >>"$pam"
check "reinstall (install-data) succeeds" -- mk install-data DESTDIR="$dest"
check "reinstall keeps the edited config" -- grep -qx '; edited by the admin' "$conf"
check "reinstall keeps the edited PAM service" -- grep -qx '# edited by the admin' "$pam"
mk uninstall DESTDIR="$dest" >/dev/null
left=$(find "$dest" -type f | sort | tr '\n' ' ')
check "uninstall keeps exactly the two edited files" -- \
	test "$left" = "$(printf '%s\n' "$conf" "$pam" | sort | tr '\n' ' ')"

# The real thing: install into the configured prefix so `man` finds the pages, then
# uninstall. Only as root, only under /usr/local, and only if none of our files is there
# already (an earlier install is someone's: leave it alone).
# man_finds NAME FILE: `man -w NAME` names FILE (Debian's /usr/local/man is a symlink).
man_finds() {
	local found
	found=$(man -w "$1" 2>/dev/null) || return 1
	[ "$(realpath "$found")" = "$(realpath "$2")" ]
}

real_ok=1 why=""
if [ "$(id -u)" -ne 0 ]; then
	real_ok=0 why="not root"
elif [ "$prefix" != /usr/local ]; then
	real_ok=0 why="prefix is $prefix, not /usr/local"
elif ! command -v man >/dev/null; then
	real_ok=0 why="man not installed"
else
	for entry in "${data_files[@]}" "x|$sbindir/authgate-proxy" "x|$sbindir/authgate-milter" \
		"x|$bindir/authgate-audit"; do
		path=${entry%%|*}
		[ "$path" = x ] && path=${entry#*|}
		if [ -e "$path" ]; then
			real_ok=0 why="$path already exists"
			break
		fi
	done
fi
if [ "$real_ok" -eq 1 ]; then
	# Directories this install creates are removed again if it leaves them empty.
	newdirs=()
	for d in "$unitdir" "$prefix/lib/systemd" \
		"$mandir/man1" "$mandir/man5" "$mandir/man8"; do
		[ -d "$d" ] || newdirs+=("$d")
	done
	real_installed=1
	# PAM and logrotate files go to a scratch directory: /etc/pam.d/authgate and
	# /etc/logrotate.d/authgate may belong to an installed package (t_deb_package).
	check "make ${install_targets[*]} into $prefix" -- mk "${install_targets[@]}" "${real_dirs[@]}"
	check "man -w authgate.conf finds $mandir/man5/authgate.conf.5" -- \
		man_finds authgate.conf "$mandir/man5/authgate.conf.5"
	check "man -w authgate-proxy finds section 8" -- \
		man_finds authgate-proxy "$mandir/man8/authgate-proxy.8"
	check "man -w authgate-milter finds section 8" -- \
		man_finds authgate-milter "$mandir/man8/authgate-milter.8"
	check "man -w authgate-audit finds section 1" -- \
		man_finds authgate-audit "$mandir/man1/authgate-audit.1"
	check "make uninstall from $prefix" -- mk uninstall "${real_dirs[@]}"
	real_installed=0
	gone=0
	for path in "${data_files[@]%%|*}" "$sbindir/authgate-proxy" "$sbindir/authgate-milter" \
		"$bindir/authgate-audit"; do
		if [ -e "$path" ]; then
			diag "still there: $path"
			gone=1
		fi
	done
	ok $gone "uninstall removed everything from $prefix"
	for d in "${newdirs[@]}"; do
		rmdir "$d" 2>/dev/null || true
	done
else
	diag "not installing into the real prefix: $why"
fi

tap_done
