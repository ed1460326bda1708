/* auditlog.h: the audit log sink the daemons write records to (file or syslog). */
#ifndef AG_IO_AUDITLOG_H
#define AG_IO_AUDITLOG_H

#include "policy/audit.h"

struct ag_audit_log;

/* target: a file path (opened O_WRONLY|O_APPEND|O_CREAT, 0640) or "syslog:FACILITY". */
struct ag_audit_log *audit_log_open(const char *target, const char **why);
/* One write() per record, so concurrent writers never interleave lines. 0 ok, -1 errno set. */
int audit_log_write(struct ag_audit_log *log, const struct ag_audit_record *r);
/* Reopen the file (logrotate, SIGUSR1); on failure the old descriptor stays. */
int audit_log_reopen(struct ag_audit_log *log);
void audit_log_close(struct ag_audit_log *log);

#endif
