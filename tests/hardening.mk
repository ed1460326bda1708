# tests/hardening.mk: unit tests for the hardening modules (issue 6) and the fuzzing kit.
# The proxy modules are compiled straight into their tests: they need no daemon around them.
HARDENING_TESTS = \
	tests/test_policy_authlimit \
	tests/test_proxy_proxyproto \
	tests/test_proxy_authcache
check_PROGRAMS += $(HARDENING_TESTS)
TESTS += $(HARDENING_TESTS)

tests_test_policy_authlimit_SOURCES = tests/test_policy_authlimit.c tests/tap.h
tests_test_policy_authlimit_LDADD = $(POLICY_LIBS)

tests_test_proxy_proxyproto_SOURCES = tests/test_proxy_proxyproto.c tests/tap.h \
	proxy/proxyproto.c proxy/proxyproto.h
tests_test_proxy_proxyproto_LDADD = $(POLICY_LIBS)

tests_test_proxy_authcache_SOURCES = tests/test_proxy_authcache.c tests/tap.h \
	proxy/authcache.c proxy/authcache.h
tests_test_proxy_authcache_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_test_proxy_authcache_LDADD = $(OPENSSL_LIBS)

# libFuzzer targets are built by scripts/fuzz (clang only), not by make; ship their sources.
EXTRA_DIST += tests/fuzz tests/FUZZING.md
