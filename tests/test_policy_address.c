/* test_policy_address.c: MAIL FROM / RCPT TO path parsing, limits and ESMTP parameters. */
#include <string.h>

#include "address.h"
#include "tap.h"

static struct ag_address A;

/* Parse a NUL-terminated argument; returns "ok" or the why text. */
static const char *parse(const char *arg, bool allow_null)
{
	const char *why = NULL;

	if (address_parse_path(arg, strlen(arg), allow_null, &A, &why) == 0)
		return "ok";
	return why ? why : "(no why)";
}

/* "<" + local part of nlocal 'a's + "@" + domain of ndomain chars (labels of 63) + ">" */
static const char *make_path(char *buf, size_t nlocal, size_t ndomain, bool brackets)
{
	size_t n = 0, i;

	if (brackets)
		buf[n++] = '<';
	for (i = 0; i < nlocal; i++)
		buf[n++] = 'a';
	buf[n++] = '@';
	for (i = 0; i < ndomain; i++)
		buf[n++] = (i % 64 == 63 || i + 4 == ndomain) ? '.' : 'b';
	if (ndomain >= 4)
		memcpy(buf + n - 3, "org", 3);
	if (brackets)
		buf[n++] = '>';
	buf[n] = '\0';
	return buf;
}

static void test_basic(void)
{
	const char *arg = " <John.Doe@Example.ORG> SIZE=1024 BODY=8BITMIME";

	is_str(parse(arg, true), "ok", "basic: bracketed with params");
	is_str(A.local, "John.Doe", "basic: local part as given");
	is_str(A.domain, "Example.ORG", "basic: domain not lower-cased");
	is_str(A.addr, "John.Doe@Example.ORG", "basic: canonical address");
	is_str(arg + A.params_off, "SIZE=1024 BODY=8BITMIME", "basic: params_off at first param");
	ok(!A.null_path, "basic: not a null path");

	is_str(parse("<a@b.org>", true), "ok", "basic: no params");
	is_int(A.params_off, strlen("<a@b.org>"), "basic: params_off at end when none");
	is_str(parse("<a@b.org>   ", true), "ok", "basic: trailing spaces");
	is_int(A.params_off, strlen("<a@b.org>   "), "basic: params_off skips trailing spaces");
	is_str(parse("<a@b.org>x", true), "junk after address", "basic: junk right after >");
	is_str(parse("<a@b.org", true), "unbalanced angle bracket", "basic: missing >");
	is_str(parse("a@b.org>", true), "unbalanced angle bracket", "basic: stray >");
	is_str(parse("<a@b.org SIZE=1>", true), "space inside angle brackets",
	       "basic: space inside brackets");
	is_str(parse("   ", true), "empty address", "basic: only spaces");
	is_str(parse("<@b.org>", true), "bad source route", "basic: empty local part is a route");
	is_str(parse("<\"\"@b.org>", true), "empty local part", "basic: empty quoted local part");
	is_str(parse("<a>", true), "missing @ and domain", "basic: no domain");
	is_str(parse("<Postmaster>", false), "ok", "basic: <Postmaster> without domain (4.1.1.3)");
	is_str(A.addr, "Postmaster", "basic: postmaster canonical form");
	is_str(parse("<a..b@b.org>", true), "misplaced dot in local part", "basic: double dot");
	is_str(parse("<.a@b.org>", true), "misplaced dot in local part", "basic: leading dot");
	is_str(parse("<a@-b.org>", true), "hyphen at the start of a domain label",
	       "basic: domain label hyphen");
	is_str(parse("<a@b..org>", true), "empty label in domain", "basic: domain empty label");
	is_str(parse("<a@b\xc3\xa9.org>", true), "non-ASCII address without SMTPUTF8",
	       "basic: 8-bit domain without SMTPUTF8");
	is_str(parse("<a@b_c.org>", true), "invalid character in domain", "basic: underscore");
}

static void test_null_and_bare(void)
{
	const char *arg = "<> SIZE=10";

	is_str(parse(arg, true), "ok", "null: <> allowed for MAIL FROM");
	ok(A.null_path && A.addr[0] == '\0' && A.domain[0] == '\0', "null: fields empty");
	is_str(arg + A.params_off, "SIZE=10", "null: params after <>");
	is_str(parse("<>", false), "null path not allowed", "null: <> refused for RCPT TO");
	is_str(parse("user@example.org", true), "ok", "bare: accepted like Postfix");
	is_str(A.addr, "user@example.org", "bare: canonical address");
	arg = " user@example.org SIZE=5";
	is_str(parse(arg, true), "ok", "bare: with leading space and params");
	is_str(arg + A.params_off, "SIZE=5", "bare: params_off");
}

static void test_quoted_and_route(void)
{
	const char *arg = "<@r1.example,@r2.example:joe@example.org> AUTH=<>";

	is_str(parse("<\"john doe\"@example.org>", true), "ok", "quoted: space in local part");
	is_str(A.local, "john doe", "quoted: quotes removed");
	is_str(A.addr, "\"john doe\"@example.org", "quoted: re-quoted in addr");
	is_str(parse("<\"a\\\"b\\\\c\"@x.org>", true), "ok", "quoted: escapes");
	is_str(A.local, "a\"b\\c", "quoted: escapes resolved");
	is_str(A.addr, "\"a\\\"b\\\\c\"@x.org", "quoted: escapes re-applied");
	is_str(parse("<\"plain\"@x.org>", true), "ok", "quoted: needless quotes");
	is_str(A.addr, "plain@x.org", "quoted: needless quotes dropped in addr");
	is_str(parse("<\"abc@x.org>", true), "unbalanced quote", "quoted: unbalanced quote");
	is_str(parse("<\"a\tb\"@x.org>", true), "control character in address",
	       "quoted: tab inside quotes");
	is_str(parse("<\"ab\"c@x.org>", true), "invalid character in local part",
	       "quoted: text after the closing quote");

	is_str(parse(arg, true), "ok", "route: source route ignored");
	is_str(A.addr, "joe@example.org", "route: mailbox after the route");
	is_str(arg + A.params_off, "AUTH=<>", "route: params after route path");
	is_str(parse("<@r1.example:@r2:joe@x.org>", true), "empty local part",
	       "route: colon must end the route");
	is_str(parse("<@r1.example,joe@x.org>", true), "bad source route", "route: missing @");
}

static void test_literals(void)
{
	is_str(parse("<postmaster@[192.0.2.1]>", false), "ok", "literal: IPv4");
	is_str(A.domain, "[192.0.2.1]", "literal: domain keeps brackets");
	is_str(parse("<a@[IPv6:2001:db8::1]>", false), "ok", "literal: IPv6");
	is_str(A.addr, "a@[IPv6:2001:db8::1]", "literal: IPv6 canonical");
	is_str(parse("<a@[ipv6:::1]>", false), "ok", "literal: IPv6 tag case-insensitive");
	is_str(parse("<a@[192.0.2.256]>", false), "bad IPv4 address literal", "literal: bad v4");
	is_str(parse("<a@[IPv6:1.2.3.4]>", false), "bad IPv6 address literal", "literal: v6 tag, v4");
	is_str(parse("<a@[2001:db8::1]>", false), "unsupported address literal tag",
	       "literal: v6 without tag");
	is_str(parse("<a@[192.0.2.1>", false), "unbalanced bracket in address literal",
	       "literal: missing ]");
	is_str(parse("<a@[192.0.2.1]x>", false), "invalid character in domain",
	       "literal: junk after ]");
}

static void test_limits(void)
{
	char buf[600];
	const char *why;

	is_str(parse(make_path(buf, 64, 7, true), true), "ok", "limit: 64-char local part");
	is_int(strlen(A.local), 64, "limit: 64-char local part kept whole");
	is_str(parse(make_path(buf, 65, 7, true), true), "local part too long",
	       "limit: 65-char local part");
	is_str(parse("<\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"@x.org>", true),
	       "ok", "limit: quoted local part of 64 with quotes");
	is_str(parse("<\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"@x.org>",
		     true),
	       "local part too long", "limit: quoted local part of 65 with quotes");
	/* A 255-char domain is legal alone but cannot fit in a 256-char path. */
	is_str(parse(make_path(buf, 1, 255, true), true), "path too long",
	       "limit: 255-char domain exceeds the path");
	is_str(parse(make_path(buf, 1, 256, true), true), "domain too long",
	       "limit: 256-char domain");
	/* <> + @ = 3, so 64 + 189 = 253 + 3 = 256. */
	is_str(parse(make_path(buf, 64, 189, true), true), "ok", "limit: 256-char path");
	is_int(strlen(buf), 256, "limit: the test path really is 256 chars");
	is_str(parse(make_path(buf, 64, 190, true), true), "path too long", "limit: 257-char path");
	is_str(parse(make_path(buf, 64, 190, false), true), "path too long",
	       "limit: bare 255 chars counts as 257 with brackets");
	is_str(parse(make_path(buf, 64, 189, false), true), "ok", "limit: bare 254 chars");

	why = NULL;
	ok(address_parse_path("<a@b.org>\0x", 11, true, &A, &why) < 0 && why &&
		   strcmp(why, "NUL in address") == 0,
	   "bytes: NUL inside len rejected");
	ok(address_parse_path("<a@b.org>\0x", 9, true, &A, &why) == 0,
	   "bytes: len stops before the NUL");
	is_str(parse("<a@b.org>\r", true), "CR or LF in address", "bytes: CR");
	is_str(parse("<a\n@b.org>", true), "CR or LF in address", "bytes: LF");
	is_str(parse("<a\x01@b.org>", true), "control character in address", "bytes: ^A");
	ok(address_parse_path(NULL, 0, true, &A, &why) < 0, "bytes: NULL argument");
}

static void test_find_param(void)
{
	const char *p = "SIZE=1024 body=8BITMIME  SMTPUTF8 AUTH=<> SIZEX=2";
	const char *v;
	size_t vlen = 99;

	v = address_find_param(p, "size", &vlen);
	ok(v != NULL && vlen == 4 && strncmp(v, "1024", 4) == 0, "param: SIZE, case-insensitive");
	v = address_find_param(p, "BODY", &vlen);
	ok(v != NULL && vlen == 8 && strncmp(v, "8BITMIME", 8) == 0, "param: BODY lower-case key");
	vlen = 99;
	v = address_find_param(p, "SMTPUTF8", &vlen);
	ok(v != NULL && vlen == 0, "param: keyword without value");
	v = address_find_param(p, "AUTH", &vlen);
	ok(v != NULL && vlen == 2 && strncmp(v, "<>", 2) == 0, "param: AUTH=<>");
	ok(address_find_param(p, "RET", &vlen) == NULL, "param: absent keyword");
	ok(address_find_param(p, "SIZ", &vlen) == NULL, "param: prefix of a keyword is no match");
	ok(address_find_param("", "SIZE", &vlen) == NULL, "param: empty params");
	v = address_find_param("X=1 SIZEX=2", "SIZEX", NULL);
	ok(v != NULL && *v == '2', "param: vlen may be NULL");
}

static const char *parse_utf8(const char *arg, unsigned flags)
{
	const char *why = NULL;

	if (address_parse_path(arg, strlen(arg), flags | AG_ADDR_UTF8, &A, &why) == 0)
		return "ok";
	return why ? why : "(no why)";
}

/* RFC 6531 3.3: UTF-8 local parts and U-labels, only with SMTPUTF8 in effect. */
static void test_utf8(void)
{
	const char *why = NULL;

	ok(address_parse_path("<j\xc3\xb6rg@example.org>", 22, 0, &A, &why) < 0 &&
		   why == address_why_utf8,
	   "utf8: refused without AG_ADDR_UTF8, with the SMTPUTF8 why (553 5.6.7)");
	is_str(parse("<j\xc3\xb6rg@example.org>", false), "non-ASCII address without SMTPUTF8",
	       "utf8: local part refused in ASCII mode");
	is_str(parse_utf8("<j\xc3\xb6rg@example.org> SMTPUTF8", 0), "ok", "utf8: local part accepted");
	ok(A.utf8, "utf8: flagged as non-ASCII");
	is_str(A.addr, "j\xc3\xb6rg@example.org", "utf8: canonical form keeps the bytes");
	is_str(parse_utf8("<user@b\xc3\xbc" "cher.example>", 0), "ok", "utf8: U-label domain");
	is_str(parse_utf8("<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\x85\xac\xe5\x8f\xb8>", 0),
	       "ok", "utf8: CJK local part and domain");
	is_str(parse_utf8("<plain@example.org>", 0), "ok", "utf8: ASCII still fine");
	ok(!A.utf8, "utf8: ASCII not flagged");
	is_str(parse_utf8("<a\xc3@example.org>", 0), "invalid UTF-8 in address", "utf8: truncated sequence");
	is_str(parse_utf8("<a\xc0\xaf@example.org>", 0), "invalid UTF-8 in address", "utf8: overlong");
	is_str(parse_utf8("<a\xed\xa0\x80@example.org>", 0), "invalid UTF-8 in address",
	       "utf8: surrogate");
	is_str(parse_utf8("<a\xf4\x90\x80\x80@example.org>", 0), "invalid UTF-8 in address",
	       "utf8: beyond U+10FFFF");
	is_str(parse_utf8("<\x80@example.org>", 0), "invalid UTF-8 in address", "utf8: lone continuation");
	is_str(parse_utf8("<\"j\xc3\xb6 rg\"@example.org>", 0), "ok", "utf8: quoted UTF-8 local part");
	is_str(parse_utf8("<a@[127.0.0.\xc3\xb6]>", 0), "invalid character in address literal",
	       "utf8: none in an address literal");
	is_str(parse_utf8("<>", AG_ADDR_NULL_OK), "ok", "utf8: null path");
	ok(!A.utf8, "utf8: null path not flagged");
	{
		/* 32 two-byte characters = 64 octets: the limit counts octets (RFC 6531 3.3). */
		char buf[200], *p = buf;

		*p++ = '<';
		for (int i = 0; i < 32; i++) {
			*p++ = '\xc3';
			*p++ = '\xa9';
		}
		strcpy(p, "@example.org>");
		is_str(parse_utf8(buf, 0), "ok", "utf8: 64-octet local part");
		p = buf + 1 + 64;
		*p++ = '\xc3';
		*p++ = '\xa9';
		strcpy(p, "@example.org>");
		is_str(parse_utf8(buf, 0), "local part too long", "utf8: 66-octet local part refused");
	}
}

int main(void)
{
	test_utf8();
	test_basic();
	test_null_and_bare();
	test_quoted_and_route();
	test_literals();
	test_limits();
	test_find_param();
	return tap_done();
}
