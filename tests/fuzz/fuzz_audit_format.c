/*
 * fuzz_audit_format.c: audit_format_record() with fuzzed strings: the output must be one line of
 * valid JSON (an object of strings, one number and one array of strings), valid UTF-8,
 * with no raw control character.
 * FUZZ_SOURCES: policy
 */
#include <stdbool.h>

#include "audit.h"
#include "fuzz_util.h"

#define NFIELDS 17
#define MAXRCPTS 8

/* A minimal RFC 8259 checker for exactly the shapes the audit record uses. */
struct jcur {
	const unsigned char *p, *end;
};

static bool j_string(struct jcur *c)
{
	if (c->p >= c->end || *c->p != '"')
		return false;
	c->p++;
	while (c->p < c->end && *c->p != '"') {
		unsigned char ch = *c->p;

		if (ch < 0x20)
			return false; /* raw control characters are not JSON */
		if (ch == '\\') {
			c->p++;
			if (c->p >= c->end)
				return false;
			if (*c->p == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (c->p + i >= c->end ||
					    strchr("0123456789abcdefABCDEF", c->p[i]) == NULL ||
					    c->p[i] == '\0')
						return false;
				c->p += 5;
				continue;
			}
			if (strchr("\"\\/bfnrt", *c->p) == NULL || *c->p == '\0')
				return false;
		}
		c->p++;
	}
	if (c->p >= c->end)
		return false;
	c->p++;
	return true;
}

static bool j_value(struct jcur *c)
{
	if (c->p >= c->end)
		return false;
	if (*c->p == '"')
		return j_string(c);
	if (*c->p == '[') {
		c->p++;
		if (c->p < c->end && *c->p == ']') {
			c->p++;
			return true;
		}
		for (;;) {
			if (!j_string(c) || c->p >= c->end)
				return false;
			if (*c->p == ']') {
				c->p++;
				return true;
			}
			if (*c->p++ != ',')
				return false;
		}
	}
	if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9')) {
		if (*c->p == '-')
			c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return false;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
		return true;
	}
	return false;
}

static bool j_object(const char *s, size_t len)
{
	struct jcur c = {(const unsigned char *)s, (const unsigned char *)s + len};

	if (c.p >= c.end || *c.p++ != '{')
		return false;
	for (;;) {
		if (!j_string(&c) || c.p >= c.end || *c.p++ != ':' || !j_value(&c))
			return false;
		if (c.p >= c.end)
			return false;
		if (*c.p == '}')
			return c.p + 1 == c.end;
		if (*c.p++ != ',')
			return false;
	}
}

/* RFC 3629 well-formedness of the whole output. */
static bool utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char b = s[i];
		size_t n, k;
		unsigned char lo = 0x80, hi = 0xbf;

		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf)
			n = 2;
		else if (b >= 0xe0 && b <= 0xef)
			n = 3;
		else if (b >= 0xf0 && b <= 0xf4)
			n = 4;
		else
			return false;
		if (b == 0xe0)
			lo = 0xa0;
		else if (b == 0xed)
			hi = 0x9f;
		else if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f;
		if (i + n > len || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (k = 2; k < n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += n;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[AG_AUDIT_MAX_RECORD];
	const char *field[NFIELDS + MAXRCPTS] = {0};
	struct ag_audit_record r;
	char *text, *p, *end;
	size_t nf = 0, outlen;
	int64_t ts;
	int n, i;

	if (size < 10 || size > 4 * AG_AUDIT_MAX_RECORD)
		return 0;
	/* 8 bytes of time (any value, negative and huge included), 1 of output room, then fields.
	 */
	memcpy(&ts, data, sizeof(ts));
	outlen = (size_t)data[8] * 256 + 1;
	if (data[8] == 0xff)
		outlen = sizeof(out);
	text = fuzz_strndup(data + 9, size - 9);
	p = text;
	end = text + (size - 9);
	/* Fields are separated by NUL bytes in the input; a field "\x01" stands for NULL. */
	while (nf < NFIELDS + MAXRCPTS && p <= end) {
		field[nf] = (p[0] == '\x01' && p[1] == '\0') ? NULL : p;
		nf++;
		p += strlen(p) + 1;
	}
	memset(&r, 0, sizeof(r));
	r.ts_ms = ts;
	r.component = field[0];
	r.session = field[1];
	r.client_ip = field[2];
	r.auth_user = field[3];
	r.tls = field[4];
	r.event = field[5];
	r.mail_from = field[6];
	r.action = field[7];
	r.backend = field[8];
	r.backend_reply = field[9];
	r.queue_id = field[10];
	r.phase = field[11];
	r.route = field[12];
	r.reason = field[13];
	r.helo = field[14];
	r.size = field[15] != NULL ? (int64_t)strlen(field[15]) * 1000003 - 7 : -1;
	if (field[16] != NULL) {
		r.rcpts = &field[NFIELDS];
		r.nrcpts = (size_t)(unsigned char)field[16][0] % (MAXRCPTS + 1);
	}
	n = audit_format_record(&r, out, outlen);
	if (n >= 0) {
		FUZZ_ASSERT((size_t)n < outlen);
		FUZZ_ASSERT(strlen(out) == (size_t)n);
		FUZZ_ASSERT(n >= 2 && out[n - 1] == '\n');
		/* One record, one line: the only raw control character is the final LF. */
		for (i = 0; i < n - 1; i++)
			FUZZ_ASSERT((unsigned char)out[i] >= 0x20);
		FUZZ_ASSERT(j_object(out, (size_t)n - 1));
		FUZZ_ASSERT(utf8_ok((const unsigned char *)out, (size_t)n));
	}
	free(text);
	return 0;
}
