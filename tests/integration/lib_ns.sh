#!/usr/bin/env bash
# lib_ns.sh: a private /dev whose /dev/log is a socket of the test's, for daemons under test
# that log only to syslog. Sourced by the ns-run wrappers (lib_sendmail.sh,
# t_readme_scaling.sh) inside a mount namespace of their own (unshare -m --propagation
# private), so nothing it mounts is seen outside.

# ag_ns_dev_log SOCKET DIR: /dev becomes a tmpfs of links to the real /dev (bound under a
# fresh directory in DIR) plus /dev/log -> SOCKET.
ag_ns_dev_log() {
	local sock=$1 old e
	old=$(mktemp -d "$2/dev.XXXXXX")
	chmod 755 "$old" # the daemons look up /dev/null and the rest as their user
	mount --rbind /dev "$old"
	mount -t tmpfs -o mode=755,size=64k authgate-test-dev /dev
	for e in "$old"/* "$old"/.[!.]*; do
		[ -e "$e" ] || [ -L "$e" ] || continue
		ln -s "$e" "/dev/${e##*/}"
	done
	ln -s "$sock" /dev/log
}
