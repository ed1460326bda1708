/* html_page.c: the HTML report's layout, from numbers already aggregated by html.c. */
#include "html_page.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "timeutil.h"

/* Everything inline: the page must open from a mail attachment or an offline share. */
static const char html_css[] =
    ":root{--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f4f5f7;--card:#fff;"
    "--auth:#2563eb;--unauth:#f59e0b;--bad:#dc2626}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--ink);"
    "font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}\n"
    ".wrap{max-width:1120px;margin:0 auto;padding:0 24px}\n"
    "header{background:#0f172a;color:#f8fafc;padding:28px 0 24px}\n"
    "header h1{margin:0;font-size:24px;font-weight:600;letter-spacing:-.01em}\n"
    "header p{margin:6px 0 0;color:#cbd5e1}\n"
    "main.wrap{padding-top:24px;padding-bottom:8px}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:14px}\n"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px "
    "16px}\n"
    ".card .label{color:var(--muted);font-size:13px}\n"
    ".card .value{font-size:26px;font-weight:600;font-variant-numeric:tabular-nums}\n"
    ".card .sub{color:var(--muted);font-size:13px}\n"
    ".card.auth .value{color:var(--auth)}.card.unauth .value{color:#b45309}"
    ".card.bad .value{color:var(--bad)}\n"
    ".panel{background:var(--card);border:1px solid var(--line);border-radius:10px;"
    "padding:18px 20px;margin-top:18px}\n"
    "h2{font-size:17px;margin:0 0 12px}\n"
    ".badge{display:inline-block;padding:2px 10px;border-radius:999px;font-weight:600;"
    "font-size:13px;text-transform:uppercase;letter-spacing:.04em;margin-right:8px}\n"
    ".badge.voluntary{background:#fef3c7;color:#92400e}"
    ".badge.mandatory{background:#dcfce7;color:#166534}"
    ".badge.unknown{background:#e5e7eb;color:#374151}\n"
    "table{width:100%;border-collapse:collapse;font-size:14px}\n"
    "th{text-align:left;color:var(--muted);font-weight:600;border-bottom:2px solid var(--line);"
    "padding:6px 8px}\n"
    "td{border-bottom:1px solid var(--line);padding:6px 8px;vertical-align:top;"
    "overflow-wrap:anywhere}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "td.when{white-space:nowrap;color:#374151}\n"
    "tbody tr:nth-child(even) td{background:#fafafa}\n"
    ".mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}\n"
    "td.key{white-space:nowrap;overflow-wrap:normal}\n"
    ".grid2{display:grid;grid-template-columns:1fr 1fr;gap:18px}\n"
    ".grid2 .panel{margin-top:0}\n"
    "@media (max-width:800px){.grid2{grid-template-columns:1fr}}\n"
    ".row2{margin-top:18px}\n"
    ".empty{color:var(--muted);font-style:italic;margin:4px 0}\n"
    ".muted{color:var(--muted)}\n"
    ".note{background:#fff7ed;border:1px solid #fed7aa;color:#9a3412;padding:8px 12px;"
    "border-radius:8px;margin-top:12px;font-size:13px}\n"
    "svg.chart{width:100%;height:auto;display:block}\n"
    "footer{color:var(--muted);font-size:13px;padding:16px 0 32px}\n";

void html_escape(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fputs("\xef\xbf\xbd", f);
			else
				fputc(*p, f);
		}
	}
}

static int fail_cmp(const void *a, const void *b)
{
	const struct table_item *x = a, *y = b;
	const struct html_fail *fx = x->value, *fy = y->value;

	if (fx->count != fy->count)
		return fx->count > fy->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

struct table_item *html_sorted_fails(const struct table *t, size_t *n)
{
	return table_sorted(t, n, fail_cmp);
}

static void put_time(FILE *f, int64_t ms)
{
	char buf[32];

	time_format_text(ms, buf, sizeof(buf));
	fprintf(f, "%.16s", buf); /* minutes are enough on a page */
}

static void put_pct(FILE *f, int64_t part, int64_t whole)
{
	if (whole == 0)
		fputs("–", f);
	else
		fprintf(f, "%.1f%%", 100.0 * (double)part / (double)whole);
}

static void page_head(FILE *f, const struct html_page *p)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; img-src data:\">\n"
	      "<title>authgate audit report</title>\n<style>\n",
	      f);
	fputs(html_css, f);
	fputs("</style>\n</head>\n<body>\n<header><div class=\"wrap\">\n"
	      "<h1>Authenticated SMTP &mdash; audit report</h1>\n<p>",
	      f);
	if (p->has_period) {
		put_time(f, p->period_from);
		fputs(" to ", f);
		put_time(f, p->period_to);
		fputs(" UTC", f);
	} else {
		fputs("No records in the log", f);
	}
	if (p->o->user != NULL) {
		fputs(" &middot; user ", f);
		html_escape(f, p->o->user);
	}
	if (p->o->rcpt != NULL) {
		fputs(" &middot; recipient ", f);
		html_escape(f, p->o->rcpt);
	}
	fputs("</p>\n</div></header>\n<main class=\"wrap\">\n", f);
}

static void card(FILE *f, const char *cls, const char *label, int64_t value, const char *sub)
{
	fprintf(f,
		"<div class=\"card %s\"><div class=\"label\">%s</div>"
		"<div class=\"value\">%" PRId64 "</div><div class=\"sub\">%s</div></div>\n",
		cls, label, value, sub);
}

static void page_cards(FILE *f, const struct html_page *p)
{
	int64_t total = 0, auth = 0, unauth = 0, rejected = 0, tagged = 0;
	char sub[96];
	size_t i;

	for (i = 0; i < p->nbuckets; i++) {
		total += p->buckets[i].total;
		auth += p->buckets[i].auth;
		unauth += p->buckets[i].unauth;
		rejected += p->buckets[i].rejected;
		tagged += p->buckets[i].tagged;
	}
	fputs("<section class=\"cards\" id=\"totals\">\n", f);
	snprintf(sub, sizeof(sub), "over %zu %s%s", p->nbuckets, p->o->hourly ? "hour" : "day",
		 p->nbuckets == 1 ? "" : "s");
	card(f, "", "Messages", total, sub);
	fprintf(f,
		"<div class=\"card auth\" data-auth=\"%" PRId64 "\"><div class=\"label\">"
		"Authenticated</div><div class=\"value\">",
		auth);
	put_pct(f, auth, total);
	fprintf(f, "</div><div class=\"sub\">%" PRId64 " messages</div></div>\n", auth);
	snprintf(sub, sizeof(sub), "%" PRId64 " relayed: tagged or rejected", p->unauth_total);
	card(f, "unauth", "Unauthenticated", unauth, sub);
	card(f, "bad", "Rejected", rejected, "by the milter or backend");
	card(f, "", "Tagged", tagged, "warning header added");
	snprintf(sub, sizeof(sub), "from %zu address%s", p->nfail_ip, p->nfail_ip == 1 ? "" : "es");
	card(f, "bad", "Failed logins", p->fail_total, sub);
	card(f, "", "Refused by limits", p->limit_total, "lockout: no password checked");
	fputs("</section>\n", f);
}

static void page_phase(FILE *f, const struct html_page *p)
{
	const struct html_phase *ph = &p->phase;

	fputs("<section class=\"panel\" id=\"phase\">\n<h2>Phase</h2>\n<p>", f);
	if (!ph->known) {
		fputs("<span class=\"badge unknown\">unknown</span>No configuration given (-c) "
		      "and no milter record in the log says which phase is in force.</p>\n"
		      "</section>\n",
		      f);
		return;
	}
	fprintf(f, "<span class=\"badge %s\" data-phase=\"%s\">%s</span>",
		ph->mandatory ? "mandatory" : "voluntary",
		ph->mandatory ? "mandatory" : "voluntary",
		ph->mandatory ? "mandatory" : "voluntary");
	if (ph->from_config) {
		if (ph->has_switch && !ph->mandatory) {
			int64_t days;

			days =
			    (ph->switch_ms - p->o->now_ms + TIME_MS_PER_DAY - 1) / TIME_MS_PER_DAY;
			fputs("Authentication becomes mandatory on <strong data-switch=\"", f);
			put_time(f, ph->switch_ms);
			fputs("\">", f);
			put_time(f, ph->switch_ms);
			fprintf(f, " UTC</strong> (in %" PRId64 " day%s).", days,
				days == 1 ? "" : "s");
		} else if (ph->has_switch) {
			fputs("Authentication is mandatory since <strong data-switch=\"", f);
			put_time(f, ph->switch_ms);
			fputs("\">", f);
			put_time(f, ph->switch_ms);
			fputs(" UTC</strong>.", f);
		} else if (ph->mandatory) {
			fputs("Authentication is mandatory for relaying.", f);
		} else {
			fputs("Unauthenticated relaying is tagged, not refused; no switch date "
			      "(mandatory_from) is configured.",
			      f);
		}
		fputs(" <span class=\"muted\">(from ", f);
		html_escape(f,
			    p->o->config->path != NULL ? p->o->config->path : "the configuration");
		fputs(")</span>", f);
		if (ph->log_known && ph->log_mandatory != ph->mandatory) {
			/* A milter not reloaded, or a report run with another host's config. */
			fprintf(f,
				"</p>\n<p class=\"note\" data-log-phase=\"%s\">The latest milter "
				"record (",
				ph->log_mandatory ? "mandatory" : "voluntary");
			put_time(f, ph->seen_ms);
			fprintf(f,
				" UTC) was written in the <strong>%s</strong> phase: is the milter "
				"running this configuration?",
				ph->log_mandatory ? "mandatory" : "voluntary");
		}
	} else {
		if (ph->has_switch) {
			fputs("First record in the mandatory phase: <strong data-switch=\"", f);
			put_time(f, ph->switch_ms);
			fputs("\">", f);
			put_time(f, ph->switch_ms);
			fputs(" UTC</strong>.", f);
		}
		fputs(" <span class=\"muted\">(from the latest milter record, ", f);
		put_time(f, ph->seen_ms);
		fputs(" UTC; give -c for the configured switch date)</span>", f);
	}
	fputs("</p>\n</section>\n", f);
}

static void page_unauth(FILE *f, const struct html_page *p)
{
	size_t i, k;

	fputs("<section class=\"panel\" id=\"unauth\">\n<h2>Top unauthenticated senders</h2>\n", f);
	if (p->nunauth == 0) {
		fputs("<p class=\"empty\">No unauthenticated relaying in this period.</p>\n"
		      "</section>\n",
		      f);
		return;
	}
	fputs("<table>\n<thead><tr><th>Client network</th><th>Sender</th>"
	      "<th class=\"num\">Messages</th><th>First seen</th><th>Last seen</th>"
	      "<th>Sample recipients</th></tr></thead>\n<tbody>\n",
	      f);
	for (i = 0; i < p->nunauth && i < p->top; i++) {
		const struct unauth_group *g = p->unauth[i].value;

		fputs("<tr><td class=\"mono key\">", f);
		html_escape(f, p->unauth[i].key);
		fputs("</td><td class=\"mono key\">", f);
		html_escape(f, unauth_sender(&p->unauth[i]));
		fprintf(f, "</td><td class=\"num\">%" PRId64 "</td><td class=\"when\">", g->count);
		put_time(f, g->first);
		fputs("</td><td class=\"when\">", f);
		put_time(f, g->last);
		fputs("</td><td class=\"mono\">", f);
		for (k = 0; k < g->nsamples; k++) {
			if (k > 0)
				fputs(", ", f);
			html_escape(f, g->samples[k]);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
	if (p->nunauth > p->top)
		fprintf(f,
			"<p class=\"muted\">%zu more groups: authgate-audit unauth lists them "
			"all.</p>\n",
			p->nunauth - p->top);
	fputs("</section>\n", f);
}

static void fail_table(FILE *f, const char *id, const char *title, const char *keyname,
		       const char *what, const struct table_item *items, size_t n, size_t top)
{
	size_t i;

	fprintf(f, "<section class=\"panel\" id=\"%s\">\n<h2>%s</h2>\n", id, title);
	if (n == 0) {
		fprintf(f, "<p class=\"empty\">No %s.</p>\n</section>\n", what);
		return;
	}
	fprintf(f,
		"<table>\n<thead><tr><th>%s</th><th class=\"num\">%s</th>"
		"<th>Last</th></tr></thead>\n<tbody>\n",
		keyname, strcmp(what, "failed logins") == 0 ? "Failures" : "Refusals");
	for (i = 0; i < n && i < top; i++) {
		const struct html_fail *v = items[i].value;

		fputs("<tr><td class=\"mono key\">", f);
		html_escape(f, items[i].key[0] != '\0' ? items[i].key : "(none given)");
		fprintf(f, "</td><td class=\"num\">%" PRId64 "</td><td class=\"when\">", v->count);
		put_time(f, v->last);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody>\n</table>\n</section>\n", f);
}

int html_page_write(FILE *f, const struct html_page *p)
{
	const struct out_summary *s = p->summary;

	page_head(f, p);
	page_cards(f, p);
	page_phase(f, p);

	fprintf(f,
		"<section class=\"panel\" id=\"trend\">\n<h2>Authenticated and unauthenticated "
		"messages per %s</h2>\n",
		p->o->hourly ? "hour" : "day");
	if (p->nbuckets == 0)
		fputs("<p class=\"empty\">No messages in this period.</p>\n", f);
	else
		chart_write_svg(f, p->buckets, p->nbuckets, p->o->hourly);
	fputs("</section>\n", f);

	page_unauth(f, p);
	fputs("<div class=\"grid2 row2\">\n", f);
	fail_table(f, "fail-client", "Failed logins by client", "Client address", "failed logins",
		   p->fail_ip, p->nfail_ip, p->top);
	fail_table(f, "fail-user", "Failed logins by user", "Login", "failed logins", p->fail_user,
		   p->nfail_user, p->top);
	fputs("</div>\n", f);
	fail_table(f, "limit-user", "Logins refused by limits (lockout, no password checked)",
		   "Login", "logins refused by limits", p->limit_user, p->nlimit_user, p->top);

	if (s->bad > 0 || s->io_errors > 0 || p->truncated || p->distinct_capped) {
		fputs("<div class=\"note\">", f);
		if (s->bad > 0)
			fprintf(
			    f, "%" PRIu64 " log lines were not valid records and are not counted. ",
			    s->bad);
		if (s->io_errors > 0)
			fprintf(f, "%" PRIu64 " log files could not be read to the end. ",
				s->io_errors);
		if (p->truncated)
			fputs("Some tables reached their size limit: their smallest entries may be "
			      "missing. ",
			      f);
		if (p->distinct_capped)
			fputs("Distinct sender counts are lower bounds.", f);
		fputs("</div>\n", f);
	}
	fputs("</main>\n<footer class=\"wrap\">Generated ", f);
	put_time(f, p->o->now_ms);
	fprintf(f,
		" UTC by authgate-audit %s from <span id=\"records\" data-records=\"%" PRIu64
		"\" data-bad=\"%" PRIu64 "\">%" PRIu64 " records in %" PRIu64 " file%s",
		p->o->version, s->records, s->bad, s->records, s->files, s->files == 1 ? "" : "s");
	if (s->bad > 0)
		fprintf(f, " (%" PRIu64 " bad line%s)", s->bad, s->bad == 1 ? "" : "s");
	fputs("</span>. All times UTC.</footer>\n</body>\n</html>\n", f);
	return ferror(f) ? -1 : 0;
}
