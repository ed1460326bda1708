/* smtp_parse.h: SMTP line framing, command and reply parsing (pure, no I/O). */
#ifndef AG_SMTP_PARSE_H
#define AG_SMTP_PARSE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define SMTP_MAX_COMMAND_LINE 512  /* RFC 5321 4.5.3.1.4, including CRLF */
#define SMTP_MAX_TEXT_LINE 1000    /* RFC 5321 4.5.3.1.6, including CRLF */
#define SMTP_MAX_SASL_LINE 12288   /* RFC 4954 4, including CRLF */
#define SMTP_MAX_REPLY_LINE 512    /* RFC 5321 4.5.3.1.5, including CRLF */

enum smtp_verb {
	SMTP_CMD_UNKNOWN = 0,
	SMTP_CMD_HELO,
	SMTP_CMD_EHLO,
	SMTP_CMD_STARTTLS,
	SMTP_CMD_AUTH,
	SMTP_CMD_MAIL,
	SMTP_CMD_RCPT,
	SMTP_CMD_DATA,
	SMTP_CMD_RSET,
	SMTP_CMD_NOOP,
	SMTP_CMD_QUIT,
	SMTP_CMD_HELP,
	SMTP_CMD_VRFY,
	SMTP_CMD_EXPN,
	SMTP_CMD_COUNT
};

enum smtp_line_status {
	SMTP_LINE_NEED_MORE = 0, /* no LF yet and still within the limit */
	SMTP_LINE_OK,            /* a complete line within the limit */
	SMTP_LINE_TOO_LONG,      /* a complete line, or a prefix, over the limit */
};

/*
 * Look for one line at the start of buf (len bytes available). limit counts
 * the line terminator as two octets (CRLF), as RFC 5321 does. On OK, *linelen
 * is the number of bytes to consume (through the LF) and *textlen the length
 * without CR/LF. On TOO_LONG with a complete line, *linelen is set (consume
 * it); without one (*linelen == 0) the caller discards what it has and keeps
 * discarding up to the next LF.
 */
enum smtp_line_status smtp_line_find(const char *buf, size_t len, size_t limit, size_t *linelen,
				     size_t *textlen);

/*
 * RFC 5321 2.3.8: CR and LF may appear in message text only together, as
 * CRLF. A bare LF or CR is how SMTP smuggling (CVE-2023-51764 class) makes
 * one server see the end of DATA where the next one does not, so message text
 * with either is refused, never passed on or "repaired"; so is NUL, which no
 * text may hold (RFC 5322 2.3) and which some servers drop. text is a line
 * without its terminator (smtp_line_find's textlen); crlf says whether that
 * terminator was CRLF rather than a bare LF.
 */
enum smtp_text_fault {
	SMTP_TEXT_OK = 0,
	SMTP_TEXT_BARE_LF, /* the line ended in LF without CR */
	SMTP_TEXT_BARE_CR, /* a CR inside the line not followed by LF */
	SMTP_TEXT_NUL,     /* a NUL: "CRLF NUL . CRLF" ends DATA for a server that drops NULs */
};
enum smtp_text_fault smtp_text_check(const char *text, size_t len, bool crlf);

/*
 * Is this line the end of DATA? Only ".", ended by CRLF, right after a line
 * that was itself ended by CRLF (or right after the 354): CRLF "." CRLF and
 * nothing else (RFC 5321 4.1.1.4). "\n.\n", "\n.\r\n" and "\r\n.\n" are
 * text, and the message that holds them is refused at the real end.
 */
bool smtp_data_end(const char *text, size_t len, bool crlf, bool prev_crlf);

/*
 * The length limit for the command line starting at buf (avail bytes so far):
 * SMTP_MAX_SASL_LINE for "AUTH " (RFC 4954 4: the initial response rides on
 * the command line and may be as long as any SASL response), else
 * SMTP_MAX_COMMAND_LINE.
 */
size_t smtp_command_limit(const char *buf, size_t avail);

struct smtp_command {
	enum smtp_verb verb;
	const char *verb_text; /* the word as given, not NUL-terminated */
	size_t verb_len;
	const char *args;      /* after the verb and its separating spaces; "" if none */
	size_t args_len;       /* trailing spaces removed */
};

/* Split a line (without CRLF) into verb and arguments; verbs are case-insensitive. */
void smtp_command_parse(const char *line, size_t len, struct smtp_command *cmd);
const char *smtp_verb_name(enum smtp_verb v);

/*
 * If args starts with prefix (case-insensitive, e.g. "FROM:"), return the rest
 * and set *restlen; else NULL.
 */
const char *smtp_args_after(const char *args, size_t len, const char *prefix, size_t *restlen);

/*
 * One reply line from a server, without CRLF: "250-text" or "250 text" or "250".
 * Returns 0 with *code (200..599) and *last (no '-' continuation), -1 if malformed.
 */
int smtp_reply_parse(const char *line, size_t len, int *code, bool *last);

/*
 * fmt, then CRLF, into buf (len > 2; no NUL after it): the length, or -1 if vsnprintf fails
 * or, without cut, the line does not fit. With cut, a long line is shortened to fit: for
 * reply text only, since a shortened command would say something else.
 */
int smtp_vformat_line(char *buf, size_t len, bool cut, const char *fmt, va_list ap);

#endif
