/* net.c: IP addresses (text forms by inet_pton), formatting (RFC 5952), CIDR parsing and matching (no sockets). */
#include "net.h"

#include <arpa/inet.h> /* inet_pton only: text forms, no sockets */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest text we will look at for one address: a full IPv6 form with a v4 tail is 45. */
#define NET_MAX_IP_TEXT 64

static const uint8_t net_v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/*
 * An IPv4 part with a leading zero: inet_aton() reads "010" as octal 8, other parsers
 * as 10, so an ACL written that way means different things to different programs.
 * inet_pton() refuses it too; this only names the reason.
 */
static bool net_v4_leading_zero(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++)
		if (s[i] == '0' && (i == 0 || s[i - 1] == '.') && s[i + 1] >= '0' && s[i + 1] <= '9')
			return true;
	return false;
}

/*
 * The text forms are the C library's (inet_pton: exactly four decimal parts for IPv4;
 * RFC 4291 2.2 for IPv6, with an optional dotted-quad tail); what is ours is the checks
 * around them, with a reason an admin can act on, and the one 16-byte form.
 */
int net_parse_ip(const char *s, struct ag_ip *out, const char **why)
{
	char text[NET_MAX_IP_TEXT + 1];
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
	memcpy(text, s, len + 1);
	if (memchr(text, ':', len) != NULL) {
		/* A dotted-quad tail starts after the last colon. */
		const char *tail = strrchr(text, ':') + 1;

		if (inet_pton(AF_INET6, text, out->addr) == 1)
			return 0;
		*why = strchr(tail, '.') != NULL && net_v4_leading_zero(tail, strlen(tail))
			   ? "IPv4 part has a leading zero (ambiguous octal)"
			   : "not a valid IPv6 address";
		return -1;
	}
	memcpy(out->addr, net_v4_prefix, sizeof(net_v4_prefix));
	if (inet_pton(AF_INET, text, out->addr + 12) == 1)
		return 0;
	*why = net_v4_leading_zero(text, len) ? "IPv4 part has a leading zero (ambiguous octal)"
					      : "not a valid IPv4 address (four parts 0..255)";
	return -1;
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
			if (p[i] < '0' || p[i] > '9' || i >= 3) {
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
