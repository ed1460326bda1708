/* xclient.h: Postfix XCLIENT commands: xtext values, split into <= 512-octet lines (pure). */
#ifndef AG_XCLIENT_H
#define AG_XCLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define XCLIENT_MAX_LINE 512 /* one command including CRLF (XCLIENT_README) */
#define XCLIENT_MAX_CMDS 8
#define XCLIENT_UNAVAILABLE "[UNAVAILABLE]"
#define XCLIENT_TEMPUNAVAIL "[TEMPUNAVAIL]" /* NAME: the lookup failed for now (Postfix: 4xx, not 5xx) */

struct xclient_attr {
	const char *name;  /* "LOGIN", "ADDR", ... */
	const char *value; /* raw (XCLIENT_TEMPUNAVAIL passes through xtext as it is); NULL: [UNAVAILABLE] */
};

/* The commands, without CRLF, each at most XCLIENT_MAX_LINE - 2 characters. */
struct xclient_cmds {
	char line[XCLIENT_MAX_CMDS][XCLIENT_MAX_LINE - 1];
	size_t n;
};

/*
 * RFC 3461 xtext: bytes outside 33..126, '+' and '=' become "+HH" (upper-case
 * hex). Returns the encoded length (NUL-terminated), -1 if it does not fit.
 */
long xclient_xtext_encode(const char *in, char *out, size_t outlen);

/* Does the backend's "XCLIENT NAME ADDR ..." EHLO keyword list name this attribute? */
bool xclient_supports(const char *advertised, const char *name);

/*
 * Build the XCLIENT commands for the attributes the backend advertised (the
 * others are left out), packing them into as few lines as fit; NAME and ADDR
 * go together into the last one, because they reset the backend's idea of
 * the client (XCLIENT_README). 0 ok, -1 with *why (an attribute alone is too
 * long, or too many lines).
 */
int xclient_build(const char *advertised, const struct xclient_attr *attrs, size_t nattrs,
		  struct xclient_cmds *out, const char **why);

#endif
