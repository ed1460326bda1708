/* escape.c: how untrusted bytes are written into a log line and into a JSON string (once, here). */
#include "escape.h"

#include <stdbool.h>
#include <string.h>

#include "utf8.h"

static const char escape_hex[] = "0123456789abcdef";

static bool escape_log_keeps(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\' && c != '"' && c != '[' && c != ']';
}

const char *escape_log(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0, i;

	if (outlen == 0)
		return "";
	if (in == NULL)
		in = "-", len = 1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		size_t need = escape_log_keeps(c) ? 1 : 4;

		/* Keep room for this byte, a later "..." and the NUL. */
		if (o + need + 4 > outlen) {
			if (o + 4 <= outlen) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (need == 1) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = escape_hex[c >> 4];
			out[o++] = escape_hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

const char *escape_log_str(const char *in, char *out, size_t outlen)
{
	return escape_log(in, in ? strlen(in) : 0, out, outlen);
}

void escape_json(const char *str, escape_put_fn put, void *arg)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[7];
	size_t n;

	put(arg, "\"", 1);
	while (*s != '\0') {
		size_t run = 0;

		/* Printable ASCII but '"' and '\\' goes out in one piece, not a call a byte. */
		while (s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' && s[run] != '\\')
			run++;
		if (run > 0) {
			put(arg, (const char *)s, run);
			s += run;
			continue;
		}
		switch (*s) {
		case '"':
			put(arg, "\\\"", 2);
			break;
		case '\\':
			put(arg, "\\\\", 2);
			break;
		case '\n':
			put(arg, "\\n", 2);
			break;
		case '\r':
			put(arg, "\\r", 2);
			break;
		case '\t':
			put(arg, "\\t", 2);
			break;
		case '\b':
			put(arg, "\\b", 2);
			break;
		case '\f':
			put(arg, "\\f", 2);
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				memcpy(esc, "\\u00", 4);
				esc[4] = escape_hex[*s >> 4];
				esc[5] = escape_hex[*s & 0xf];
				put(arg, esc, 6);
			} else if ((n = utf8_sequence_len(s, 4)) > 0) {
				put(arg, (const char *)s, n);
				s += n;
				continue;
			} else {
				put(arg, "\\ufffd", 6);
			}
			break;
		}
		s++;
	}
	put(arg, "\"", 1);
}
