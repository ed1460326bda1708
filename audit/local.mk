# authgate-audit: reads the JSON-lines audit log (who, unauth, trend, html).
# Everything but main.c is a library, so the unit tests link the same code.
noinst_LIBRARIES += audit/libaudit.a
audit_libaudit_a_SOURCES = \
	audit/jsonl.c audit/jsonl.h \
	audit/jsonl_lex.c audit/jsonl_lex.h \
	audit/timeutil.c audit/timeutil.h \
	audit/files.c audit/files.h \
	audit/reader.c audit/reader.h \
	audit/table.c audit/table.h \
	audit/join.c audit/join.h \
	audit/filter.c audit/cmd.h \
	audit/output.c audit/output.h \
	audit/who.c \
	audit/unauth.c audit/agg.h \
	audit/trend.c \
	audit/chart.c audit/chart.h \
	audit/html.c \
	audit/html_page.c audit/html_page.h

bin_PROGRAMS += audit/authgate-audit
audit_authgate_audit_SOURCES = audit/main.c
# Not config.h: autoconf's would shadow policy/config.h, so the version comes in as a define.
audit_authgate_audit_CPPFLAGS = $(AM_CPPFLAGS) -DAG_VERSION='"$(PACKAGE_VERSION)"'
audit_authgate_audit_LDADD = audit/libaudit.a $(IO_LIBS) $(Z_LIBS)

AUDIT_TESTS = tests/test_audit_jsonl tests/test_audit_join tests/test_audit_output
check_PROGRAMS += $(AUDIT_TESTS)
TESTS += $(AUDIT_TESTS)
tests_test_audit_jsonl_SOURCES = tests/test_audit_jsonl.c tests/tap.h
tests_test_audit_jsonl_LDADD = audit/libaudit.a $(POLICY_LIBS) $(Z_LIBS)
tests_test_audit_join_SOURCES = tests/test_audit_join.c tests/tap.h
tests_test_audit_join_LDADD = audit/libaudit.a $(POLICY_LIBS) $(Z_LIBS)
tests_test_audit_output_SOURCES = tests/test_audit_output.c tests/tap.h
tests_test_audit_output_LDADD = audit/libaudit.a $(POLICY_LIBS) $(Z_LIBS)

EXTRA_DIST += audit/README.md
