/* escape.h: how untrusted bytes are written into a log line and into a JSON string (once, here). */
#ifndef AG_ESCAPE_H
#define AG_ESCAPE_H

#include <stddef.h>

/* Room for len input bytes, each escaped, plus the "..." of a cut and the NUL. */
#define ESCAPE_LOG_SIZE(len) ((len)*4 + 4)

/*
 * For a log line (STYLE.md rule 11): printable ASCII stays as it is, except
 * the characters our log lines put around client text, '"', '[' and ']', and
 * the escape character '\'; every other byte (controls, CR, LF, DEL, 8-bit,
 * NUL) becomes "\xHH". So a login such as
 *	x" from [203.0.113.9]: authentication failure
 * cannot end its quotes or plant an address for fail2ban-style readers, and
 * a line is always one line. Output longer than outlen is cut and ends in
 * "...". in may be NULL ("-"). Returns out (or "" when outlen is 0).
 */
const char *escape_log(const char *in, size_t len, char *out, size_t outlen);
/* The same for a NUL-terminated string. */
const char *escape_log_str(const char *in, char *out, size_t outlen);

/*
 * A JSON string (RFC 8259 7), quotes included, handed out piecewise to put:
 * '"', '\', and control characters escaped, valid UTF-8 kept, every invalid
 * byte replaced by U+FFFD (log readers are often not UTF-8 clean). The one
 * writer of the audit records (policy/audit.c) and of authgate-audit's JSON.
 */
typedef void (*escape_put_fn)(void *arg, const char *s, size_t n);
void escape_json(const char *str, escape_put_fn put, void *arg);

#endif
