/* jsonl_lex.c: RFC 8259 tokens of one line (strings decoded in place), for the record parser. */
#include "jsonl_lex.h"
#include "policy/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int jp_fail_at(struct jp *j, size_t pos, const char *fmt, ...)
{
	va_list ap;

	j->err->column = pos + 1;
	va_start(ap, fmt);
	vsnprintf(j->err->why, sizeof(j->err->why), fmt, ap);
	va_end(ap);
	return -1;
}

void jp_ws(struct jp *j)
{
	while (j->pos < j->len && (j->s[j->pos] == ' ' || j->s[j->pos] == '\t' ||
				   j->s[j->pos] == '\r' || j->s[j->pos] == '\n'))
		j->pos++;
}

/* The next byte, or -1 at the end of the line. */
int jp_peek(const struct jp *j)
{
	return j->pos < j->len ? (unsigned char)j->s[j->pos] : -1;
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (s[i] >= '0' && s[i] <= '9')
			v |= (unsigned)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			v |= (unsigned)(s[i] - 'a' + 10);
		else if (s[i] >= 'A' && s[i] <= 'F')
			v |= (unsigned)(s[i] - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t utf8_put(char *w, unsigned cp)
{
	if (cp < 0x80) {
		w[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		w[0] = (char)(0xc0 | (cp >> 6));
		w[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		w[0] = (char)(0xe0 | (cp >> 12));
		w[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		w[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	w[0] = (char)(0xf0 | (cp >> 18));
	w[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	w[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	w[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX at j->pos (after the backslash and 'u'), with its low surrogate if it is a high one. */
static int jp_unicode(struct jp *j, unsigned *cp)
{
	size_t at = j->pos - 2;
	unsigned lo;

	if (j->len - j->pos < 4 || hex4(j->s + j->pos, cp) < 0)
		return jp_fail_at(j, at, "bad \\u escape");
	j->pos += 4;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return jp_fail_at(j, at, "lone low surrogate \\u%04x", *cp);
	if (*cp >= 0xd800 && *cp <= 0xdbff) {
		/* RFC 8259 7: outside the BMP only as a UTF-16 surrogate pair. */
		if (j->len - j->pos < 6 || j->s[j->pos] != '\\' || j->s[j->pos + 1] != 'u' ||
		    hex4(j->s + j->pos + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
			return jp_fail_at(j, at, "lone high surrogate \\u%04x", *cp);
		j->pos += 6;
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (*cp == 0)
		return jp_fail_at(j, at, "\\u0000 in string");
	return 0;
}

/*
 * A string at j->pos (on the quote), decoded in place: the output starts at
 * the opening quote and never outgrows the input, so the terminating NUL
 * lands at the latest on the closing quote.
 */
int jp_string(struct jp *j, const char **out)
{
	char *w = j->s + j->pos;
	const char *start = w;
	unsigned char c;
	unsigned cp;
	size_t n;

	j->pos++;
	for (;;) {
		if (j->pos >= j->len)
			return jp_fail_at(j, j->pos, "unterminated string");
		c = (unsigned char)j->s[j->pos];
		if (c == '"') {
			j->pos++;
			*w = '\0';
			*out = start;
			return 0;
		}
		if (c == '\\') {
			if (j->pos + 1 >= j->len)
				return jp_fail_at(j, j->pos, "unterminated escape");
			j->pos += 2;
			switch (j->s[j->pos - 1]) {
			case '"':
				*w++ = '"';
				break;
			case '\\':
				*w++ = '\\';
				break;
			case '/':
				*w++ = '/';
				break;
			case 'b':
				*w++ = '\b';
				break;
			case 'f':
				*w++ = '\f';
				break;
			case 'n':
				*w++ = '\n';
				break;
			case 'r':
				*w++ = '\r';
				break;
			case 't':
				*w++ = '\t';
				break;
			case 'u':
				if (jp_unicode(j, &cp) < 0)
					return -1;
				w += utf8_put(w, cp);
				break;
			default:
				return jp_fail_at(j, j->pos - 2, "bad escape \\%c",
						  j->s[j->pos - 1] >= 0x20 &&
							  j->s[j->pos - 1] < 0x7f
						      ? j->s[j->pos - 1]
						      : '?');
			}
			continue;
		}
		if (c < 0x20)
			return jp_fail_at(j, j->pos, "control character 0x%02x in string", c);
		if (c < 0x80) {
			*w++ = (char)c;
			j->pos++;
			continue;
		}
		n = utf8_sequence_len((const unsigned char *)j->s + j->pos, j->len - j->pos);
		if (n == 0)
			return jp_fail_at(j, j->pos, "invalid UTF-8 byte 0x%02x", c);
		memmove(w, j->s + j->pos, n);
		w += n;
		j->pos += n;
	}
}

bool jp_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* RFC 8259 6 number grammar; *integer says whether it had no fraction or exponent. */
int jp_number(struct jp *j, size_t *start, bool *integer)
{
	*start = j->pos;
	*integer = true;
	if (jp_peek(j) == '-')
		j->pos++;
	if (jp_peek(j) == '0') {
		j->pos++;
	} else if (jp_is_digit(jp_peek(j))) {
		while (jp_is_digit(jp_peek(j)))
			j->pos++;
	} else {
		return jp_fail_at(j, j->pos, "bad number");
	}
	if (jp_peek(j) == '.') {
		*integer = false;
		j->pos++;
		if (!jp_is_digit(jp_peek(j)))
			return jp_fail_at(j, j->pos, "bad number");
		while (jp_is_digit(jp_peek(j)))
			j->pos++;
	}
	if (jp_peek(j) == 'e' || jp_peek(j) == 'E') {
		*integer = false;
		j->pos++;
		if (jp_peek(j) == '+' || jp_peek(j) == '-')
			j->pos++;
		if (!jp_is_digit(jp_peek(j)))
			return jp_fail_at(j, j->pos, "bad number");
		while (jp_is_digit(jp_peek(j)))
			j->pos++;
	}
	return 0;
}

int jp_literal(struct jp *j, const char *word)
{
	size_t n = strlen(word);

	if (j->len - j->pos < n || memcmp(j->s + j->pos, word, n) != 0)
		return jp_fail_at(j, j->pos, "unexpected character '%c'",
				  jp_peek(j) >= 0x20 && jp_peek(j) < 0x7f ? jp_peek(j) : '?');
	j->pos += n;
	return 0;
}

/* Any value (of a key we do not know), checked and thrown away. */
int jp_skip_value(struct jp *j, unsigned depth)
{
	const char *str;
	size_t start;
	bool integer, first;
	int c, close;

	jp_ws(j);
	c = jp_peek(j);
	switch (c) {
	case '"':
		return jp_string(j, &str);
	case 't':
		return jp_literal(j, "true");
	case 'f':
		return jp_literal(j, "false");
	case 'n':
		return jp_literal(j, "null");
	case '{':
	case '[':
		if (depth >= JSONL_MAX_DEPTH)
			return jp_fail_at(j, j->pos, "nested deeper than %d", JSONL_MAX_DEPTH);
		close = c == '{' ? '}' : ']';
		j->pos++;
		for (first = true;; first = false) {
			jp_ws(j);
			if (first && jp_peek(j) == close)
				break;
			if (c == '{') {
				if (jp_peek(j) != '"')
					return jp_fail_at(j, j->pos, "expected a key");
				if (jp_string(j, &str) < 0)
					return -1;
				jp_ws(j);
				if (jp_peek(j) != ':')
					return jp_fail_at(j, j->pos, "expected ':'");
				j->pos++;
			}
			if (jp_skip_value(j, depth + 1) < 0)
				return -1;
			jp_ws(j);
			if (jp_peek(j) == close)
				break;
			if (jp_peek(j) != ',')
				return jp_fail_at(j, j->pos, "expected ',' or '%c'", close);
			j->pos++;
		}
		j->pos++;
		return 0;
	case -1:
		return jp_fail_at(j, j->pos, "unexpected end of line");
	default:
		if (c == '-' || jp_is_digit(c))
			return jp_number(j, &start, &integer);
		return jp_fail_at(j, j->pos, "unexpected character '%c'",
				  c >= 0x20 && c < 0x7f ? c : '?');
	}
}
