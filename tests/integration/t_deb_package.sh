#!/usr/bin/env bash
# ag-run: alone (installs system-wide: tests/integration/run starts nothing beside it)
# t_deb_package: what a Debian admin does. Build the .deb from a copy of the tree
# (dpkg-buildpackage -us -uc -b), lintian it, `apt-get install ./authgate_*.deb`, find the
# files, the user, the log directory, the units installed but not enabled; fill in the
# installed config's required keys and get `ok` from both -t; run the installed daemons
# against a private Postfix and send one authenticated message through them; then remove,
# purge, and find nothing left behind.
#
# This installs a package SYSTEM-WIDE (the name "authgate" is global): it runs only as root,
# only when no authgate package, /etc/authgate or user "authgate" is there already (someone
# else's: left alone), one run at a time (a lock), and its EXIT trap purges what it
# installed. Everything else (build, certificates, Postfix, ports, PAM service) is private
# to this run, as in every scenario.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"
. "$AG_SRCDIR/tests/integration/lib_auth.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (installs a package)"
for tool in dpkg-buildpackage dh lintian apt-get swaks postfix; do
	command -v "$tool" >/dev/null || skip_all "$tool not installed (scripts/lib.sh names its package)"
done
exec {lockfd}>/run/lock/authgate-t_deb_package.lock
flock -n "$lockfd" || skip_all "another t_deb_package run holds /run/lock/authgate-t_deb_package.lock"
if dpkg-query -W -f='${Status}' authgate 2>/dev/null | grep -qv 'not-installed'; then
	skip_all "a package authgate is installed (or its config left) already: not ours to touch"
fi
for f in /etc/authgate /var/log/authgate /etc/pam.d/authgate /etc/logrotate.d/authgate; do
	[ ! -e "$f" ] || skip_all "$f exists already: not ours to touch"
done
getent passwd authgate >/dev/null && skip_all "a user authgate exists already: not ours to touch"
getent group authgate >/dev/null && skip_all "a group authgate exists already: not ours to touch"

t0=$(date +%s)
work=$(mktemp -d /tmp/ag-deb-XXXXXX)
chmod 755 "$work"
installed=0
lintian_pid=""
cleanup() {
	if [ -n "$lintian_pid" ]; then
		kill "$lintian_pid" 2>/dev/null || true
		wait "$lintian_pid" 2>/dev/null || true
	fi
	ag_milter_stop "$work/milter" >/dev/null 2>&1 || true
	ag_auth_cleanup_all
	ag_cleanup_all
	if [ "$installed" -eq 1 ]; then
		diag "cleanup: purging the authgate package this run installed"
		apt-get -o DPkg::Lock::Timeout=300 purge -y -q authgate >/dev/null 2>&1 ||
			dpkg --purge authgate >/dev/null 2>&1 || true
	fi
	# The "admin's" user and files of the purge checks, if the run stopped in between
	# (none of it was there at the start: see the skips above).
	rm -rf /etc/authgate
	if getent passwd authgate | grep -q 'site account'; then
		deluser --system --quiet authgate >/dev/null 2>&1 || true
	fi
	if getent group authgate >/dev/null && ! getent passwd authgate >/dev/null; then
		delgroup --system --quiet authgate >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# What is on the machine before, to compare after the purge: every path with authgate in
# its name where a package puts or makes things (PAM test services of other scenarios,
# authgate-test-*, come and go on their own and are not counted).
snapshot() {
	{
		find /etc /lib/systemd /usr/lib/systemd /usr/sbin /usr/bin /usr/share/man \
			/usr/share/doc /var/log /var/lib/dpkg/info /var/lib/systemd \
			-name '*authgate*' ! -name 'authgate-test-*' 2>/dev/null || true
		getent passwd authgate || true
		getent group authgate || true
		dpkg-query -W -f='${Package} ${Status}\n' 'authgate*' 2>/dev/null || true
	} | sort
}
snapshot >"$work/before"

# --- build from a copy of the tree: the tracked files as they are now, nothing built
src=$work/src
mkdir -p "$src"
if git -C "$AG_SRCDIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$AG_SRCDIR" && git ls-files -z | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
		tar -xf - -C "$src"
	check "the copy has debian/ and no configure (a clean tree)" -- eval \
		"test -f '$src/debian/control' && test ! -e '$src/configure'"
else
	# Not a git checkout (a release tarball, say): everything but build directories;
	# dh_autoreconf regenerates whatever autotools output is there.
	tar -C "$AG_SRCDIR" --exclude=./_build --exclude='./_build*' --exclude=./.git -cf - . |
		tar -xf - -C "$src"
	check "the copy has debian/" -- test -f "$src/debian/control"
fi
# nocheck: make check has run on this tree already; noddebs: no -dbgsym package to purge.
(cd "$src" && DEB_BUILD_OPTIONS="nocheck noddebs parallel=$(nproc)" \
	timeout 600 dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) || true
debs=("$work"/authgate_*.deb)
if [ -e "${debs[0]}" ]; then
	ok 0 "dpkg-buildpackage -us -uc -b built ${debs[*]##*/} ($(($(date +%s) - t0)) s)"
else
	ok 1 "dpkg-buildpackage -us -uc -b built a .deb"
	tail -n 30 "$work/build.log" | sed 's/^/#   | /'
	tap_done
	exit 1
fi
check "no compiler, autoconf or automake warnings in the build" -- \
	ag_not grep -E '(\.[ch]:[0-9]+:[0-9]+|configure\.ac:[0-9]+|\.(am|mk):[0-9]+): warning:' "$work/build.log"

# lintian runs while the package is installed and used (it only reads the .debs); its
# verdict is checked at the end.
lintian --fail-on none "$work"/authgate_*.changes >"$work/lintian.log" 2>&1 &
lintian_pid=$!
t_build=$(date +%s)

# --- install, as an admin does
export DEBIAN_FRONTEND=noninteractive
installed=1
check "apt-get install ./authgate_*.deb" -- \
	apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "$work"/authgate_*.deb
check "dpkg: authgate installed" -- eval \
	"dpkg-query -W -f='\${Status}' authgate | grep -qx 'install ok installed'"
for f in /usr/sbin/authgate-proxy /usr/sbin/authgate-milter /usr/bin/authgate-audit \
	/etc/authgate/authgate.conf /etc/pam.d/authgate /etc/logrotate.d/authgate \
	/lib/systemd/system/authgate-proxy.service /lib/systemd/system/authgate-milter.service \
	/usr/share/man/man8/authgate-proxy.8.gz /usr/share/man/man5/authgate.conf.5.gz; do
	check "installed $f" -- test -e "$f"
done
conffiles=$(dpkg-query -W -f='${Conffiles}' authgate)
for f in /etc/authgate/authgate.conf /etc/pam.d/authgate /etc/logrotate.d/authgate; do
	check "$f is a conffile" -- grep -q "^ $f " <<<"$conffiles"
done
check "system user authgate (no login shell, no home)" -- eval \
	"getent passwd authgate | awk -F: '\$3 < 1000 && \$6 == \"/nonexistent\" && \$7 ~ /nologin|false/' | grep -q ."
check "group authgate is its primary group" -- eval \
	"test \"\$(id -gn authgate)\" = authgate"
check "/var/log/authgate: authgate:adm 2750" -- \
	test "$(stat -c '%U:%G %a' /var/log/authgate)" = "authgate:adm 2750"
check "the units are not enabled (the config is a sample)" -- eval \
	"! find /etc/systemd/system -name 'authgate-*.service' | grep -q ."
check "the units run the installed programs with /etc/authgate/authgate.conf" -- \
	grep -qx 'ExecStart=/usr/sbin/authgate-proxy -f -c /etc/authgate/authgate.conf' \
	/lib/systemd/system/authgate-proxy.service
check "the programs' default config is /etc/authgate/authgate.conf" -- eval \
	"/usr/sbin/authgate-proxy -h | grep -qF '(default /etc/authgate/authgate.conf)' &&
	 /usr/sbin/authgate-milter -h | grep -qF '(default /etc/authgate/authgate.conf)'"
rc=0
out=$(/usr/sbin/authgate-proxy -t 2>&1) || rc=$?
check "-t refuses the sample as it is (its certificate does not exist), so would the unit" -- \
	eval "test $rc -eq 1 && grep -q '^/etc/authgate/authgate.conf:[0-9]*: \[proxy\] tls_cert: ' <<<\"\$out\""

# --- fill in the required keys, as the admin does, for this machine's private world
AG_CERT_DAYS=30 ag_make_cert "$work/certs" # no expiry warning: -t says exactly ok
pam=$(ag_pam_name)
ag_pam_setup "$pam" "$AG_USER" "$AG_PASS"
sport=$(ag_free_port) hport=$(ag_free_port) pfport=$(ag_free_port) mport=$(ag_free_port)
smtps=$(ag_free_port) sub=$(ag_free_port)
ag_sink_start "$work/sink" "$sport"
ag_sink_start "$work/hub" "$hport"
sed -i -e "s|^listen_smtps .*|listen_smtps      = 127.0.0.1:$smtps|" \
	-e "s|^listen_submission .*|listen_submission = 127.0.0.1:$sub|" \
	-e "s|^tls_cert .*|tls_cert          = $work/certs/cert.pem|" \
	-e "s|^tls_key .*|tls_key           = $work/certs/key.pem|" \
	-e "s|^backends .*|backends          = 127.0.0.1:$pfport|" \
	-e "s|^pam_service .*|pam_service       = $pam|" \
	-e "s|^hub .*|hub       = 127.0.0.1:$hport|" \
	-e "s|^socket .*|socket = inet:$mport@127.0.0.1|" /etc/authgate/authgate.conf
ag_postfix_start "$work/pf" "$pfport" "$sport" "smtpd_milters=inet:127.0.0.1:$mport" \
	milter_protocol=6 milter_default_action=tempfail
# says_ok PROGRAM: `PROGRAM -t` (default config) exits 0 printing exactly "ok" (else shows it)
says_ok() {
	local rc=0 out
	out=$("$1" -t 2>&1) || rc=$?
	[ "$rc" -eq 0 ] && [ "$out" = ok ] && return 0
	printf 'exit %s, output:\n%s\n' "$rc" "$out"
	return 1
}
check "authgate-proxy -t on the filled-in installed config: exactly ok" -- \
	says_ok /usr/sbin/authgate-proxy
check "authgate-milter -t on it: exactly ok" -- says_ok /usr/sbin/authgate-milter

# --- the installed daemons, with the installed config, as user authgate
mkdir -p "$work/milter"
/usr/sbin/authgate-milter -f >"$work/milter/milter.log" 2>&1 &
echo $! >"$work/milter/milter.pid"
ag__track "milter:$work/milter"
check "authgate-milter listens" -- wait_port "$mport" 10
AG_PROXY_LOG=$work/proxy.log
/usr/sbin/authgate-proxy -f >"$AG_PROXY_LOG" 2>&1 &
AG_PROXY_PID=$!
AG_AUTH_STARTED+=("proxy:$AG_PROXY_PID")
check "authgate-proxy listens on both ports" -- eval "wait_port $smtps 10 && wait_port $sub 10"
check "the proxy's network process runs as authgate" -- \
	wait_for 5 sh -c "ps -o user= -p $AG_PROXY_PID | grep -qx authgate"

tx=$(timeout 60 swaks --server 127.0.0.1 --port "$smtps" --tls-on-connect --timeout 20 \
	--auth PLAIN --auth-user "$AG_USER" --auth-password "$AG_PASS" \
	--from "$AG_USER@example.ac.uk" --to someone@example.org \
	--header "Subject: t_deb_package $$" 2>&1 || true)
check "AUTH PLAIN over implicit TLS: 235" -- ag_reply_in "$tx" '^235 '
check "the message is accepted (250 after DATA)" -- ag_reply_in "$tx" '^250 .*queued'
check "Postfix delivers it" -- ag_wait_delivered "$work/sink" 1 30
check "with the proxy's Authentication-Results" -- \
	ag_sink_grep "$work/sink" "^Authentication-Results: smtp\\.example\\.ac\\.uk; auth=pass smtp\\.auth=$AG_USER" -q
check "the audit log in /var/log/authgate has the proxy's and the milter's records" -- eval \
	"wait_for 5 grep -q '\"component\":\"milter\"' /var/log/authgate/audit.jsonl &&
	 grep -q '\"component\":\"proxy\".*\"auth_user\":\"$AG_USER\"' /var/log/authgate/audit.jsonl"
check "the audit log belongs to authgate" -- \
	test "$(stat -c %U /var/log/authgate/audit.jsonl)" = authgate
check "authgate-audit (installed) reads it by default" -- eval \
	"/usr/bin/authgate-audit who | grep -q '$AG_USER'"
ag_proxy_stop
ag_milter_stop "$work/milter"
t_used=$(date +%s)
diag "install, -t and one message took $((t_used - t_build)) s"

# --- lintian: no errors; every warning named with its reason in debian/README.source
wait "$lintian_pid" || true
lintian_pid=""
grep -v '^running with root privileges' "$work/lintian.log" >"$work/lintian.tags" || true
diag "lintian: $(grep -c '^E: ' "$work/lintian.tags" || true) errors, $(grep -c '^W: ' "$work/lintian.tags" || true) warnings"
sed 's/^/#   /' "$work/lintian.tags"
check "lintian: no errors" -- ag_not grep -q '^E: ' "$work/lintian.tags"
unexplained=""
while read -r tag; do
	grep -qF -- "$tag" "$src/debian/README.source" || unexplained+=" $tag"
done < <(sed -n 's/^W: [^ ]* [^:]*: *\([^ ]*\).*/\1/p' "$work/lintian.tags" | sort -u)
ok "$([ -z "$unexplained" ] && echo 0 || echo 1)" \
	"every lintian warning is named in debian/README.source${unexplained:+ (not:$unexplained)}"


# --- remove: the programs go, the config stays; purge: everything goes
check "apt-get remove authgate" -- apt-get -o DPkg::Lock::Timeout=300 remove -y -q authgate
check "removed: the programs are gone" -- eval \
	"test ! -e /usr/sbin/authgate-proxy && test ! -e /usr/sbin/authgate-milter && test ! -e /usr/bin/authgate-audit"
check "removed: the edited config stays (conffile)" -- grep -q "$pam" /etc/authgate/authgate.conf
# A file the admin put next to the config is not the package's to delete.
echo "the admin's" >/etc/authgate/admin-notes.txt
check "apt-get purge authgate" -- apt-get -o DPkg::Lock::Timeout=300 purge -y -q authgate
installed=0
for f in /etc/pam.d/authgate /etc/logrotate.d/authgate /var/log/authgate \
	/etc/authgate/authgate.conf; do
	check "purged: $f is gone" -- test ! -e "$f"
done
check "purged: the admin's own file in /etc/authgate stays" -- \
	grep -qx "the admin's" /etc/authgate/admin-notes.txt
rm -rf /etc/authgate # (ours: this scenario made the file)
check "purged: user and group authgate are gone" -- eval \
	"! getent passwd authgate && ! getent group authgate"

# A user "authgate" the admin made before installing is the admin's: purge keeps it.
adduser --system --group --quiet --no-create-home --home /nonexistent --gecos "site account" \
	authgate
installed=1
# (apt-get, not dpkg: it waits for another apt or dpkg to finish, dpkg would fail.)
check "install again, with the admin's user authgate already there" -- \
	apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "$work"/authgate_*.deb
check "the package took that user as it is" -- eval \
	"getent passwd authgate | cut -d: -f5 | grep -q '^site account'"
check "apt-get purge authgate (again)" -- apt-get -o DPkg::Lock::Timeout=300 purge -y -q authgate
installed=0
check "purged: the admin's user authgate stays" -- eval "getent passwd authgate | grep -q 'site account'"
deluser --system --quiet authgate >/dev/null 2>&1 || true
getent group authgate >/dev/null && delgroup --system --quiet authgate >/dev/null 2>&1
snapshot >"$work/after"
check "nothing left behind: the same authgate paths, users and packages as before" -- \
	diff "$work/before" "$work/after"
diag "remove and purge (twice) took $(($(date +%s) - t_used)) s"
diag "t_deb_package took $(($(date +%s) - t0)) s"

tap_done
