/* config.c: load authgate.conf with inih into one validated, immutable, refcounted snapshot. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

#define CONFIG_MAX_VALUE 65536	   /* one value with all its continuation lines */
#define CONFIG_MAX_SOCKET_PATH 107 /* sizeof(sun_path) - 1 */

enum config_type {
	CONFIG_STR,	 /* char *, checked by key->check */
	CONFIG_BOOL,	 /* bool */
	CONFIG_UINT,	 /* unsigned, key->min..key->max */
	CONFIG_SIZE,	 /* uint64_t, key->min..key->max */
	CONFIG_ENUM,	 /* int-sized, names from key->names */
	CONFIG_HOSTPORT, /* struct ag_hostport + bool has_X; key->min is the default port */
	CONFIG_BACKENDS, /* backends[] + nbackends; key->min is the default port */
	CONFIG_DOMAINS,	 /* struct ag_domain_list */
	CONFIG_CIDRS,	 /* struct ag_cidr_list */
	CONFIG_PATTERNS, /* struct ag_pattern_list */
	CONFIG_INSTANT,	 /* int64_t + bool has_X */
};

#define CONFIG_REQUIRED 0x1	 /* no default: loading fails without it */
#define CONFIG_EMPTY_OK 0x2	 /* "key =" is allowed (empty string or empty list) */
#define CONFIG_FROM_HOSTNAME 0x4 /* default is the value of general.hostname */

struct config_name {
	const char *name;
	int value;
};

struct config_key {
	const char *section;
	const char *name;
	const char *deflt; /* text parsed like a value from the file; NULL: unset */
	/* cppcheck-suppress unusedStructMember */
	const char *doc; /* for people: doc/config-reference.md follows it */
	enum config_type type;
	unsigned flags;
	size_t off;	/* the field in struct ag_config */
	size_t has_off; /* its "has_" flag (HOSTPORT, INSTANT) */
	uint64_t min, max;
	const struct config_name *names;
	int (*check)(const char *s, const char **why);
};

struct config_parse {
	struct ag_config *cfg;
	struct ag_config_error *err;
	const char *name; /* file name in messages */
	FILE *fp;	  /* config_load ... */
	const char *text; /* ... or config_load_string */
	int lineno;
	bool failed;
	int err_line;
	bool have_prev; /* mirrors inih's prev_name: an indented line continues a value */
	bool line_cont; /* the line just read is such a continuation */
	int pend_key;	/* key whose value is being collected, -1 none */
	int pend_line;
	char *pend;
	size_t pend_len, pend_cap;
	int *seen; /* per key: line where it was set, 0 = not set */
};

_Static_assert(sizeof(enum ag_phase) == sizeof(int), "enum fields are stored as int");
_Static_assert(sizeof(enum ag_sender_login) == sizeof(int), "enum fields are stored as int");

/* Tables read better aligned by hand. */
/* clang-format off */
static const struct config_name config_bools[] = {
	{ "yes", 1 }, { "no", 0 }, { "true", 1 }, { "false", 0 },
	{ "on", 1 },  { "off", 0 }, { "1", 1 },   { "0", 0 }, { NULL, 0 },
};
static const struct config_name config_tls_versions[] = {
	{ "TLSv1.2", 0x0303 }, { "TLSv1.3", 0x0304 }, { NULL, 0 },
};
static const struct config_name config_phases[] = {
	{ "voluntary", AG_PHASE_VOLUNTARY }, { "mandatory", AG_PHASE_MANDATORY }, { NULL, 0 },
};
static const struct config_name config_sender_logins[] = {
	{ "strict", AG_SENDER_LOGIN_STRICT }, { "warn", AG_SENDER_LOGIN_WARN },
	{ "off", AG_SENDER_LOGIN_OFF }, { NULL, 0 },
};
static const char *const config_sections[] = { "general", "proxy", "policy", "lists", "milter", NULL };
static const char *const config_facilities[] = {
	"mail", "daemon", "user", "local0", "local1", "local2", "local3",
	"local4", "local5", "local6", "local7", NULL,
};

static int config_check_hostname(const char *s, const char **why);
static int config_check_token(const char *s, const char **why);
static int config_check_path(const char *s, const char **why);
static int config_check_audit_log(const char *s, const char **why);
static int config_check_user(const char *s, const char **why);
static int config_check_pam_service(const char *s, const char **why);
static int config_check_url(const char *s, const char **why);
static int config_check_milter_socket(const char *s, const char **why);

#define F(field) offsetof(struct ag_config, field)
#define STR(sec, key, field, def, fl, chk, doc) \
	{ sec, key, def, doc, CONFIG_STR, fl, F(field), 0, 0, 0, NULL, chk }
#define BOOL(sec, key, field, def, doc) \
	{ sec, key, def, doc, CONFIG_BOOL, 0, F(field), 0, 0, 1, config_bools, NULL }
#define UINT(sec, key, field, def, lo, hi, doc) \
	{ sec, key, def, doc, CONFIG_UINT, 0, F(field), 0, lo, hi, NULL, NULL }
#define ENUM(sec, key, field, def, names, doc) \
	{ sec, key, def, doc, CONFIG_ENUM, 0, F(field), 0, 0, 0, names, NULL }
#define HOSTPORT(sec, key, field, port, doc) \
	{ sec, key, NULL, doc, CONFIG_HOSTPORT, 0, F(field), F(has_##field), port, 0, NULL, NULL }
#define LIST(sec, key, type, field, def, fl, doc) \
	{ sec, key, def, doc, type, fl, F(field), 0, 0, 0, NULL, NULL }

/*
 * Every key, its default and its meaning: the loader, config_dump and
 * doc/config-reference.md all follow this one table, in this order.
 */
static const struct config_key config_keys[] = {
	STR("general", "hostname", hostname, NULL, CONFIG_REQUIRED, config_check_hostname,
	    "name in the banner and the Received: header"),
	STR("general", "authserv_id", authserv_id, NULL, CONFIG_FROM_HOSTNAME, config_check_token,
	    "authserv-id of Authentication-Results (RFC 8601); default: hostname"),
	STR("general", "audit_log", audit_log, "/var/log/authgate/audit.jsonl", 0,
	    config_check_audit_log, "audit log: an absolute path or syslog:FACILITY"),
	STR("general", "user", user, "authgate", 0, config_check_user,
	    "unprivileged user after binding ports"),
	HOSTPORT("proxy", "listen_smtps", listen_smtps, 465, "implicit-TLS listener (RFC 8314)"),
	HOSTPORT("proxy", "listen_submission", listen_submission, 587, "STARTTLS listener"),
	STR("proxy", "tls_cert", tls_cert, NULL, 0, config_check_path, "certificate chain (PEM)"),
	STR("proxy", "tls_key", tls_key, NULL, 0, config_check_path, "private key (PEM)"),
	ENUM("proxy", "tls_min_version", tls_min_version, "TLSv1.2", config_tls_versions,
	     "lowest TLS version offered: TLSv1.2 or TLSv1.3"),
	{ "proxy", "backends", NULL, "backend MTAs host:port, in failover order (default port 25)",
	  CONFIG_BACKENDS, 0, F(backends), 0, 25, 0, NULL, NULL },
	BOOL("proxy", "backend_xclient", backend_xclient, "yes",
	     "send XCLIENT LOGIN/ADDR/NAME to the backend"),
	STR("proxy", "pam_service", pam_service, "authgate", 0, config_check_pam_service,
	    "PAM service name (/etc/pam.d/NAME)"),
	LIST("proxy", "login_domains", CONFIG_DOMAINS, login_domains, NULL, CONFIG_EMPTY_OK,
	     "user@DOMAIN logs in as PAM user \"user\""),
	{ "proxy", "max_message_size", "52428800", "largest message in bytes (SIZE)",
	  CONFIG_SIZE, 0, F(max_message_size), 0, 1024, UINT64_C(1) << 40, NULL, NULL },
	BOOL("proxy", "proxy_protocol", proxy_protocol, "no",
	     "expect a HAProxy PROXY v1/v2 header"),
	UINT("proxy", "auth_fail_limit", auth_fail_limit, "5", 1, 1000,
	     "failed AUTHs per IP and per user in auth_fail_window"),
	UINT("proxy", "auth_fail_window", auth_fail_window, "600", 1, 86400,
	     "seconds over which failures are counted"),
	UINT("proxy", "auth_cache_ttl", auth_cache_ttl, "0", 0, 86400,
	     "seconds a good login is cached, 0 = off"),
	UINT("proxy", "auth_cache_size", auth_cache_size, "1000", 1, 1000000,
	     "entries in the login cache"),
	UINT("proxy", "max_connections", max_connections, "1000", 1, 1000000,
	     "concurrent client connections"),
	UINT("proxy", "max_connections_per_ip", max_connections_per_ip, "20", 1, 1000000,
	     "concurrent client connections from one address"),
	UINT("proxy", "auth_workers", auth_workers, "4", 1, 256, "concurrent PAM conversations"),
	UINT("proxy", "timeout_command", timeout_command, "300", 1, 86400,
	     "seconds to wait for a client command (RFC 5321 4.5.3.2.7)"),
	UINT("proxy", "timeout_data", timeout_data, "600", 1, 86400,
	     "seconds to wait for message data (RFC 5321 4.5.3.2.6)"),
	UINT("proxy", "timeout_connect", timeout_connect, "10", 1, 3600,
	     "seconds to connect to a backend"),
	UINT("proxy", "timeout_backend", timeout_backend, "300", 1, 86400,
	     "seconds to wait for a backend reply"),
	UINT("proxy", "shutdown_grace", shutdown_grace, "30", 0, 3600,
	     "seconds SIGTERM waits for open transactions"),
	ENUM("policy", "phase", phase, "voluntary", config_phases,
	     "voluntary, or mandatory: the milter refuses unauthenticated relaying"),
	{ "policy", "mandatory_from", NULL, "instant the phase becomes mandatory (ISO 8601)",
	  CONFIG_INSTANT, 0, F(mandatory_from), F(has_mandatory_from), 0, 0, NULL, NULL },
	LIST("policy", "local_domains", CONFIG_DOMAINS, local_domains, NULL, CONFIG_REQUIRED,
	     "our domains: example.ac.uk, *.example.ac.uk"),
	LIST("policy", "trusted_networks", CONFIG_CIDRS, trusted_networks, "127.0.0.0/8, ::1/128",
	     CONFIG_EMPTY_OK, "clients exempt from the policy (CIDR)"),
	ENUM("policy", "sender_login", sender_login, "strict", config_sender_logins,
	     "MAIL FROM must belong to the login: strict, warn or off"),
	STR("policy", "help_url", help_url, "", CONFIG_EMPTY_OK, config_check_url,
	    "URL appended to rejections"),
	HOSTPORT("lists", "hub", hub, 25, "Exchange hub transport for protected lists"),
	LIST("lists", "protected", CONFIG_PATTERNS, protected_lists, NULL, CONFIG_EMPTY_OK,
	     "list addresses accepting only authenticated mail (* in the local part)"),
	STR("milter", "socket", milter_socket, "inet:8891@127.0.0.1", 0, config_check_milter_socket,
	    "milter socket: inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH, local:/PATH"),
};

/* clang-format on */

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static int config_key_index(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* First error wins (force: inih's syntax error on an earlier line replaces a later one). */
static void config_error(struct config_parse *st, int line, int key, bool force, const char *fmt,
			 ...) __attribute__((format(printf, 5, 6)));
static void config_error(struct config_parse *st, int line, int key, bool force, const char *fmt,
			 ...)
{
	char *buf = st->err->msg;
	size_t len = sizeof(st->err->msg);
	int n;
	va_list ap;

	if (st->failed && !force)
		return;
	st->failed = true;
	st->err_line = line;
	if (line > 0)
		n = snprintf(buf, len, "%s:%d: ", st->name, line);
	else
		n = snprintf(buf, len, "%s: ", st->name);
	if (n < 0 || (size_t)n >= len)
		return;
	if (key >= 0) {
		int m = snprintf(buf + n, len - (size_t)n, "[%s] %s: ", config_keys[key].section,
				 config_keys[key].name);

		if (m < 0 || (size_t)m >= len - (size_t)n)
			return;
		n += m;
	}
	va_start(ap, fmt);
	vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
}

static void config_oom(struct config_parse *st)
{
	config_error(st, 0, -1, false, "out of memory");
}

static bool config_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int config_lower(int c)
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

static int config_parse_port(const char *s, size_t len, uint16_t *out, const char **why)
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
static int config_check_host(const char *s, const char **why)
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

static void config_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
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

static int config_check_hostname(const char *s, const char **why)
{
	if (s[0] == '*') {
		*why = "wildcard not allowed in a host name";
		return -1;
	}
	return net_check_domain_pattern(s, why);
}

/* RFC 8601 authserv-id is a token; we keep to the characters of a host name plus '_'. */
static int config_check_token(const char *s, const char **why)
{
	const char *p;

	for (p = s; *p; p++) {
		int c = config_lower((unsigned char)*p);

		if (!((c >= 'a' && c <= 'z') || config_is_digit(c) || strchr(".-_", c))) {
			*why = "only letters, digits, '.', '-' and '_' allowed";
			return -1;
		}
	}
	if (p - s > 255) {
		*why = "longer than 255 characters";
		return -1;
	}
	return 0;
}

/* Absolute, because the daemons chdir("/") after start-up. */
static int config_check_path(const char *s, const char **why)
{
	if (s[0] != '/') {
		*why = "must be an absolute path";
		return -1;
	}
	if (strlen(s) > 4095) {
		*why = "path too long";
		return -1;
	}
	return 0;
}

static int config_check_audit_log(const char *s, const char **why)
{
	size_t i;

	if (strncmp(s, "syslog:", 7) != 0)
		return config_check_path(s, why);
	for (i = 0; config_facilities[i] != NULL; i++)
		if (strcmp(s + 7, config_facilities[i]) == 0)
			return 0;
	*why = "syslog facility must be mail, daemon, user or local0..local7";
	return -1;
}

/* The portable user name set (POSIX 3.437), lower case as useradd wants it. */
static int config_check_user(const char *s, const char **why)
{
	const char *p;

	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '_' ||
		      (p > s && (config_is_digit((unsigned char)*p) || *p == '-')))) {
			*why = "not a valid user name";
			return -1;
		}
	if (p - s > 32) {
		*why = "user name longer than 32 characters";
		return -1;
	}
	return 0;
}

/* A file name under /etc/pam.d, so no '/' and no leading dot. */
static int config_check_pam_service(const char *s, const char **why)
{
	const char *p;

	for (p = s; *p; p++) {
		int c = config_lower((unsigned char)*p);
		if (!((c >= 'a' && c <= 'z') || config_is_digit(c) || c == '_' || c == '-' ||
		      (c == '.' && p > s))) {
			*why = "not a valid PAM service name";
			return -1;
		}
	}
	if (p - s > 64) {
		*why = "PAM service name longer than 64 characters";
		return -1;
	}
	return 0;
}

/* It ends up in SMTP reply text: printable ASCII, and short enough for a 512-octet reply line. */
static int config_check_url(const char *s, const char **why)
{
	const char *p;

	if (*s == '\0')
		return 0;
	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) {
		*why = "must start with https:// or http://";
		return -1;
	}
	for (p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			*why = "only printable ASCII without spaces allowed";
			return -1;
		}
	if (p - s > 200) {
		*why = "longer than 200 characters";
		return -1;
	}
	return 0;
}

/* libmilter's smfi_setconn syntax. */
static int config_check_milter_socket(const char *s, const char **why)
{
	const char *rest, *at;
	char host[AG_MAX_HOST + 1];
	struct ag_ip ip;
	uint16_t port;
	size_t hlen;
	bool six;

	if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0) {
		rest = strchr(s, ':') + 1;
		if (rest[0] != '/') {
			*why = "socket path must be absolute";
			return -1;
		}
		if (strlen(rest) > CONFIG_MAX_SOCKET_PATH) {
			*why = "socket path longer than 107 characters";
			return -1;
		}
		return 0;
	}
	six = strncmp(s, "inet6:", 6) == 0;
	if (!six && strncmp(s, "inet:", 5) != 0) {
		*why = "expected inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH or local:/PATH";
		return -1;
	}
	rest = s + (six ? 6 : 5);
	at = strchr(rest, '@');
	if (config_parse_port(rest, at ? (size_t)(at - rest) : strlen(rest), &port, why) < 0)
		return -1;
	if (at == NULL)
		return 0; /* libmilter: any address */
	at++;
	hlen = strlen(at);
	if (six && hlen >= 2 && at[0] == '[' && at[hlen - 1] == ']') {
		at++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen > AG_MAX_HOST) {
		*why = "missing or overlong host after '@'";
		return -1;
	}
	memcpy(host, at, hlen);
	host[hlen] = '\0';
	if (strchr(host, ':') != NULL) {
		if (!six) {
			*why = "an IPv6 address needs inet6:PORT@ADDRESS";
			return -1;
		}
		return net_parse_ip(host, &ip, why);
	}
	return config_check_host(host, why);
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

static void config_set(struct config_parse *st, int k, const char *text, int line)
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

static void config_pend_append(struct config_parse *st, const char *s, bool space)
{
	size_t len = strlen(s), need = st->pend_len + space + len + 1;

	if (need > CONFIG_MAX_VALUE) {
		config_error(st, st->lineno, st->pend_key, false, "value longer than %d characters",
			     CONFIG_MAX_VALUE - 1);
		return;
	}
	if (need > st->pend_cap) {
		size_t cap;
		char *p;

		for (cap = st->pend_cap ? st->pend_cap : 256; cap < need; cap *= 2)
			;
		p = realloc(st->pend, cap);
		if (p == NULL) {
			config_oom(st);
			return;
		}
		st->pend = p;
		st->pend_cap = cap;
	}
	if (space)
		st->pend[st->pend_len++] = ' ';
	memcpy(st->pend + st->pend_len, s, len + 1);
	st->pend_len += len;
}

/* A value is complete when the next key, section or the end of file comes. */
static void config_finish_pending(struct config_parse *st)
{
	int k = st->pend_key;

	st->pend_key = -1;
	if (k >= 0 && !st->failed)
		config_set(st, k, st->pend, st->pend_line);
}

/* Always returns 1: errors are reported by us with key and line; inih reports only syntax. */
static int config_handle(void *user, const char *section, const char *name, const char *value)
{
	struct config_parse *st = user;
	int k;

	if (st->failed)
		return 1;
	if (value == NULL)
		value = "";
	if (st->line_cont) {
		/* Python-configparser continuation, which Debian's inih has switched on. */
		if (st->pend_key >= 0)
			config_pend_append(st, value, st->pend_len > 0);
		return 1;
	}
	config_finish_pending(st);
	if (st->failed)
		return 1;
	if (*section == '\0') {
		config_error(st, st->lineno, -1, false, "%s: key outside any [section]", name);
		return 1;
	}
	if (*name == '\0') {
		config_error(st, st->lineno, -1, false, "[%s]: missing key name before '='",
			     section);
		return 1;
	}
	k = config_key_index(section, name);
	if (k < 0) {
		config_error(st, st->lineno, -1, false, "[%s] %s: unknown key", section, name);
		return 1;
	}
	if (st->seen[k] != 0) {
		config_error(st, st->lineno, k, false, "duplicate key (first set on line %d)",
			     st->seen[k]);
		return 1;
	}
	st->seen[k] = st->lineno;
	st->pend_key = k;
	st->pend_line = st->lineno;
	st->pend_len = 0;
	config_pend_append(st, value, false);
	return 1;
}

static int config_getc(struct config_parse *st)
{
	if (st->fp != NULL)
		return getc(st->fp);
	if (*st->text == '\0')
		return EOF;
	return (unsigned char)*st->text++;
}

/* inih does not check section names and has no hook for a section without keys. */
static void config_read_section(struct config_parse *st, const char *p)
{
	const char *end = strchr(p, ']'), *after;
	size_t i, len;

	if (end == NULL) {
		config_error(st, st->lineno, -1, false, "syntax error: missing ']'");
		return;
	}
	for (after = end + 1; *after == ' ' || *after == '\t'; after++)
		;
	if (*after != '\0' && *after != ';' && *after != '#') {
		config_error(st, st->lineno, -1, false, "syntax error: text after ']'");
		return;
	}
	len = (size_t)(end - p - 1);
	for (i = 0; config_sections[i] != NULL; i++)
		if (strlen(config_sections[i]) == len &&
		    strncmp(config_sections[i], p + 1, len) == 0)
			return;
	config_error(st, st->lineno, -1, false,
		     "[%.*s]: unknown section (expected general, proxy, policy, lists or milter)",
		     (int)(len > 64 ? 64 : len), p + 1);
}

/*
 * fgets() for inih, one call per line, so st->lineno is the line the handler
 * is called for. Lines inih would cut into pieces, NUL bytes and control
 * characters are errors here rather than silently mangled values.
 */
static char *config_read_line(char *buf, int num, void *stream)
{
	struct config_parse *st = stream;
	size_t n = 0, max, i;
	bool nul = false, overlong = false;
	char *p, *start;
	int c;

	if (st->failed || num < 2)
		return NULL;
	max = (size_t)num - 1;
	c = config_getc(st);
	if (c != EOF)
		st->lineno++;
	for (; c != EOF && c != '\n'; c = config_getc(st)) {
		if (c == '\0')
			nul = true;
		else if (n < max)
			buf[n++] = (char)c;
		else
			overlong = true;
	}
	if (st->fp != NULL && ferror(st->fp)) {
		config_error(st, st->lineno, -1, false, "read error: %s", strerror(errno));
		return NULL;
	}
	if (c == EOF && n == 0 && !nul && !overlong)
		return NULL;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (nul || overlong) {
		if (nul)
			config_error(st, st->lineno, -1, false, "NUL byte in line");
		else
			config_error(
			    st, st->lineno, -1, false,
			    "line longer than %zu characters (continue a value on indented lines)",
			    max);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (((unsigned char)buf[i] < ' ' && buf[i] != '\t') || buf[i] == 0x7f) {
			config_error(st, st->lineno, -1, false, "control character in line");
			return NULL;
		}
	start = buf;
	if (st->lineno == 1 && strncmp(buf, "\xef\xbb\xbf", 3) == 0)
		start += 3;
	for (p = start; *p == ' ' || *p == '\t'; p++)
		;
	st->line_cont = false;
	if (*p == '\0' || *p == ';' || *p == '#')
		return buf;
	if (p > start && st->have_prev) {
		if (*p == '[') {
			config_error(
			    st, st->lineno, -1, false,
			    "indented section header (an indented line continues a value)");
			return NULL;
		}
		st->line_cont = true;
		return buf;
	}
	if (*p == '[') {
		config_finish_pending(st);
		st->have_prev = false;
		config_read_section(st, p);
		return st->failed ? NULL : buf;
	}
	/* inih keeps its prev_name across a line it cannot parse. */
	if (strpbrk(p, "=:") != NULL)
		st->have_prev = true;
	return buf;
}

static void config_apply_defaults(struct config_parse *st)
{
	char *base = (char *)st->cfg;
	size_t i;

	for (i = 0; i < CONFIG_NKEYS && !st->failed; i++) {
		const struct config_key *key = &config_keys[i];

		if (st->seen[i] != 0)
			continue;
		if (key->flags & CONFIG_REQUIRED)
			config_error(st, 0, (int)i, false, "missing required key");
		else if (key->deflt != NULL)
			config_set(st, (int)i, key->deflt, 0);
	}
	for (i = 0; i < CONFIG_NKEYS && !st->failed; i++) {
		if (st->seen[i] != 0 || !(config_keys[i].flags & CONFIG_FROM_HOSTNAME))
			continue;
		*(char **)(base + config_keys[i].off) = strdup(st->cfg->hostname);
		if (*(char **)(base + config_keys[i].off) == NULL)
			config_oom(st);
	}
}

/* Keys that only make sense together; missing ones have no line to point at. */
static void config_check_together(struct config_parse *st)
{
	const struct ag_config *c = st->cfg;
	const char *listener = c->has_listen_smtps ? "listen_smtps" : "listen_submission";

	if (c->has_listen_smtps || c->has_listen_submission) {
		if (c->tls_cert == NULL)
			config_error(st, 0, config_key_index("proxy", "tls_cert"), false,
				     "missing required key (%s is set)", listener);
		if (c->tls_key == NULL)
			config_error(st, 0, config_key_index("proxy", "tls_key"), false,
				     "missing required key (%s is set)", listener);
		if (c->nbackends == 0)
			config_error(st, 0, config_key_index("proxy", "backends"), false,
				     "missing required key (%s is set)", listener);
	}
	if (c->has_listen_smtps && c->has_listen_submission &&
	    c->listen_smtps.port == c->listen_submission.port &&
	    strcmp(c->listen_smtps.host, c->listen_submission.host) == 0) {
		int k = config_key_index("proxy", "listen_submission");
		config_error(st, st->seen[k], k, false, "same address as listen_smtps");
	}
	if (c->protected_lists.n > 0 && !c->has_hub)
		config_error(st, 0, config_key_index("lists", "hub"), false,
			     "missing required key (protected is set)");
}

static void config_free(struct ag_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < CONFIG_NKEYS; i++) {
		void *field = (char *)c + config_keys[i].off;

		switch (config_keys[i].type) {
		case CONFIG_STR:
			free(*(char **)field);
			break;
		case CONFIG_DOMAINS:
			net_domain_list_free(field);
			break;
		case CONFIG_CIDRS:
			net_cidr_list_free(field);
			break;
		case CONFIG_PATTERNS:
			net_pattern_list_free(field);
			break;
		default:
			break;
		}
	}
	free(c->path);
	free(c);
}

static struct ag_config *config_load_stream(struct config_parse *st)
{
	int seen[CONFIG_NKEYS] = {0};
	int ret;

	st->seen = seen;
	st->pend_key = -1;
	st->cfg = calloc(1, sizeof(*st->cfg));
	if (st->cfg == NULL || (st->cfg->path = strdup(st->name)) == NULL) {
		free(st->cfg);
		config_oom(st);
		return NULL;
	}
	st->cfg->refcnt = 1;
	ret = ini_parse_stream(config_read_line, st, config_handle, st);
	config_finish_pending(st);
	/* inih counts lines like we do: one reader call each; the earlier error wins. */
	if (ret > 0 && (!st->failed || ret < st->err_line))
		config_error(st, ret, -1, true,
			     "syntax error: expected \"key = value\" or \"[section]\"");
	else if (ret < 0)
		config_oom(st);
	if (!st->failed)
		config_apply_defaults(st);
	if (!st->failed)
		config_check_together(st);
	free(st->pend);
	st->pend = NULL;
	if (st->failed) {
		config_free(st->cfg);
		return NULL;
	}
	return st->cfg;
}

struct ag_config *config_load(const char *path, struct ag_config_error *err)
{
	struct ag_config_error dummy = {""};
	struct config_parse st;
	struct ag_config *c;

	memset(&st, 0, sizeof(st));
	st.err = err != NULL ? err : &dummy;
	st.err->msg[0] = '\0';
	st.name = path != NULL ? path : "(null)";
	if (path == NULL) {
		config_error(&st, 0, -1, false, "no configuration file given");
		return NULL;
	}
	st.fp = fopen(path, "re");
	if (st.fp == NULL) {
		config_error(&st, 0, -1, false, "cannot open: %s", strerror(errno));
		return NULL;
	}
	c = config_load_stream(&st);
	fclose(st.fp);
	return c;
}

struct ag_config *config_load_string(const char *text, const char *name,
				     struct ag_config_error *err)
{
	struct ag_config_error dummy = {""};
	struct config_parse st;

	memset(&st, 0, sizeof(st));
	st.err = err != NULL ? err : &dummy;
	st.err->msg[0] = '\0';
	st.name = name != NULL ? name : "(string)";
	if (text == NULL) {
		config_error(&st, 0, -1, false, "no configuration text given");
		return NULL;
	}
	st.text = text;
	return config_load_stream(&st);
}

struct ag_config *config_ref(struct ag_config *c)
{
	if (c != NULL)
		__atomic_add_fetch(&c->refcnt, 1, __ATOMIC_RELAXED);
	return c;
}

void config_unref(struct ag_config *c)
{
	/* Release/acquire: the thread that frees sees every other thread's last use. */
	if (c != NULL && __atomic_sub_fetch(&c->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
		config_free(c);
}

static void config_dump_hostport(const struct ag_hostport *hp, FILE *out)
{
	fprintf(out, strchr(hp->host, ':') != NULL ? "[%s]:%u" : "%s:%u", hp->host,
		(unsigned)hp->port);
}

static void config_dump_value(const struct ag_config *c, const struct config_key *key, FILE *out)
{
	const char *field = (const char *)c + key->off;
	char ipbuf[AG_IP_STRLEN];
	struct ag_ip ip;
	int64_t t, days, y;
	size_t i;
	int m, d;

	switch (key->type) {
	case CONFIG_STR:
		if (*(char *const *)field != NULL && **(char *const *)field != '\0')
			fprintf(out, " %s", *(char *const *)field);
		break;
	case CONFIG_BOOL:
		fputs(*(const bool *)field ? " yes" : " no", out);
		break;
	case CONFIG_UINT:
		fprintf(out, " %u", *(const unsigned *)field);
		break;
	case CONFIG_SIZE:
		fprintf(out, " %" PRIu64, *(const uint64_t *)field);
		break;
	case CONFIG_ENUM:
		for (i = 0; key->names[i].name != NULL; i++)
			if (key->names[i].value == *(const int *)field)
				fprintf(out, " %s", key->names[i].name);
		break;
	case CONFIG_HOSTPORT:
		if (!*(const bool *)((const char *)c + key->has_off))
			break;
		fputc(' ', out);
		config_dump_hostport((const struct ag_hostport *)field, out);
		break;
	case CONFIG_BACKENDS:
		for (i = 0; i < c->nbackends; i++) {
			fputs(i ? ", " : " ", out);
			config_dump_hostport(&c->backends[i], out);
		}
		break;
	case CONFIG_DOMAINS:
	case CONFIG_PATTERNS:
		/* Both list types are { char **v; size_t n; }. */
		for (i = 0; i < ((const struct ag_domain_list *)field)->n; i++)
			fprintf(out, "%s%s", i ? ", " : " ",
				((const struct ag_domain_list *)field)->v[i]);
		break;
	case CONFIG_CIDRS:
		for (i = 0; i < ((const struct ag_cidr_list *)field)->n; i++) {
			const struct ag_cidr *cidr = &((const struct ag_cidr_list *)field)->v[i];
			unsigned prefix = cidr->prefix;

			memcpy(ip.addr, cidr->addr, sizeof(ip.addr));
			if (net_format_ip(&ip, ipbuf, sizeof(ipbuf)) < 0)
				continue;
			if (net_ip_is_v4(&ip) && prefix >= 96)
				prefix -= 96;
			fprintf(out, "%s%s/%u", i ? ", " : " ", ipbuf, prefix);
		}
		break;
	case CONFIG_INSTANT:
		if (!*(const bool *)((const char *)c + key->has_off))
			break;
		t = *(const int64_t *)field;
		days = t / 86400 - (t % 86400 < 0);
		t -= days * 86400;
		config_civil_from_days(days, &y, &m, &d);
		fprintf(out, " %04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(t / 3600),
			(int)(t / 60 % 60), (int)(t % 60));
		break;
	}
}

void config_dump(const struct ag_config *c, FILE *out)
{
	size_t i;

	if (c == NULL || out == NULL)
		return;
	for (i = 0; i < CONFIG_NKEYS; i++) {
		fprintf(out, "%s.%s =", config_keys[i].section, config_keys[i].name);
		config_dump_value(c, &config_keys[i], out);
		fputc('\n', out);
	}
}
