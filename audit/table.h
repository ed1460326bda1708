/* table.h: bounded hash tables for the aggregates (string key -> fixed-size value; 64-bit set). */
#ifndef AUDIT_TABLE_H
#define AUDIT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every table has a cap on entries, fixed at creation: past it, new keys are
 * refused (table_get returns NULL) and the caller counts them as "other".
 * That cap is what bounds the memory of a report, whatever the log size.
 */
struct table;

struct table *table_new(size_t value_size, size_t max_entries);
void table_free(struct table *t);

/*
 * The value for key (created zeroed when absent and create is set), or NULL:
 * absent without create, out of memory, or the table is full.
 */
void *table_get(struct table *t, const void *key, size_t keylen, bool create, bool *created);
/* The key of a value returned by table_get (NUL-terminated copy). */
const char *table_key(const struct table *t, const void *value);
size_t table_key_len(const struct table *t, const void *value);
size_t table_count(const struct table *t);
/* True once a new key has been refused. */
bool table_overflowed(const struct table *t);
/* A malloc'd array of every value pointer (caller frees the array only); NULL if empty or no
 * memory. */
void **table_values(const struct table *t, size_t *n);

/* A value and its key, as table_sorted lists them. */
struct table_item {
	const void *value;
	const char *key;
};

/*
 * Every entry, ordered by cmp (given two struct table_item); a malloc'd array the caller
 * frees, or NULL with *n = 0 when the table is empty or memory is short.
 */
struct table_item *table_sorted(const struct table *t, size_t *n,
				int (*cmp)(const void *, const void *));

/* A set of 64-bit keyed hashes, for distinct counts; collisions are 2^-64 events. */
struct hashset;

struct hashset *hashset_new(size_t max_entries);
void hashset_free(struct hashset *s);
/* 1 added, 0 already there, -1 full (or no memory). */
int hashset_add(struct hashset *s, const void *key, size_t keylen);
bool hashset_overflowed(const struct hashset *s);

/* SipHash-2-4 (hash flooding: keys are client-controlled addresses). */
uint64_t table_siphash(const uint8_t key[16], const void *data, size_t len);

/* Lower-case ASCII copy of s into buf (cut at len - 1 bytes); returns the length. */
size_t table_fold(const char *s, char *buf, size_t len);

#endif
