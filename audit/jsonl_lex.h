/* jsonl_lex.h: RFC 8259 tokens of one line (strings decoded in place), for the record parser. */
#ifndef AUDIT_JSONL_LEX_H
#define AUDIT_JSONL_LEX_H

#include <stdbool.h>
#include <stddef.h>

#include "jsonl.h"

/* Cursor over one line; strings are decoded in place behind it. */
struct jp {
	char *s;
	size_t len;
	size_t pos;
	struct jsonl_error *err;
};

/* Fill err (column pos + 1) and return -1. */
int jp_fail_at(struct jp *j, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Skip JSON white space. */
void jp_ws(struct jp *j);
/* The next byte, or -1 at the end of the line. */
int jp_peek(const struct jp *j);
bool jp_is_digit(int c);
/*
 * The string at j->pos (on its quote), decoded in place: valid UTF-8, every
 * escape including surrogate pairs; \u0000 and lone surrogates refused.
 */
int jp_string(struct jp *j, const char **out);
/* A number (RFC 8259 6); *integer when it has no fraction or exponent. */
int jp_number(struct jp *j, size_t *start, bool *integer);
int jp_literal(struct jp *j, const char *word);
/* Any value, checked and thrown away; arrays and objects nest up to JSONL_MAX_DEPTH. */
int jp_skip_value(struct jp *j, unsigned depth);

#endif
