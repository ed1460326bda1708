/* log.h: one line per event to syslog (LOG_MAIL), and to stderr in the foreground. */
#ifndef AG_PROXY_LOG_H
#define AG_PROXY_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

void log_init(const char *ident, bool to_stderr);
/* sid: session id put first on the line, or NULL for process events. */
void log_msg(int prio, const char *sid, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Client-supplied bytes made safe for a log line: control characters,
 * backslash and 8-bit bytes become \xHH; cut with "..." when out is full.
 */
void log_escape(const char *in, size_t len, char *out, size_t outlen);

#endif
