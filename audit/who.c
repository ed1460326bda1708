/* who.c: the "who" subcommand: one row per message, or message counts grouped --by a key. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "table.h"

struct who_group {
	int64_t messages;
	int64_t first;
	int64_t last;
};

struct who {
	const struct audit_opts *o;
	struct out *out;
	struct table *groups; /* --by only */
	int64_t other;	      /* counts whose key found the table full */
	uint64_t rows;
	char note[160];
};

static const struct out_col who_cols[] = {
    {"time", COL_TIME},	   {"user", COL_STR},	{"client", COL_STR}, {"tls", COL_STR},
    {"sender", COL_STR},   {"rcpts", COL_LIST}, {"action", COL_STR}, {"reply", COL_STR},
    {"queue_id", COL_STR}, {"route", COL_STR},
};

static const char *const by_names[] = {NULL, "user", "sender", "client", "rcpt"};

static struct out_col by_cols[] = {
    {NULL, COL_STR}, /* the key column, named after --by */
    {"messages", COL_INT},
    {"first_seen", COL_TIME},
    {"last_seen", COL_TIME},
};

static void *who_start(const struct audit_opts *o, FILE *f)
{
	struct who *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->o = o;
	w->out = out_new(f, o->format);
	if (w->out == NULL) {
		free(w);
		return NULL;
	}
	if (o->by == BY_NONE) {
		out_begin(w->out, "who", who_cols, sizeof(who_cols) / sizeof(who_cols[0]));
		return w;
	}
	w->groups = table_new(sizeof(struct who_group), CMD_MAX_GROUPS);
	if (w->groups == NULL) {
		out_free(w->out);
		free(w);
		return NULL;
	}
	return w;
}

static void who_count(struct who *w, const char *key, int64_t ts)
{
	char folded[CMD_MAX_KEY];
	struct who_group *g;
	size_t n;
	bool created;

	/* Addresses and logins compare case-insensitively; unauthenticated is the empty key. */
	n = table_fold(key != NULL ? key : "", folded, sizeof(folded));
	g = table_get(w->groups, folded, n, true, &created);
	if (g == NULL) {
		w->other++;
		return;
	}
	if (created || ts < g->first)
		g->first = ts;
	if (created || ts > g->last)
		g->last = ts;
	g->messages++;
}

static void who_row(void *st, const struct msg_row *row)
{
	struct who *w = st;
	struct out_val v[10];
	size_t i;

	switch (w->o->by) {
	case BY_NONE:
		v[0] = out_int(row->ts_ms);
		v[1] = out_str(row->user);
		v[2] = out_str(row->client_ip);
		v[3] = out_str(row->tls);
		v[4] =
		    out_str(row->mail_from != NULL && row->mail_from[0] == '\0' ? CMD_NULL_SENDER
										: row->mail_from);
		v[5] = out_list(row->rcpts, row->nrcpts);
		v[6] = out_str(rec_action_name(row->action));
		v[7] = out_str(row->backend_reply);
		v[8] = out_str(row->queue_id);
		v[9] = out_str(row->route);
		out_row(w->out, v);
		w->rows++;
		break;
	case BY_USER:
		who_count(w, row->user, row->ts_ms);
		break;
	case BY_SENDER:
		who_count(w,
			  row->mail_from != NULL && row->mail_from[0] == '\0' ? CMD_NULL_SENDER
									      : row->mail_from,
			  row->ts_ms);
		break;
	case BY_CLIENT:
		who_count(w, row->client_ip, row->ts_ms);
		break;
	case BY_RCPT:
		for (i = 0; row->rcpts != NULL && i < row->nrcpts; i++)
			if (w->o->rcpt == NULL || filter_rcpt_match(w->o->rcpt, row->rcpts[i]))
				who_count(w, row->rcpts[i], row->ts_ms);
		break;
	}
}

static int who_cmp(const void *a, const void *b)
{
	const struct table_item *x = a, *y = b;
	const struct who_group *gx = x->value, *gy = y->value;

	if (gx->messages != gy->messages)
		return gx->messages > gy->messages ? -1 : 1;
	return strcmp(x->key, y->key);
}

static int who_finish(void *st, struct out_summary *s)
{
	struct who *w = st;
	struct table_item *items;
	struct out_val v[4];
	size_t n, i;

	if (w->o->by != BY_NONE) {
		by_cols[0].name = by_names[w->o->by];
		out_begin(w->out, "who", by_cols, 4);
		items = table_sorted(w->groups, &n, who_cmp);
		for (i = 0; i < n && (w->o->top == 0 || i < w->o->top); i++) {
			const struct who_group *g = items[i].value;

			v[0] = out_str(items[i].key[0] != '\0' ? items[i].key : NULL);
			v[1] = out_int(g->messages);
			v[2] = out_int(g->first);
			v[3] = out_int(g->last);
			out_row(w->out, v);
			w->rows++;
		}
		free(items);
		if (w->other > 0 && s->nnotes < OUT_MAX_NOTES) {
			snprintf(w->note, sizeof(w->note),
				 "more than %d keys: %lld counts of later keys were dropped",
				 CMD_MAX_GROUPS, (long long)w->other);
			s->notes[s->nnotes++] = w->note;
		}
	}
	s->rows = w->rows;
	out_end(w->out, s);
	return out_status(w->out);
}

static void who_free(void *st)
{
	struct who *w = st;

	if (w == NULL)
		return;
	out_free(w->out);
	table_free(w->groups);
	free(w);
}

const struct audit_cmd cmd_who = {
    .name = "who",
    .summary = "one row per message (or --by user|sender|client|rcpt: counts)",
    .start = who_start,
    .record = NULL,
    .row = who_row,
    .finish = who_finish,
    .free = who_free,
};
