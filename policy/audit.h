/* audit.h: JSON-lines audit records (INTERFACE.md schema) and the append-only log they go to. */
#ifndef AG_AUDIT_H
#define AG_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#define AG_AUDIT_MAX_RECORD 65536 /* one record, one write(); longer ones are cut at rcpts */

/*
 * The record's plain text fields (INTERFACE.md schema), each a JSON string under its own
 * name: this writer's struct and authgate-audit's reader (audit/jsonl.h, its key table) are
 * both declared from this one list.
 */
#define AG_AUDIT_TEXT_FIELDS(X)                                                                    \
	X(session)                                                                                 \
	X(client_ip)                                                                               \
	X(auth_user)                                                                               \
	X(tls)                                                                                     \
	X(mail_from)                                                                               \
	X(backend)                                                                                 \
	X(backend_reply)                                                                           \
	X(queue_id)                                                                                \
	X(phase)                                                                                   \
	X(route)                                                                                   \
	X(reason)                                                                                  \
	X(helo)
#define AG_AUDIT_DECLARE_TEXT(name) const char *name;

/* Fields left NULL (or size < 0) are omitted from the record. */
struct ag_audit_record {
	int64_t ts_ms;	       /* Unix milliseconds; the caller reads the clock */
	const char *component; /* "proxy" | "milter" */
	const char *event;     /* connect | auth | message | reject | tempfail */
	const char *action;    /* accept | reject | tempfail | tag */
	const char *const *rcpts;
	size_t nrcpts;
	int64_t size; /* -1: omitted */
	/* auth: "shared" (Redis counters) or "local" (fallback); NULL: no shared_state */
	const char *limits;
	AG_AUDIT_TEXT_FIELDS(AG_AUDIT_DECLARE_TEXT)
};

/* "2026-11-23T10:00:00.123Z"; buf of at least 32 bytes. */
void audit_format_time(int64_t ts_ms, char *buf, size_t len);

/*
 * One JSON object and "\n". Strings are escaped (quotes, backslash, control
 * characters as \u00XX, invalid UTF-8 bytes as U+FFFD). Returns the length,
 * or -1 if the record does not fit in len.
 */
int audit_format_record(const struct ag_audit_record *r, char *buf, size_t len);

/*
 * The same, but a record too long for len still yields a line: the recipient list is
 * cut (the reason says so), and failing that only who, what and the decision remain.
 */
int audit_format_record_fitting(const struct ag_audit_record *r, char *buf, size_t len);

#endif
