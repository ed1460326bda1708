/* test_proxy_rdns_cache.c: client-name answers by address: lifetimes, bounds, eviction. */
#include <stdio.h>
#include <string.h>

#include "proxy/rdns_cache.h"
#include "tap.h"

static struct ag_ip ip4(unsigned char a, unsigned char b, unsigned char c, unsigned char d)
{
	struct ag_ip ip;

	memset(&ip, 0, sizeof(ip));
	ip.addr[10] = ip.addr[11] = 0xff;
	ip.addr[12] = a;
	ip.addr[13] = b;
	ip.addr[14] = c;
	ip.addr[15] = d;
	return ip;
}

int main(void)
{
	struct rdns_cache *c = rdns_cache_new(16);
	struct ag_ip a = ip4(192, 0, 2, 7), b = ip4(192, 0, 2, 8), t = ip4(192, 0, 2, 9);
	char name[RDNS_NAME_MAX + 1], big[400];
	int hits = 0;

	if (!ok(c != NULL, "cache allocated"))
		return tap_done();
	is_int(rdns_cache_get(c, &a, 1000, name, sizeof(name)), RDNS_PENDING, "empty: a miss");

	rdns_cache_put(c, &a, RDNS_OK, "mail.example.org", 1000);
	is_int(rdns_cache_get(c, &a, 1000, name, sizeof(name)), RDNS_OK, "a name is kept");
	is_str(name, "mail.example.org", "with its text");
	is_int(rdns_cache_get(c, &b, 1000, name, sizeof(name)), RDNS_PENDING, "by address only");
	is_int(rdns_cache_get(c, &a, 1000 + RDNS_TTL_OK - 1, name, sizeof(name)), RDNS_OK,
	       "a name lives RDNS_TTL_OK seconds");
	is_int(rdns_cache_get(c, &a, 1000 + RDNS_TTL_OK, name, sizeof(name)), RDNS_PENDING,
	       "and not one more");

	rdns_cache_put(c, &b, RDNS_NONE, NULL, 1000);
	is_int(rdns_cache_get(c, &b, 1000 + RDNS_TTL_NONE - 1, name, sizeof(name)), RDNS_NONE,
	       "no name is an answer too");
	is_str(name, "", "without a name");
	is_int(rdns_cache_get(c, &b, 1000 + RDNS_TTL_NONE, name, sizeof(name)), RDNS_PENDING,
	       "kept shorter (RDNS_TTL_NONE)");
	rdns_cache_put(c, &t, RDNS_TEMP, "ignored.example", 1000);
	is_int(rdns_cache_get(c, &t, 1000 + RDNS_TTL_TEMP - 1, name, sizeof(name)), RDNS_TEMP,
	       "a temporary failure too");
	is_str(name, "", "and its name argument is not kept");
	is_int(rdns_cache_get(c, &t, 1000 + RDNS_TTL_TEMP, name, sizeof(name)), RDNS_PENDING,
	       "for RDNS_TTL_TEMP seconds");
	ok(RDNS_TTL_TEMP < RDNS_TTL_NONE && RDNS_TTL_NONE < RDNS_TTL_OK, "failures kept shorter");

	rdns_cache_put(c, &a, RDNS_OK, "one.example.org", 2000);
	rdns_cache_put(c, &a, RDNS_NONE, NULL, 2001);
	is_int(rdns_cache_get(c, &a, 2001, name, sizeof(name)), RDNS_NONE,
	       "a new answer replaces the old one");
	rdns_cache_put(c, &b, RDNS_PENDING, NULL, 2001);
	is_int(rdns_cache_get(c, &b, 2001, name, sizeof(name)), RDNS_PENDING,
	       "PENDING is not kept");

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	rdns_cache_put(c, &b, RDNS_OK, big, 2001);
	is_int(rdns_cache_get(c, &b, 2001, name, sizeof(name)), RDNS_PENDING,
	       "a name longer than a host name is never kept");

	/* 1000 addresses through 16 entries: bounded, and the newest is always there. */
	for (unsigned i = 0; i < 1000; i++) {
		struct ag_ip x = ip4(10, 0, (unsigned char)(i >> 8), (unsigned char)i);

		rdns_cache_put(c, &x, RDNS_OK, "x.example.org", 3000);
		hits += rdns_cache_get(c, &x, 3000, name, sizeof(name)) == RDNS_OK;
	}
	is_int(hits, 1000, "the entry just put is found, whatever was evicted for it");
	hits = 0;
	for (unsigned i = 0; i < 1000; i++) {
		struct ag_ip x = ip4(10, 0, (unsigned char)(i >> 8), (unsigned char)i);

		hits += rdns_cache_get(c, &x, 3000, name, sizeof(name)) == RDNS_OK;
	}
	ok(hits > 0 && hits <= 16, "no more than its capacity is held");
	rdns_cache_free(c);
	rdns_cache_free(NULL);
	return tap_done();
}
