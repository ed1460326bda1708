/* html.c: the "html" subcommand: one self-contained page (inline CSS and SVG, no fetches). */
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "authlimit.h"
#include "chart.h"
#include "cmd.h"
#include "html_page.h"
#include "table.h"
#include "timeutil.h"

#define HTML_DEFAULT_TOP 25

struct html {
	const struct audit_opts *o;
	FILE *f;
	struct trend *trend;
	struct unauth *unauth;
	struct table *fail_ip;	 /* failed logins by client address */
	struct table *fail_user; /* and by the login tried */
	struct table *limit_user; /* refused by auth_fail_limit / smart lockout, by login */
	int64_t fail_total;
	int64_t limit_total;
	int64_t fail_other;
	/* The phase as the milter last reported it. */
	char phase[16];
	int64_t phase_ts;
	int64_t first_mandatory_ts;
	bool seen_phase, seen_mandatory;
	int64_t min_ts, max_ts;
	bool seen_any;
};

static void html_free(void *st)
{
	struct html *h = st;

	if (h == NULL)
		return;
	trend_free(h->trend);
	unauth_free(h->unauth);
	table_free(h->fail_ip);
	table_free(h->fail_user);
	table_free(h->limit_user);
	free(h);
}

static void *html_start(const struct audit_opts *o, FILE *f)
{
	struct html *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->o = o;
	h->f = f;
	h->trend = trend_new(o->hourly);
	h->unauth = unauth_new();
	h->fail_ip = table_new(sizeof(struct html_fail), CMD_MAX_GROUPS);
	h->fail_user = table_new(sizeof(struct html_fail), CMD_MAX_GROUPS);
	h->limit_user = table_new(sizeof(struct html_fail), CMD_MAX_GROUPS);
	if (h->trend == NULL || h->unauth == NULL || h->fail_ip == NULL || h->fail_user == NULL ||
	    h->limit_user == NULL) {
		html_free(h);
		return NULL;
	}
	return h;
}

static void html_count_fail(struct html *h, struct table *t, const char *key, int64_t ts)
{
	struct html_fail *v;
	bool created;

	v = table_get(t, key, strnlen(key, CMD_MAX_KEY), true, &created);
	if (v == NULL) {
		h->fail_other++;
		return;
	}
	v->count++;
	if (created || ts > v->last)
		v->last = ts;
}

static void html_record(void *st, const struct audit_rec *r)
{
	struct html *h = st;

	if (!h->seen_any || r->ts_ms < h->min_ts)
		h->min_ts = r->ts_ms;
	if (!h->seen_any || r->ts_ms > h->max_ts)
		h->max_ts = r->ts_ms;
	h->seen_any = true;
	/* Phase comes from every milter record, whatever the filters: it is the site's state. */
	if (r->component == REC_MILTER && r->phase != NULL &&
	    (!h->seen_phase || r->ts_ms >= h->phase_ts)) {
		snprintf(h->phase, sizeof(h->phase), "%s", r->phase);
		h->phase_ts = r->ts_ms;
		h->seen_phase = true;
	}
	if (r->component == REC_MILTER && r->phase != NULL && strcmp(r->phase, "mandatory") == 0 &&
	    (!h->seen_mandatory || r->ts_ms < h->first_mandatory_ts)) {
		h->first_mandatory_ts = r->ts_ms;
		h->seen_mandatory = true;
	}
	/*
	 * A login refused by a limit (421 auth_fail_limit, 454 smart lockout)
	 * had no password checked: counted apart, not as a failed login.
	 */
	if (r->event == REC_AUTH && authlimit_reason_rule(r->reason) != AG_AUTHLIMIT_OK &&
	    filter_record(h->o, r)) {
		h->limit_total++;
		html_count_fail(h, h->limit_user, r->auth_user != NULL ? r->auth_user : "",
				r->ts_ms);
	} else if (r->event == REC_AUTH && r->action == REC_ACT_REJECT && filter_record(h->o, r)) {
		h->fail_total++;
		html_count_fail(h, h->fail_ip, r->client_ip != NULL ? r->client_ip : "unknown",
				r->ts_ms);
		html_count_fail(h, h->fail_user, r->auth_user != NULL ? r->auth_user : "",
				r->ts_ms);
	}
}

static void html_row(void *st, const struct msg_row *row)
{
	struct html *h = st;

	trend_add(h->trend, row);
	unauth_add(h->unauth, row);
}

/* What the page says about the phase: the config when -c, else the latest milter record. */
static void html_phase(const struct html *h, struct html_phase *p)
{
	const struct ag_config *c = h->o->config;
	int64_t now_s = h->o->now_ms / 1000;

	memset(p, 0, sizeof(*p));
	if (c != NULL) {
		p->known = true;
		p->from_config = true;
		p->mandatory = c->phase == AG_PHASE_MANDATORY ||
			       (c->has_mandatory_from && now_s >= c->mandatory_from);
		p->has_switch = c->has_mandatory_from;
		p->switch_ms = c->mandatory_from * 1000;
		p->log_known = h->seen_phase;
		p->log_mandatory = h->seen_phase && strcmp(h->phase, "mandatory") == 0;
		p->seen_ms = h->phase_ts;
		return;
	}
	if (h->seen_phase) {
		p->known = true;
		p->mandatory = strcmp(h->phase, "mandatory") == 0;
		p->seen_ms = h->phase_ts;
		p->has_switch = h->seen_mandatory;
		p->switch_ms = h->first_mandatory_ts;
	}
}

static int html_finish(void *st, struct out_summary *s)
{
	struct html *h = st;
	struct html_page page;
	int rc;

	memset(&page, 0, sizeof(page));
	page.o = h->o;
	page.summary = s;
	page.top = h->o->top ? h->o->top : HTML_DEFAULT_TOP;
	page.buckets = trend_buckets(h->trend, &page.nbuckets);
	page.unauth = unauth_sorted(h->unauth, &page.nunauth);
	page.unauth_total = unauth_total(h->unauth);
	page.fail_ip = html_sorted_fails(h->fail_ip, &page.nfail_ip);
	page.fail_user = html_sorted_fails(h->fail_user, &page.nfail_user);
	page.fail_total = h->fail_total;
	page.limit_user = html_sorted_fails(h->limit_user, &page.nlimit_user);
	page.limit_total = h->limit_total;
	page.has_period = h->seen_any || h->o->has_since || h->o->has_until;
	page.period_from = h->o->has_since ? h->o->since_ms : h->min_ts;
	page.period_to = h->o->has_until ? h->o->until_ms : h->max_ts;
	page.distinct_capped = trend_distinct_capped(h->trend);
	page.truncated =
	    unauth_other(h->unauth) > 0 || h->fail_other > 0 || trend_dropped(h->trend) > 0;
	html_phase(h, &page.phase);
	s->rows = page.nbuckets;
	rc = html_page_write(h->f, &page);
	free(page.buckets);
	free(page.unauth);
	free(page.fail_ip);
	free(page.fail_user);
	free(page.limit_user);
	return rc;
}

const struct audit_cmd cmd_html = {
    .name = "html",
    .summary = "a self-contained HTML report: trend chart, top senders, failed logins, phase",
    .start = html_start,
    .record = html_record,
    .row = html_row,
    .finish = html_finish,
    .free = html_free,
};
