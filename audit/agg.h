/* agg.h: the aggregates the text reports and the HTML page share (unauthenticated relaying, trend).
 */
#ifndef AUDIT_AGG_H
#define AUDIT_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "join.h"
#include "table.h"

#define UNAUTH_SAMPLES 3

/* Unauthenticated relaying: a message without a login that the milter tagged or rejected. */
bool unauth_row_matches(const struct msg_row *row);

struct unauth_group {
	int64_t count;
	int64_t first;
	int64_t last;
	char *samples[UNAUTH_SAMPLES]; /* first distinct recipients seen */
	unsigned nsamples;
	unsigned netlen; /* the key is network '\0' sender */
};

/* An entry of unauth_sorted: its key is the network; the sender (lower-cased, "<>" for the
 * null sender) follows it. */
const char *unauth_sender(const struct table_item *e);

struct unauth;

struct unauth *unauth_new(void);
/* Counts the row if unauth_row_matches(). */
void unauth_add(struct unauth *u, const struct msg_row *row);
/* Groups by count (descending), then network, then sender; malloc'd array (NULL if none). */
struct table_item *unauth_sorted(const struct unauth *u, size_t *n);
/* Messages not counted in any group because the table was full. */
int64_t unauth_other(const struct unauth *u);
int64_t unauth_total(const struct unauth *u);
void unauth_free(struct unauth *u);

struct trend_bucket {
	int64_t key; /* days (or hours) since the epoch */
	int64_t total;
	int64_t auth;
	int64_t unauth;
	int64_t rejected;
	int64_t tagged;
	int64_t unauth_senders; /* distinct envelope senders among unauth */
};

struct trend;

struct trend *trend_new(bool hourly);
void trend_add(struct trend *t, const struct msg_row *row);
/*
 * Buckets in time order, with the empty ones between filled in (unless the
 * span is absurd: over CMD_MAX_BUCKETS). malloc'd; NULL if none.
 */
struct trend_bucket *trend_buckets(const struct trend *t, size_t *n);
bool trend_hourly(const struct trend *t);
/* Rows dropped (bucket table full) and whether distinct counts are lower bounds. */
int64_t trend_dropped(const struct trend *t);
bool trend_distinct_capped(const struct trend *t);
void trend_free(struct trend *t);

#endif
