/* net.h: IP addresses, CIDR lists, domain and address patterns (pure parsing, no sockets). */
#ifndef AG_NET_H
#define AG_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_IP_STRLEN 46 /* enough for any IPv6 text form plus NUL */

/*
 * Every address is held as 16 bytes of IPv6; IPv4 is stored v4-mapped
 * (::ffff:a.b.c.d) so that one comparison serves both families and a
 * v4-mapped client matches an IPv4 CIDR.
 */
struct ag_ip {
	uint8_t addr[16];
};

struct ag_cidr {
	uint8_t addr[16]; /* network bits, host bits zeroed */
	unsigned prefix;  /* 0..128, in the 128-bit space */
};

struct ag_cidr_list {
	struct ag_cidr *v;
	size_t n;
};

/* Domain patterns: "example.ac.uk" (exact) or "*.example.ac.uk" (subdomains only). */
struct ag_domain_list {
	char **v; /* lower-cased */
	size_t n;
};

/* Address patterns: "staff-all@example.ac.uk", "students-*@example.ac.uk". */
struct ag_pattern_list {
	char **v; /* lower-cased */
	size_t n;
};

/* Parse "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1"; 0 ok, -1 bad (why set). */
int net_parse_ip(const char *s, struct ag_ip *out, const char **why);
/* Text form: dotted quad for v4-mapped, RFC 5952 for IPv6. Returns 0, -1 if buf too small. */
int net_format_ip(const struct ag_ip *ip, char *buf, size_t len);
bool net_ip_is_v4(const struct ag_ip *ip);
/* An IPv4 address (4 bytes, network order) as ag_ip keeps it: ::ffff:a.b.c.d. */
void net_ip_from_v4(const uint8_t v4[4], struct ag_ip *out);

/* "10.0.0.0/8", "2001:db8::/32", a bare address (/32 or /128). Host bits set = error. */
int net_parse_cidr(const char *s, struct ag_cidr *out, const char **why);
bool net_cidr_match(const struct ag_cidr *c, const struct ag_ip *ip);
bool net_cidr_list_match(const struct ag_cidr_list *l, const struct ag_ip *ip);

/* Case-insensitive; a trailing dot on the domain is ignored. */
bool net_domain_match(const char *pattern, const char *domain);
bool net_domain_list_match(const struct ag_domain_list *l, const char *domain);
/*
 * A host name as DNS may give one (a PTR answer, which is hostile input): LDH
 * labels of at most 63, at most 253 characters, no trailing dot, no numeric
 * top label (RFC 1123 2.1, RFC 3696 2). 0 ok, -1 bad (why set).
 */
int net_check_hostname(const char *s, const char **why);
/* Validate a domain pattern (labels, length, optional leading "*."). 0 ok, -1 bad. */
int net_check_domain_pattern(const char *s, const char **why);

/* '*' in the local part matches any run of characters; domain exact; case-insensitive. */
bool net_address_pattern_match(const char *pattern, const char *address);
bool net_pattern_list_match(const struct ag_pattern_list *l, const char *address);
int net_check_address_pattern(const char *s, const char **why);

/* Free the arrays (and strings) a list owns; safe on a zeroed list. */
void net_cidr_list_free(struct ag_cidr_list *l);
void net_domain_list_free(struct ag_domain_list *l);
void net_pattern_list_free(struct ag_pattern_list *l);

#endif
