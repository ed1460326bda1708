/* unauth.c: the "unauth" subcommand: unauthenticated relaying by client network and sender. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agg.h"
#include "cmd.h"
#include "table.h"

struct unauth {
	struct table *groups;
	int64_t other;
	int64_t total;
};

bool unauth_row_matches(const struct msg_row *row)
{
	return row->user == NULL && (row->action == REC_ACT_TAG || row->action == REC_ACT_REJECT);
}

struct unauth *unauth_new(void)
{
	struct unauth *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return NULL;
	u->groups = table_new(sizeof(struct unauth_group), CMD_MAX_GROUPS);
	if (u->groups == NULL) {
		free(u);
		return NULL;
	}
	return u;
}

static void unauth_sample(struct unauth_group *g, const struct msg_row *row)
{
	size_t i, k;

	for (i = 0; row->rcpts != NULL && i < row->nrcpts && g->nsamples < UNAUTH_SAMPLES; i++) {
		for (k = 0; k < g->nsamples; k++)
			if (strcasecmp(g->samples[k], row->rcpts[i]) == 0)
				break;
		if (k < g->nsamples)
			continue;
		/* Cut: a sample is for recognising a campaign, not for storing an envelope. */
		g->samples[g->nsamples] = strndup(row->rcpts[i], 256);
		if (g->samples[g->nsamples] != NULL)
			g->nsamples++;
	}
}

void unauth_add(struct unauth *u, const struct msg_row *row)
{
	char key[CMD_MAX_KEY];
	struct unauth_group *g;
	size_t netlen, n;
	bool created;

	if (!unauth_row_matches(row))
		return;
	u->total++;
	filter_client_network(row->client_ip, key, 64);
	netlen = strlen(key);
	n = netlen + 1;
	n += table_fold(row->mail_from == NULL || row->mail_from[0] == '\0' ? CMD_NULL_SENDER
									    : row->mail_from,
			key + n, sizeof(key) - n);
	g = table_get(u->groups, key, n, true, &created);
	if (g == NULL) {
		u->other++;
		return;
	}
	if (created) {
		g->first = g->last = row->ts_ms;
		g->netlen = (unsigned)netlen;
	}
	if (row->ts_ms < g->first)
		g->first = row->ts_ms;
	if (row->ts_ms > g->last)
		g->last = row->ts_ms;
	g->count++;
	unauth_sample(g, row);
}

const char *unauth_sender(const struct table_item *e)
{
	const struct unauth_group *g = e->value;

	return e->key + g->netlen + 1;
}

static int unauth_cmp(const void *a, const void *b)
{
	const struct table_item *x = a, *y = b;
	const struct unauth_group *gx = x->value, *gy = y->value;
	int c;

	if (gx->count != gy->count)
		return gx->count > gy->count ? -1 : 1;
	c = strcmp(x->key, y->key);
	return c != 0 ? c : strcmp(unauth_sender(x), unauth_sender(y));
}

struct table_item *unauth_sorted(const struct unauth *u, size_t *n)
{
	return table_sorted(u->groups, n, unauth_cmp);
}

int64_t unauth_other(const struct unauth *u)
{
	return u->other;
}

int64_t unauth_total(const struct unauth *u)
{
	return u->total;
}

void unauth_free(struct unauth *u)
{
	struct unauth_group *g;
	void **v;
	size_t n, i, k;

	if (u == NULL)
		return;
	v = table_values(u->groups, &n);
	for (i = 0; v != NULL && i < n; i++) {
		g = v[i];
		for (k = 0; k < g->nsamples; k++)
			free(g->samples[k]);
	}
	free(v);
	table_free(u->groups);
	free(u);
}

/* The subcommand. */

struct unauth_cmd {
	const struct audit_opts *o;
	struct out *out;
	struct unauth *u;
	char note[160];
};

static const struct out_col unauth_cols[] = {
    {"network", COL_STR},     {"sender", COL_STR},     {"messages", COL_INT},
    {"first_seen", COL_TIME}, {"last_seen", COL_TIME}, {"sample_rcpts", COL_LIST},
};

static void *unauth_start(const struct audit_opts *o, FILE *f)
{
	struct unauth_cmd *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->o = o;
	c->out = out_new(f, o->format);
	c->u = unauth_new();
	if (c->out == NULL || c->u == NULL) {
		out_free(c->out);
		unauth_free(c->u);
		free(c);
		return NULL;
	}
	return c;
}

static void unauth_row(void *st, const struct msg_row *row)
{
	struct unauth_cmd *c = st;

	unauth_add(c->u, row);
}

static int unauth_finish(void *st, struct out_summary *s)
{
	struct unauth_cmd *c = st;
	struct table_item *items;
	struct out_val v[6];
	size_t n, i;

	out_begin(c->out, "unauth", unauth_cols, sizeof(unauth_cols) / sizeof(unauth_cols[0]));
	items = unauth_sorted(c->u, &n);
	for (i = 0; i < n && (c->o->top == 0 || i < c->o->top); i++) {
		const struct unauth_group *g = items[i].value;

		v[0] = out_str(items[i].key);
		v[1] = out_str(unauth_sender(&items[i]));
		v[2] = out_int(g->count);
		v[3] = out_int(g->first);
		v[4] = out_int(g->last);
		v[5] = out_list((const char *const *)g->samples, g->nsamples);
		out_row(c->out, v);
	}
	s->rows = i;
	free(items);
	if (unauth_other(c->u) > 0 && s->nnotes < OUT_MAX_NOTES) {
		snprintf(
		    c->note, sizeof(c->note),
		    "more than %d network/sender groups: %lld messages of later groups not shown",
		    CMD_MAX_GROUPS, (long long)unauth_other(c->u));
		s->notes[s->nnotes++] = c->note;
	}
	out_end(c->out, s);
	return out_status(c->out);
}

static void unauth_cmd_free(void *st)
{
	struct unauth_cmd *c = st;

	if (c == NULL)
		return;
	out_free(c->out);
	unauth_free(c->u);
	free(c);
}

const struct audit_cmd cmd_unauth = {
    .name = "unauth",
    .summary = "unauthenticated relaying (tagged or rejected) by client network and sender",
    .start = unauth_start,
    .record = NULL,
    .row = unauth_row,
    .finish = unauth_finish,
    .free = unauth_cmd_free,
};
