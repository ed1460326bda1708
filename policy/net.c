/* net.c: IP address and CIDR parsing, domain and address pattern matching (no sockets). */
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest text we will look at for one address: a full IPv6 form with a v4 tail is 45. */
#define NET_MAX_IP_TEXT 64
#define NET_MAX_DOMAIN 253 /* RFC 1035 2.3.4, without the trailing dot */
#define NET_MAX_LABEL 63
#define NET_MAX_LOCAL 64 /* RFC 5321 4.5.3.1.1 */

static const uint8_t net_v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* ASCII only: the C locale's tolower() would let a locale change what matches. */
static int net_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

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

/* Compare n bytes case-insensitively (ASCII); true if equal. */
static bool net_ieq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (net_lower((unsigned char)a[i]) != net_lower((unsigned char)b[i]))
			return false;
	return true;
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

/* Length without one trailing dot (the root label: "example.org." is "example.org"). */
static size_t net_domain_len(const char *d)
{
	size_t n = strlen(d);

	if (n > 0 && d[n - 1] == '.')
		n--;
	return n;
}

bool net_domain_match(const char *pattern, const char *domain)
{
	size_t plen, dlen;

	if (pattern == NULL || domain == NULL)
		return false;
	plen = net_domain_len(pattern);
	dlen = net_domain_len(domain);
	if (plen == 0 || dlen == 0)
		return false;
	if (plen >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* "*.example.org": strictly below, so the apex must be listed on its own. */
		const char *suffix = pattern + 1; /* ".example.org" */
		size_t slen = plen - 1;

		if (dlen <= slen)
			return false;
		return net_ieq(domain + dlen - slen, suffix, slen);
	}
	return plen == dlen && net_ieq(pattern, domain, dlen);
}

bool net_domain_list_match(const struct ag_domain_list *l, const char *domain)
{
	size_t i;

	if (l == NULL)
		return false;
	for (i = 0; i < l->n; i++)
		if (net_domain_match(l->v[i], domain))
			return true;
	return false;
}

/* RFC 1035 2.3.1 preferred name syntax, RFC 1123 2.1 (labels may start with a digit). */
static int net_check_domain(const char *s, size_t len, const char **why)
{
	size_t i, label = 0;
	bool all_digits = true;

	if (len == 0) {
		*why = "empty domain";
		return -1;
	}
	if (len > NET_MAX_DOMAIN) {
		*why = "domain longer than 253 characters";
		return -1;
	}
	for (i = 0; i <= len; i++) {
		int c = i < len ? (unsigned char)s[i] : '.';

		if (c == '.') {
			if (label == 0) {
				*why = "empty label in domain";
				return -1;
			}
			if (s[i - 1] == '-') {
				*why = "domain label ends with a hyphen";
				return -1;
			}
			label = 0;
			continue;
		}
		if (c == '*') {
			*why = "wildcard only allowed as a leading \"*.\"";
			return -1;
		}
		if (!(net_is_digit(c) || (net_lower(c) >= 'a' && net_lower(c) <= 'z') || c == '-')) {
			*why = "invalid character in domain";
			return -1;
		}
		if (label == 0) {
			if (c == '-') {
				*why = "domain label starts with a hyphen";
				return -1;
			}
			all_digits = true;
		}
		if (!net_is_digit(c))
			all_digits = false;
		if (++label > NET_MAX_LABEL) {
			*why = "domain label longer than 63 characters";
			return -1;
		}
	}
	/* RFC 3696 2: no top-level domain is all-numeric, so this is an address, not a domain. */
	if (all_digits) {
		*why = "numeric top-level label (an address, not a domain)";
		return -1;
	}
	return 0;
}

int net_check_domain_pattern(const char *s, const char **why)
{
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || *s == '\0') {
		*why = "empty domain";
		return -1;
	}
	if (s[0] == '*') {
		if (s[1] != '.') {
			*why = "wildcard only allowed as a leading \"*.\"";
			return -1;
		}
		s += 2;
	}
	return net_check_domain(s, strlen(s), why);
}

/*
 * Glob match of the local part: '*' is any run (including none). Iterative with
 * one backtrack point, so the cost is bounded by len(pattern) * len(text).
 */
static bool net_glob_local(const char *p, size_t plen, const char *t, size_t tlen)
{
	size_t pi = 0, ti = 0, star_p = (size_t)-1, star_t = 0;

	while (ti < tlen) {
		if (pi < plen && p[pi] == '*') {
			star_p = pi++;
			star_t = ti;
		} else if (pi < plen &&
			   net_lower((unsigned char)p[pi]) == net_lower((unsigned char)t[ti])) {
			pi++;
			ti++;
		} else if (star_p != (size_t)-1) {
			pi = star_p + 1;
			ti = ++star_t;
		} else {
			return false;
		}
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

bool net_address_pattern_match(const char *pattern, const char *address)
{
	const char *pat, *aat;
	size_t pdlen, adlen;

	if (pattern == NULL || address == NULL)
		return false;
	pat = strrchr(pattern, '@');
	/* The last '@': a quoted local part may hold one, a domain never does. */
	aat = strrchr(address, '@');
	if (pat == NULL || aat == NULL || pat == pattern || aat == address)
		return false;
	pdlen = net_domain_len(pat + 1);
	adlen = net_domain_len(aat + 1);
	if (pdlen == 0 || pdlen != adlen || !net_ieq(pat + 1, aat + 1, pdlen))
		return false;
	return net_glob_local(pattern, (size_t)(pat - pattern), address, (size_t)(aat - address));
}

bool net_pattern_list_match(const struct ag_pattern_list *l, const char *address)
{
	size_t i;

	if (l == NULL)
		return false;
	for (i = 0; i < l->n; i++)
		if (net_address_pattern_match(l->v[i], address))
			return true;
	return false;
}

int net_check_address_pattern(const char *s, const char **why)
{
	const char *at, *dummy;
	size_t i, llen;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || *s == '\0') {
		*why = "empty address pattern";
		return -1;
	}
	at = strchr(s, '@');
	if (at == NULL) {
		*why = "address pattern has no @";
		return -1;
	}
	if (strchr(at + 1, '@') != NULL) {
		*why = "address pattern has more than one @";
		return -1;
	}
	llen = (size_t)(at - s);
	if (llen == 0) {
		*why = "address pattern has an empty local part";
		return -1;
	}
	if (llen > NET_MAX_LOCAL) {
		*why = "address pattern local part longer than 64 characters";
		return -1;
	}
	for (i = 0; i < llen; i++) {
		unsigned char c = (unsigned char)s[i];

		/* Dot-atom characters and '*': quoting would make the glob ambiguous. */
		if (c <= ' ' || c >= 0x7f || strchr("\"\\<>()[],;:", c) != NULL) {
			*why = "invalid character in address pattern local part";
			return -1;
		}
	}
	if (at[1] == '\0') {
		*why = "address pattern has an empty domain";
		return -1;
	}
	if (strchr(at + 1, '*') != NULL) {
		*why = "wildcard not allowed in the domain of an address pattern";
		return -1;
	}
	return net_check_domain(at + 1, strlen(at + 1), why);
}

void net_cidr_list_free(struct ag_cidr_list *l)
{
	if (l == NULL)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void net_strings_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void net_domain_list_free(struct ag_domain_list *l)
{
	if (l == NULL)
		return;
	net_strings_free(l->v, l->n);
	l->v = NULL;
	l->n = 0;
}

void net_pattern_list_free(struct ag_pattern_list *l)
{
	if (l == NULL)
		return;
	net_strings_free(l->v, l->n);
	l->v = NULL;
	l->n = 0;
}
