/* proxyproto.c: HAProxy PROXY protocol v1/v2 header parser over a byte buffer (pure, no I/O). */
#include "proxyproto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/*
 * Spec: https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt
 * Both versions arrive before anything else on the connection; a receiver
 * configured for the protocol must refuse a connection without a valid
 * header (section 2), which is what -1 tells the caller.
 */

static const uint8_t pp_v1_prefix[] = "PROXY ";
#define PP_V1_PREFIX_LEN 6

/* Section 2.2: "\r\n\r\n\0\r\nQUIT\n" cannot start an SMTP or HTTP stream. */
static const uint8_t pp_v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				      0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

#define PP_V2_CMD_LOCAL 0x0
#define PP_V2_CMD_PROXY 0x1
#define PP_V2_AF_UNSPEC 0x0
#define PP_V2_AF_INET 0x1
#define PP_V2_AF_INET6 0x2
#define PP_V2_AF_UNIX 0x3
#define PP_V2_STREAM 0x1
#define PP_V2_INET_LEN 12  /* 2 x 4 bytes + 2 x 2 */
#define PP_V2_INET6_LEN 36 /* 2 x 16 bytes + 2 x 2 */
#define PP_V2_UNIX_LEN 216 /* 2 x 108 bytes */

static int pp_fail(struct proxyproto_result *out, const char *why)
{
	out->why = why;
	return -1;
}

static size_t pp_min(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* "0".."65535", digits only. */
static int pp_v1_port(const uint8_t *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* An address in network order (4 bytes for AF_INET, 16 for AF_INET6), as struct ag_ip keeps it. */
static void pp_set_ip(int af, const uint8_t *bin, struct ag_ip *ip)
{
	if (af == AF_INET)
		net_ip_from_v4(bin, ip);
	else
		memcpy(ip->addr, bin, 16);
}

/* One address token of the given family, strictly as inet_pton reads it. */
static int pp_v1_addr(const uint8_t *s, size_t len, int af, struct ag_ip *ip)
{
	char tmp[INET6_ADDRSTRLEN];
	uint8_t bin[16];

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(af, tmp, bin) != 1)
		return -1;
	pp_set_ip(af, bin, ip);
	return 0;
}

/*
 * Split "a b c d" (already without "PROXY TCPx ") into exactly four tokens
 * separated by single spaces, as section 2.1 writes them.
 */
static int pp_v1_fields(const uint8_t *s, size_t len, const uint8_t *tok[4], size_t toklen[4])
{
	size_t i, n = 0, start = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != ' ')
			continue;
		if (n == 4 || i == start)
			return -1; /* a fifth field, or an empty one (double or trailing space) */
		tok[n] = s + start;
		toklen[n] = i - start;
		n++;
		start = i + 1;
	}
	return n == 4 ? 0 : -1;
}

/* The whole line, CRLF excluded, is in s[0..len). */
static int pp_v1_line(const uint8_t *s, size_t len, struct proxyproto_result *out)
{
	const uint8_t *tok[4];
	size_t toklen[4];
	int af;

	s += PP_V1_PREFIX_LEN;
	len -= PP_V1_PREFIX_LEN;
	if (len >= 7 && memcmp(s, "UNKNOWN", 7) == 0 && (len == 7 || s[7] == ' ')) {
		/* Section 2.1: the rest of an UNKNOWN line is to be ignored. */
		out->local = true;
		return 0;
	}
	if (len < 5 || s[4] != ' ')
		return pp_fail(out, "v1: unknown protocol");
	if (memcmp(s, "TCP4", 4) == 0)
		af = AF_INET;
	else if (memcmp(s, "TCP6", 4) == 0)
		af = AF_INET6;
	else
		return pp_fail(out, "v1: unknown protocol");
	if (pp_v1_fields(s + 5, len - 5, tok, toklen) < 0)
		return pp_fail(out, "v1: want exactly: source destination sport dport");
	if (pp_v1_addr(tok[0], toklen[0], af, &out->src) < 0)
		return pp_fail(out, "v1: bad source address");
	if (pp_v1_addr(tok[1], toklen[1], af, &out->dst) < 0)
		return pp_fail(out, "v1: bad destination address");
	if (pp_v1_port(tok[2], toklen[2], &out->src_port) < 0)
		return pp_fail(out, "v1: bad source port");
	if (pp_v1_port(tok[3], toklen[3], &out->dst_port) < 0)
		return pp_fail(out, "v1: bad destination port");
	out->family = af;
	return 0;
}

static int pp_v1(const uint8_t *buf, size_t len, struct proxyproto_result *out)
{
	size_t i, n = pp_min(len, PP_V1_PREFIX_LEN);

	out->version = 1;
	if (memcmp(buf, pp_v1_prefix, n) != 0)
		return pp_fail(out, "v1: not a PROXY line");
	/* Refuse early what can never become a header: no waiting for 107 bytes of junk. */
	for (i = PP_V1_PREFIX_LEN; i < len && i < PROXYPROTO_V1_MAX; i++) {
		if (buf[i] == '\r') {
			if (i + 2 > PROXYPROTO_V1_MAX)
				return pp_fail(out, "v1: line longer than 107 bytes");
			if (i + 1 == len)
				return 0;
			if (buf[i + 1] != '\n')
				return pp_fail(out, "v1: CR without LF");
			if (pp_v1_line(buf, i, out) < 0)
				return -1;
			return (int)(i + 2);
		}
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return pp_fail(out, "v1: control or 8-bit character");
	}
	if (len >= PROXYPROTO_V1_MAX)
		return pp_fail(out, "v1: line longer than 107 bytes");
	return 0;
}

static uint16_t pp_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* Section 2.2.7: type (1), length (2, big-endian), value; they must tile the rest exactly. */
static int pp_v2_tlvs(const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t vlen;

		if (len - off < 3)
			return -1;
		vlen = pp_be16(p + off + 1);
		if (vlen > len - off - 3)
			return -1;
		off += 3 + vlen;
	}
	return 0;
}

static int pp_v2(const uint8_t *buf, size_t len, struct proxyproto_result *out)
{
	size_t n = pp_min(len, sizeof(pp_v2_sig)), blen, alen;
	const uint8_t *body;
	uint8_t cmd, fam, tr;

	out->version = 2;
	if (memcmp(buf, pp_v2_sig, n) != 0)
		return pp_fail(out, "v2: bad signature");
	if (len > 12) {
		if ((buf[12] >> 4) != 2)
			return pp_fail(out, "v2: unsupported version");
		cmd = buf[12] & 0x0f;
		if (cmd != PP_V2_CMD_LOCAL && cmd != PP_V2_CMD_PROXY)
			return pp_fail(out, "v2: unknown command");
	}
	if (len < PROXYPROTO_V2_HDR)
		return 0;
	cmd = buf[12] & 0x0f;
	fam = buf[13] >> 4;
	tr = buf[13] & 0x0f;
	blen = pp_be16(buf + 14);
	if (blen > PROXYPROTO_V2_MAX_BODY)
		return pp_fail(out, "v2: header too long");
	if (len < PROXYPROTO_V2_HDR + blen)
		return 0;
	body = buf + PROXYPROTO_V2_HDR;

	/* Section 2.2: LOCAL (health checks) carries no client; the body is skipped. */
	if (cmd == PP_V2_CMD_LOCAL) {
		out->local = true;
		return (int)(PROXYPROTO_V2_HDR + blen);
	}
	switch (fam) {
	case PP_V2_AF_UNSPEC:
		alen = 0;
		out->local = true;
		break;
	case PP_V2_AF_INET:
		alen = PP_V2_INET_LEN;
		break;
	case PP_V2_AF_INET6:
		alen = PP_V2_INET6_LEN;
		break;
	case PP_V2_AF_UNIX:
		/* A unix-socket client has no address to log or to send in XCLIENT. */
		alen = PP_V2_UNIX_LEN;
		out->local = true;
		break;
	default:
		return pp_fail(out, "v2: unknown address family");
	}
	if (blen < alen)
		return pp_fail(out, "v2: length shorter than the addresses");
	if (!out->local) {
		int af = fam == PP_V2_AF_INET ? AF_INET : AF_INET6;
		size_t asz = fam == PP_V2_AF_INET ? 4 : 16;

		if (tr != PP_V2_STREAM)
			return pp_fail(out, "v2: not a stream (TCP) connection");
		pp_set_ip(af, body, &out->src);
		pp_set_ip(af, body + asz, &out->dst);
		out->src_port = pp_be16(body + 2 * asz);
		out->dst_port = pp_be16(body + 2 * asz + 2);
		out->family = af;
	}
	if (pp_v2_tlvs(body + alen, blen - alen) < 0)
		return pp_fail(out, "v2: malformed TLV");
	return (int)(PROXYPROTO_V2_HDR + blen);
}

int proxyproto_parse(const uint8_t *buf, size_t len, struct proxyproto_result *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->family = AF_UNSPEC;
	if (len == 0)
		return 0;
	if (buf[0] == pp_v1_prefix[0])
		rc = pp_v1(buf, len, out);
	else if (buf[0] == pp_v2_sig[0])
		rc = pp_v2(buf, len, out);
	else
		return pp_fail(out, "not a PROXY protocol header");
	if (rc <= 0) {
		/* Nothing half-filled is left behind for a caller who looks anyway. */
		const char *why = out->why;

		memset(out, 0, sizeof(*out));
		out->family = AF_UNSPEC;
		out->why = why;
	}
	return rc;
}
