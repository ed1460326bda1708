#!/usr/bin/env bash
# lib.sh: what scripts/test, scripts/demo and scripts/bench share: packages and the build.

# The exact Debian packages authgate builds and tests with (read by the scripts that source this).
# Nothing may be assumed to be on the machine already: every tool a script or a test calls is
# named here. Packages are installed without recommends, so a recommended package a test needs
# is named too (libnet-ssleay-perl: swaks' TLS; man-db: t_manpages; jq, python3: JSON checks;
# m4: the sendmail.mc check; systemd: systemd-analyze verify of the units; curl, msmtp,
# mutt: the client matrix; debhelper, which brings dh-autoreconf and dpkg-dev (no fakeroot:
# Rules-Requires-Root: no), lintian, and git (its copy of the tree is the tracked files):
# t_deb_package builds the .deb).
# shellcheck disable=SC2034
AG_BUILD_PACKAGES=(build-essential autoconf automake pkg-config libssl-dev libmilter-dev
	libpam0g-dev libevent-dev libinih-dev zlib1g-dev libhiredis-dev openssl)
# What the demo runs: Postfix and its tools, a PAM module for the test user, swaks with TLS.
AG_DEMO_PACKAGES=(postfix swaks libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl
	libpam-pwdfile ca-certificates procps psmisc)
# What the whole test suite runs on top of that.
AG_TEST_PACKAGES=("${AG_DEMO_PACKAGES[@]}" miltertest libsasl2-modules sasl2-bin time gzip
	chromium clang libclang-rt-14-dev haproxy rsyslog logrotate man-db groff-base iproute2
	jq python3 m4 systemd curl msmtp mutt debhelper lintian git redis-server
	libwrap0 libdb5.3 libldap-2.5-0 libnsl2 libsasl2-2)
# Sendmail, run by the tests without being installed (Debian's sendmail conflicts with
# postfix): apt-get download + dpkg -x (tests/integration/lib_sendmail.sh). The libraries
# its binary links with are in AG_TEST_PACKAGES.
AG_TEST_DOWNLOADS=(sendmail-bin sendmail-base sendmail-cf)

# ag_apt ARGS...: apt-get that waits (bounded) for another apt/dpkg to finish instead of failing.
ag_apt() {
	local i
	for i in 1 2 3 4 5 6; do
		if apt-get -o DPkg::Lock::Timeout=300 "$@"; then return 0; fi
		echo "authgate: apt-get $1 failed (try $i of 6), waiting for the package system" >&2
		sleep 10
	done
	return 1
}

# ag_install PKG...: apt-get install what is missing; quiet when all is there.
ag_install() {
	local missing=() p
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "authgate: missing packages: ${missing[*]} (run as root, or with sudo, to install them)" >&2
		return 1
	fi
	echo "authgate: installing ${missing[*]}"
	# Postfix must not ask questions nor take over port 25 of this machine:
	# the tests run their own instances with private config directories.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	export DEBIAN_FRONTEND=noninteractive
	ag_apt update -q >/dev/null
	ag_apt install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# ag_download DIR PKG...: the .deb files of PKG into DIR, not installed. apt-get download
# needs the package lists, which a fresh root may not have yet (ag_install updates them only
# when something is missing): update once and retry.
ag_download() {
	local dir=$1
	shift
	mkdir -p "$dir" || return 1
	(cd "$dir" && apt-get -q download "$@" >/dev/null 2>&1) && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "authgate: apt-get download $* failed (as root, the package lists are updated first)" >&2
		return 1
	fi
	ag_apt update -q >/dev/null || return 1
	# As root into a directory _apt cannot write: apt warns and downloads unsandboxed.
	(cd "$dir" && apt-get -o DPkg::Lock::Timeout=300 -q download "$@" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2; exit "${PIPESTATUS[0]}")
}

# ag_build SRCDIR BUILDDIR [configure args...]: autoreconf once, configure, make.
ag_build() {
	local src=$1 build=$2
	shift 2
	if [ ! -x "$src/configure" ] || [ "$src/configure.ac" -nt "$src/configure" ]; then
		(cd "$src" && autoreconf -fi >/dev/null 2>&1) || (cd "$src" && autoreconf -fi)
	fi
	mkdir -p "$build"
	if [ ! -f "$build/Makefile" ]; then
		(cd "$build" && "$src/configure" -q "$@")
	fi
	make -C "$build" -j"$(nproc)" >"$build/make.log" 2>&1 || {
		tail -n 40 "$build/make.log" >&2
		return 1
	}
}
