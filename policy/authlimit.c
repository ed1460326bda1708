/* authlimit.c: failed-authentication counters per network and per user, and familiar networks (smart lockout). */
#include "authlimit.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/*
 * Three tables of the same shape, keyed by client network, by user, and by
 * (user, network) for the networks a user has logged in from ("familiar":
 * the model is Microsoft Entra's smart lockout, where a password guesser
 * elsewhere locks the account out for strangers only).
 * Each has exactly `capacity` entries on a doubly linked LRU list (the
 * least recently failed one is evicted when a new key needs room) and an
 * open-addressed index of twice as many buckets. A lookup looks at no more
 * than AL_PROBE buckets whatever the contents: someone who crafts colliding
 * keys (the hash is not keyed: policy/ reads no randomness) can only push
 * his own neighbours out, never make a lookup slower.
 */
#define AL_PROBE 8
#define AL_NONE UINT32_MAX
#define AL_IP_KEY 16
#define AL_MAX_CAPACITY (1u << 22)
#define AL_DELAY_BASE_MS 500u
#define AL_DELAY_MAX_MS 8000u

/*
 * Usernames are compared on at most this many octets: the proxy refuses
 * longer ones before PAM (AUTH_MAX_USER), so no two real logins share a key.
 */
#define AL_USER_KEY 256

struct al_entry {
	uint64_t hash;
	uint64_t seq;	 /* recency stamp, for eviction within a probe window */
	int64_t first;	 /* start of the current window (Unix seconds) */
	unsigned count;	 /* failures since first */
	uint32_t bucket; /* where the index points at us */
	uint32_t prev;	 /* towards the most recent */
	uint32_t next;	 /* towards the least recent; free-list link when unused */
	uint16_t keylen;
	bool used;
};

struct al_table {
	struct al_entry *entries; /* capacity */
	uint8_t *keys;		  /* capacity * keymax */
	size_t keymax;
	uint32_t *buckets; /* entry index or AL_NONE */
	size_t mask;	   /* buckets - 1, a power of two minus one */
	uint32_t capacity;
	uint32_t head;	/* most recently failed */
	uint32_t tail;	/* least recently failed: evicted first */
	uint32_t free;	/* free-list head */
	uint64_t clock; /* source of seq */
};

struct ag_authlimit {
	unsigned ip_limit;
	unsigned user_limit;
	unsigned window;
	unsigned familiar_ttl;
	struct al_table ip;
	struct al_table user;
	struct al_table familiar; /* entry's `first` is the last success */
};

/* One key, ready for lookup: bytes and hash. */
struct al_key {
	uint8_t b[AL_USER_KEY + AL_IP_KEY];
	size_t len;
	uint64_t hash;
};

/* FNV-1a, then a 64-bit finaliser (MurmurHash3 fmix64) so the low bits used as index mix well. */
static uint64_t al_hash(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* An IPv6 client usually owns a whole /64: per address, one host could rotate through 2^64. */
static bool al_key_ip(const struct ag_ip *ip, struct al_key *k)
{
	if (ip == NULL)
		return false;
	memset(k->b, 0, AL_IP_KEY);
	if (net_ip_is_v4(ip))
		memcpy(k->b, ip->addr, AL_IP_KEY);
	else
		memcpy(k->b, ip->addr, 8);
	k->len = AL_IP_KEY;
	k->hash = al_hash(k->b, k->len);
	return true;
}

/*
 * ASCII case is folded: PAM back ends such as LDAP or winbind take "JDoe"
 * and "jdoe" as one account, so they must share one counter.
 */
static bool al_key_user(const char *user, struct al_key *k)
{
	size_t i;

	if (user == NULL || user[0] == '\0')
		return false;
	for (i = 0; i < AL_USER_KEY && user[i] != '\0'; i++) {
		unsigned char c = (unsigned char)user[i];

		k->b[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
	}
	k->len = i;
	k->hash = al_hash(k->b, k->len);
	return true;
}

/* The user's key, then the network's: one login from one network. */
static bool al_key_familiar(const char *user, const struct ag_ip *ip, struct al_key *k)
{
	struct al_key n;

	if (!al_key_user(user, k) || !al_key_ip(ip, &n))
		return false;
	memcpy(k->b + k->len, n.b, AL_IP_KEY);
	k->len += AL_IP_KEY;
	k->hash = al_hash(k->b, k->len);
	return true;
}

static int al_table_init(struct al_table *t, uint32_t capacity, size_t keymax)
{
	size_t nb = 8, i;

	while (nb < (size_t)capacity * 2)
		nb <<= 1;
	t->entries = calloc(capacity, sizeof(*t->entries));
	t->keys = calloc(capacity, keymax);
	t->buckets = malloc(nb * sizeof(*t->buckets));
	if (t->entries == NULL || t->keys == NULL || t->buckets == NULL)
		return -1;
	for (i = 0; i < nb; i++)
		t->buckets[i] = AL_NONE;
	t->mask = nb - 1;
	t->keymax = keymax;
	t->capacity = capacity;
	t->head = t->tail = AL_NONE;
	for (i = 0; i < capacity; i++)
		t->entries[i].next = (i + 1 < capacity) ? (uint32_t)(i + 1) : AL_NONE;
	t->free = 0;
	return 0;
}

static void al_table_free(struct al_table *t)
{
	free(t->entries);
	free(t->keys);
	free(t->buckets);
}

static uint32_t al_find(const struct al_table *t, const struct al_key *k)
{
	unsigned i;

	for (i = 0; i < AL_PROBE; i++) {
		uint32_t e = t->buckets[(k->hash + i) & t->mask];
		const struct al_entry *en;

		if (e == AL_NONE)
			continue;
		en = &t->entries[e];
		if (en->hash == k->hash && en->keylen == k->len &&
		    memcmp(t->keys + (size_t)e * t->keymax, k->b, k->len) == 0)
			return e;
	}
	return AL_NONE;
}

static void al_unlink(struct al_table *t, uint32_t e)
{
	struct al_entry *en = &t->entries[e];

	if (en->prev != AL_NONE)
		t->entries[en->prev].next = en->next;
	else
		t->head = en->next;
	if (en->next != AL_NONE)
		t->entries[en->next].prev = en->prev;
	else
		t->tail = en->prev;
	en->prev = en->next = AL_NONE;
}

static void al_push_front(struct al_table *t, uint32_t e)
{
	struct al_entry *en = &t->entries[e];

	en->prev = AL_NONE;
	en->next = t->head;
	if (t->head != AL_NONE)
		t->entries[t->head].prev = e;
	t->head = e;
	if (t->tail == AL_NONE)
		t->tail = e;
	en->seq = ++t->clock;
}

static void al_remove(struct al_table *t, uint32_t e)
{
	struct al_entry *en = &t->entries[e];

	t->buckets[en->bucket] = AL_NONE;
	al_unlink(t, e);
	en->used = false;
	en->next = t->free;
	t->free = e;
}

/* A new entry for k (count 0); evicts the least recent entry in the probe window or overall. */
static uint32_t al_insert(struct al_table *t, const struct al_key *k)
{
	size_t slot = SIZE_MAX, i;
	uint32_t e, victim = AL_NONE;
	struct al_entry *en;

	for (i = 0; i < AL_PROBE; i++) {
		size_t b = (k->hash + i) & t->mask;
		uint32_t o = t->buckets[b];

		if (o == AL_NONE) {
			slot = b;
			break;
		}
		if (victim == AL_NONE || t->entries[o].seq < t->entries[victim].seq)
			victim = o;
	}
	if (slot == SIZE_MAX) {
		slot = t->entries[victim].bucket;
		al_remove(t, victim);
	}
	if (t->free == AL_NONE)
		al_remove(t, t->tail);
	e = t->free;
	en = &t->entries[e];
	t->free = en->next;
	memset(en, 0, sizeof(*en));
	en->used = true;
	en->hash = k->hash;
	en->keylen = (uint16_t)k->len;
	en->bucket = (uint32_t)slot;
	memcpy(t->keys + (size_t)e * t->keymax, k->b, k->len);
	t->buckets[slot] = e;
	al_push_front(t, e);
	return e;
}

/* Is the entry still inside a span of seconds from its `first`? A clock stepped back keeps it. */
static bool al_within(const struct al_entry *en, int64_t now, unsigned span)
{
	if (now < en->first)
		return true;
	return (uint64_t)now - (uint64_t)en->first < (uint64_t)span;
}

static bool al_live(const struct ag_authlimit *a, const struct al_entry *en, int64_t now)
{
	return al_within(en, now, a->window);
}

static unsigned al_count(const struct ag_authlimit *a, const struct al_table *t,
			 const struct al_key *k, int64_t now)
{
	uint32_t e = al_find(t, k);

	if (e == AL_NONE || !al_live(a, &t->entries[e], now))
		return 0;
	return t->entries[e].count;
}

static void al_fail(struct ag_authlimit *a, struct al_table *t, const struct al_key *k, int64_t now)
{
	uint32_t e = al_find(t, k);
	struct al_entry *en;

	if (e == AL_NONE) {
		e = al_insert(t, k);
		t->entries[e].first = now;
	} else {
		al_unlink(t, e);
		al_push_front(t, e);
	}
	en = &t->entries[e];
	if (!al_live(a, en, now) || now < en->first) {
		/* A new window; after a clock step back, restart it at the new time. */
		if (!al_live(a, en, now))
			en->count = 0;
		en->first = now;
	}
	if (en->count < UINT_MAX)
		en->count++;
}

struct ag_authlimit *authlimit_new(const struct ag_authlimit_conf *conf)
{
	struct ag_authlimit *a;

	if (conf == NULL || conf->capacity == 0 || conf->capacity > AL_MAX_CAPACITY ||
	    conf->familiar_capacity == 0 || conf->familiar_capacity > AL_MAX_CAPACITY)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->ip_limit = conf->ip_limit;
	a->user_limit = conf->user_limit;
	a->window = conf->window;
	a->familiar_ttl = conf->familiar_ttl;
	if (al_table_init(&a->ip, (uint32_t)conf->capacity, AL_IP_KEY) < 0 ||
	    al_table_init(&a->user, (uint32_t)conf->capacity, AL_USER_KEY) < 0 ||
	    al_table_init(&a->familiar, (uint32_t)conf->familiar_capacity,
			  AL_USER_KEY + AL_IP_KEY) < 0) {
		authlimit_free(a);
		return NULL;
	}
	return a;
}

void authlimit_free(struct ag_authlimit *t)
{
	if (t == NULL)
		return;
	al_table_free(&t->ip);
	al_table_free(&t->user);
	al_table_free(&t->familiar);
	free(t);
}

void authlimit_fail(struct ag_authlimit *t, const struct ag_ip *client, const char *user,
		    int64_t now)
{
	struct al_key k;

	if (t == NULL)
		return;
	if (al_key_ip(client, &k))
		al_fail(t, &t->ip, &k, now);
	if (al_key_user(user, &k))
		al_fail(t, &t->user, &k, now);
}

void authlimit_refused(struct ag_authlimit *t, const struct ag_ip *client, int64_t now)
{
	struct al_key k;

	if (t != NULL && al_key_ip(client, &k))
		al_fail(t, &t->ip, &k, now);
}

void authlimit_success(struct ag_authlimit *t, const struct ag_ip *client, const char *user,
		       int64_t now)
{
	struct al_key k;
	uint32_t e;

	if (t == NULL || !al_key_familiar(user, client, &k))
		return;
	e = al_find(&t->familiar, &k);
	if (e == AL_NONE) {
		e = al_insert(&t->familiar, &k);
	} else {
		al_unlink(&t->familiar, e);
		al_push_front(&t->familiar, e);
	}
	t->familiar.entries[e].first = now;
}

bool authlimit_familiar(const struct ag_authlimit *t, const struct ag_ip *client, const char *user,
			int64_t now)
{
	struct al_key k;
	uint32_t e;

	if (t == NULL || !al_key_familiar(user, client, &k))
		return false;
	e = al_find(&t->familiar, &k);
	return e != AL_NONE && al_within(&t->familiar.entries[e], now, t->familiar_ttl);
}

unsigned authlimit_failures(const struct ag_authlimit *t, const struct ag_ip *client,
			    const char *user, int64_t now)
{
	struct al_key k;
	unsigned n = 0, m;

	if (t == NULL)
		return 0;
	if (al_key_ip(client, &k))
		n = al_count(t, &t->ip, &k, now);
	if (al_key_user(user, &k)) {
		m = al_count(t, &t->user, &k, now);
		if (m > n)
			n = m;
	}
	return n;
}

enum ag_authlimit_rule authlimit_check_shared(const struct ag_authlimit *t,
					      const struct ag_ip *client, const char *user,
					      int64_t now, const struct ag_authlimit_shared *sh)
{
	struct al_key k;
	unsigned n;

	if (t == NULL)
		return AG_AUTHLIMIT_OK;
	/* A limit of 0 would refuse everyone before a first try: read it as "no limit". */
	if (t->ip_limit > 0 && al_key_ip(client, &k)) {
		n = al_count(t, &t->ip, &k, now);
		if (sh != NULL && sh->ip_failures > n)
			n = sh->ip_failures;
		if (n >= t->ip_limit)
			return AG_AUTHLIMIT_NETWORK;
	}
	if (t->user_limit > 0 && al_key_user(user, &k)) {
		n = al_count(t, &t->user, &k, now);
		if (sh != NULL && sh->user_failures > n)
			n = sh->user_failures;
		if (n >= t->user_limit && !(sh != NULL && sh->familiar) &&
		    !authlimit_familiar(t, client, user, now))
			return AG_AUTHLIMIT_USER;
	}
	return AG_AUTHLIMIT_OK;
}

enum ag_authlimit_rule authlimit_check(const struct ag_authlimit *t, const struct ag_ip *client,
				       const char *user, int64_t now)
{
	return authlimit_check_shared(t, client, user, now, NULL);
}

#define AL_REASON_NETWORK "too many failures (auth_fail_limit)"
#define AL_REASON_USER "locked out from unfamiliar networks (auth_user_fail_limit)"

const char *authlimit_rule_reason(enum ag_authlimit_rule rule)
{
	switch (rule) {
	case AG_AUTHLIMIT_NETWORK:
		return AL_REASON_NETWORK;
	case AG_AUTHLIMIT_USER:
		return AL_REASON_USER;
	case AG_AUTHLIMIT_OK:
		break;
	}
	return NULL;
}

enum ag_authlimit_rule authlimit_reason_rule(const char *reason)
{
	if (reason != NULL && strcmp(reason, AL_REASON_NETWORK) == 0)
		return AG_AUTHLIMIT_NETWORK;
	if (reason != NULL && strcmp(reason, AL_REASON_USER) == 0)
		return AG_AUTHLIMIT_USER;
	return AG_AUTHLIMIT_OK;
}

unsigned authlimit_delay_ms_shared(const struct ag_authlimit *t, const struct ag_ip *client,
				   const char *user, int64_t now,
				   const struct ag_authlimit_shared *sh)
{
	unsigned f = authlimit_failures(t, client, user, now);
	unsigned d = AL_DELAY_BASE_MS;

	if (sh != NULL && client != NULL && sh->ip_failures > f)
		f = sh->ip_failures;
	if (sh != NULL && user != NULL && user[0] != '\0' && sh->user_failures > f)
		f = sh->user_failures;
	/* Every failed login waits, the first one included: 500, 1000, 2000, 4000, 8000 ms. */
	while (f > 1 && d < AL_DELAY_MAX_MS) {
		d *= 2;
		f--;
	}
	return d < AL_DELAY_MAX_MS ? d : AL_DELAY_MAX_MS;
}

unsigned authlimit_delay_ms(const struct ag_authlimit *t, const struct ag_ip *client,
			    const char *user, int64_t now)
{
	return authlimit_delay_ms_shared(t, client, user, now, NULL);
}
