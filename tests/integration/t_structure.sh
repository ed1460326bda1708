#!/usr/bin/env bash
# t_structure: the rules of the tree that a reviewer would otherwise check by eye.
#   - policy/ is the pure core: no socket, file, syslog or thread headers or calls
#     (not even arpa/inet.h: IP text forms are parsed here, checked against inet_pton
#     by fuzz_net); io/ and the daemons do the I/O.
#   - one file, one job: no source file of the programs over 600 lines.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"

src=$AG_SRCDIR

# policy/ includes no I/O header.
impure_includes() {
	grep -nE '#include <(sys/socket|netinet/[a-z_]+|arpa/[a-z_]+|netdb|syslog|pthread|fcntl|unistd|sys/stat|dirent|poll|sys/epoll|event2/[a-z_]+|libmilter/[a-z_]+|security/[a-z_]+|openssl/[a-z_]+)\.h>' \
		"$src"/policy/*.c "$src"/policy/*.h && return 1
	return 0
}
check "policy/ includes no socket, file, syslog, thread, event, milter, PAM or TLS header" -- impure_includes

# ... and calls none of them (a call through another header would still be I/O).
impure_calls() {
	grep -nE '\b(fopen|open|openat|creat|socket|connect|bind|listen|accept|syslog|openlog|pthread_create|fork|exec[lv]p?e?|popen|system|read|write)\(' \
		"$src"/policy/*.c && return 1
	return 0
}
check "policy/ opens no file or socket, writes no log, starts no thread or process" -- impure_calls

# One file, one job.
too_long() {
	local f n bad=0
	for f in "$src"/policy/*.[ch] "$src"/io/*.[ch] "$src"/proxy/*.[ch] "$src"/milter/*.[ch] \
		"$src"/audit/*.[ch]; do
		n=$(wc -l <"$f")
		if [ "$n" -gt 600 ]; then
			echo "${f#"$src"/}: $n lines"
			bad=1
		fi
	done
	return $bad
}
check "no source file of the programs is over 600 lines" -- too_long

tap_done
