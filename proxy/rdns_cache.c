/* rdns_cache.c: recent client-name answers by address, bounded, with a lifetime per kind (pure). */
#include "rdns_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RDNS_CACHE_WAYS 4

struct rdns_entry {
	struct ag_ip ip;
	int64_t expires; /* 0: free */
	enum rdns_status status;
	char name[RDNS_NAME_MAX + 1];
};

struct rdns_cache {
	size_t nsets;
	struct rdns_entry *e; /* nsets * RDNS_CACHE_WAYS */
};

struct rdns_cache *rdns_cache_new(size_t capacity)
{
	struct rdns_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->nsets = (capacity + RDNS_CACHE_WAYS - 1) / RDNS_CACHE_WAYS;
	if (c->nsets == 0)
		c->nsets = 1;
	c->e = calloc(c->nsets * RDNS_CACHE_WAYS, sizeof(*c->e));
	if (c->e == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void rdns_cache_free(struct rdns_cache *c)
{
	if (c == NULL)
		return;
	free(c->e);
	free(c);
}

/* FNV-1a: the worst an address chooser can do is share a set, which costs evictions only. */
static struct rdns_entry *rdns_cache_set(struct rdns_cache *c, const struct ag_ip *ip)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(ip->addr); i++) {
		h ^= ip->addr[i];
		h *= 16777619u;
	}
	return c->e + (h % c->nsets) * RDNS_CACHE_WAYS;
}

enum rdns_status rdns_cache_get(struct rdns_cache *c, const struct ag_ip *ip, int64_t now,
				char *name, size_t len)
{
	struct rdns_entry *set = rdns_cache_set(c, ip);

	for (size_t i = 0; i < RDNS_CACHE_WAYS; i++) {
		struct rdns_entry *e = &set[i];

		if (e->expires > now && memcmp(e->ip.addr, ip->addr, sizeof(ip->addr)) == 0) {
			if (len > 0)
				snprintf(name, len, "%s", e->status == RDNS_OK ? e->name : "");
			return e->status;
		}
	}
	return RDNS_PENDING;
}

void rdns_cache_put(struct rdns_cache *c, const struct ag_ip *ip, enum rdns_status st,
		    const char *name, int64_t now)
{
	struct rdns_entry *set = rdns_cache_set(c, ip), *victim = NULL;
	int64_t ttl = st == RDNS_OK ? RDNS_TTL_OK : st == RDNS_NONE ? RDNS_TTL_NONE : RDNS_TTL_TEMP;

	if (st == RDNS_PENDING || (st == RDNS_OK && (name == NULL || strlen(name) > RDNS_NAME_MAX)))
		return;
	for (size_t i = 0; i < RDNS_CACHE_WAYS && victim == NULL; i++)
		if (memcmp(set[i].ip.addr, ip->addr, sizeof(ip->addr)) == 0 && set[i].expires != 0)
			victim = &set[i];
	for (size_t i = 0; i < RDNS_CACHE_WAYS && victim == NULL; i++)
		if (set[i].expires <= now)
			victim = &set[i];
	if (victim == NULL) {
		victim = &set[0];
		for (size_t i = 1; i < RDNS_CACHE_WAYS; i++)
			if (set[i].expires < victim->expires)
				victim = &set[i];
	}
	victim->ip = *ip;
	victim->status = st;
	victim->expires = now + ttl;
	snprintf(victim->name, sizeof(victim->name), "%s", st == RDNS_OK ? name : "");
}
