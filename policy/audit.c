/* audit.c: JSON-lines audit records (doc/interface.md schema); io/auditlog.c writes them. */
#include "audit.h"
#include "escape.h"

#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_REASON_TRUNCATED "rcpts truncated"

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

void audit_format_time(int64_t ts_ms, char *buf, size_t len)
{
	int64_t secs, days, sod, y, rem;
	unsigned mon, mday, ms;

	if (len == 0)
		return;
	/* Floor division: -1 ms is 1969-12-31T23:59:59.999Z, not .-001. */
	secs = ts_ms / 1000;
	rem = ts_ms % 1000;
	if (rem < 0) {
		secs--;
		rem += 1000; /* not ts_ms - secs * 1000: that overflows for INT64_MIN */
	}
	ms = (unsigned)rem;
	days = secs / 86400;
	if (secs % 86400 < 0)
		days--;
	sod = secs - days * 86400;
	civil_from_days(days, &y, &mon, &mday);
	snprintf(buf, len, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%03uZ", y, mon, mday,
		 (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60), ms);
}

/* A bounded output buffer; once anything does not fit, everything after is refused. */
struct jbuf {
	char *p;
	size_t len;
	size_t pos;
	bool full;
};

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
	if (b->full || n > b->len - b->pos) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->pos, s, n);
	b->pos += n;
}

static void jb_puts(struct jbuf *b, const char *s)
{
	jb_put(b, s, strlen(s));
}

static void jb_put_cb(void *arg, const char *s, size_t n)
{
	jb_put(arg, s, n);
}

/* A JSON string: the one writer in escape.c. */
static void jb_string(struct jbuf *b, const char *str)
{
	escape_json(str, jb_put_cb, b);
}

static void jb_key(struct jbuf *b, const char *key)
{
	jb_put(b, ",\"", 2);
	jb_puts(b, key);
	jb_put(b, "\":", 2);
}

static void jb_field(struct jbuf *b, const char *key, const char *value)
{
	if (value == NULL)
		return;
	jb_key(b, key);
	jb_string(b, value);
}

int audit_format_record(const struct ag_audit_record *r, char *buf, size_t len)
{
	struct jbuf b = {buf, len, 0, false};
	char ts[32], num[24];
	size_t i;
	bool first = true;

	if (buf == NULL || len == 0)
		return -1;
	audit_format_time(r->ts_ms, ts, sizeof(ts));
	jb_puts(&b, "{\"ts\":");
	jb_string(&b, ts);
	jb_field(&b, "component", r->component);
	jb_field(&b, "session", r->session);
	jb_field(&b, "client_ip", r->client_ip);
	jb_field(&b, "auth_user", r->auth_user);
	jb_field(&b, "tls", r->tls);
	jb_field(&b, "event", r->event);
	jb_field(&b, "limits", r->limits);
	jb_field(&b, "mail_from", r->mail_from);
	if (r->rcpts != NULL) {
		jb_key(&b, "rcpts");
		jb_put(&b, "[", 1);
		for (i = 0; i < r->nrcpts; i++) {
			if (r->rcpts[i] == NULL)
				continue;
			if (!first)
				jb_put(&b, ",", 1);
			first = false;
			jb_string(&b, r->rcpts[i]);
		}
		jb_put(&b, "]", 1);
	}
	if (r->size >= 0) {
		snprintf(num, sizeof(num), "%" PRId64, r->size);
		jb_key(&b, "size");
		jb_puts(&b, num);
	}
	jb_field(&b, "action", r->action);
	jb_field(&b, "backend", r->backend);
	jb_field(&b, "backend_reply", r->backend_reply);
	jb_field(&b, "queue_id", r->queue_id);
	jb_field(&b, "phase", r->phase);
	jb_field(&b, "route", r->route);
	jb_field(&b, "reason", r->reason);
	jb_field(&b, "helo", r->helo);
	jb_put(&b, "}\n", 2);
	/* Room for the NUL too: callers may treat the buffer as a string. */
	if (b.full || b.pos >= len || b.pos > INT_MAX)
		return -1;
	buf[b.pos] = '\0';
	return (int)b.pos;
}

/*
 * Format r, cutting the recipient list when it does not fit: a decision
 * without its full recipient list is still worth more than no record.
 */
int audit_format_record_fitting(const struct ag_audit_record *r, char *buf, size_t len)
{
	struct ag_audit_record cut;
	char reason[256];
	size_t lo, hi, mid;
	int n;

	n = audit_format_record(r, buf, len);
	if (n >= 0)
		return n;

	cut = *r;
	if (r->reason != NULL && r->reason[0] != '\0') {
		n = snprintf(reason, sizeof(reason), "%s; %s", r->reason, AUDIT_REASON_TRUNCATED);
		cut.reason =
		    (n < 0 || (size_t)n >= sizeof(reason)) ? AUDIT_REASON_TRUNCATED : reason;
	} else {
		cut.reason = AUDIT_REASON_TRUNCATED;
	}
	if (r->rcpts != NULL && r->nrcpts > 0) {
		/* Largest count of recipients that fits; the length grows with it. */
		lo = 0;
		hi = r->nrcpts - 1;
		while (lo < hi) {
			mid = lo + (hi - lo + 1) / 2;
			cut.nrcpts = mid;
			if (audit_format_record(&cut, buf, len) >= 0)
				lo = mid;
			else
				hi = mid - 1;
		}
		cut.nrcpts = lo;
		n = audit_format_record(&cut, buf, len);
		if (n >= 0)
			return n;
	}

	/* Something else is huge (a backend reply?): keep who, what and the decision. */
	memset(&cut, 0, sizeof(cut));
	cut.ts_ms = r->ts_ms;
	cut.component = r->component;
	cut.session = r->session;
	cut.client_ip = r->client_ip;
	cut.auth_user = r->auth_user;
	cut.event = r->event;
	cut.limits = r->limits;
	cut.size = r->size;
	cut.action = r->action;
	cut.queue_id = r->queue_id;
	cut.phase = r->phase;
	cut.route = r->route;
	cut.reason = "record too large";
	return audit_format_record(&cut, buf, len);
}
