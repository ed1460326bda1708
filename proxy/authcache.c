/* authcache.c: recently verified credentials, kept as keyed HMACs in memory, bounded and LRU. */
#include "authcache.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define AC_KEY_LEN 32
#define AC_MAX_SIZE 10000000u

struct ac_entry {
	struct ac_entry *hnext; /* bucket chain */
	struct ac_entry *prev;	/* LRU: towards the most recent */
	struct ac_entry *next;	/* LRU: towards the least recent */
	uint64_t hash;
	int64_t verified; /* when PAM said yes: the ttl runs from here, hits do not renew it */
	uint8_t mac[AUTHCACHE_MAC_LEN];
	size_t ulen;
	char user[]; /* NUL-terminated */
};

struct authcache {
	struct ac_entry **buckets;
	size_t mask;
	size_t size; /* at most this many entries */
	size_t count;
	unsigned ttl;
	struct ac_entry *head; /* most recently used */
	struct ac_entry *tail; /* evicted first */
	uint64_t seed;	       /* random: bucket positions are not predictable */
	EVP_MAC *mac;
	EVP_MAC_CTX *keyed; /* HMAC-SHA-256 with the key loaded; duplicated per use */
};

static uint64_t ac_hash(const struct authcache *c, const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ c->seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

struct authcache *authcache_new(size_t size, unsigned ttl)
{
	struct authcache *c;
	uint8_t key[AC_KEY_LEN];
	char digest[] = "SHA256";
	OSSL_PARAM params[2];
	size_t nb = 8;
	int rc;

	if (size == 0 || size > AC_MAX_SIZE)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->size = size;
	c->ttl = ttl;
	while (nb < size * 2)
		nb <<= 1;
	c->buckets = calloc(nb, sizeof(*c->buckets));
	c->mask = nb - 1;
	c->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (c->buckets == NULL || c->mac == NULL)
		goto fail;
	c->keyed = EVP_MAC_CTX_new(c->mac);
	if (c->keyed == NULL)
		goto fail;
	if (RAND_bytes(key, sizeof(key)) != 1 ||
	    RAND_bytes((unsigned char *)&c->seed, sizeof(c->seed)) != 1) {
		OPENSSL_cleanse(key, sizeof(key));
		goto fail;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	rc = EVP_MAC_init(c->keyed, key, sizeof(key), params);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc != 1)
		goto fail;
	return c;
fail:
	authcache_free(c);
	return NULL;
}

static void ac_entry_free(struct ac_entry *e)
{
	OPENSSL_cleanse(e->mac, sizeof(e->mac));
	free(e);
}

void authcache_free(struct authcache *c)
{
	struct ac_entry *e, *n;

	if (c == NULL)
		return;
	for (e = c->head; e != NULL; e = n) {
		n = e->next;
		ac_entry_free(e);
	}
	free(c->buckets);
	EVP_MAC_CTX_free(c->keyed);
	EVP_MAC_free(c->mac);
	free(c);
}

int authcache_mac(const struct authcache *c, const char *user, const char *password,
		  uint8_t mac[AUTHCACHE_MAC_LEN])
{
	EVP_MAC_CTX *ctx;
	size_t ulen = strlen(user), outl = 0;
	uint8_t lenbuf[4];
	int ok;

	/* The user's length first: ("ab", "c") and ("a", "bc") must not share a MAC. */
	lenbuf[0] = (uint8_t)(ulen >> 24);
	lenbuf[1] = (uint8_t)(ulen >> 16);
	lenbuf[2] = (uint8_t)(ulen >> 8);
	lenbuf[3] = (uint8_t)ulen;
	ctx = EVP_MAC_CTX_dup(c->keyed);
	if (ctx == NULL)
		return -1;
	ok = EVP_MAC_update(ctx, lenbuf, sizeof(lenbuf)) == 1 &&
	     EVP_MAC_update(ctx, (const unsigned char *)user, ulen) == 1 &&
	     EVP_MAC_update(ctx, (const unsigned char *)password, strlen(password)) == 1 &&
	     EVP_MAC_final(ctx, mac, &outl, AUTHCACHE_MAC_LEN) == 1 && outl == AUTHCACHE_MAC_LEN;
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : -1;
}

static struct ac_entry *ac_find(const struct authcache *c, const char *user, size_t ulen,
				uint64_t h)
{
	struct ac_entry *e;

	for (e = c->buckets[h & c->mask]; e != NULL; e = e->hnext)
		if (e->hash == h && e->ulen == ulen && memcmp(e->user, user, ulen) == 0)
			return e;
	return NULL;
}

static void ac_lru_unlink(struct authcache *c, struct ac_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void ac_lru_front(struct authcache *c, struct ac_entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

static void ac_remove(struct authcache *c, struct ac_entry *e)
{
	struct ac_entry **pp = &c->buckets[e->hash & c->mask];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	ac_lru_unlink(c, e);
	c->count--;
	ac_entry_free(e);
}

/* Fresh means: verified at or before now, and less than ttl seconds ago. A clock stepped back
 * misses. */
static bool ac_fresh(const struct authcache *c, const struct ac_entry *e, int64_t now)
{
	if (now < e->verified)
		return false;
	return (uint64_t)now - (uint64_t)e->verified < (uint64_t)c->ttl;
}

bool authcache_check(struct authcache *c, const char *user, const char *password, int64_t now)
{
	uint8_t mac[AUTHCACHE_MAC_LEN];
	struct ac_entry *e;
	size_t ulen;
	bool hit;

	if (c == NULL || c->ttl == 0 || user == NULL || password == NULL)
		return false;
	ulen = strlen(user);
	if (ulen > AUTHCACHE_MAX_USER)
		return false;
	e = ac_find(c, user, ulen, ac_hash(c, user, ulen));
	if (e == NULL)
		return false;
	if (!ac_fresh(c, e, now)) {
		ac_remove(c, e);
		return false;
	}
	if (authcache_mac(c, user, password, mac) < 0)
		return false;
	/* Constant time: how much of the MAC matched must not leak through timing. */
	hit = CRYPTO_memcmp(mac, e->mac, sizeof(mac)) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	if (hit) {
		ac_lru_unlink(c, e);
		ac_lru_front(c, e);
	}
	return hit;
}

int authcache_store(struct authcache *c, const char *user, const char *password, int64_t now)
{
	uint8_t mac[AUTHCACHE_MAC_LEN];
	struct ac_entry *e;
	size_t ulen;
	uint64_t h;

	if (c == NULL || user == NULL || password == NULL)
		return -1;
	ulen = strlen(user);
	if (c->ttl == 0 || ulen > AUTHCACHE_MAX_USER)
		return 0;
	if (authcache_mac(c, user, password, mac) < 0)
		return -1;
	h = ac_hash(c, user, ulen);
	e = ac_find(c, user, ulen, h);
	if (e == NULL) {
		e = malloc(sizeof(*e) + ulen + 1);
		if (e == NULL) {
			OPENSSL_cleanse(mac, sizeof(mac));
			return -1;
		}
		if (c->count == c->size)
			ac_remove(c, c->tail);
		e->hash = h;
		e->ulen = ulen;
		memcpy(e->user, user, ulen + 1);
		e->hnext = c->buckets[h & c->mask];
		c->buckets[h & c->mask] = e;
		e->prev = e->next = NULL;
		c->count++;
	} else {
		ac_lru_unlink(c, e);
	}
	ac_lru_front(c, e);
	memcpy(e->mac, mac, sizeof(mac));
	OPENSSL_cleanse(mac, sizeof(mac));
	e->verified = now;
	return 0;
}

void authcache_forget(struct authcache *c, const char *user)
{
	struct ac_entry *e;
	size_t ulen;

	if (c == NULL || user == NULL)
		return;
	ulen = strlen(user);
	if (ulen > AUTHCACHE_MAX_USER)
		return;
	e = ac_find(c, user, ulen, ac_hash(c, user, ulen));
	if (e != NULL)
		ac_remove(c, e);
}

size_t authcache_count(const struct authcache *c)
{
	return c == NULL ? 0 : c->count;
}
