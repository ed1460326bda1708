/* timeutil.c: UTC instants for the audit reader: parse record stamps and CLI bounds, bucket,
 * format. */
#include "timeutil.h"

#include <stdio.h>
#include <string.h>

#include "policy/audit.h"
#include "policy/config.h"

/* H. Hinnant's days_from_civil: exact for every Gregorian date. */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap_year(y) ? 29 : mdays[m - 1];
}

/* n decimal digits at s; -1 if any is not a digit. */
static int64_t digits(const char *s, size_t n)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY-MM-DD" at s (10 bytes): days since the epoch, or -1. */
static int parse_date(const char *s, int64_t *days, const char **why)
{
	int64_t y, m, d;

	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 0 || m < 0 || d < 0 || s[4] != '-' || s[7] != '-') {
		*why = "expected YYYY-MM-DD";
		return -1;
	}
	if (y < 1970 || m < 1 || m > 12 || d < 1 || (unsigned)d > days_in_month(y, (unsigned)m)) {
		*why = "date out of range";
		return -1;
	}
	*days = time_days_from_civil(y, (unsigned)m, (unsigned)d);
	return 0;
}

int time_parse_stamp(const char *s, size_t len, int64_t *ms, const char **why)
{
	int64_t days, hh, mi, ss, frac = 0, off = 0, oh, om;
	size_t i = 19, nfrac = 0;

	if (len < 20) {
		*why = "timestamp too short";
		return -1;
	}
	if (parse_date(s, &days, why) < 0)
		return -1;
	hh = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	ss = digits(s + 17, 2);
	if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || hh < 0 || mi < 0 || ss < 0) {
		*why = "expected YYYY-MM-DDTHH:MM:SS";
		return -1;
	}
	/* 60 is a leap second (RFC 3339 5.6): keep it inside its minute. */
	if (hh > 23 || mi > 59 || ss > 60) {
		*why = "time of day out of range";
		return -1;
	}
	if (ss == 60)
		ss = 59;
	if (s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nfrac++)
			if (nfrac < 3)
				frac = frac * 10 + (s[i] - '0');
		if (nfrac == 0 || nfrac > 9) {
			*why = "bad fraction of a second";
			return -1;
		}
		for (; nfrac < 3; nfrac++)
			frac *= 10;
	}
	if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
		off = 0;
	} else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
		   (oh = digits(s + i + 1, 2)) >= 0 && (om = digits(s + i + 4, 2)) >= 0 &&
		   oh < 24 && om < 60) {
		off = (oh * 60 + om) * 60000;
		if (s[i] == '-')
			off = -off;
	} else {
		*why = "expected Z or +hh:mm after the time";
		return -1;
	}
	*ms = days * TIME_MS_PER_DAY + ((hh * 60 + mi) * 60 + ss) * 1000 + frac - off;
	return 0;
}

int time_parse_bound(const char *s, bool upper, int64_t *ms, const char **why)
{
	int64_t days, secs;

	if (strlen(s) == 10) {
		if (parse_date(s, &days, why) < 0)
			return -1;
		*ms = (days + (upper ? 1 : 0)) * TIME_MS_PER_DAY;
		return 0;
	}
	if (config_parse_instant(s, &secs, why) < 0)
		return -1;
	*ms = secs * 1000;
	return 0;
}

int64_t time_bucket(int64_t ms, bool hourly)
{
	int64_t unit = hourly ? TIME_MS_PER_HOUR : TIME_MS_PER_DAY;
	int64_t b = ms / unit;

	if (ms % unit < 0)
		b--;
	return b;
}

void time_format_bucket(int64_t bucket, bool hourly, char *buf, size_t len)
{
	char iso[32];

	time_format_iso(bucket * (hourly ? TIME_MS_PER_HOUR : TIME_MS_PER_DAY), iso, sizeof(iso));
	if (hourly)
		snprintf(buf, len, "%.10s %.5s", iso, iso + 11);
	else
		snprintf(buf, len, "%.10s", iso);
}

void time_format_text(int64_t ms, char *buf, size_t len)
{
	char iso[32];

	time_format_iso(ms, iso, sizeof(iso));
	snprintf(buf, len, "%.10s %.8s", iso, iso + 11);
}

void time_format_iso(int64_t ms, char *buf, size_t len)
{
	audit_format_time(ms, buf, len);
}
