/* milter.h: what the authgate-milter files share: process state, logging, callbacks, routes. */
#ifndef AG_MILTER_H
#define AG_MILTER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libmilter/mfapi.h>

#include "io/auditlog.h"
#include "io/configfile.h"
#include "policy/config.h"

#ifndef AG_VERSION
#define AG_VERSION "unknown"
#endif

#define MILTER_NAME "authgate-milter"
#define MILTER_LOG_FIELD 256 /* a client string in a log line, escaped, at most this long */

/* state.c: the one piece of process-wide state, behind locks. */

/* Install the first configuration and audit log (takes the caller's config reference). */
void state_init(struct ag_config *cfg, struct ag_audit_log *audit);
/* A reference to the current snapshot; the caller config_unref()s it. Never NULL after init. */
struct ag_config *state_config_get(void);
/*
 * SIGHUP: load path, and swap it in only if it is valid; a changed audit_log
 * target is opened first so a bad one also keeps the old configuration.
 * 0 swapped, -1 refused (logged).
 */
int state_reload(const char *path);
/* SIGUSR1 (logrotate). */
void state_audit_reopen(void);
/* One audit record (ts_ms and component are filled in here); failures are logged, not fatal. */
void state_audit_write(struct ag_audit_record *r);
/* Connections in flight, so SIGTERM can let them finish (bounded by shutdown_grace). */
void state_conn_enter(void);
void state_conn_leave(void);
bool state_conn_drain(unsigned seconds);
void state_shutdown(void);

/* log.c-like helpers, also in state.c */
void milter_log_open(bool foreground);
void milter_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Client-supplied text made safe for one log line: \xHH for bytes outside printable ASCII. */
const char *milter_escape(const char *in, char *out, size_t outlen);

/* callbacks.c: the libmilter callbacks. */
extern struct smfiDesc milter_desc;

/* routes.c: -T, the MTA routing table for the protected lists. */
enum routes_format {
	ROUTES_POSTFIX,	       /* both tables, with the main.cf lines as comments */
	ROUTES_POSTFIX_HASH,   /* only the exact addresses: input for postmap */
	ROUTES_POSTFIX_REGEXP, /* only the wildcard patterns: a regexp: table */
	ROUTES_SENDMAIL,
};
int routes_parse_format(const char *s, enum routes_format *out);
/* 0, or -1 with *why (no hub, a pattern that cannot be written). */
int routes_print(const struct ag_config *c, enum routes_format fmt, FILE *out, const char **why);
/* "students-*@example.ac.uk" -> "^students-.*@example\.ac\.uk$"; -1 if it does not fit. */
int routes_pattern_regex(const char *pattern, char *buf, size_t len);

/* authres.c: Authentication-Results (RFC 8601) handling, no libmilter types. */
#define AUTHRES_HEADER "Authentication-Results"
/* Is the header's authserv-id (before the first ';', trimmed) ours? Case-insensitive. */
bool authres_is_ours(const char *value, const char *authserv_id);
/* Is it exactly what we would write for this user (whitespace and case of keywords aside)? */
bool authres_matches(const char *value, const char *authserv_id, const char *user);
/* "<id>; auth=pass smtp.auth=<user>"; length or -1. */
int authres_format(const char *authserv_id, const char *user, char *buf, size_t len);
/* An SMTP login fit for a header: printable ASCII without spaces, ';', '(' or quotes. */
bool authres_user_ok(const char *user);

#endif
