# libauthgate: the policy core. Pure C: no sockets, no event loop, no libmilter.
noinst_LIBRARIES += policy/libauthgate.a
policy_libauthgate_a_SOURCES = \
	policy/config.c policy/config.h policy/config_priv.h \
	policy/config_value.c policy/config_keys.c \
	policy/net.c policy/net.h policy/match.c \
	policy/address.c policy/address.h \
	policy/decide.c policy/decide.h \
	policy/reply.c policy/reply.h \
	policy/audit.c policy/audit.h \
	policy/authlimit.c policy/authlimit.h \
	policy/authshare.c policy/authshare.h \
	policy/utf8.c policy/utf8.h \
	policy/esmtp.c policy/esmtp.h \
	policy/authres_id.c policy/authres_id.h \
	policy/escape.c policy/escape.h
policy_libauthgate_a_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS)

POLICY_LIBS = policy/libauthgate.a $(INIH_LIBS)

# Unit tests, one per module (TAP).
POLICY_TESTS = \
	tests/test_policy_config \
	tests/test_policy_net \
	tests/test_policy_address \
	tests/test_policy_decide \
	tests/test_policy_reply \
	tests/test_policy_audit \
	tests/test_policy_authres_id \
	tests/test_policy_escape \
	tests/test_policy_esmtp
check_PROGRAMS += $(POLICY_TESTS)
TESTS += $(POLICY_TESTS)
tests_test_policy_config_SOURCES = tests/test_policy_config.c tests/tap.h
tests_test_policy_config_LDADD = $(IO_LIBS)
tests_test_policy_net_SOURCES = tests/test_policy_net.c tests/tap.h
tests_test_policy_net_LDADD = $(POLICY_LIBS)
tests_test_policy_address_SOURCES = tests/test_policy_address.c tests/tap.h
tests_test_policy_address_LDADD = $(POLICY_LIBS)
tests_test_policy_decide_SOURCES = tests/test_policy_decide.c tests/tap.h
tests_test_policy_decide_LDADD = $(POLICY_LIBS)
tests_test_policy_reply_SOURCES = tests/test_policy_reply.c tests/tap.h
tests_test_policy_reply_LDADD = $(POLICY_LIBS)
tests_test_policy_audit_SOURCES = tests/test_policy_audit.c tests/tap.h
tests_test_policy_audit_LDADD = $(IO_LIBS)
tests_test_policy_authres_id_SOURCES = tests/test_policy_authres_id.c tests/tap.h
tests_test_policy_authres_id_LDADD = $(POLICY_LIBS)
tests_test_policy_escape_SOURCES = tests/test_policy_escape.c tests/tap.h
tests_test_policy_escape_LDADD = $(POLICY_LIBS)
tests_test_policy_esmtp_SOURCES = tests/test_policy_esmtp.c tests/tap.h
tests_test_policy_esmtp_LDADD = $(POLICY_LIBS)
