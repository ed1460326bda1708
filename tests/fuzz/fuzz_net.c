/*
 * fuzz_net.c: IP and CIDR parsing with a format round trip; domain and address patterns.
 * FUZZ_SOURCES: policy
 */
#include <arpa/inet.h> /* the C library's parser, as the reference (policy/ has none) */

#include "fuzz_util.h"
#include "net.h"

/*
 * Differential: policy/net.c parses IP text itself (policy/ includes no network header),
 * so it must agree with inet_pton byte for byte: the same strings accepted (an IPv4
 * address as its v4-mapped form), the same 16 bytes.
 */
static void fuzz_ip_vs_inet_pton(const char *s, bool ours_ok, const struct ag_ip *ip)
{
	uint8_t ref[16];
	bool ref_ok;

	if (inet_pton(AF_INET6, s, ref) == 1) {
		ref_ok = true;
	} else if (inet_pton(AF_INET, s, ref + 12) == 1) {
		static const uint8_t v4map[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		memcpy(ref, v4map, sizeof(v4map));
		ref_ok = true;
	} else {
		ref_ok = false;
	}
	FUZZ_ASSERT(ours_ok == ref_ok);
	if (ours_ok)
		FUZZ_ASSERT(memcmp(ip->addr, ref, sizeof(ref)) == 0);
}

static void fuzz_ip(const char *s)
{
	struct ag_ip ip, ip2;
	char text[AG_IP_STRLEN], text2[AG_IP_STRLEN], tiny[8];
	const char *why = NULL;
	int rc = net_parse_ip(s, &ip, &why);

	if (strlen(s) <= 64) /* longer text is refused by us before any parsing */
		fuzz_ip_vs_inet_pton(s, rc == 0, &ip);
	if (rc < 0) {
		FUZZ_ASSERT(why != NULL);
		return;
	}
	FUZZ_ASSERT(net_format_ip(&ip, text, sizeof(text)) == 0);
	FUZZ_ASSERT(strlen(text) < sizeof(text));
	/* Text form parses back to the same 16 bytes and formats the same way (canonical). */
	FUZZ_ASSERT(net_parse_ip(text, &ip2, &why) == 0);
	FUZZ_ASSERT(memcmp(ip.addr, ip2.addr, sizeof(ip.addr)) == 0);
	FUZZ_ASSERT(net_format_ip(&ip2, text2, sizeof(text2)) == 0);
	FUZZ_ASSERT(strcmp(text, text2) == 0);
	/* A buffer too small is an error, never an overflow. */
	if (strlen(text) >= sizeof(tiny))
		FUZZ_ASSERT(net_format_ip(&ip, tiny, sizeof(tiny)) < 0);
}

static void fuzz_cidr(const char *s)
{
	struct ag_cidr c, c2;
	struct ag_ip ip;
	char text[AG_IP_STRLEN + 8], atext[AG_IP_STRLEN];
	const char *why = NULL;
	unsigned prefix;

	if (net_parse_cidr(s, &c, &why) < 0) {
		FUZZ_ASSERT(why != NULL);
		return;
	}
	FUZZ_ASSERT(c.prefix <= 128);
	memcpy(ip.addr, c.addr, sizeof(ip.addr));
	/* A network contains its own address. */
	FUZZ_ASSERT(net_cidr_match(&c, &ip));
	FUZZ_ASSERT(net_format_ip(&ip, atext, sizeof(atext)) == 0);
	prefix = c.prefix;
	if (net_ip_is_v4(&ip) && prefix >= 96)
		prefix -= 96;
	snprintf(text, sizeof(text), "%s/%u", atext, prefix);
	if (net_parse_cidr(text, &c2, &why) == 0) {
		FUZZ_ASSERT(c2.prefix == c.prefix);
		FUZZ_ASSERT(memcmp(c.addr, c2.addr, sizeof(c.addr)) == 0);
	}
}

/* "pattern\nsubject": checks never crash, and a subject always matches itself as an exact pattern.
 */
static void fuzz_patterns(const char *s)
{
	const char *nl = strchr(s, '\n'), *why = NULL;
	char *pattern;
	const char *subject;

	if (nl == NULL)
		return;
	pattern = fuzz_strndup((const uint8_t *)s, (size_t)(nl - s));
	subject = nl + 1;
	(void)net_check_domain_pattern(pattern, &why);
	(void)net_check_address_pattern(pattern, &why);
	(void)net_domain_match(pattern, subject);
	(void)net_address_pattern_match(pattern, subject);
	if (net_check_domain_pattern(subject, &why) == 0 && subject[0] != '*')
		FUZZ_ASSERT(net_domain_match(subject, subject));
	if (net_check_address_pattern(subject, &why) == 0)
		FUZZ_ASSERT(strchr(subject, '*') != NULL ||
			    net_address_pattern_match(subject, subject));
	free(pattern);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > 4096)
		return 0;
	s = fuzz_strndup(data, size);
	fuzz_ip(s);
	fuzz_cidr(s);
	fuzz_patterns(s);
	free(s);
	return 0;
}
