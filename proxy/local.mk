# authgate-proxy: the TLS submission proxy (465 implicit TLS, 587 STARTTLS) in front of Postfix.
sbin_PROGRAMS += proxy/authgate-proxy
proxy_authgate_proxy_SOURCES = \
	proxy/main.c proxy/server.h \
	proxy/listener.c proxy/listener.h \
	proxy/tls.c proxy/tls.h \
	proxy/tls_tickets.c proxy/tls_tickets.h \
	proxy/log.c proxy/log.h \
	proxy/memtrim.c proxy/memtrim.h \
	proxy/session.c proxy/session.h \
	proxy/session_line.c \
	proxy/session_cmd.c \
	proxy/session_auth.c \
	proxy/session_data.c \
	proxy/session_proxy.c \
	proxy/session_name.c \
	proxy/rdns.c proxy/rdns.h \
	proxy/rdns_cache.c proxy/rdns_cache.h \
	proxy/proxyproto.c proxy/proxyproto.h \
	proxy/authcache.c proxy/authcache.h \
	proxy/sharedstate.c proxy/sharedstate.h \
	proxy/startup.c proxy/startup.h \
	proxy/relay.c proxy/relay.h proxy/relay_priv.h \
	proxy/relay_dialogue.c \
	proxy/relay_queue.c \
	proxy/relay_keep.c \
	proxy/relay_out.c proxy/relay_out.h \
	proxy/backend_caps.c proxy/backend_caps.h \
	proxy/smtp_parse.c proxy/smtp_parse.h \
	proxy/auth.c proxy/auth.h \
	proxy/msgfilter.c proxy/msgfilter.h \
	proxy/xclient.c proxy/xclient.h \
	proxy/privsep.c proxy/privsep.h \
	proxy/privsep_proc.c proxy/privsep_proc.h \
	proxy/privsep_worker.c \
	proxy/privsep_key.c proxy/privsep_key.h \
	proxy/server_checks.c
proxy_authgate_proxy_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(LIBEVENT_CFLAGS) $(HIREDIS_CFLAGS) \
	-DAG_VERSION='"$(PACKAGE_VERSION)"'
proxy_authgate_proxy_LDADD = $(IO_LIBS) $(LIBEVENT_LIBS) $(HIREDIS_LIBS) $(OPENSSL_LIBS) $(PAM_LIBS)

# Unit tests of the pure parts (TAP).
PROXY_TESTS = \
	tests/test_proxy_parse \
	tests/test_proxy_auth \
	tests/test_proxy_msgfilter \
	tests/test_proxy_xclient \
	tests/test_proxy_rdns_cache
check_PROGRAMS += $(PROXY_TESTS)
TESTS += $(PROXY_TESTS)
tests_test_proxy_parse_SOURCES = tests/test_proxy_parse.c tests/tap.h \
	proxy/smtp_parse.c proxy/smtp_parse.h
tests_test_proxy_auth_SOURCES = tests/test_proxy_auth.c tests/tap.h proxy/auth.c proxy/auth.h
tests_test_proxy_msgfilter_SOURCES = tests/test_proxy_msgfilter.c tests/tap.h \
	proxy/msgfilter.c proxy/msgfilter.h
tests_test_proxy_msgfilter_LDADD = $(POLICY_LIBS)
tests_test_proxy_xclient_SOURCES = tests/test_proxy_xclient.c tests/tap.h \
	proxy/xclient.c proxy/xclient.h
tests_test_proxy_rdns_cache_SOURCES = tests/test_proxy_rdns_cache.c tests/tap.h \
	proxy/rdns_cache.c proxy/rdns_cache.h
