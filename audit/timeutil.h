/* timeutil.h: UTC instants for the audit reader: parse record stamps and CLI bounds, bucket,
 * format. */
#ifndef AUDIT_TIMEUTIL_H
#define AUDIT_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIME_MS_PER_DAY INT64_C(86400000)
#define TIME_MS_PER_HOUR INT64_C(3600000)

/* Days since 1970-01-01 for a proleptic Gregorian date (no range check). */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);

/*
 * A record stamp as audit_format_time writes it, "2026-11-23T10:00:00.123Z";
 * also without fraction, with up to 9 fraction digits, or with "+hh:mm".
 * Years 1970..9999. Returns 0 and Unix milliseconds, or -1 with *why.
 */
int time_parse_stamp(const char *s, size_t len, int64_t *ms, const char **why);

/*
 * A --since/--until argument: a date "2026-11-23" (UTC midnight; for an
 * upper bound the end of that day) or an instant config_parse_instant accepts.
 */
int time_parse_bound(const char *s, bool upper, int64_t *ms, const char **why);

/* Bucket number (days or hours since the epoch, floor) and its label. */
int64_t time_bucket(int64_t ms, bool hourly);
/* "2026-11-23" or "2026-11-23 10:00"; buf at least 32 bytes. */
void time_format_bucket(int64_t bucket, bool hourly, char *buf, size_t len);
/* "2026-11-23 10:00:00" for people; buf at least 32 bytes. */
void time_format_text(int64_t ms, char *buf, size_t len);
/* "2026-11-23T10:00:00.123Z" for machines (the log's own form). */
void time_format_iso(int64_t ms, char *buf, size_t len);

#endif
