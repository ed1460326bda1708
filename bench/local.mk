# bench/: the load client, the nginx auth_http endpoint and the TCP_NODELAY shim that
# scripts/bench drives (issue 7). Not installed; built with everything else so they keep
# compiling under -Werror.
noinst_PROGRAMS = bench/smtpload bench/authhttp bench/libnodelay.so bench/nullmilter

bench_smtpload_SOURCES = bench/smtpload.c bench/smtpload_conn.c bench/smtpload_stats.c \
	bench/smtpload.h
bench_smtpload_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(OPENSSL_CFLAGS)
bench_smtpload_LDADD = $(LIBEVENT_LIBS) $(OPENSSL_LIBS)

bench_authhttp_SOURCES = bench/authhttp.c
bench_authhttp_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
bench_authhttp_LDADD = $(LIBEVENT_LIBS) -lcrypt

# The milter protocol's own price: authgate-milter's negotiation, no work (issue 16).
bench_nullmilter_SOURCES = bench/nullmilter.c milter/negotiate.c milter/negotiate.h
bench_nullmilter_CFLAGS = $(AM_CFLAGS)
bench_nullmilter_LDADD = $(MILTER_LIBS) -lpthread

# An LD_PRELOAD object; automake builds shared libraries only through libtool, so it is a
# "program" linked with -shared.
bench_libnodelay_so_SOURCES = bench/nodelay.c
bench_libnodelay_so_CFLAGS = $(AM_CFLAGS) -fPIC
bench_libnodelay_so_LDFLAGS = $(AM_LDFLAGS) -shared
bench_libnodelay_so_LDADD = -ldl

EXTRA_DIST += bench/RESULTS.md bench/peers.sh bench/measure.sh bench/profile.sh bench/report.sh \
	bench/shared_auth.sh bench/milter.sh bench/milter-cost
