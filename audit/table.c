/* table.c: bounded hash tables for the aggregates (string key -> fixed-size value; 64-bit set). */
#include "table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define TABLE_MIN_SLOTS 64
#define TABLE_ALIGN 16

/* One allocation: header, value (zeroed), key. */
struct table_entry {
	uint64_t hash;
	size_t keylen;
};

_Static_assert(sizeof(struct table_entry) <= TABLE_ALIGN, "entry header fits its slot");

struct table {
	struct table_entry **slots; /* open addressing, linear probing, power of two */
	size_t nslots;
	size_t n;
	size_t max;
	size_t vsize; /* rounded up to TABLE_ALIGN */
	bool overflowed;
	uint8_t seed[16];
};

struct hashset {
	uint64_t *slots; /* 0 = empty */
	size_t nslots;
	size_t n;
	size_t max;
	bool overflowed;
	uint8_t seed[16];
};

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

uint64_t table_siphash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data, *end = p + (len - len % 8);
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ k0, v1 = UINT64_C(0x646f72616e646f6d) ^ k1;
	uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ k0, v3 = UINT64_C(0x7465646279746573) ^ k1;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i;

	for (; p != end; p += 8) {
		m = le64(p);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (i = 0; i < len % 8; i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Per-table random key; without the kernel's, a weaker one still spreads ordinary keys. */
static void table_seed(uint8_t seed[16])
{
	uint64_t fallback[2];

	if (getrandom(seed, 16, GRND_NONBLOCK) == 16)
		return;
	fallback[0] = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	fallback[1] = (uint64_t)(uintptr_t)seed ^ UINT64_C(0x9e3779b97f4a7c15);
	memcpy(seed, fallback, 16);
}

size_t table_fold(const char *s, char *buf, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	buf[i] = '\0';
	return i;
}

struct table *table_new(size_t value_size, size_t max_entries)
{
	struct table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->vsize = (value_size + TABLE_ALIGN - 1) / TABLE_ALIGN * TABLE_ALIGN;
	t->max = max_entries;
	t->nslots = TABLE_MIN_SLOTS;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	if (t->slots == NULL) {
		free(t);
		return NULL;
	}
	table_seed(t->seed);
	return t;
}

void table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nslots; i++)
		free(t->slots[i]);
	free(t->slots);
	free(t);
}

static void *entry_value(struct table_entry *e)
{
	return (char *)e + TABLE_ALIGN;
}

static struct table_entry *value_entry(const void *v)
{
	return (struct table_entry *)((char *)(uintptr_t)v - TABLE_ALIGN);
}

const char *table_key(const struct table *t, const void *value)
{
	return (const char *)value + t->vsize;
}

size_t table_key_len(const struct table *t, const void *value)
{
	(void)t;
	return value_entry(value)->keylen;
}

size_t table_count(const struct table *t)
{
	return t->n;
}

bool table_overflowed(const struct table *t)
{
	return t->overflowed;
}

/* Double the slots at half load: probes stay short. */
static int table_grow(struct table *t)
{
	struct table_entry **slots;
	size_t nslots = t->nslots * 2, i, j;

	slots = calloc(nslots, sizeof(*slots));
	if (slots == NULL)
		return -1;
	for (i = 0; i < t->nslots; i++) {
		if (t->slots[i] == NULL)
			continue;
		for (j = t->slots[i]->hash & (nslots - 1); slots[j] != NULL;
		     j = (j + 1) & (nslots - 1))
			;
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

void *table_get(struct table *t, const void *key, size_t keylen, bool create, bool *created)
{
	uint64_t h = table_siphash(t->seed, key, keylen);
	struct table_entry *e;
	size_t i;

	if (created != NULL)
		*created = false;
	for (i = h & (t->nslots - 1); (e = t->slots[i]) != NULL; i = (i + 1) & (t->nslots - 1))
		if (e->hash == h && e->keylen == keylen &&
		    memcmp((char *)entry_value(e) + t->vsize, key, keylen) == 0)
			return entry_value(e);
	if (!create)
		return NULL;
	if (t->n >= t->max) {
		t->overflowed = true;
		return NULL;
	}
	if ((t->n + 1) * 2 > t->nslots) {
		if (table_grow(t) < 0)
			return NULL;
		for (i = h & (t->nslots - 1); t->slots[i] != NULL; i = (i + 1) & (t->nslots - 1))
			;
	}
	e = calloc(1, TABLE_ALIGN + t->vsize + keylen + 1);
	if (e == NULL)
		return NULL;
	e->hash = h;
	e->keylen = keylen;
	memcpy((char *)entry_value(e) + t->vsize, key, keylen);
	t->slots[i] = e;
	t->n++;
	if (created != NULL)
		*created = true;
	return entry_value(e);
}

void **table_values(const struct table *t, size_t *n)
{
	void **v;
	size_t i, k = 0;

	*n = 0;
	if (t->n == 0)
		return NULL;
	v = malloc(t->n * sizeof(*v));
	if (v == NULL)
		return NULL;
	for (i = 0; i < t->nslots; i++)
		if (t->slots[i] != NULL)
			v[k++] = entry_value(t->slots[i]);
	*n = k;
	return v;
}

struct table_item *table_sorted(const struct table *t, size_t *n,
				int (*cmp)(const void *, const void *))
{
	struct table_item *e;
	size_t i, k = 0;

	*n = 0;
	if (t->n == 0)
		return NULL;
	e = calloc(t->n, sizeof(*e));
	if (e == NULL)
		return NULL;
	for (i = 0; i < t->nslots; i++) {
		if (t->slots[i] == NULL)
			continue;
		e[k].value = entry_value(t->slots[i]);
		e[k].key = table_key(t, e[k].value);
		k++;
	}
	qsort(e, k, sizeof(*e), cmp);
	*n = k;
	return e;
}

struct hashset *hashset_new(size_t max_entries)
{
	struct hashset *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->max = max_entries;
	s->nslots = TABLE_MIN_SLOTS;
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	if (s->slots == NULL) {
		free(s);
		return NULL;
	}
	table_seed(s->seed);
	return s;
}

void hashset_free(struct hashset *s)
{
	if (s == NULL)
		return;
	free(s->slots);
	free(s);
}

bool hashset_overflowed(const struct hashset *s)
{
	return s->overflowed;
}

static void hashset_place(uint64_t *slots, size_t nslots, uint64_t h)
{
	size_t i;

	for (i = h & (nslots - 1); slots[i] != 0; i = (i + 1) & (nslots - 1))
		;
	slots[i] = h;
}

int hashset_add(struct hashset *s, const void *key, size_t keylen)
{
	uint64_t h = table_siphash(s->seed, key, keylen), *slots;
	size_t i, nslots;

	if (h == 0)
		h = 1;
	for (i = h & (s->nslots - 1); s->slots[i] != 0; i = (i + 1) & (s->nslots - 1))
		if (s->slots[i] == h)
			return 0;
	if (s->n >= s->max) {
		s->overflowed = true;
		return -1;
	}
	if ((s->n + 1) * 2 > s->nslots) {
		nslots = s->nslots * 2;
		slots = calloc(nslots, sizeof(*slots));
		if (slots == NULL)
			return -1;
		for (i = 0; i < s->nslots; i++)
			if (s->slots[i] != 0)
				hashset_place(slots, nslots, s->slots[i]);
		free(s->slots);
		s->slots = slots;
		s->nslots = nslots;
	}
	hashset_place(s->slots, s->nslots, h);
	s->n++;
	return 1;
}
