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
	size_t params_off;              /* offset in the input of the ESMTP parameters ("" if none) */
};

/*
 * Parse the argument after "MAIL FROM:" or "RCPT TO:", e.g. " <a@b> SIZE=10".
 * Accepts optional spaces after the colon, a bare address without brackets
 * (as Postfix does unless strict_rfc821_envelopes), quoted local parts, and
 * source routes ("<@r1,@r2:a@b>", ignored). allow_null permits "<>".
 * Rejects NUL, CR, LF, 8-bit in the domain, and over-long parts.
 * Returns 0, or -1 with *why set to a constant explanation.
 */
int address_parse_path(const char *arg, size_t len, bool allow_null, struct ag_address *out,
		       const char **why);

/* Find ESMTP parameter "SIZE=..." (case-insensitive) in params; returns value pointer or NULL. */
const char *address_find_param(const char *params, const char *keyword, size_t *vlen);

#endif
