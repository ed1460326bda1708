/* net.c: IP address parsing and formatting, CIDR parsing and matching (no sockets). */
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest text we will look at for one address: a full IPv6 form with a v4 tail is 45. */
#define NET_MAX_IP_TEXT 64

static const uint8_t net_v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int net_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int net_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Exactly four decimal parts 0..255 in s[0..len). Leading zeros are refused:
 * inet_aton() reads "010" as octal 8, other parsers as 10, so an ACL written
 * that way means different things to different programs.
 */
static int net_parse_v4(const char *s, size_t len, uint8_t out[4], const char **why)
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		unsigned val = 0;
		size_t start = i;

		if (part > 0) {
			if (i >= len || s[i] != '.') {
				*why = i >= len ? "IPv4 address has fewer than 4 parts"
						: "invalid character in IPv4 address";
				return -1;
			}
			start = ++i;
		}
		while (i < len && net_is_digit((unsigned char)s[i]) && i - start < 4)
			val = val * 10 + (unsigned)(s[i++] - '0');
		if (i == start) {
			*why = (i < len && s[i] != '.') ? "invalid character in IPv4 address"
							: "empty part in IPv4 address";
			return -1;
		}
		if (i - start > 3 || val > 255) {
			*why = "IPv4 part out of range 0..255";
			return -1;
		}
		if (i - start > 1 && s[start] == '0') {
			*why = "IPv4 part has a leading zero (ambiguous octal)";
			return -1;
		}
		out[part] = (uint8_t)val;
	}
	if (i != len) {
		*why = s[i] == '.' ? "IPv4 address has more than 4 parts"
				   : "invalid character in IPv4 address";
		return -1;
	}
	return 0;
}

/* RFC 4291 2.2: hex groups, at most one "::", optional dotted-quad tail. */
static int net_parse_v6(const char *s, size_t len, uint8_t out[16], const char **why)
{
	uint16_t groups[8];
	int ngroups = 0, dc = -1, i;
	size_t p = 0;

	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		dc = 0;
		p = 2;
		if (p < len && s[p] == ':') {
			*why = "too many colons in IPv6 address";
			return -1;
		}
	} else if (len >= 1 && s[0] == ':') {
		*why = "IPv6 address starts with a single colon";
		return -1;
	}
	while (p < len) {
		size_t start = p;
		unsigned val = 0;

		while (p < len && net_hex_value((unsigned char)s[p]) >= 0 && p - start < 5)
			val = (val << 4) | (unsigned)net_hex_value((unsigned char)s[p++]);
		if (p < len && s[p] == '.') {
			/* Embedded IPv4 (RFC 4291 2.2 form 3): last 32 bits, end of string. */
			if (ngroups > 6) {
				*why = "too many groups in IPv6 address";
				return -1;
			}
			if (net_parse_v4(s + start, len - start, out, why) < 0)
				return -1;
			groups[ngroups++] = (uint16_t)(out[0] << 8 | out[1]);
			groups[ngroups++] = (uint16_t)(out[2] << 8 | out[3]);
			break;
		}
		if (p == start) {
			*why = "invalid character in IPv6 address";
			return -1;
		}
		if (p - start > 4) {
			*why = "IPv6 group longer than 4 hex digits";
			return -1;
		}
		if (ngroups >= 8) {
			*why = "too many groups in IPv6 address";
			return -1;
		}
		groups[ngroups++] = (uint16_t)val;
		if (p == len)
			break;
		if (s[p] != ':') {
			*why = "invalid character in IPv6 address";
			return -1;
		}
		p++;
		if (p < len && s[p] == ':') {
			if (dc >= 0) {
				*why = "more than one \"::\" in IPv6 address";
				return -1;
			}
			dc = ngroups;
			p++;
			if (p < len && s[p] == ':') {
				*why = "too many colons in IPv6 address";
				return -1;
			}
		} else if (p == len) {
			*why = "IPv6 address ends with a single colon";
			return -1;
		}
	}
	if (dc < 0 && ngroups != 8) {
		*why = "too few groups in IPv6 address";
		return -1;
	}
	if (dc >= 0 && ngroups > 7) {
		*why = "\"::\" stands for no group in IPv6 address";
		return -1;
	}
	memset(out, 0, 16);
	for (i = 0; i < ngroups; i++) {
		/* Groups after the "::" are right-aligned. */
		int pos = (dc >= 0 && i >= dc) ? 8 - (ngroups - i) : i;

		out[2 * pos] = (uint8_t)(groups[i] >> 8);
		out[2 * pos + 1] = (uint8_t)(groups[i] & 0xff);
	}
	return 0;
}

int net_parse_ip(const char *s, struct ag_ip *out, const char **why)
{
	const char *dummy;
	size_t len;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || out == NULL || *s == '\0') {
		*why = "empty address";
		return -1;
	}
	len = strnlen(s, NET_MAX_IP_TEXT + 1);
	if (len > NET_MAX_IP_TEXT) {
		*why = "address too long";
		return -1;
	}
	if (memchr(s, '%', len) != NULL) {
		/* A zone id names an interface on this host: meaningless in an ACL. */
		*why = "IPv6 zone id not allowed";
		return -1;
	}
	if (s[0] == '[') {
		*why = "brackets not allowed around an address";
		return -1;
	}
	if (memchr(s, ':', len) != NULL)
		return net_parse_v6(s, len, out->addr, why);
	memcpy(out->addr, net_v4_prefix, sizeof(net_v4_prefix));
	return net_parse_v4(s, len, out->addr + 12, why);
}

void net_ip_from_v4(const uint8_t v4[4], struct ag_ip *out)
{
	memcpy(out->addr, net_v4_prefix, sizeof(net_v4_prefix));
	memcpy(out->addr + 12, v4, 4);
}

bool net_ip_is_v4(const struct ag_ip *ip)
{
	return ip != NULL && memcmp(ip->addr, net_v4_prefix, sizeof(net_v4_prefix)) == 0;
}

int net_format_ip(const struct ag_ip *ip, char *buf, size_t len)
{
	char tmp[AG_IP_STRLEN];
	size_t n = 0;
	int i, best = -1, bestlen = 0, run = -1, runlen = 0;
	uint16_t g[8];

	if (ip == NULL || buf == NULL || len == 0)
		return -1;
	if (net_ip_is_v4(ip)) {
		int w = snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", ip->addr[12], ip->addr[13],
				 ip->addr[14], ip->addr[15]);

		if (w < 0 || (size_t)w >= len)
			return -1;
		memcpy(buf, tmp, (size_t)w + 1);
		return 0;
	}
	/* RFC 5952 4.2: compress the longest run of two or more zero groups, the first on a tie. */
	for (i = 0; i < 8; i++) {
		g[i] = (uint16_t)(ip->addr[2 * i] << 8 | ip->addr[2 * i + 1]);
		if (g[i] == 0) {
			if (run < 0) {
				run = i;
				runlen = 0;
			}
			runlen++;
			if (runlen > bestlen) {
				best = run;
				bestlen = runlen;
			}
		} else {
			run = -1;
		}
	}
	if (bestlen < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		int w;

		if (i == best) {
			tmp[n++] = ':';
			tmp[n++] = ':';
			i += bestlen - 1;
			continue;
		}
		if (n > 0 && tmp[n - 1] != ':')
			tmp[n++] = ':';
		/* At most 5 bytes per group + "::": 8 * 5 + 2 < AG_IP_STRLEN. */
		w = snprintf(tmp + n, sizeof(tmp) - n, "%x", g[i]);
		if (w < 0 || (size_t)w >= sizeof(tmp) - n)
			return -1;
		n += (size_t)w;
	}
	tmp[n] = '\0';
	if (n >= len)
		return -1;
	memcpy(buf, tmp, n + 1);
	return 0;
}

int net_parse_cidr(const char *s, struct ag_cidr *out, const char **why)
{
	char text[NET_MAX_IP_TEXT + 1];
	const char *slash, *dummy;
	struct ag_ip ip;
	unsigned prefix, max, i;
	size_t alen;
	bool v4;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || out == NULL || *s == '\0') {
		*why = "empty network";
		return -1;
	}
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0) {
		*why = "empty address in network";
		return -1;
	}
	if (alen > NET_MAX_IP_TEXT) {
		*why = "address too long";
		return -1;
	}
	memcpy(text, s, alen);
	text[alen] = '\0';
	if (net_parse_ip(text, &ip, why) < 0)
		return -1;
	/* The family of the text, not of the result: "::ffff:10.0.0.0/104" counts in 128 bits. */
	v4 = memchr(text, ':', alen) == NULL;
	max = v4 ? 32 : 128;
	if (slash == NULL) {
		prefix = max;
	} else {
		const char *p = slash + 1;

		prefix = 0;
		if (*p == '\0') {
			*why = "empty prefix length";
			return -1;
		}
		for (i = 0; p[i] != '\0'; i++) {
			if (!net_is_digit((unsigned char)p[i]) || i >= 3) {
				*why = "bad prefix length";
				return -1;
			}
			prefix = prefix * 10 + (unsigned)(p[i] - '0');
		}
		if (prefix > max) {
			*why = v4 ? "IPv4 prefix length over 32" : "IPv6 prefix length over 128";
			return -1;
		}
	}
	if (v4)
		prefix += 96;
	for (i = prefix; i < 128; i++) {
		if (ip.addr[i / 8] & (0x80 >> (i % 8))) {
			*why = "host bits set";
			return -1;
		}
	}
	memcpy(out->addr, ip.addr, sizeof(out->addr));
	out->prefix = prefix;
	return 0;
}

bool net_cidr_match(const struct ag_cidr *c, const struct ag_ip *ip)
{
	unsigned full, rest;

	if (c == NULL || ip == NULL || c->prefix > 128)
		return false;
	full = c->prefix / 8;
	rest = c->prefix % 8;
	if (memcmp(c->addr, ip->addr, full) != 0)
		return false;
	if (rest != 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((c->addr[full] & mask) != (ip->addr[full] & mask))
			return false;
	}
	return true;
}

bool net_cidr_list_match(const struct ag_cidr_list *l, const struct ag_ip *ip)
{
	size_t i;

	if (l == NULL)
		return false;
	for (i = 0; i < l->n; i++)
		if (net_cidr_match(&l->v[i], ip))
			return true;
	return false;
}

void net_cidr_list_free(struct ag_cidr_list *l)
{
	if (l == NULL)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
