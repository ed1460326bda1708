#!/usr/bin/env bash
# lib.sh: what scripts/test, scripts/demo and scripts/bench share: packages and the build.

# The exact Debian packages authgate builds and tests with (read by the scripts that source this).
# shellcheck disable=SC2034
AG_BUILD_PACKAGES=(build-essential autoconf automake pkg-config libssl-dev libmilter-dev
	libpam0g-dev libevent-dev libinih-dev zlib1g-dev openssl)
AG_TEST_PACKAGES=(postfix swaks libpam-pwdfile miltertest libsasl2-modules sasl2-bin
	ca-certificates procps psmisc time gzip chromium clang libclang-rt-14-dev haproxy rsyslog logrotate)

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
		echo "authgate: missing packages: ${missing[*]} (run as root to install them)" >&2
		return 1
	fi
	echo "authgate: installing ${missing[*]}"
	# Postfix must not ask questions nor take over port 25 of this machine:
	# the tests run their own instances with private config directories.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
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
