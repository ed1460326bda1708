# authgate-milter: the libmilter milter (issue 4). Thin: callbacks gather facts, policy/ decides.
sbin_PROGRAMS += milter/authgate-milter
milter_authgate_milter_SOURCES = \
	milter/main.c \
	milter/supervise.c milter/supervise.h \
	milter/state.c \
	milter/callbacks.c milter/callbacks.h \
	milter/message_end.c \
	milter/negotiate.c milter/negotiate.h \
	milter/authres.c \
	milter/routes.c \
	milter/milter.h \
	proxy/startup.c proxy/startup.h \
	proxy/tls.c proxy/tls.h \
	proxy/smtp_parse.c proxy/smtp_parse.h \
	proxy/xclient.c proxy/xclient.h
# proxy/startup.c: -t runs the same user, audit log, address and reachability checks as
# the proxy's (it brings tls.c, OpenSSL and libevent's resolver along, and the backend
# EHLO probe its reply parser and XCLIENT attribute check).
# No autoconf config.h here: its name clashes with policy/config.h (-I order).
milter_authgate_milter_CPPFLAGS = $(AM_CPPFLAGS) -DAG_VERSION='"$(PACKAGE_VERSION)"'
milter_authgate_milter_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(LIBEVENT_CFLAGS)
milter_authgate_milter_LDADD = $(IO_LIBS) $(MILTER_LIBS) $(LIBEVENT_LIBS) $(OPENSSL_LIBS)

# Unit tests for the milter's pure helpers (no libmilter connection needed).
MILTER_TESTS = tests/test_milter_authres tests/test_milter_routes tests/test_milter_callbacks
check_PROGRAMS += $(MILTER_TESTS)
TESTS += $(MILTER_TESTS)
tests_test_milter_authres_SOURCES = tests/test_milter_authres.c milter/authres.c tests/tap.h
tests_test_milter_authres_CFLAGS = $(AM_CFLAGS)
tests_test_milter_authres_LDADD = $(POLICY_LIBS)
tests_test_milter_routes_SOURCES = tests/test_milter_routes.c milter/routes.c tests/tap.h
tests_test_milter_routes_CFLAGS = $(AM_CFLAGS)
tests_test_milter_routes_LDADD = $(POLICY_LIBS)
# The callbacks with libmilter and state.c stubbed in the test itself.
tests_test_milter_callbacks_SOURCES = tests/test_milter_callbacks.c milter/callbacks.c \
	milter/message_end.c milter/authres.c milter/negotiate.c tests/tap.h
tests_test_milter_callbacks_CFLAGS = $(AM_CFLAGS)
tests_test_milter_callbacks_LDADD = $(POLICY_LIBS)

EXTRA_DIST += tests/miltertest
