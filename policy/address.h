/* address.h: RFC 5321 MAIL FROM / RCPT TO argument parsing with length limits. */
#ifndef AG_ADDRESS_H
#define AG_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#define AG_MAX_LOCAL 64   /* RFC 5321 4.5.3.1.1 */
#define AG_MAX_DOMAIN 255 /* RFC 5321 4.5.3.1.2 */
#define AG_MAX_PATH 256   /* RFC 5321 4.5.3.1.3, including the angle brackets */

struct ag_address {
	bool null_path;                 /* "<>" */
	char local[AG_MAX_LOCAL + 1];   /* local part, quotes removed, escapes resolved */
	char domain[AG_MAX_DOMAIN + 1]; /* as given (not lower-cased); "" for null path */
	char addr[AG_MAX_PATH + 1];     /* canonical "local@domain" (local re-quoted if needed), "" for <> */
	bool utf8;                      /* the path holds non-ASCII (only with AG_ADDR_UTF8) */
	size_t params_off;              /* offset in the input of the ESMTP parameters ("" if none) */
};

/*
 * Parse the argument after "MAIL FROM:" or "RCPT TO:", e.g. " <a@b> SIZE=10".
 * Accepts optional spaces after the colon, a bare address without brackets
 * (as Postfix does unless strict_rfc821_envelopes), quoted local parts, and
 * source routes ("<@r1,@r2:a@b>", ignored). AG_ADDR_NULL_OK permits "<>".
 * AG_ADDR_UTF8 (SMTPUTF8 in effect, RFC 6531 3.3) permits valid UTF-8 in
 * local parts and U-labels in domains; without it any 8-bit byte in the
 * argument is refused with *why == address_why_utf8 (the 553 5.6.7 case).
 * Rejects NUL, CR, LF, invalid UTF-8, and over-long parts (limits in octets).
 * Returns 0, or -1 with *why set to a constant explanation.
 */
#define AG_ADDR_NULL_OK 0x01
#define AG_ADDR_UTF8 0x02
extern const char address_why_utf8[];
int address_parse_path(const char *arg, size_t len, unsigned flags, struct ag_address *out,
		       const char **why);

/* Find ESMTP parameter "SIZE=..." (case-insensitive) in params; returns value pointer or NULL. */
const char *address_find_param(const char *params, const char *keyword, size_t *vlen);

#endif
