/*
 * fuzz_proxyproto.c: proxyproto_parse() on arbitrary bytes, with its contract checked.
 * FUZZ_SOURCES: proxy/proxyproto.c policy/net.c
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "fuzz_util.h"
#include "proxy/proxyproto.h"

/* The address is of the header's family, and its text form reads back as the same address. */
static void check_addr(int family, const struct ag_ip *ip)
{
	char text[AG_IP_STRLEN];
	const char *why = NULL;
	struct ag_ip back;
	uint8_t bin[16];

	FUZZ_ASSERT(family == AF_INET6 || net_ip_is_v4(ip));
	FUZZ_ASSERT(net_format_ip(ip, text, sizeof(text)) == 0);
	FUZZ_ASSERT(net_parse_ip(text, &back, &why) == 0);
	FUZZ_ASSERT(memcmp(&back, ip, sizeof(back)) == 0);
	if (family == AF_INET)
		FUZZ_ASSERT(inet_pton(AF_INET, text, bin) == 1 &&
			    memcmp(bin, ip->addr + 12, 4) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyproto_result r, r2;
	uint8_t *buf = (uint8_t *)fuzz_memdup(data, size);
	int rc = proxyproto_parse(buf, size, &r);

	FUZZ_ASSERT(rc >= -1);
	FUZZ_ASSERT(rc <= (int)size);
	if (rc < 0)
		FUZZ_ASSERT(r.why != NULL && r.why[0] != '\0');
	if (rc == 0)
		FUZZ_ASSERT(size < PROXYPROTO_MAX_HEADER); /* enough bytes always decide */
	if (rc > 0) {
		FUZZ_ASSERT(r.version == 1 || r.version == 2);
		FUZZ_ASSERT(r.version != 1 || rc <= PROXYPROTO_V1_MAX);
		FUZZ_ASSERT(rc <= (int)PROXYPROTO_MAX_HEADER);
		if (r.local) {
			static const struct ag_ip zero;

			FUZZ_ASSERT(memcmp(&r.src, &zero, sizeof(zero)) == 0 &&
				    memcmp(&r.dst, &zero, sizeof(zero)) == 0);
		} else {
			FUZZ_ASSERT(r.family == AF_INET || r.family == AF_INET6);
			check_addr(r.family, &r.src);
			check_addr(r.family, &r.dst);
		}
		/* The header alone gives the same answer; any strict prefix of it asks for more. */
		FUZZ_ASSERT(proxyproto_parse(buf, (size_t)rc, &r2) == rc);
		FUZZ_ASSERT(memcmp(&r.src, &r2.src, sizeof(r.src)) == 0);
		FUZZ_ASSERT(memcmp(&r.dst, &r2.dst, sizeof(r.dst)) == 0);
		FUZZ_ASSERT(r.src_port == r2.src_port && r.dst_port == r2.dst_port);
		FUZZ_ASSERT(proxyproto_parse(buf, (size_t)rc - 1, &r2) == 0);
		FUZZ_ASSERT(proxyproto_parse(buf, (size_t)rc / 2, &r2) == 0);
	}
	if (rc != 0 && size > 1) {
		/* A prefix of an input that was decided is never refused if the whole was not. */
		int p = proxyproto_parse(buf, size / 2, &r2);

		FUZZ_ASSERT(!(rc > 0 && size / 2 < (size_t)rc && p != 0));
		FUZZ_ASSERT(!(rc > 0 && p == -1));
	}
	free(buf);
	return 0;
}
