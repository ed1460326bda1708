# libagio: the daemons' shared I/O next to the pure core: the audit log sink (file or
# syslog, reopened on SIGUSR1), reading authgate.conf from its file, the command-line flags
# both daemons take and the privilege drop. policy/ builds records and parses text; it
# opens nothing.
noinst_LIBRARIES += io/libagio.a
io_libagio_a_SOURCES = \
	io/auditlog.c io/auditlog.h \
	io/configfile.c io/configfile.h \
	io/daemon_opts.c io/daemon_opts.h \
	io/journal.c io/journal.h \
	io/privdrop.c io/privdrop.h

IO_LIBS = io/libagio.a $(POLICY_LIBS)

check_PROGRAMS += tests/test_io_journal
TESTS += tests/test_io_journal
tests_test_io_journal_SOURCES = tests/test_io_journal.c tests/tap.h
tests_test_io_journal_LDADD = io/libagio.a
