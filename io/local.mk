# libagio: the daemons' shared I/O next to the pure core: the audit log sink (file or
# syslog, reopened on SIGUSR1) and reading authgate.conf from its file. policy/ builds
# records and parses text; it opens nothing.
noinst_LIBRARIES += io/libagio.a
io_libagio_a_SOURCES = \
	io/auditlog.c io/auditlog.h \
	io/configfile.c io/configfile.h

IO_LIBS = io/libagio.a $(POLICY_LIBS)
