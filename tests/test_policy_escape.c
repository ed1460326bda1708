/* test_policy_escape.c: the one log-line escaper and the one JSON string writer. */
#include <string.h>

#include "policy/escape.h"
#include "tap.h"

struct jsink {
	char out[512];
	size_t len;
};

static void jput(void *arg, const char *s, size_t n)
{
	struct jsink *k = arg;

	memcpy(k->out + k->len, s, n);
	k->len += n;
	k->out[k->len] = '\0';
}

static const char *json(const char *in)
{
	static struct jsink k;

	memset(&k, 0, sizeof(k));
	escape_json(in, jput, &k);
	return k.out;
}

int main(void)
{
	char out[256];

	is_str(escape_log_str("jdoe@example.ac.uk", out, sizeof(out)), "jdoe@example.ac.uk",
	       "an ordinary login is unchanged");
	/* Issue 11: the login that planted an address in the proxy's log. */
	is_str(escape_log_str("x\" from [203.0.113.9]: authentication failure", out, sizeof(out)),
	       "x\\x22 from \\x5b203.0.113.9\\x5d: authentication failure",
	       "quote and brackets cannot end our quoting or fake an address");
	is_str(escape_log_str("a\r\nb\tc\\d", out, sizeof(out)), "a\\x0d\\x0ab\\x09c\\x5cd",
	       "CR, LF, TAB and backslash escaped: one line stays one line");
	is_str(escape_log("a\0b", 3, out, sizeof(out)), "a\\x00b", "NUL escaped (length given)");
	is_str(escape_log_str("\xc3\xa9\x7f", out, sizeof(out)), "\\xc3\\xa9\\x7f",
	       "8-bit and DEL escaped");
	is_str(escape_log_str(NULL, out, sizeof(out)), "-", "NULL is \"-\"");
	is_str(escape_log_str("abcdefghij", out, 8), "abcd...", "cut with ... within the buffer");
	ok(strlen(escape_log_str("\n\n\n\n\n\n", out, 12)) < 12,
	   "escapes never overrun the buffer");
	is_str(escape_log_str("\n\n\n\n\n\n", out, 12), "\\x0a\\x0a...", "cut between escapes");
	is_str(escape_log_str("x", out, 0), "", "zero-size buffer");

	is_str(json("jdoe"), "\"jdoe\"", "JSON: plain string");
	is_str(json("a\"b\\c"), "\"a\\\"b\\\\c\"", "JSON: quote and backslash");
	is_str(json("a\r\n\t\b\f"), "\"a\\r\\n\\t\\b\\f\"", "JSON: short escapes");
	is_str(json("\x01\x7f"), "\"\\u0001\\u007f\"", "JSON: other controls as \\u00XX");
	is_str(json("caf\xc3\xa9"), "\"caf\xc3\xa9\"", "JSON: valid UTF-8 kept");
	is_str(json("bad\xff\xc3"), "\"bad\\ufffd\\ufffd\"", "JSON: invalid bytes become U+FFFD");
	is_str(json("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"", "JSON: a surrogate is invalid");
	is_str(json("x\xc3\xa9y z\x01w\"\""), "\"x\xc3\xa9y z\\u0001w\\\"\\\"\"",
	       "JSON: printable runs between UTF-8, controls and quotes");
	return tap_done();
}
