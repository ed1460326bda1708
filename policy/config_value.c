/* config_value.c: parse one value (number, enum, host:port, instant, list) into its typed field. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"
#include "net.h"

_Static_assert(sizeof(enum ag_phase) == sizeof(int), "enum fields are stored as int");
_Static_assert(sizeof(enum ag_sender_login) == sizeof(int), "enum fields are stored as int");

bool config_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

int config_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool config_ieq(const char *a, const char *b)
{
	for (; *a && config_lower((unsigned char)*a) == config_lower((unsigned char)*b); a++, b++)
		;
	return *a == '\0' && *b == '\0';
}

static char *config_strdup_lower(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p != NULL && *p; p++)
		*p = (char)config_lower((unsigned char)*p);
	return d;
}

/* Plain decimal, no sign, no blanks: "1e3", "+5" and " 5" are all wrong in a config. */
static int config_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (!config_is_digit((unsigned char)s[i]) || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int config_parse_port(const char *s, size_t len, uint16_t *out, const char **why)
{
	uint64_t v;

	if (len == 0) {
		*why = "missing port";
		return -1;
	}
	if (config_parse_u64(s, len, &v) < 0 || v < 1 || v > 65535) {
		*why = "port must be a number 1..65535";
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

static bool config_is_dotted(const char *s)
{
	for (; *s; s++)
		if (!config_is_digit((unsigned char)*s) && *s != '.')
			return false;
	return true;
}

/* A host name or an IPv4 address (IPv6 only in brackets, handled by the callers). */
int config_check_host(const char *s, const char **why)
{
	struct ag_ip ip;

	if (config_is_dotted(s))
		return net_parse_ip(s, &ip, why);
	return config_check_hostname(s, why);
}

int config_parse_hostport(const char *s, uint16_t default_port, struct ag_hostport *out,
			  const char **why)
{
	const char *dummy, *host, *port = NULL, *colon;
	char buf[AG_MAX_HOST + 1];
	struct ag_ip ip;
	bool bracket = false;
	size_t hlen;
	uint16_t p = default_port;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || *s == '\0') {
		*why = "empty address";
		return -1;
	}
	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL) {
			*why = "missing ']' after IPv6 address";
			return -1;
		}
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0') {
			*why = "expected ':PORT' after ']'";
			return -1;
		}
		host = s + 1;
		hlen = (size_t)(end - host);
		bracket = true;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			*why = "IPv6 address must be in brackets, as in [2001:db8::1]:25";
			return -1;
		}
		if (colon != NULL)
			port = colon + 1;
		host = s;
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen == 0) {
		*why = "missing host";
		return -1;
	}
	if (hlen > AG_MAX_HOST) {
		*why = "host longer than 255 characters";
		return -1;
	}
	memcpy(buf, host, hlen);
	buf[hlen] = '\0';
	if (bracket) {
		if (net_parse_ip(buf, &ip, why) < 0)
			return -1;
		if (strchr(buf, ':') == NULL) {
			*why = "brackets are only for IPv6 addresses";
			return -1;
		}
	} else if (config_check_host(buf, why) < 0) {
		return -1;
	}
	if (port != NULL) {
		if (config_parse_port(port, strlen(port), &p, why) < 0)
			return -1;
	} else if (default_port == 0) {
		*why = "missing port";
		return -1;
	}
	memcpy(out->host, buf, hlen + 1);
	out->port = p;
	return 0;
}

/* Fixed-width decimal field; stops at the first non-digit, so never reads past a NUL. */
static bool config_digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!config_is_digit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool config_leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/* Proleptic Gregorian day number, 1970-01-01 = 0 (H. Hinnant, "chrono-compatible algorithms"). */
static int64_t config_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void config_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/*
 * RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm). Any offset
 * is accepted and converted to UTC; fractional seconds are dropped (the value
 * is whole seconds, so this is a floor); leap second 60 is refused.
 */
int config_parse_instant(const char *s, int64_t *out, const char **why)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *dummy, *p;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0, dim;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || !config_digits(s, 4, &y) || s[4] != '-' || !config_digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !config_digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !config_digits(s + 11, 2, &h) || s[13] != ':' || !config_digits(s + 14, 2, &mi) ||
	    s[16] != ':' || !config_digits(s + 17, 2, &sec)) {
		*why = "expected an instant like 2027-01-15T00:00:00Z";
		return -1;
	}
	p = s + 19;
	if (*p == '.') {
		if (!config_is_digit((unsigned char)p[1])) {
			*why = "expected digits after the decimal point";
			return -1;
		}
		for (p++; config_is_digit((unsigned char)*p); p++)
			;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (!config_digits(p + 1, 2, &oh) || p[3] != ':' || !config_digits(p + 4, 2, &om)) {
			*why = "expected a zone offset like +01:00";
			return -1;
		}
		p += 6;
	} else {
		*why = "missing time zone (Z or +hh:mm)";
		return -1;
	}
	if (*p != '\0') {
		*why = "unexpected text after the instant";
		return -1;
	}
	if (mo < 1 || mo > 12) {
		*why = "month out of range 01..12";
		return -1;
	}
	dim = mdays[mo - 1] + (mo == 2 && config_leap(y));
	if (d < 1 || d > dim) {
		*why = "day out of range for the month";
		return -1;
	}
	if (h > 23 || mi > 59 || sec > 59) {
		*why = "time out of range 00:00:00..23:59:59 (no leap seconds)";
		return -1;
	}
	if (oh > 23 || om > 59) {
		*why = "zone offset out of range";
		return -1;
	}
	*out = config_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	       sign * (oh * 3600 + om * 60);
	return 0;
}

/* Next comma-separated item with the blanks around it trimmed; *cursor is consumed in place. */
static char *config_next_item(char **cursor)
{
	char *s = *cursor, *comma, *end;

	if (s == NULL)
		return NULL;
	comma = strchr(s, ',');
	*cursor = comma != NULL ? comma + 1 : NULL;
	if (comma != NULL)
		*comma = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static size_t config_count_items(const char *s)
{
	size_t n = *s != '\0';

	for (; *s; s++)
		n += *s == ',';
	return n;
}

/* One list item into its list; the list owns what it holds as soon as n counts it. */
static int config_add_item(struct config_parse *st, const struct config_key *key, char *item,
			   const char **why)
{
	struct ag_config *c = st->cfg;
	void *field = (char *)c + key->off;
	char ***v = NULL;
	size_t *n = NULL;

	switch (key->type) {
	case CONFIG_BACKENDS:
		if (c->nbackends == AG_MAX_BACKENDS) {
			*why = "more than 16 backends";
			return -1;
		}
		if (config_parse_hostport(item, (uint16_t)key->min, &c->backends[c->nbackends],
					  why) < 0)
			return -1;
		c->nbackends++;
		return 0;
	case CONFIG_CIDRS: {
		struct ag_cidr_list *l = field;

		if (net_parse_cidr(item, &l->v[l->n], why) < 0)
			return -1;
		l->n++;
		return 0;
	}
	case CONFIG_DOMAINS:
		if (net_check_domain_pattern(item, why) < 0)
			return -1;
		v = &((struct ag_domain_list *)field)->v;
		n = &((struct ag_domain_list *)field)->n;
		break;
	case CONFIG_PATTERNS:
		if (net_check_address_pattern(item, why) < 0)
			return -1;
		v = &((struct ag_pattern_list *)field)->v;
		n = &((struct ag_pattern_list *)field)->n;
		break;
	default:
		*why = "not a list";
		return -1;
	}
	(*v)[*n] = config_strdup_lower(item);
	if ((*v)[*n] == NULL) {
		config_oom(st);
		return -1;
	}
	(*n)++;
	return 0;
}

static void config_set_list(struct config_parse *st, int k, char *value, int line)
{
	const struct config_key *key = &config_keys[k];
	void *field = (char *)st->cfg + key->off;
	size_t count = config_count_items(value), i = 0;
	char *cursor = value, *item;
	const char *why = "invalid item";
	void *array = NULL;

	if (count == 0)
		return;
	if (key->type == CONFIG_CIDRS)
		array = ((struct ag_cidr_list *)field)->v = calloc(count, sizeof(struct ag_cidr));
	else if (key->type == CONFIG_DOMAINS)
		array = ((struct ag_domain_list *)field)->v = calloc(count, sizeof(char *));
	else if (key->type == CONFIG_PATTERNS)
		array = ((struct ag_pattern_list *)field)->v = calloc(count, sizeof(char *));
	else
		array = field;
	if (array == NULL) {
		config_oom(st);
		return;
	}
	while ((item = config_next_item(&cursor)) != NULL && !st->failed) {
		i++;
		if (*item == '\0')
			config_error(st, line, k, false, "item %zu of the list is empty", i);
		else if (config_add_item(st, key, item, &why) < 0)
			config_error(st, line, k, false, "'%.100s': %s", item, why);
	}
}

void config_set(struct config_parse *st, int k, const char *text, int line)
{
	const struct config_key *key = &config_keys[k];
	char *base = (char *)st->cfg, *value;
	const char *why = "invalid value";
	uint64_t u;
	size_t i, n;

	/* Admins quote values out of habit (help_url = ""): one pair of enclosing quotes goes. */
	n = strlen(text);
	if (n >= 2 && text[0] == '"' && text[n - 1] == '"')
		value = strndup(text + 1, n - 2);
	else
		value = strdup(text);
	if (value == NULL) {
		config_oom(st);
		return;
	}
	if (*value == '\0' && !(key->flags & CONFIG_EMPTY_OK)) {
		config_error(st, line, k, false, "empty value");
		free(value);
		return;
	}
	switch (key->type) {
	case CONFIG_STR:
		if (key->check != NULL && key->check(value, &why) < 0) {
			config_error(st, line, k, false, "'%.100s': %s", value, why);
			break;
		}
		*(char **)(base + key->off) = value;
		return;
	case CONFIG_BOOL:
	case CONFIG_ENUM:
		for (i = 0; key->names[i].name != NULL; i++)
			if (config_ieq(value, key->names[i].name))
				break;
		if (key->names[i].name == NULL) {
			char names[128];

			for (i = 0, n = 0; key->names[i].name != NULL && n < sizeof(names); i++)
				n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
						      i ? ", " : "", key->names[i].name);
			config_error(st, line, k, false, "'%.100s' is not one of: %s", value,
				     names);
		} else if (key->type == CONFIG_BOOL) {
			*(bool *)(base + key->off) = key->names[i].value != 0;
		} else {
			*(int *)(base + key->off) = key->names[i].value;
		}
		break;
	case CONFIG_UINT:
	case CONFIG_SIZE:
		if (config_parse_u64(value, strlen(value), &u) < 0)
			config_error(st, line, k, false, "'%.100s' is not a whole number", value);
		else if (u < key->min || u > key->max)
			config_error(st, line, k, false,
				     "%" PRIu64 " is out of range %" PRIu64 "..%" PRIu64, u,
				     key->min, key->max);
		else if (key->type == CONFIG_UINT)
			*(unsigned *)(base + key->off) = (unsigned)u;
		else
			*(uint64_t *)(base + key->off) = u;
		break;
	case CONFIG_HOSTPORT:
		if (config_parse_hostport(value, (uint16_t)key->min,
					  (struct ag_hostport *)(base + key->off), &why) < 0)
			config_error(st, line, k, false, "'%.100s': %s", value, why);
		else
			*(bool *)(base + key->has_off) = true;
		break;
	case CONFIG_INSTANT:
		if (config_parse_instant(value, (int64_t *)(base + key->off), &why) < 0)
			config_error(st, line, k, false, "'%.100s': %s", value, why);
		else
			*(bool *)(base + key->has_off) = true;
		break;
	default:
		config_set_list(st, k, value, line);
		break;
	}
	free(value);
}
