/* address.c: the RFC 5321 path after "MAIL FROM:" / "RCPT TO:", parsed with its length limits. */
#include "address.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "net.h"
#include "utf8.h"

const char address_why_utf8[] = "non-ASCII address without SMTPUTF8";

#define ADDR_MAX_LABEL 63
#define ADDR_MAX_LITERAL 64 /* "IPv6:" plus the longest IPv6 text form, with room to spare */

struct addr_cursor {
	const char *s;
	size_t len;
	size_t p;
};

static int addr_peek(const struct addr_cursor *c)
{
	return c->p < c->len ? (unsigned char)c->s[c->p] : -1;
}

static bool addr_is_space(int c)
{
	/* RFC 5321 wants SP; Postfix also takes a tab, and so do we, outside the path only. */
	return c == ' ' || c == '\t';
}

static bool addr_is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5322 3.2.3 atext; 8-bit bytes are UTF-8 local parts (RFC 6531 3.3, SMTPUTF8). */
static bool addr_is_atext(int c)
{
	return addr_is_alnum(c) || (c >= 0x80 && c <= 0xff) ||
	       (c > 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool addr_is_ctl(int c)
{
	return (c >= 0 && c < 0x20) || c == 0x7f;
}

/*
 * Local-part = Dot-string / Quoted-string (RFC 5321 4.1.2). The 64-octet limit
 * (4.5.3.1.1) counts the local part as written, quotes and backslashes included.
 */
static int addr_parse_local(struct addr_cursor *c, char *out, const char **why)
{
	size_t start = c->p, n = 0;
	int ch;

	if (addr_peek(c) == '"') {
		c->p++;
		for (;;) {
			if (c->p - start > AG_MAX_LOCAL) {
				*why = "local part too long";
				return -1;
			}
			ch = addr_peek(c);
			if (ch < 0) {
				*why = "unbalanced quote";
				return -1;
			}
			c->p++;
			if (ch == '"')
				break;
			if (ch == '\\') {
				/* quoted-pairSMTP = %d92 %d32-126 */
				ch = addr_peek(c);
				if (ch < 0) {
					*why = "unbalanced quote";
					return -1;
				}
				if (ch < 32 || ch > 126) {
					*why = "bad escape in quoted local part";
					return -1;
				}
				c->p++;
			} else if (addr_is_ctl(ch)) {
				*why = "control character in address";
				return -1;
			}
			out[n++] = (char)ch;
		}
		if (c->p - start > AG_MAX_LOCAL) {
			*why = "local part too long";
			return -1;
		}
		out[n] = '\0';
		if (n == 0) {
			*why = "empty local part";
			return -1;
		}
		return 0;
	}
	for (;;) {
		ch = addr_peek(c);
		if (ch == '.') {
			if (n == 0 || out[n - 1] == '.') {
				*why = "misplaced dot in local part";
				return -1;
			}
		} else if (!addr_is_atext(ch)) {
			break;
		}
		if (n >= AG_MAX_LOCAL) {
			*why = "local part too long";
			return -1;
		}
		out[n++] = (char)ch;
		c->p++;
	}
	out[n] = '\0';
	if (n == 0) {
		*why = ch == '@' ? "empty local part" : "invalid character in local part";
		return -1;
	}
	if (out[n - 1] == '.') {
		*why = "misplaced dot in local part";
		return -1;
	}
	return 0;
}

/*
 * Domain = sub-domain *("." sub-domain), Let-dig [Ldh-str] (RFC 5321 4.1.2);
 * with utf8, a sub-domain may be a U-label (RFC 6531 3.3): its non-ASCII bytes
 * were checked as UTF-8 before (addr_check_bytes), and count as letters,
 * bytes towards the 63 of a label. out may be NULL.
 */
static int addr_parse_domain(struct addr_cursor *c, char *out, bool utf8, const char **why)
{
	size_t start = c->p, n, label = 0;
	int ch, prev = '.';

	for (;;) {
		ch = addr_peek(c);
		if (ch == '.') {
			if (label == 0) {
				*why = "empty label in domain";
				return -1;
			}
			if (prev == '-') {
				*why = "hyphen at the end of a domain label";
				return -1;
			}
			label = 0;
		} else if (addr_is_alnum(ch) || ch == '-' || (utf8 && ch >= 0x80)) {
			if (label == 0 && ch == '-') {
				*why = "hyphen at the start of a domain label";
				return -1;
			}
			if (++label > ADDR_MAX_LABEL) {
				*why = "domain label too long";
				return -1;
			}
		} else {
			break;
		}
		if (c->p - start >= AG_MAX_DOMAIN) {
			*why = "domain too long";
			return -1;
		}
		prev = ch;
		c->p++;
	}
	if (ch >= 0x80) {
		*why = "8-bit character in domain";
		return -1;
	}
	n = c->p - start;
	if (n == 0) {
		*why = "empty domain";
		return -1;
	}
	if (prev == '.') {
		*why = "empty label in domain";
		return -1;
	}
	if (prev == '-') {
		*why = "hyphen at the end of a domain label";
		return -1;
	}
	if (out != NULL) {
		memcpy(out, c->s + start, n);
		out[n] = '\0';
	}
	return 0;
}

/* address-literal = "[" ( IPv4-address-literal / IPv6-address-literal ) "]" (RFC 5321 4.1.3). */
static int addr_parse_literal(struct addr_cursor *c, char *out, const char **why)
{
	char text[ADDR_MAX_LITERAL + 1];
	size_t start = c->p, n;
	struct ag_ip ip;
	const char *ipwhy;

	c->p++; /* '[' */
	for (;;) {
		int ch = addr_peek(c);

		if (ch < 0 || ch == '>' || addr_is_space(ch)) {
			*why = "unbalanced bracket in address literal";
			return -1;
		}
		if (ch == ']')
			break;
		if (c->p - start > ADDR_MAX_LITERAL) {
			*why = "address literal too long";
			return -1;
		}
		/* dcontent = %d33-90 / %d94-126 */
		if (ch < 33 || ch > 126 || ch == '[' || ch == '\\') {
			*why = "invalid character in address literal";
			return -1;
		}
		c->p++;
	}
	n = c->p - start - 1;
	memcpy(text, c->s + start + 1, n);
	text[n] = '\0';
	c->p++; /* ']' */
	if (n >= 5 && strncasecmp(text, "IPv6:", 5) == 0) {
		const char *inner = text + 5;

		if (strchr(inner, ':') == NULL || net_parse_ip(inner, &ip, &ipwhy) < 0) {
			*why = "bad IPv6 address literal";
			return -1;
		}
	} else if (strchr(text, ':') != NULL) {
		/* General-address-literal: no standardized tag other than IPv6 exists. */
		*why = "unsupported address literal tag";
		return -1;
	} else if (net_parse_ip(text, &ip, &ipwhy) < 0) {
		*why = "bad IPv4 address literal";
		return -1;
	}
	memcpy(out, c->s + start, c->p - start);
	out[c->p - start] = '\0';
	return 0;
}

/* A-d-l = At-domain *( "," At-domain ), then ":" (RFC 5321 4.1.2; ignored per Appendix C). */
static int addr_skip_route(struct addr_cursor *c, bool utf8, const char **why)
{
	while (addr_peek(c) == '@') {
		c->p++;
		if (addr_parse_domain(c, NULL, utf8, why) < 0)
			return -1;
		if (addr_peek(c) == ':') {
			c->p++;
			return 0;
		}
		if (addr_peek(c) != ',') {
			*why = "bad source route";
			return -1;
		}
		c->p++;
		if (addr_peek(c) != '@') {
			*why = "bad source route";
			return -1;
		}
	}
	*why = "bad source route";
	return -1;
}

/* A local part that is not a valid Dot-string must be quoted again to mean the same. */
static bool addr_needs_quotes(const char *local)
{
	size_t i, n = strlen(local);

	if (n == 0 || local[0] == '.' || local[n - 1] == '.')
		return true;
	for (i = 0; i < n; i++) {
		int ch = (unsigned char)local[i];

		if (ch == '.' ? local[i + 1] == '.' : !addr_is_atext(ch))
			return true;
	}
	return false;
}

static int addr_make_canonical(struct ag_address *out, const char **why)
{
	size_t n = 0, i;
	char *a = out->addr;
	const size_t cap = sizeof(out->addr);
	bool quote = addr_needs_quotes(out->local);

	if (quote)
		a[n++] = '"';
	for (i = 0; out->local[i] != '\0'; i++) {
		char ch = out->local[i];

		if (n + 2 >= cap)
			goto toolong;
		if (quote && (ch == '"' || ch == '\\'))
			a[n++] = '\\';
		a[n++] = ch;
	}
	if (quote) {
		if (n + 1 >= cap)
			goto toolong;
		a[n++] = '"';
	}
	if (out->domain[0] != '\0') {
		size_t dlen = strlen(out->domain);

		if (n + 1 + dlen >= cap)
			goto toolong;
		a[n++] = '@';
		memcpy(a + n, out->domain, dlen);
		n += dlen;
	}
	a[n] = '\0';
	return 0;
toolong:
	/* Cannot happen within the path limit (the quoted form is never longer); kept as a guard. */
	*why = "path too long";
	return -1;
}

/*
 * The characters no path may hold, checked over the whole argument before
 * anything else. 8-bit bytes only with utf8 (SMTPUTF8 in effect), and then
 * only as valid UTF-8 (RFC 6531 3.3: UTF8-non-ascii), so that what the
 * parser takes byte by byte later is whole characters.
 */
static int addr_check_bytes(const char *arg, size_t len, bool utf8, const char **why)
{
	size_t i;

	for (i = 0; i < len; i++) {
		int ch = (unsigned char)arg[i];

		if (ch >= 0x80) {
			size_t n;

			if (!utf8) {
				*why = address_why_utf8;
				return -1;
			}
			n = utf8_sequence_len((const unsigned char *)arg + i, len - i);
			if (n == 0) {
				*why = "invalid UTF-8 in address";
				return -1;
			}
			i += n - 1;
			continue;
		}

		if (ch == '\0') {
			*why = "NUL in address";
			return -1;
		}
		if (ch == '\r' || ch == '\n') {
			*why = "CR or LF in address";
			return -1;
		}
		if (addr_is_ctl(ch) && ch != '\t') {
			*why = "control character in address";
			return -1;
		}
	}
	return 0;
}

int address_parse_path(const char *arg, size_t len, unsigned flags, struct ag_address *out,
		       const char **why)
{
	const bool allow_null = (flags & AG_ADDR_NULL_OK) != 0, utf8 = (flags & AG_ADDR_UTF8) != 0;
	struct addr_cursor c = { arg, len, 0 };
	const char *dummy;
	size_t path_start, path_len;
	bool bracketed;
	int ch;

	if (why == NULL)
		why = &dummy;
	if (out == NULL) {
		*why = "no output";
		return -1;
	}
	memset(out, 0, sizeof(*out));
	if (arg == NULL) {
		*why = "empty address";
		return -1;
	}
	if (addr_check_bytes(arg, len, utf8, why) < 0)
		return -1;
	while (addr_is_space(addr_peek(&c)))
		c.p++;
	if (c.p == len) {
		*why = "empty address";
		return -1;
	}
	path_start = c.p;
	bracketed = addr_peek(&c) == '<';
	if (bracketed) {
		c.p++;
		if (addr_peek(&c) == '>') {
			if (!allow_null) {
				*why = "null path not allowed";
				return -1;
			}
			c.p++;
			out->null_path = true;
			goto after_path;
		}
		if (addr_peek(&c) == '@' && addr_skip_route(&c, utf8, why) < 0)
			return -1;
	}
	if (addr_parse_local(&c, out->local, why) < 0)
		return -1;
	ch = addr_peek(&c);
	if (ch == '@') {
		c.p++;
		if (addr_peek(&c) == '[') {
			if (addr_parse_literal(&c, out->domain, why) < 0)
				return -1;
		} else if (addr_parse_domain(&c, out->domain, utf8, why) < 0) {
			return -1;
		}
	} else if (!((bracketed && ch == '>') || (!bracketed && (ch < 0 || addr_is_space(ch)))) ||
		   strcasecmp(out->local, "postmaster") != 0) {
		/* RFC 5321 4.1.1.3: "<Postmaster>" without a domain is the only mailbox allowed so. */
		*why = (ch < 0 || ch == '>' || addr_is_space(ch)) ? "missing @ and domain"
								   : "invalid character in local part";
		return -1;
	}
	ch = addr_peek(&c);
	if (bracketed) {
		if (ch != '>') {
			*why = ch < 0 ? "unbalanced angle bracket"
			       : addr_is_space(ch) ? "space inside angle brackets"
						   : "invalid character in domain";
			return -1;
		}
		c.p++;
	} else if (ch == '>' || ch == '<') {
		*why = "unbalanced angle bracket";
		return -1;
	} else if (ch >= 0 && !addr_is_space(ch)) {
		*why = "invalid character in domain";
		return -1;
	}
after_path:
	/* The limit counts the angle brackets; a bare address is measured as if it had them. */
	path_len = c.p - path_start + (bracketed ? 0 : 2);
	if (path_len > AG_MAX_PATH) {
		*why = "path too long";
		return -1;
	}
	ch = addr_peek(&c);
	if (ch >= 0 && !addr_is_space(ch)) {
		*why = "junk after address";
		return -1;
	}
	while (addr_is_space(addr_peek(&c)))
		c.p++;
	out->params_off = c.p;
	for (size_t i = path_start; i < path_start + path_len - (bracketed ? 0 : 2); i++)
		if ((unsigned char)arg[i] >= 0x80)
			out->utf8 = true;
	if (out->null_path)
		return 0;
	return addr_make_canonical(out, why);
}

const char *address_find_param(const char *params, const char *keyword, size_t *vlen)
{
	size_t klen, i = 0;

	if (params == NULL || keyword == NULL || (klen = strlen(keyword)) == 0)
		return NULL;
	/* esmtp-param = esmtp-keyword ["=" esmtp-value], separated by SP (RFC 5321 4.1.2). */
	for (;;) {
		size_t start, end;

		while (addr_is_space((unsigned char)params[i]))
			i++;
		if (params[i] == '\0')
			return NULL;
		start = i;
		while (params[i] != '\0' && !addr_is_space((unsigned char)params[i]))
			i++;
		end = i;
		if (end - start >= klen && strncasecmp(params + start, keyword, klen) == 0 &&
		    (end - start == klen || params[start + klen] == '=')) {
			const char *v = params + start + klen;

			if (*v == '=')
				v++;
			if (vlen != NULL)
				*vlen = (size_t)(params + end - v);
			return v;
		}
	}
}
