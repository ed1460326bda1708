/* reply.h: the one table of SMTP replies authgate gives (INTERFACE.md), code + enhanced code + text. */
#ifndef AG_REPLY_H
#define AG_REPLY_H

#include <stdbool.h>
#include <stddef.h>

struct ag_config;

enum ag_reply_id {
	AG_REPLY_NONE = 0,
	AG_REPLY_AUTH_ENCRYPTION_REQUIRED, /* 538 5.7.11 */
	AG_REPLY_AUTH_REQUIRED,            /* 530 5.7.0 (+ help_url) */
	AG_REPLY_AUTH_INVALID,             /* 535 5.7.8 */
	AG_REPLY_AUTH_TEMPFAIL,            /* 454 4.7.0 */
	AG_REPLY_AUTH_TOO_MANY,            /* 421 4.7.0, then close */
	AG_REPLY_AUTH_UNKNOWN_MECH,        /* 504 5.5.4 */
	AG_REPLY_AUTH_BAD_BASE64,          /* 501 5.5.2 */
	AG_REPLY_AUTH_LINE_TOO_LONG,       /* 500 5.5.6 */
	AG_REPLY_AUTH_CANCELLED,           /* 501 5.0.0 */
	AG_REPLY_AUTH_ALREADY,             /* 503 5.5.1 */
	AG_REPLY_AUTH_OK,                  /* 235 2.7.0 */
	AG_REPLY_SENDER_NOT_OWNED,         /* 553 5.7.1 */
	AG_REPLY_NO_BACKEND,               /* 451 4.4.1 */
	AG_REPLY_RELAY_AUTH_REQUIRED,      /* 530 5.7.0 (+ help_url) */
	AG_REPLY_LIST_AUTH_ONLY,           /* 550 5.7.1 (+ help_url) */
	AG_REPLY_LINE_TOO_LONG,            /* 500 5.5.2 */
	AG_REPLY_MESSAGE_TOO_BIG,          /* 552 5.3.4 */
	AG_REPLY_BAD_ADDRESS,              /* 501 5.1.7 (sender) */
	AG_REPLY_BAD_RCPT_ADDRESS,         /* 501 5.1.3 */
	AG_REPLY_BARE_NEWLINE,             /* 554 5.6.0 bare CR or LF, or NUL, in DATA */
	AG_REPLY_LEADING_FOLD,             /* 554 5.6.0 first text line is a continuation */
	AG_REPLY_XCLIENT_UNAVAILABLE,      /* 451 4.7.0 no backend takes XCLIENT LOGIN/ADDR */
	AG_REPLY_SMTPUTF8_REQUIRED,        /* 553 5.6.7 UTF-8 address without SMTPUTF8 */
	AG_REPLY_COUNT
};

struct ag_reply {
	int code;
	const char *enhanced;
	const char *text;
	bool with_help; /* append help_url when configured */
};

const struct ag_reply *reply_get(enum ag_reply_id id);

/*
 * "530 5.7.0 Authentication required (see https://...)" without CRLF.
 * cfg may be NULL (no help_url). Returns length, or -1 if it did not fit.
 */
int reply_format(const struct ag_config *cfg, enum ag_reply_id id, char *buf, size_t len);
/* Only the text part (with the help URL): what a milter passes to smfi_setreply. */
int reply_format_text(const struct ag_config *cfg, enum ag_reply_id id, char *buf, size_t len);

#endif
