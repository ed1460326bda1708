/* test_proxy_proxyproto.c: PROXY protocol v1/v2 headers, complete, truncated and hostile. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy/proxyproto.h"
#include "tap.h"

static const uint8_t sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* The address as text, RFC 5952 / dotted quad; "" for the all-zero address of a local result. */
static const char *ip_text(const struct ag_ip *ip)
{
	static const struct ag_ip zero;
	static char buf[AG_IP_STRLEN];

	if (memcmp(ip, &zero, sizeof(zero)) == 0 || net_format_ip(ip, buf, sizeof(buf)) < 0)
		return "";
	return buf;
}

static int parse_str(const char *s, struct proxyproto_result *r)
{
	return proxyproto_parse((const uint8_t *)s, strlen(s), r);
}

/* Every strict prefix of a valid header must ask for more, never fail nor succeed. */
static int prefixes_need_more(const uint8_t *buf, size_t len)
{
	struct proxyproto_result r;
	size_t k;

	for (k = 0; k < len; k++) {
		int rc = proxyproto_parse(buf, k, &r);

		if (rc != 0) {
			printf("# prefix of %zu/%zu bytes gave %d (%s)\n", k, len, rc,
			       r.why ? r.why : "");
			return 0;
		}
	}
	return 1;
}

/* A v2 header: command, family byte, body. Returns its total length. */
static size_t v2_build(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const uint8_t *body, size_t blen)
{
	memcpy(out, sig, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(blen >> 8);
	out[15] = (uint8_t)blen;
	if (blen > 0)
		memcpy(out + 16, body, blen);
	return 16 + blen;
}

static void test_v1(void)
{
	struct proxyproto_result r;
	const char *h4 = "PROXY TCP4 203.0.113.7 192.0.2.1 51234 465\r\nEHLO x\r\n";
	const char *h6 = "PROXY TCP6 2001:DB8::7 2001:db8::1 65535 0\r\n";
	const char *max = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
			  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	char over[200];

	is_int(parse_str(h4, &r), 44, "v1 TCP4: consumes the line, not the EHLO after it");
	is_int(r.version, 1, "v1: version 1");
	is_str(ip_text(&r.src), "203.0.113.7", "v1 TCP4 source address");
	is_str(ip_text(&r.dst), "192.0.2.1", "v1 TCP4 destination address");
	is_int(r.src_port, 51234, "v1 source port");
	is_int(r.dst_port, 465, "v1 destination port");
	is_int(r.family, AF_INET, "v1 TCP4 family");
	ok(!r.local, "v1 TCP4 is not local");

	is_int(parse_str(h6, &r), (int)strlen(h6), "v1 TCP6 accepted");
	is_str(ip_text(&r.src), "2001:db8::7", "v1 TCP6 source in canonical form");
	is_int(r.src_port, 65535, "port 65535");
	is_int(r.dst_port, 0, "port 0");
	is_int(parse_str(max, &r), 107, "the longest v1 line (107 bytes) is accepted");
	ok(prefixes_need_more((const uint8_t *)max, strlen(max)),
	   "every truncation of a v1 line asks for more");

	is_int(parse_str("PROXY UNKNOWN\r\n", &r), 15, "v1 UNKNOWN");
	ok(r.local, "v1 UNKNOWN: keep the connection's addresses");
	is_str(ip_text(&r.src), "", "v1 UNKNOWN: no source address");
	is_int(parse_str("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", &r), 35,
	       "v1 UNKNOWN with ignored fields");

	/* 108 bytes without CRLF in time: a sender that is not speaking the protocol. */
	memset(over, 'a', sizeof(over));
	memcpy(over, "PROXY TCP4 ", 11);
	is_int(proxyproto_parse((const uint8_t *)over, 107, &r), -1,
	       "v1 overlong: refused at 107 bytes");
	ok(r.why != NULL, "a refusal says why");
	snprintf(over, sizeof(over), "PROXY TCP4 1.2.3.4 5.6.7.8 %0*d 2\r\n", 80, 1);
	is_int(parse_str(over, &r), -1, "v1 overlong with CRLF after byte 107");
	memset(over, 'x', sizeof(over));
	memcpy(over, "PROXY UNKNOWN ", 14);
	memcpy(over + 106, "\r\n", 2);
	is_int(proxyproto_parse((const uint8_t *)over, 107, &r), -1,
	       "v1 whose CRLF would end at byte 108: refused");
	is_int(parse_str("PROXZ", &r), -1, "a P that does not go on as PROXY");
	is_int(parse_str("PROXY TCP4 1.2.3.4 5.6.7.888 1 25\r\n", &r), -1,
	       "bad destination address");
	is_int(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2a\r\n", &r), -1, "bad destination port");
	is_int(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 65536 25\r\n", &r), -1, "port 65536");
	is_int(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 -1 25\r\n", &r), -1, "negative port");
	is_int(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 123456 25\r\n", &r), -1, "six-digit port");
	is_int(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 25 \r\n", &r), -1, "empty destination port");
	is_int(parse_str("PROXY TCP4 1.2.3.4  5.6.7.8 1 25\r\n", &r), -1, "double space");
	is_int(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 25 9\r\n", &r), -1, "a fifth field");
	is_int(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", &r), -1, "a missing field");
	is_int(parse_str("PROXY TCP4 ::1 ::2 1 25\r\n", &r), -1, "IPv6 address under TCP4");
	is_int(parse_str("PROXY TCP6 1.2.3.4 5.6.7.8 1 25\r\n", &r), -1, "IPv4 address under TCP6");
	is_int(parse_str("PROXY TCP4 1.2.3.256 5.6.7.8 1 25\r\n", &r), -1, "octet 256");
	is_int(parse_str("PROXY UDP4 1.2.3.4 5.6.7.8 1 25\r\n", &r), -1, "unknown protocol");
	is_int(parse_str("PROXY UNKNOWNX\r\n", &r), -1, "UNKNOWN must be a whole word");
	is_int(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 25\n", &r), -1, "LF without CR");
	is_int(parse_str("PROXY TCP4 1.2.3.4\r5.6.7.8 1 25\r\n", &r), -1, "CR inside the line");
	is_int(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\x01", &r), -1,
	       "a control character fails at once, before the CRLF");
	is_int(parse_str("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", &r), -1,
	       "the keyword is case-sensitive");
	is_int(parse_str("EHLO client.example\r\n", &r), -1, "plain SMTP is not a header");
	ok(r.why != NULL && strlen(r.why) > 0, "and says why");
	is_int(parse_str("PROXY TCP4 1.2.3.4", &r), 0, "a truncated line asks for more");
	is_int(proxyproto_parse(NULL, 0, &r), 0, "nothing yet: need more");
}

static void test_v2(void)
{
	struct proxyproto_result r;
	uint8_t buf[PROXYPROTO_MAX_HEADER + 64], body[PROXYPROTO_V2_MAX_BODY + 8];
	size_t n;

	/* TCP over IPv4: 203.0.113.7:51234 -> 192.0.2.1:587. */
	memcpy(body, (const uint8_t[]){203, 0, 113, 7, 192, 0, 2, 1, 0xc8, 0x22, 0x02, 0x4b}, 12);
	n = v2_build(buf, 0x21, 0x11, body, 12);
	memcpy(buf + n, "EHLO", 4);
	is_int(proxyproto_parse(buf, n + 4, &r), 28, "v2 INET: 16 + 12 bytes consumed");
	is_int(r.version, 2, "v2: version 2");
	is_str(ip_text(&r.src), "203.0.113.7", "v2 INET source");
	is_str(ip_text(&r.dst), "192.0.2.1", "v2 INET destination");
	is_int(r.src_port, 51234, "v2 source port");
	is_int(r.dst_port, 587, "v2 destination port");
	ok(prefixes_need_more(buf, n), "every truncation of a v2 header asks for more");

	/* IPv6 with two TLVs (ALPN, AWS-style custom 0xEA) after the addresses. */
	memset(body, 0, 36);
	body[0] = 0x20, body[1] = 0x01, body[2] = 0x0d, body[3] = 0xb8, body[15] = 7;
	body[16] = 0x20, body[17] = 0x01, body[18] = 0x0d, body[19] = 0xb8, body[31] = 1;
	body[32] = 0x01, body[33] = 0x00, body[34] = 0x01, body[35] = 0xd1;
	memcpy(body + 36,
	       (const uint8_t[]){0x01, 0x00, 0x02, 'h', '2', 0xea, 0x00, 0x03, 'v', 'p', 'c'}, 11);
	n = v2_build(buf, 0x21, 0x21, body, 47);
	is_int(proxyproto_parse(buf, n, &r), 63, "v2 INET6 with TLVs: TLVs skipped");
	is_str(ip_text(&r.src), "2001:db8::7", "v2 INET6 source");
	is_int(r.src_port, 256, "v2 INET6 source port");
	is_int(r.dst_port, 465, "v2 INET6 destination port");
	ok(prefixes_need_more(buf, n), "every truncation of a v2 header with TLVs asks for more");
	n = v2_build(buf, 0x21, 0x21, body, 46);
	is_int(proxyproto_parse(buf, n, &r), -1, "v2 TLV running past the header");
	n = v2_build(buf, 0x21, 0x21, body, 38);
	is_int(proxyproto_parse(buf, n, &r), -1, "v2 TLV cut before its length");

	n = v2_build(buf, 0x20, 0x00, NULL, 0);
	is_int(proxyproto_parse(buf, n, &r), 16, "v2 LOCAL (health check)");
	ok(r.local, "v2 LOCAL: keep the connection's addresses");
	n = v2_build(buf, 0x20, 0x11, body, 12);
	is_int(proxyproto_parse(buf, n, &r), 28, "v2 LOCAL with an address block: skipped");
	ok(r.local && ip_text(&r.src)[0] == '\0', "v2 LOCAL ignores the addresses it carries");
	n = v2_build(buf, 0x21, 0x00, NULL, 0);
	is_int(proxyproto_parse(buf, n, &r), 16, "v2 PROXY UNSPEC");
	ok(r.local, "v2 UNSPEC: local");
	memset(body, 0, 216);
	n = v2_build(buf, 0x21, 0x31, body, 216);
	is_int(proxyproto_parse(buf, n, &r), 232, "v2 UNIX: accepted as local");

	n = v2_build(buf, 0x21, 0x11, body, 11);
	is_int(proxyproto_parse(buf, n, &r), -1, "v2 INET with too short a body");
	n = v2_build(buf, 0x21, 0x12, body, 12);
	is_int(proxyproto_parse(buf, n, &r), -1, "v2 INET over UDP");
	n = v2_build(buf, 0x31, 0x11, body, 12);
	is_int(proxyproto_parse(buf, n, &r), -1, "v2 version 3");
	is_int(proxyproto_parse(buf, 13, &r), -1,
	       "a bad version is refused before the rest arrives");
	n = v2_build(buf, 0x22, 0x11, body, 12);
	is_int(proxyproto_parse(buf, n, &r), -1, "v2 command 2");
	n = v2_build(buf, 0x21, 0x41, body, 12);
	is_int(proxyproto_parse(buf, n, &r), -1, "v2 family 4");
	/* One NOOP TLV (type 4) fills the largest body after the 12 address bytes. */
	memset(body, 0, sizeof(body));
	body[12] = 0x04;
	body[13] = (uint8_t)((PROXYPROTO_V2_MAX_BODY - 15) >> 8);
	body[14] = (uint8_t)(PROXYPROTO_V2_MAX_BODY - 15);
	n = v2_build(buf, 0x21, 0x11, body, PROXYPROTO_V2_MAX_BODY);
	is_int(proxyproto_parse(buf, n, &r), (int)PROXYPROTO_MAX_HEADER,
	       "v2 with the largest body (one NOOP TLV)");
	n = v2_build(buf, 0x21, 0x11, body, PROXYPROTO_V2_MAX_BODY + 1);
	is_int(proxyproto_parse(buf, 16, &r), -1,
	       "v2 length over the bound: refused on the fixed part");
	memcpy(buf, sig, 12);
	buf[11] = 'X';
	is_int(proxyproto_parse(buf, 12, &r), -1, "bad v2 signature");
	is_int(proxyproto_parse(buf, 8, &r), 0, "a signature prefix asks for more");
	buf[3] = 'X';
	is_int(proxyproto_parse(buf, 8, &r), -1, "a wrong byte in a signature prefix is refused");
}

int main(void)
{
	test_v1();
	test_v2();
	return tap_done();
}
