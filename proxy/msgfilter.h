/* msgfilter.h: the header-section filter and the trace headers the proxy adds (pure). */
#ifndef AG_MSGFILTER_H
#define AG_MSGFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSGFILTER_MAX_HELD 8192 /* an Authentication-Results header held for a decision */
#define AG_MSGFILTER_USER_MAX 260 /* a login (256) in a header, sanitised */

/*
 * Receives the message lines (dot-unstuffed, without CRLF) and passes on all
 * but the Authentication-Results headers carrying our authserv-id (RFC 8601
 * section 5), folded continuation lines included, in the header section only.
 * A header is held back only while its authserv-id is not yet known.
 */
struct msgfilter {
	const char *authserv_id;
	bool in_header;   /* still in the header section */
	bool dropping;    /* inside a removed header: drop continuation lines */
	bool holding;     /* an A-R header whose authserv-id we have not seen yet */
	char held[MSGFILTER_MAX_HELD];
	size_t held_len;  /* lines, each followed by '\n' */
	unsigned removed; /* headers removed, for the log */
	bool started;     /* a line has been seen */
};

/*
 * msgfilter_line's answer when the message's first line begins with white
 * space: it would continue the last header the proxy wrote above it (an
 * Authentication-Results of ours gaining " dkim=pass ..."), so the message
 * is refused; nothing of the line is passed on.
 */
#define MSGFILTER_LEADING_FOLD 1

/* Called for every line passed on (without CR); non-zero stops the filter with that value. */
typedef int (*msgfilter_emit_fn)(void *arg, const char *line, size_t len);

void msgfilter_init(struct msgfilter *f, const char *authserv_id);
/*
 * One line without CRLF (a trailing CR is tolerated). Returns 0, the emit
 * error (negative), or MSGFILTER_LEADING_FOLD.
 */
int msgfilter_line(struct msgfilter *f, const char *line, size_t len, msgfilter_emit_fn emit,
		   void *arg);
/* End of message: release anything held. */
int msgfilter_finish(struct msgfilter *f, msgfilter_emit_fn emit, void *arg);

/*
 * If line is an Authentication-Results header (case-insensitive name), is its
 * authserv-id equal to id? Exposed for tests. Returns 1 yes, 0 no or not A-R,
 * -1 not decidable yet (the id is not complete in text).
 */
int msgfilter_ar_is_ours(const char *text, size_t len, const char *id);

/* RFC 3848 protocol name: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA. */
const char *msgfilter_protocol(bool esmtp, bool tls, bool auth);

struct msgfilter_received {
	const char *helo;        /* client's HELO/EHLO argument */
	const char *rdns;        /* NULL: "unknown", as Postfix writes */
	const char *client_ip;   /* text form */
	bool client_ipv6;
	const char *hostname;    /* ours */
	const char *protocol;    /* msgfilter_protocol() */
	const char *id;          /* session id */
	const char *tls_version; /* NULL without TLS */
	const char *tls_cipher;
	const char *auth_user;   /* NULL without AUTH */
	int64_t now;             /* Unix seconds */
};

/* The Received header, folded as in INTERFACE.md, ending in CRLF. Length or -1. */
int msgfilter_build_received(const struct msgfilter_received *r, char *buf, size_t len);
/* "Authentication-Results: ID; auth=pass smtp.auth=USER" + CRLF. Length or -1. */
int msgfilter_build_auth_results(const char *authserv_id, const char *user, char *buf,
				 size_t len);

#endif
