/* html_page.h: the HTML report's layout, from numbers already aggregated by html.c. */
#ifndef AUDIT_HTML_PAGE_H
#define AUDIT_HTML_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agg.h"
#include "cmd.h"
#include "table.h"

/* Failed logins of one client address or one login name. */
struct html_fail {
	int64_t count;
	int64_t last;
};

/* Entries (values struct html_fail) by count (descending), then key; malloc'd, NULL when empty. */
struct table_item *html_sorted_fails(const struct table *t, size_t *n);

struct html_phase {
	bool known;
	bool from_config; /* else from the latest milter record */
	bool mandatory;
	bool has_switch; /* config: mandatory_from; log: first record in mandatory */
	int64_t switch_ms;
	int64_t seen_ms; /* log: when that latest record was written */
	/* With a config: what the log says, to point out a milter running another phase. */
	bool log_known;
	bool log_mandatory;
};

struct html_page {
	const struct audit_opts *o;
	const struct out_summary *summary;
	size_t top;
	struct trend_bucket *buckets;
	size_t nbuckets;
	struct table_item *unauth; /* values struct unauth_group */
	size_t nunauth;
	int64_t unauth_total;
	struct table_item *fail_ip;
	size_t nfail_ip;
	struct table_item *fail_user;
	size_t nfail_user;
	int64_t fail_total;
	struct table_item *limit_user; /* logins refused by a limit, not a wrong password */
	size_t nlimit_user;
	int64_t limit_total;
	bool has_period;
	int64_t period_from, period_to;
	bool distinct_capped;
	bool truncated; /* some table reached its cap */
	struct html_phase phase;
};

/* 0, or -1 on a write error. */
int html_page_write(FILE *f, const struct html_page *p);

/* s with & < > " ' as entities and control characters as U+FFFD. */
void html_escape(FILE *f, const char *s);

#endif
