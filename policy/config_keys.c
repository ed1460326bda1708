/* config_keys.c: the table of keys (defaults, checks, storage) and config_dump, which prints it. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"
#include "net.h"

#define CONFIG_MAX_SOCKET_PATH 107 /* sizeof(sun_path) - 1 */

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
const char *const config_sections[] = { "general", "proxy", "policy", "lists", "milter", NULL };
static const char *const config_facilities[] = {
	"mail", "daemon", "user", "local0", "local1", "local2", "local3",
	"local4", "local5", "local6", "local7", NULL,
};

static int config_check_token(const char *s, const char **why);
static int config_check_path(const char *s, const char **why);
static int config_check_audit_log(const char *s, const char **why);
static int config_check_user(const char *s, const char **why);
static int config_check_pam_service(const char *s, const char **why);
static int config_check_url(const char *s, const char **why);
static int config_check_milter_socket(const char *s, const char **why);
static int config_check_ciphers(const char *s, const char **why);
static int config_check_shared_state(const char *s, const char **why);
static int config_check_path_or_empty(const char *s, const char **why);
static int config_check_prefix(const char *s, const char **why);
static int config_check_resolver(const char *s, const char **why);

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
const struct config_key config_keys[] = {
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
	STR("proxy", "tls_ciphers", tls_ciphers, AG_TLS_CIPHERS, 0, config_check_ciphers,
	    "TLS 1.2 cipher list (OpenSSL syntax); default: ECDHE with AES-GCM or ChaCha20-Poly1305"),
	STR("proxy", "tls_ciphersuites", tls_ciphersuites, AG_TLS_CIPHERSUITES, 0,
	    config_check_ciphers, "TLS 1.3 cipher suites (OpenSSL syntax)"),
	UINT("proxy", "tls_ticket_lifetime", tls_ticket_lifetime, "3600", 5, 86400,
	     "seconds a session-ticket key issues tickets; the previous one is accepted as long"),
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
	LIST("proxy", "proxy_protocol_from", CONFIG_CIDRS, proxy_protocol_from, NULL, 0,
	     "load balancers allowed to send the PROXY header (CIDR); required with proxy_protocol"),
	UINT("proxy", "auth_fail_limit", auth_fail_limit, "5", 1, 1000,
	     "failed AUTHs per client network (IPv4 /32, IPv6 /64) in auth_fail_window"),
	UINT("proxy", "auth_fail_window", auth_fail_window, "600", 1, 86400,
	     "seconds over which failures are counted"),
	UINT("proxy", "auth_user_fail_limit", auth_user_fail_limit, "10", 1, 100000,
	     "failed AUTHs for one user, from anywhere, before unfamiliar networks are locked out"),
	UINT("proxy", "auth_familiar_days", auth_familiar_days, "30", 1, 365,
	     "days a network stays familiar for a user after a successful login there"),
	UINT("proxy", "auth_familiar_size", auth_familiar_size, "100000", 1, 4000000,
	     "(user, network) pairs remembered as familiar, least recently used forgotten"),
	STR("proxy", "shared_state", shared_state, "none", 0, config_check_shared_state,
	    "Redis sharing the auth_fail_*/auth_familiar_* state: none, unix:/PATH or IP:PORT"),
	STR("proxy", "shared_state_password_file", shared_state_password_file, "", CONFIG_EMPTY_OK,
	    config_check_path_or_empty, "root-only file with the Redis AUTH password, read at start"),
	UINT("proxy", "shared_state_timeout", shared_state_timeout, "50", 1, 10000,
	     "milliseconds an AUTH waits for Redis before deciding from the local tables"),
	STR("proxy", "shared_state_prefix", shared_state_prefix, "authgate:", 0, config_check_prefix,
	    "prefix of every Redis key (one per group of proxies sharing a lockout)"),
	UINT("proxy", "auth_cache_ttl", auth_cache_ttl, "0", 0, 86400,
	     "seconds a good login is cached, 0 = off"),
	UINT("proxy", "auth_cache_size", auth_cache_size, "1000", 1, 1000000,
	     "entries in the login cache"),
	UINT("proxy", "max_connections", max_connections, "1000", 1, 1000000,
	     "concurrent client connections"),
	UINT("proxy", "max_connections_per_ip", max_connections_per_ip, "20", 1, 1000000,
	     "concurrent client connections from one address"),
	UINT("proxy", "auth_workers", auth_workers, "4", 1, 256, "concurrent PAM conversations"),
	UINT("proxy", "timeout_tls", timeout_tls, "10", 1, 3600,
	     "seconds for the client to complete the TLS handshake"),
	UINT("proxy", "timeout_command", timeout_command, "300", 1, 86400,
	     "seconds to wait for a client command (RFC 5321 4.5.3.2.7)"),
	UINT("proxy", "timeout_data", timeout_data, "600", 1, 86400,
	     "seconds to wait for message data (RFC 5321 4.5.3.2.6)"),
	UINT("proxy", "timeout_connect", timeout_connect, "10", 1, 3600,
	     "seconds to connect to a backend"),
	UINT("proxy", "timeout_backend", timeout_backend, "300", 1, 86400,
	     "seconds to wait for a backend reply"),
	UINT("proxy", "backend_idle_timeout", backend_idle_timeout, "30", 0, 3600,
	     "seconds a session keeps its backend connection idle for its next MAIL; "
	     "0 = one connection per transaction"),
	UINT("proxy", "backend_reuse_limit", backend_reuse_limit, "100", 1, 100000,
	     "transactions one backend connection carries at most"),
	UINT("proxy", "shutdown_grace", shutdown_grace, "30", 0, 3600,
	     "seconds SIGTERM waits for open transactions"),
	STR("proxy", "resolver", resolver, "system", 0, config_check_resolver,
	    "DNS for backend and client names: system (/etc/resolv.conf) or IP[:PORT]"),
	BOOL("proxy", "client_name_lookup", client_name_lookup, "yes",
	     "the client's name (Received, XCLIENT NAME) by forward-confirmed reverse DNS"),
	UINT("proxy", "timeout_client_name", timeout_client_name, "2", 1, 60,
	     "seconds from connect the name lookup may take; then the name is unknown"),
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
	LIST("milter", "proxy_addresses", CONFIG_CIDRS, proxy_addresses, NULL, CONFIG_EMPTY_OK,
	     "authgate-proxy addresses whose Authentication-Results name the login (no XCLIENT)"),
};

/* clang-format on */

_Static_assert(sizeof(config_keys) / sizeof(config_keys[0]) == CONFIG_NKEYS,
	       "CONFIG_NKEYS in config_priv.h must count config_keys[]");

int config_key_index(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

int config_check_hostname(const char *s, const char **why)
{
	if (s[0] == '*') {
		*why = "wildcard not allowed in a host name";
		return -1;
	}
	return net_check_domain_pattern(s, why);
}

/* Letters, digits and the punctuation in `extra`, at most `max` of them. */
static int config_check_charset(const char *s, const char *extra, size_t max, const char *what,
				const char *too_long, const char **why)
{
	const char *p;

	for (p = s; *p; p++) {
		int c = config_lower((unsigned char)*p);

		if (!((c >= 'a' && c <= 'z') || config_is_digit(c) || strchr(extra, c))) {
			*why = what;
			return -1;
		}
	}
	if ((size_t)(p - s) > max) {
		*why = too_long;
		return -1;
	}
	return 0;
}

/* RFC 8601 authserv-id is a token; we keep to the characters of a host name plus '_'. */
static int config_check_token(const char *s, const char **why)
{
	return config_check_charset(s, ".-_", 255, "only letters, digits, '.', '-' and '_' allowed",
				    "longer than 255 characters", why);
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

static int config_check_path_or_empty(const char *s, const char **why)
{
	return s[0] == '\0' ? 0 : config_check_path(s, why);
}

/* Letters, digits and ".-_:" (Redis keys are binary-safe; logs and redis-cli are not). */
static int config_check_prefix(const char *s, const char **why)
{
	return config_check_charset(s, ".-_:", 64,
				    "only letters, digits, '.', '-', '_' and ':' allowed",
				    "longer than 64 characters", why);
}

/*
 * An IP address, not a name: hiredis resolves names with a blocking
 * getaddrinfo(), and the proxy's event loop must never wait on it.
 */
/* A numeric address with an optional port: no DNS lookup is needed to reach it. */
static int config_check_ip_port(const char *s, uint16_t port, const char *expected,
				const char **why)
{
	struct ag_hostport hp;
	struct ag_ip ip;

	if (config_parse_hostport(s, port, &hp, why) < 0)
		return -1;
	if (net_parse_ip(hp.host, &ip, why) < 0) {
		*why = expected;
		return -1;
	}
	return 0;
}

static int config_check_shared_state(const char *s, const char **why)
{
	if (strcmp(s, "none") == 0)
		return 0;
	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] != '/') {
			*why = "socket path must be absolute";
			return -1;
		}
		if (strlen(s + 5) > CONFIG_MAX_SOCKET_PATH) {
			*why = "socket path longer than 107 characters";
			return -1;
		}
		return 0;
	}
	return config_check_ip_port(
		s, 6379,
		"expected none, unix:/PATH or IP:PORT (an address: no DNS lookup in the event loop)",
		why);
}

/* The name server must be an address: a name would need a resolver to find the resolver. */
static int config_check_resolver(const char *s, const char **why)
{
	if (strcmp(s, "system") == 0)
		return 0;
	return config_check_ip_port(s, 53, "expected system or IP[:PORT] (a name server's address)",
				    why);
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
	if (s[0] == '.') {
		*why = "not a valid PAM service name";
		return -1;
	}
	return config_check_charset(s, "_-.", 64, "not a valid PAM service name",
				    "PAM service name longer than 64 characters", why);
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

/*
 * OpenSSL's cipher string syntax: names, ':' or ',' separators and the
 * operators "!+-@=". OpenSSL itself judges the names when the proxy builds
 * its TLS context (startup, SIGHUP); policy/ only keeps out what cannot be one.
 */
static int config_check_ciphers(const char *s, const char **why)
{
	return config_check_charset(s, ":,!+-@=_.", 1024,
				    "not an OpenSSL cipher list (letters, digits, and :,!+-@=_. only)",
				    "longer than 1024 characters", why);
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

void config_free(struct ag_config *c)
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
	free(c->key_lines);
	free(c);
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
