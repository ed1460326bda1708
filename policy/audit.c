/* audit.c: JSON-lines audit records (INTERFACE.md schema) and the append-only log they go to. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dup3(): swap descriptors without losing O_CLOEXEC */
#endif
#include "audit.h"
#include "escape.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define AUDIT_LOG_MODE 0640
#define AUDIT_WRITE_TRIES 8 /* EINTR before anything was written */
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

struct ag_audit_log {
	int fd;	      /* -1 for syslog */
	int facility; /* syslog only */
	char *path;   /* file only: reopened on logrotate */
	pthread_mutex_t reopen_lock;
};

static const struct {
	const char *name;
	int facility;
} audit_facilities[] = {
    {"mail", LOG_MAIL},	    {"daemon", LOG_DAEMON}, {"user", LOG_USER},	    {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

static int audit_open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, AUDIT_LOG_MODE);
}

struct ag_audit_log *audit_log_open(const char *target, const char **why)
{
	struct ag_audit_log *log;
	size_t i;

	if (target == NULL || target[0] == '\0') {
		*why = "no audit log target";
		return NULL;
	}
	log = calloc(1, sizeof(*log));
	if (log == NULL) {
		*why = "out of memory";
		return NULL;
	}
	log->fd = -1;
	if (strncmp(target, "syslog:", 7) == 0) {
		for (i = 0; i < sizeof(audit_facilities) / sizeof(audit_facilities[0]); i++)
			if (strcmp(target + 7, audit_facilities[i].name) == 0)
				break;
		if (i == sizeof(audit_facilities) / sizeof(audit_facilities[0])) {
			*why = "unknown syslog facility (mail, daemon, user, local0..local7)";
			free(log);
			return NULL;
		}
		/*
		 * No openlog(): it would take over the daemon's own ident and default
		 * facility. The facility goes with each record's priority instead.
		 */
		log->facility = audit_facilities[i].facility;
	} else {
		log->path = strdup(target);
		if (log->path == NULL) {
			*why = "out of memory";
			free(log);
			return NULL;
		}
		log->fd = audit_open_file(log->path);
		if (log->fd < 0) {
			*why = strerror(errno);
			free(log->path);
			free(log);
			return NULL;
		}
	}
	if (pthread_mutex_init(&log->reopen_lock, NULL) != 0) {
		*why = "cannot create mutex";
		if (log->fd >= 0)
			close(log->fd);
		free(log->path);
		free(log);
		return NULL;
	}
	return log;
}

/*
 * Format r, cutting the recipient list when it does not fit: a decision
 * without its full recipient list is still worth more than no record.
 */
static int audit_format_fitting(const struct ag_audit_record *r, char *buf, size_t len)
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

static int audit_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n = -1;
	int tries;

	/* One write() only: a second one could land after another writer's line. */
	for (tries = 0; tries < AUDIT_WRITE_TRIES; tries++) {
		n = write(fd, buf, len);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int audit_log_write(struct ag_audit_log *log, const struct ag_audit_record *r)
{
	char *buf;
	int n, rc;

	if (log == NULL || r == NULL) {
		errno = EINVAL;
		return -1;
	}
	/* On the heap: milter threads may run on small stacks. */
	buf = malloc(AG_AUDIT_MAX_RECORD);
	if (buf == NULL) {
		errno = ENOMEM;
		return -1;
	}
	n = audit_format_fitting(r, buf, AG_AUDIT_MAX_RECORD);
	if (n < 0) {
		free(buf);
		errno = EMSGSIZE;
		return -1;
	}
	if (log->fd < 0) {
		/* syslog frames records itself: no newline inside the message. */
		buf[n - 1] = '\0';
		syslog(log->facility | LOG_INFO, "%s", buf);
		rc = 0;
	} else {
		rc = audit_write_all(log->fd, buf, (size_t)n);
	}
	free(buf);
	return rc;
}

int audit_log_reopen(struct ag_audit_log *log)
{
	int fd, rc = 0, saved;

	if (log == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (log->path == NULL)
		return 0; /* syslog: nothing to reopen */
	pthread_mutex_lock(&log->reopen_lock);
	fd = audit_open_file(log->path);
	if (fd < 0) {
		rc = -1;
	} else {
		/*
		 * dup3 replaces the descriptor number atomically: a writer in
		 * another thread writes to the old file or the new one, never
		 * to a closed (or reused) descriptor.
		 */
		if (dup3(fd, log->fd, O_CLOEXEC) < 0)
			rc = -1;
		saved = errno;
		close(fd);
		errno = saved;
	}
	pthread_mutex_unlock(&log->reopen_lock);
	return rc;
}

void audit_log_close(struct ag_audit_log *log)
{
	if (log == NULL)
		return;
	if (log->fd >= 0)
		close(log->fd);
	pthread_mutex_destroy(&log->reopen_lock);
	free(log->path);
	free(log);
}
