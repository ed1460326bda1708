/* trend.c: the "trend" subcommand: per day (or hour) totals, authenticated share, rejections. */
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "cmd.h"
#include "table.h"
#include "timeutil.h"

struct trend {
	bool hourly;
	struct table *buckets;	  /* int64 key -> struct trend_bucket */
	struct hashset *distinct; /* (bucket, sender) pairs already counted */
	int64_t dropped;
};

struct trend *trend_new(bool hourly)
{
	struct trend *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->hourly = hourly;
	t->buckets = table_new(sizeof(struct trend_bucket), CMD_MAX_BUCKETS);
	t->distinct = hashset_new(CMD_MAX_DISTINCT);
	if (t->buckets == NULL || t->distinct == NULL) {
		trend_free(t);
		return NULL;
	}
	return t;
}

void trend_free(struct trend *t)
{
	if (t == NULL)
		return;
	table_free(t->buckets);
	hashset_free(t->distinct);
	free(t);
}

bool trend_hourly(const struct trend *t)
{
	return t->hourly;
}

int64_t trend_dropped(const struct trend *t)
{
	return t->dropped;
}

bool trend_distinct_capped(const struct trend *t)
{
	return hashset_overflowed(t->distinct);
}

void trend_add(struct trend *t, const struct msg_row *row)
{
	char key[sizeof(int64_t) + CMD_MAX_KEY];
	struct trend_bucket *b;
	int64_t k = time_bucket(row->ts_ms, t->hourly);
	bool created;
	size_t n;

	b = table_get(t->buckets, &k, sizeof(k), true, &created);
	if (b == NULL) {
		t->dropped++;
		return;
	}
	if (created)
		b->key = k;
	b->total++;
	if (row->user != NULL)
		b->auth++;
	else
		b->unauth++;
	if (row->action == REC_ACT_REJECT)
		b->rejected++;
	else if (row->action == REC_ACT_TAG)
		b->tagged++;
	if (row->user == NULL) {
		memcpy(key, &k, sizeof(k));
		n = table_fold(row->mail_from != NULL ? row->mail_from : "", key + sizeof(k),
			       CMD_MAX_KEY);
		if (hashset_add(t->distinct, key, sizeof(k) + n) == 1)
			b->unauth_senders++;
	}
}

static int bucket_cmp(const void *a, const void *b)
{
	const struct trend_bucket *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

struct trend_bucket *trend_buckets(const struct trend *t, size_t *n)
{
	struct trend_bucket *out;
	int64_t span, k;
	void **v;
	size_t i, m, w;

	v = table_values(t->buckets, &m);
	*n = 0;
	if (v == NULL)
		return NULL;
	out = malloc(m * sizeof(*out));
	if (out == NULL) {
		free(v);
		return NULL;
	}
	for (i = 0; i < m; i++)
		out[i] = *(struct trend_bucket *)v[i];
	free(v);
	qsort(out, m, sizeof(*out), bucket_cmp);
	span = out[m - 1].key - out[0].key + 1;
	if (span > (int64_t)m && span <= CMD_MAX_BUCKETS) {
		/* A day without mail is a point on the chart too. */
		struct trend_bucket *full = calloc((size_t)span, sizeof(*full));

		if (full != NULL) {
			for (k = 0, w = 0; k < span; k++) {
				full[k].key = out[0].key + k;
				if (w < m && out[w].key == full[k].key)
					full[k] = out[w++];
			}
			free(out);
			out = full;
			m = (size_t)span;
		}
	}
	*n = m;
	return out;
}

/* The subcommand. */

struct trend_cmd {
	const struct audit_opts *o;
	struct out *out;
	struct trend *t;
	char note[160];
};

static struct out_col trend_cols[] = {
    {"day", COL_STR},	   {"messages", COL_INT},	 {"authenticated", COL_INT},
    {"auth_pct", COL_PCT}, {"unauthenticated", COL_INT}, {"rejected", COL_INT},
    {"tagged", COL_INT},   {"unauth_senders", COL_INT},
};

static void *trend_start(const struct audit_opts *o, FILE *f)
{
	struct trend_cmd *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->o = o;
	c->out = out_new(f, o->format);
	c->t = trend_new(o->hourly);
	if (c->out == NULL || c->t == NULL) {
		out_free(c->out);
		trend_free(c->t);
		free(c);
		return NULL;
	}
	return c;
}

static void trend_row(void *st, const struct msg_row *row)
{
	struct trend_cmd *c = st;

	trend_add(c->t, row);
}

static int trend_finish(void *st, struct out_summary *s)
{
	struct trend_cmd *c = st;
	struct trend_bucket *b;
	struct out_val v[8];
	char label[32];
	size_t n, i;

	trend_cols[0].name = c->o->hourly ? "hour" : "day";
	out_begin(c->out, "trend", trend_cols, sizeof(trend_cols) / sizeof(trend_cols[0]));
	b = trend_buckets(c->t, &n);
	for (i = 0; i < n; i++) {
		time_format_bucket(b[i].key, c->o->hourly, label, sizeof(label));
		v[0] = out_str(label);
		v[1] = out_int(b[i].total);
		v[2] = out_int(b[i].auth);
		v[3] = out_pct(b[i].auth, b[i].total);
		v[4] = out_int(b[i].unauth);
		v[5] = out_int(b[i].rejected);
		v[6] = out_int(b[i].tagged);
		v[7] = out_int(b[i].unauth_senders);
		out_row(c->out, v);
	}
	free(b);
	s->rows = n;
	if (trend_distinct_capped(c->t) && s->nnotes < OUT_MAX_NOTES)
		s->notes[s->nnotes++] = "over 1000000 distinct (day, sender) pairs: "
					"unauth_senders are lower bounds";
	if (trend_dropped(c->t) > 0 && s->nnotes < OUT_MAX_NOTES) {
		snprintf(c->note, sizeof(c->note),
			 "more than %d buckets: %lld messages not counted", CMD_MAX_BUCKETS,
			 (long long)trend_dropped(c->t));
		s->notes[s->nnotes++] = c->note;
	}
	out_end(c->out, s);
	return out_status(c->out);
}

static void trend_cmd_free(void *st)
{
	struct trend_cmd *c = st;

	if (c == NULL)
		return;
	out_free(c->out);
	trend_free(c->t);
	free(c);
}

const struct audit_cmd cmd_trend = {
    .name = "trend",
    .summary = "per day (--hourly: per hour): messages, authenticated share, rejected, tagged",
    .start = trend_start,
    .record = NULL,
    .row = trend_row,
    .finish = trend_finish,
    .free = trend_cmd_free,
};
