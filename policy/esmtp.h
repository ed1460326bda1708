/* esmtp.h: the ESMTP extensions we pass through: EHLO keywords learnt, MAIL/RCPT parameters
 * validated. */
#ifndef AG_ESMTP_H
#define AG_ESMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_MAX_ENVID 100 /* RFC 3461 4.4: ENVID at most 100 characters (xtext encoded) */
#define AG_MAX_ORCPT 500 /* RFC 3461 4.2: ORCPT at most 500 characters (xtext encoded) */

/* What one backend (or every backend, intersected) offers in its EHLO reply. */
struct ag_esmtp_caps {
	bool size;	     /* SIZE keyword present */
	uint64_t size_limit; /* its value; 0 = no fixed limit (RFC 1870 4) */
	bool smtputf8;	     /* RFC 6531 */
	bool dsn;	     /* RFC 3461 */
};

/* One line of an EHLO reply ("250-SIZE 1000" or "250 DSN"): note what it offers. */
void esmtp_caps_line(struct ag_esmtp_caps *caps, const char *line, size_t len);

#define AG_NOTIFY_NEVER 0x01
#define AG_NOTIFY_SUCCESS 0x02
#define AG_NOTIFY_FAILURE 0x04
#define AG_NOTIFY_DELAY 0x08

enum ag_dsn_ret { AG_RET_NONE = 0, AG_RET_FULL, AG_RET_HDRS };

/* MAIL FROM parameters, validated. Only these are ever passed on, rebuilt from the fields. */
struct ag_mail_params {
	bool has_size;
	uint64_t size;
	bool body_8bit; /* BODY=8BITMIME (BODY=7BIT: false) */
	bool smtputf8;	/* SMTPUTF8 */
	enum ag_dsn_ret ret;
	char envid[AG_MAX_ENVID + 1]; /* xtext as given (validated), "" if none */
};

/* RCPT TO parameters, validated. */
struct ag_rcpt_params {
	unsigned notify;	      /* AG_NOTIFY_*, 0 if none */
	char orcpt[AG_MAX_ORCPT + 1]; /* "rfc822;xtext" as given (validated), "" if none */
};

/* What the session allows for this transaction (what its EHLO advertised). */
struct ag_esmtp_allow {
	bool smtputf8;
	bool dsn;
};

/*
 * Outcome of a parameter parse: AG_PARAM_OK, or the reply the client should get.
 * SYNTAX: 501 5.5.4 (a known parameter with a bad value, or given twice);
 * UNSUPPORTED: 555 5.5.4 (RFC 5321 4.1.1.11, RFC 1869 6: a keyword not advertised).
 */
enum ag_param_result { AG_PARAM_OK = 0, AG_PARAM_SYNTAX, AG_PARAM_UNSUPPORTED };

/*
 * Parse "SIZE=10 BODY=8BITMIME ..." after the path. On failure *why is a
 * constant and *bad (if not NULL) points at the offending parameter in params.
 */
enum ag_param_result esmtp_parse_mail_params(const char *params, const struct ag_esmtp_allow *allow,
					     struct ag_mail_params *out, const char **why,
					     const char **bad);
enum ag_param_result esmtp_parse_rcpt_params(const char *params, const struct ag_esmtp_allow *allow,
					     struct ag_rcpt_params *out, const char **why,
					     const char **bad);

/* Format the validated parameters for the backend, each with a leading space. -1 if too long. */
int esmtp_format_mail_params(const struct ag_mail_params *p, bool with_size, bool with_8bit,
			     char *buf, size_t len);
int esmtp_format_rcpt_params(const struct ag_rcpt_params *p, char *buf, size_t len);

/* xtext (RFC 3461 4): printable ASCII other than "+" and "=", and "+" two upper-case hex digits. */
bool esmtp_is_xtext(const char *s, size_t len);

#endif
