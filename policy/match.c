/* match.c: domain and address patterns: checking, matching, and freeing their lists. */
#include <stdlib.h>
#include <string.h>

#include "net.h"

#define NET_MAX_DOMAIN 253 /* RFC 1035 2.3.4, without the trailing dot */
#define NET_MAX_LABEL 63
#define NET_MAX_LOCAL 64 /* RFC 5321 4.5.3.1.1 */

/* ASCII only: the C locale's tolower() would let a locale change what matches. */
static int net_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int net_is_digit(int c)
{
	return c >= '0' && c <= '9';
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

int net_check_hostname(const char *s, const char **why)
{
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (s == NULL) {
		*why = "empty domain";
		return -1;
	}
	return net_check_domain(s, strlen(s), why);
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
