/* test_proxy_authcache.c: verified-credential cache: hits, misses, expiry, LRU, forget, keys. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/authcache.h"
#include "tap.h"

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

static void test_hit_miss(void)
{
	struct authcache *c = authcache_new(8, 300);

	ok(c != NULL, "a cache of 8 entries, ttl 300 s");
	ok(!authcache_check(c, "jdoe", "secret", 1000), "empty cache: miss");
	is_int(authcache_store(c, "jdoe", "secret", 1000), 0, "store after PAM said yes");
	ok(authcache_check(c, "jdoe", "secret", 1001), "same user and password: hit");
	ok(!authcache_check(c, "jdoe", "Secret", 1001), "another password: miss (goes to PAM)");
	ok(!authcache_check(c, "jdoe", "secretx", 1001), "a longer password: miss");
	ok(!authcache_check(c, "jdoe", "", 1001), "empty password: miss");
	ok(!authcache_check(c, "JDOE", "secret", 1001),
	   "user names are exact: PAM decides on case");
	ok(!authcache_check(c, "jdo", "esecret", 1001),
	   "user/password boundary is part of the MAC");
	ok(authcache_check(c, "jdoe", "secret", 1002),
	   "a miss on a wrong password keeps the entry");

	/* A password change: the new one misses, PAM says yes, the store replaces the old. */
	ok(!authcache_check(c, "jdoe", "new-secret", 1003), "new password: miss");
	authcache_store(c, "jdoe", "new-secret", 1003);
	ok(authcache_check(c, "jdoe", "new-secret", 1004), "new password cached");
	ok(!authcache_check(c, "jdoe", "secret", 1004), "old password no longer hits");
	is_int(authcache_count(c), 1, "one entry per user");

	authcache_forget(c, "jdoe");
	ok(!authcache_check(c, "jdoe", "new-secret", 1005), "forget (PAM said no): miss");
	is_int(authcache_count(c), 0, "forgotten entry freed");
	authcache_forget(c, "nobody");
	authcache_free(c);
}

static void test_expiry(void)
{
	struct authcache *c = authcache_new(8, 60);

	authcache_store(c, "alice", "pw", 5000);
	ok(authcache_check(c, "alice", "pw", 5059), "hit at 59 s");
	ok(!authcache_check(c, "alice", "pw", 5060), "miss at 60 s (ttl)");
	is_int(authcache_count(c), 0, "an expired entry is dropped when seen");
	authcache_store(c, "alice", "pw", 6000);
	ok(authcache_check(c, "alice", "pw", 6030), "hit");
	ok(!authcache_check(c, "alice", "pw", 6061), "hits do not renew the ttl");
	authcache_store(c, "bob", "pw", 7000);
	ok(!authcache_check(c, "bob", "pw", 6999), "clock stepped back: miss");
	authcache_free(c);
}

static void test_lru(void)
{
	struct authcache *c = authcache_new(3, 600);

	authcache_store(c, "u1", "p1", 100);
	authcache_store(c, "u2", "p2", 101);
	authcache_store(c, "u3", "p3", 102);
	ok(authcache_check(c, "u1", "p1", 103), "u1 used: now the most recent");
	authcache_store(c, "u4", "p4", 104);
	is_int(authcache_count(c), 3, "size 3 is never exceeded");
	ok(!authcache_check(c, "u2", "p2", 105), "least recently used (u2) evicted");
	ok(authcache_check(c, "u1", "p1", 105), "u1 kept");
	ok(authcache_check(c, "u3", "p3", 105), "u3 kept");
	ok(authcache_check(c, "u4", "p4", 105), "u4 kept");
	/* Order now, oldest first: u1, u3, u4. */
	authcache_store(c, "u5", "p5", 106);
	ok(!authcache_check(c, "u1", "p1", 107), "then u1, the oldest use, goes");
	ok(authcache_check(c, "u3", "p3", 107), "and u3 stays");
	authcache_free(c);
}

static void test_disabled(void)
{
	struct authcache *c = authcache_new(8, 0);

	ok(c != NULL, "ttl 0 still makes a cache object");
	is_int(authcache_store(c, "jdoe", "secret", 1000), 0, "ttl 0: store is a no-op");
	ok(!authcache_check(c, "jdoe", "secret", 1000), "ttl 0: always a miss");
	is_int(authcache_count(c), 0, "ttl 0: nothing held");
	ok(authcache_new(0, 60) == NULL, "size 0 is refused");
	authcache_free(c);
	authcache_free(NULL);
}

static void test_keys(void)
{
	struct authcache *a = authcache_new(4, 60), *b = authcache_new(4, 60);
	uint8_t m1[AUTHCACHE_MAC_LEN], m2[AUTHCACHE_MAC_LEN], m3[AUTHCACHE_MAC_LEN];
	char longuser[AUTHCACHE_MAX_USER + 2];

	is_int(authcache_mac(a, "jdoe", "secret", m1), 0, "MAC computed");
	authcache_mac(a, "jdoe", "secret", m3);
	ok(memcmp(m1, m3, sizeof(m1)) == 0, "the same cache gives the same MAC");
	authcache_mac(b, "jdoe", "secret", m2);
	ok(memcmp(m1, m2, sizeof(m1)) != 0, "two caches have different random keys");
	ok(!contains(m1, sizeof(m1), "secret"), "the password is not in the MAC");
	authcache_store(a, "jdoe", "secret", 10);
	ok(!authcache_check(b, "jdoe", "secret", 10), "one cache's entries are not another's");

	memset(longuser, 'x', sizeof(longuser) - 1);
	longuser[sizeof(longuser) - 1] = '\0';
	is_int(authcache_store(a, longuser, "pw", 10), 0, "an overlong user name is not an error");
	ok(!authcache_check(a, longuser, "pw", 11), "but it is never cached");
	authcache_free(a);
	authcache_free(b);
}

/* Many users through a small cache: bounded, and the most recent is always there. */
static void test_churn(void)
{
	struct authcache *c = authcache_new(16, 600);
	char user[32];
	unsigned i, bad = 0;

	for (i = 0; i < 5000; i++) {
		snprintf(user, sizeof(user), "user%u", i);
		if (authcache_store(c, user, "pw", 1) < 0 || !authcache_check(c, user, "pw", 2))
			bad++;
		if (i % 3 == 0)
			authcache_forget(c, user);
	}
	is_int(bad, 0, "5000 users through 16 entries: each hits right after its store");
	ok(authcache_count(c) <= 16, "never more than the size");
	authcache_free(c);
}

int main(void)
{
	test_hit_miss();
	test_expiry();
	test_lru();
	test_disabled();
	test_keys();
	test_churn();
	return tap_done();
}
