/* test_policy_config.c: authgate.conf loading, defaults, every kind of error, dump, refcount. */
#include <stdint.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Not "config.h": in tests/ that would find autoconf's header in the build directory. */
#include "io/configfile.h"
#include "tap.h"

#define MINIMAL "[general]\nhostname = h.example\n[policy]\nlocal_domains = example.org\n"

static const char *top_srcdir(void)
{
	const char *t = getenv("top_srcdir");

	return t != NULL && *t != '\0' ? t : ".";
}

static const char *data_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/tests/data/%s", top_srcdir(), name);
	return buf;
}

/* MINIMAL plus extra lines, loaded as "t.conf". */
static struct ag_config *load_extra(const char *extra, struct ag_config_error *err)
{
	char text[8192];

	snprintf(text, sizeof(text), "%s%s", MINIMAL, extra);
	return config_load_string(text, "t.conf", err);
}

/* The message must start with want (file:line: [section] key:) and contain detail. */
static void is_error(const struct ag_config *c, const struct ag_config_error *err, const char *want,
		     const char *detail, const char *what)
{
	int good = c == NULL && strncmp(err->msg, want, strlen(want)) == 0 &&
		   (detail == NULL || strstr(err->msg, detail) != NULL);

	if (!ok(good, what))
		printf("#   got \"%s\"\n#   want \"%s...%s\"\n", c ? "(loaded)" : err->msg, want,
		       detail ? detail : "");
}

static void test_good(void)
{
	struct ag_config_error err;
	struct ag_config *c;
	char path[4096];

	c = config_load(data_path("good.conf", path, sizeof(path)), &err);
	if (!ok(c != NULL, "good.conf (the INTERFACE.md sample) loads")) {
		printf("#   %s\n", err.msg);
		return;
	}
	is_str(c->path, path, "path kept for messages");
	is_str(c->hostname, "smtp.example.ac.uk", "general.hostname");
	is_str(c->authserv_id, "smtp.example.ac.uk", "general.authserv_id");
	is_str(c->audit_log, "/var/log/authgate/audit.jsonl",
	       "general.audit_log, inline comment cut");
	is_str(c->user, "authgate", "general.user");
	ok(c->has_listen_smtps && strcmp(c->listen_smtps.host, "0.0.0.0") == 0 &&
	       c->listen_smtps.port == 465,
	   "proxy.listen_smtps 0.0.0.0:465");
	ok(c->has_listen_submission && c->listen_submission.port == 587,
	   "proxy.listen_submission port 587");
	is_str(c->tls_cert, "/etc/authgate/cert.pem", "proxy.tls_cert (not checked for existence)");
	is_str(c->tls_key, "/etc/authgate/key.pem", "proxy.tls_key");
	is_int(c->tls_min_version, 0x0303, "proxy.tls_min_version TLSv1.2 = 0x0303");
	is_int(c->nbackends, 2, "two backends");
	ok(c->nbackends == 2 && strcmp(c->backends[0].host, "127.0.0.1") == 0 &&
	       c->backends[0].port == 10025 &&
	       strcmp(c->backends[1].host, "mx2.example.ac.uk") == 0 &&
	       c->backends[1].port == 10025,
	   "backends in failover order");
	ok(c->backend_xclient, "proxy.backend_xclient yes");
	is_str(c->pam_service, "authgate", "proxy.pam_service");
	ok(c->login_domains.n == 1 && strcmp(c->login_domains.v[0], "example.ac.uk") == 0,
	   "proxy.login_domains");
	is_int(c->max_message_size, 52428800, "proxy.max_message_size");
	ok(!c->proxy_protocol, "proxy.proxy_protocol no");
	is_int(c->auth_fail_limit, 5, "proxy.auth_fail_limit");
	is_int(c->auth_fail_window, 600, "proxy.auth_fail_window");
	is_int(c->phase, AG_PHASE_VOLUNTARY, "policy.phase voluntary");
	ok(c->has_mandatory_from && c->mandatory_from == 1799971200,
	   "policy.mandatory_from 2027-01-15T00:00:00Z");
	ok(c->local_domains.n == 2 && strcmp(c->local_domains.v[1], "*.example.ac.uk") == 0,
	   "policy.local_domains with a wildcard");
	is_int(c->trusted_networks.n, 2, "policy.trusted_networks: two networks");
	is_int(c->sender_login, AG_SENDER_LOGIN_STRICT, "policy.sender_login strict");
	is_str(c->help_url, "https://www.example.ac.uk/it/authenticated-smtp", "policy.help_url");
	ok(c->has_hub && strcmp(c->hub.host, "exhub.example.ac.uk") == 0 && c->hub.port == 25,
	   "lists.hub");
	ok(c->protected_lists.n == 2 &&
	       strcmp(c->protected_lists.v[1], "students-*@example.ac.uk") == 0,
	   "lists.protected");
	is_str(c->milter_socket, "inet:8891@127.0.0.1", "milter.socket");
	is_int(c->refcnt, 1, "a fresh config has one reference");
	config_unref(c);
}

static void test_minimal(void)
{
	struct ag_config_error err;
	struct ag_config *c;
	char path[4096];

	c = config_load(data_path("minimal.conf", path, sizeof(path)), &err);
	if (!ok(c != NULL, "minimal.conf loads")) {
		printf("#   %s\n", err.msg);
		return;
	}
	is_str(c->authserv_id, "mx.example.org", "authserv_id defaults to hostname");
	is_str(c->audit_log, "/var/log/authgate/audit.jsonl", "default audit_log");
	is_str(c->user, "authgate", "default user");
	ok(!c->has_listen_smtps && !c->has_listen_submission, "no listeners by default");
	ok(c->tls_cert == NULL && c->tls_key == NULL && c->nbackends == 0,
	   "no cert, key or backends by default");
	is_int(c->tls_min_version, 0x0303, "default tls_min_version TLSv1.2");
	ok(c->backend_xclient && !c->proxy_protocol,
	   "default backend_xclient yes, proxy_protocol no");
	is_str(c->pam_service, "authgate", "default pam_service");
	is_int(c->login_domains.n, 0, "no login_domains by default");
	is_int(c->max_message_size, 52428800, "default max_message_size");
	ok(c->auth_fail_limit == 5 && c->auth_fail_window == 600, "default auth_fail_limit/window");
	ok(c->auth_cache_ttl == 0 && c->auth_cache_size == 1000, "default auth cache off, 1000");
	ok(c->max_connections == 1000 && c->max_connections_per_ip == 20 && c->auth_workers == 4,
	   "default connection limits and auth_workers");
	ok(c->timeout_command == 300 && c->timeout_data == 600 && c->timeout_connect == 10 &&
	       c->timeout_backend == 300 && c->shutdown_grace == 30 &&
	       c->backend_idle_timeout == 30 && c->backend_reuse_limit == 100,
	   "default timeouts");
	ok(c->phase == AG_PHASE_VOLUNTARY && !c->has_mandatory_from, "default phase voluntary");
	is_int(c->trusted_networks.n, 2, "default trusted_networks: loopback v4 and v6");
	is_int(c->sender_login, AG_SENDER_LOGIN_STRICT, "default sender_login strict");
	is_str(c->help_url, "", "default help_url empty");
	ok(!c->has_hub && c->protected_lists.n == 0, "no hub, no protected lists by default");
	is_str(c->milter_socket, "inet:8891@127.0.0.1", "default milter socket");
	config_unref(c);
}

static void test_bad_files(void)
{
	static const struct {
		const char *file;
		int line; /* 0: the error has no line (missing key) */
		const char *where, *detail;
	} cases[] = {
	    {"cidr", 7, "[policy] trusted_networks: ", "'10.1.2.3/8': host bits set"},
	    {"port", 9, "[proxy] listen_smtps: ", "1..65535"},
	    {"unknown_key", 9, "[proxy] listen_smtp: unknown key", NULL},
	    {"unknown_section", 8, "[polcy]: unknown section", NULL},
	    {"instant", 7, "[policy] mandatory_from: ", "day out of range"},
	    {"phase", 6, "[policy] phase: ", "'compulsory' is not one of: voluntary, mandatory"},
	    {"missing_hostname", 0, "[general] hostname: missing required key", NULL},
	    {"missing_local_domains", 0, "[policy] local_domains: missing required key", NULL},
	    {"dup_key", 5, "[general] hostname: duplicate key (first set on line 3)", NULL},
	    {"protected_no_hub", 0, "[lists] hub: missing required key", "protected is set"},
	    {"v6_hostport", 12,
	     "[proxy] backends: ", "'::1:10025': IPv6 address must be in brackets"},
	    {"bool", 9, "[proxy] backend_xclient: ", "'maybe' is not one of: yes, no"},
	    {"tls_version", 9, "[proxy] tls_min_version: ", "'TLSv1.1'"},
	    {"sender_login", 7, "[policy] sender_login: ", "'relaxed'"},
	    {"audit_log", 4, "[general] audit_log: ", "syslog facility"},
	    {"milter_socket", 9, "[milter] socket: ", "inet:PORT@HOST"},
	    {"listen_no_cert", 0, "[proxy] tls_cert: missing required key", "listen_smtps"},
	    {"listen_no_backends", 0, "[proxy] backends: missing required key",
	     "listen_submission"},
	    {"empty_item", 6, "[policy] local_domains: ", "item 2 of the list is empty"},
	    {"domain", 6, "[policy] local_domains: ", "'foo.*.example.org'"},
	    {"pattern", 10, "[lists] protected: ", "wildcard not allowed in the domain"},
	    {"range", 9, "[proxy] auth_fail_limit: ", "0 is out of range 1..1000"},
	    {"size", 9, "[proxy] max_message_size: ", "'50M' is not a whole number"},
	    {"syntax", 9, "syntax error", NULL},
	    {"key_outside", 2, "hostname: key outside any [section]", NULL},
	    {"help_url", 7, "[policy] help_url: ", "https://"},
	    {"user", 4, "[general] user: ", "not a valid user name"},
	    {"relative_cert", 9, "[proxy] tls_cert: ", "absolute path"},
	    {"empty_value", 3, "[general] hostname: empty value", NULL},
	    {"two_errors", 7, "[policy] phase: ", "'sometimes'"},
	    {"same_listen", 10, "[proxy] listen_submission: same address as listen_smtps", NULL},
	    {"section_junk", 8, "syntax error: text after ']'", NULL},
	    {"nul", 9, "NUL byte in line", NULL},
	    {"long_line", 10, "line longer than 199 characters", NULL},
	    {"indented_section", 7, "indented section header", NULL},
	};
	struct ag_config_error err;
	struct ag_config *c;
	char name[256], path[4096], want[4400], what[300];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "bad_%s.conf", cases[i].file);
		data_path(name, path, sizeof(path));
		if (cases[i].line > 0)
			snprintf(want, sizeof(want), "%s:%d: %s", path, cases[i].line,
				 cases[i].where);
		else
			snprintf(want, sizeof(want), "%s: %s", path, cases[i].where);
		snprintf(what, sizeof(what), "%s: line %d, %s", name, cases[i].line,
			 cases[i].where);
		c = config_load(path, &err);
		is_error(c, &err, want, cases[i].detail, what);
		config_unref(c);
	}
	c = config_load(data_path("no-such-file.conf", path, sizeof(path)), &err);
	ok(c == NULL && strstr(err.msg, "no-such-file.conf: cannot open") != NULL,
	   "a missing file is an error naming it");
}

static void test_strings(void)
{
	static const char with_nul[] = MINIMAL "\0[policy\ngarbage that is never read\n";
	struct ag_config_error err;
	struct ag_config *c;
	char text[8192];
	int n;

	c = load_extra("[lists]\nhub = hub.example\nprotected = a@example.org,\n"
		       "    B-*@Example.ORG\n\t; an indented comment\n\t, c@example.org\n",
		       &err);
	ok(c != NULL && c->protected_lists.n == 3 &&
	       strcmp(c->protected_lists.v[1], "b-*@example.org") == 0,
	   "indented lines continue a value; items are lower-cased");
	ok(c != NULL && c->hub.port == 25, "hub without a port gets 25");
	config_unref(c);

	n = snprintf(text, sizeof(text), "%s[proxy]\nproxy_protocol = %0250d\n", MINIMAL, 0);
	c = config_load_string(text, "t.conf", &err);
	is_error(c, &err, "t.conf:6: line longer than 199 characters", NULL,
		 "overlong line refused");
	ok(n > 0, "(overlong test text built)");

	/* Each length limit is named as it is: a 65-character prefix is not "longer than 1024". */
	n = snprintf(text, sizeof(text), "[proxy]\nshared_state_prefix = %065d\n", 0);
	c = load_extra(text, &err);
	is_error(c, &err, "t.conf:6: [proxy] shared_state_prefix: ", "longer than 64 characters",
		 "a shared_state_prefix over 64 characters: the limit it broke");
	n = snprintf(text, sizeof(text), "[proxy]\npam_service = a%064d\n", 0);
	c = load_extra(text, &err);
	is_error(c, &err,
		 "t.conf:6: [proxy] pam_service: ", "PAM service name longer than 64 characters",
		 "a PAM service name over 64 characters");
	c = load_extra("[proxy]\npam_service = .hidden\n", &err);
	is_error(c, &err, "t.conf:6: [proxy] pam_service: ", "not a valid PAM service name",
		 "a PAM service name with a leading dot");
	c = load_extra("[proxy]\npam_service = Authgate.Test-1_x\n", &err);
	ok(c != NULL && strcmp(c->pam_service, "Authgate.Test-1_x") == 0,
	   "a PAM service name of letters, digits, '.', '-' and '_'");
	config_unref(c);
	ok(n > 0, "(long-value test texts built)");

	c = config_load_string(with_nul, "t.conf", &err);
	ok(c != NULL, "config_load_string stops at the string's NUL");
	config_unref(c);

	c = load_extra("[policy]\nhelp_url =\ntrusted_networks =\n[lists]\nprotected = \"\"\n",
		       &err);
	ok(c != NULL && c->help_url[0] == '\0' && c->trusted_networks.n == 0 &&
	       c->protected_lists.n == 0,
	   "empty values allowed for help_url and lists");
	config_unref(c);
	c = load_extra("[policy]\nhelp_url = \"https://x.example/help\"\n", &err);
	ok(c != NULL && strcmp(c->help_url, "https://x.example/help") == 0,
	   "one pair of enclosing double quotes is removed");
	config_unref(c);
	c = load_extra("[general]\nuser = \"\"\n", &err);
	is_error(c, &err, "t.conf:6: [general] user: empty value", NULL, "\"\" is empty");
	c = load_extra("[proxy]\nbackends =\n", &err);
	is_error(c, &err, "t.conf:6: [proxy] backends: empty value", NULL,
		 "empty backends refused");
	c = load_extra("[proxy]\nbackends = a.example:25,\n", &err);
	is_error(c, &err, "t.conf:6: [proxy] backends: item 2 of the list is empty", NULL,
		 "trailing comma refused");

	c = load_extra("[proxy]\nlisten_smtps = [::1]:465\nlisten_submission = [2001:DB8::25]\n"
		       "tls_cert = /c.pem\ntls_key = /k.pem\nbackends = [::1]:10025 , b.example\n",
		       &err);
	ok(c != NULL && strcmp(c->listen_smtps.host, "::1") == 0 && c->listen_smtps.port == 465,
	   "[v6]:port listener, brackets stripped");
	ok(c != NULL && c->listen_submission.port == 587, "[v6] without a port gets 587");
	ok(c != NULL && c->nbackends == 2 && c->backends[0].port == 10025 &&
	       c->backends[1].port == 25,
	   "v6 backend; bare backend gets port 25");
	config_unref(c);

	c = load_extra("[policy]\nphase = Mandatory\nsender_login = WARN\n[proxy]\n"
		       "tls_min_version = tlsv1.3\nproxy_protocol = On\nbackend_xclient = 0\n"
		       "proxy_protocol_from = 10.0.0.0/8\n",
		       &err);
	ok(c != NULL && c->phase == AG_PHASE_MANDATORY && c->sender_login == AG_SENDER_LOGIN_WARN,
	   "enum names are case-insensitive");
	ok(c != NULL && c->tls_min_version == 0x0304 && c->proxy_protocol && !c->backend_xclient,
	   "TLSv1.3 = 0x0304, booleans on/0");
	config_unref(c);

	c = load_extra("[proxy]\nproxy_protocol = yes\n", &err);
	is_error(c, &err, "t.conf: [proxy] proxy_protocol_from: missing required key",
		 "proxy_protocol = yes", "proxy_protocol without proxy_protocol_from refused");
	c = load_extra("[proxy]\ntls_ciphers = ECDHE+AESGCM:!aNULL;x\n", &err);
	is_error(c, &err, "t.conf:6: [proxy] tls_ciphers: ", "OpenSSL cipher list",
		 "a cipher list with ';' refused");
	c = load_extra("[proxy]\ntls_ciphers = ECDHE+AESGCM:!aNULL\ntls_ticket_lifetime = 4\n",
		       &err);
	is_error(c, &err, "t.conf:7: [proxy] tls_ticket_lifetime: ", NULL,
		 "tls_ticket_lifetime below 5 refused");
	c = load_extra("[proxy]\nauth_user_fail_limit = 3\n", &err);
	ok(c != NULL && c->auth_user_fail_limit == 3 && c->auth_fail_limit == 5 &&
	       c->auth_familiar_days == 30 && c->timeout_tls == 10 && c->tls_ticket_lifetime == 3600 &&
	       c->proxy_protocol_from.n == 0 && strcmp(c->tls_ciphers, AG_TLS_CIPHERS) == 0 &&
	       strcmp(c->tls_ciphersuites, AG_TLS_CIPHERSUITES) == 0,
	   "defaults of the abuse and TLS keys");
	config_unref(c);

	c = load_extra("[policy]\nphase = mandatory;no space before the semicolon\n", &err);
	is_error(c, &err, "t.conf:6: [policy] phase: ", "'mandatory;no",
		 "';' without a blank is not a comment");
	c = load_extra("[policy]\nphase = never\n[nosuch]\n", &err);
	is_error(c, &err, "t.conf:6: [policy] phase: ", NULL,
		 "bad value before an unknown section wins");
	c = config_load_string("[general]\nhostname = h.example\nno equals here\nuser = BAD\n",
			       "t.conf", &err);
	is_error(c, &err, "t.conf:3: syntax error", NULL, "syntax error before a bad value wins");
	c = config_load_string("[general]\nuser = BAD\nno equals here\n", "t.conf", &err);
	is_error(c, &err, "t.conf:2: [general] user: ", NULL,
		 "bad value before a syntax error wins");
	c = load_extra("[general]\nhostname = other.example\n", &err);
	is_error(c, &err, "t.conf:6: [general] hostname: duplicate key (first set on line 2)", NULL,
		 "duplicate across a repeated section");
	c = load_extra("[general]\nHostName = x.example\n", &err);
	is_error(c, &err, "t.conf:6: [general] HostName: unknown key", NULL, "key names are exact");
	c = config_load_string("\xef\xbb\xbf" MINIMAL, "t.conf", &err);
	ok(c != NULL, "UTF-8 byte order mark accepted");
	config_unref(c);
	c = config_load_string("[general]\r\nhostname = h.example\r\n[policy]\r\n"
			       "local_domains = example.org\r\n",
			       "t.conf", &err);
	ok(c != NULL && strcmp(c->hostname, "h.example") == 0, "CRLF line ends");
	config_unref(c);
	c = load_extra("[proxy]\nauth_fail_window = +5\n", &err);
	is_error(c, &err, "t.conf:6: [proxy] auth_fail_window: ", "whole number", "sign refused");
	c = load_extra("[proxy]\nmax_message_size = 99999999999999999999999\n", &err);
	is_error(c, &err, "t.conf:6: [proxy] max_message_size: ", NULL, "overflow refused");
	c = load_extra(
	    "[general]\naudit_log = syslog:local3\n[milter]\nsocket = inet6:8891@[::1]\n", &err);
	ok(c != NULL && strcmp(c->audit_log, "syslog:local3") == 0, "audit_log syslog:local3");
	config_unref(c);
	c = load_extra("[milter]\nsocket = local:run/milter.sock\n", &err);
	is_error(c, &err, "t.conf:6: [milter] socket: ", "absolute",
		 "relative unix socket refused");
	c = load_extra("[milter]\nsocket = inet:8891@::1\n", &err);
	is_error(c, &err, "t.conf:6: [milter] socket: ", "inet6", "v6 address needs inet6:");
	c = load_extra("[proxy]\nlisten_smtps = [::]:465\nlisten_submission = 0.0.0.0\n"
		       "tls_cert = /c\ntls_key = /k\nbackends = localhost:10025\n",
		       &err);
	ok(c != NULL && strcmp(c->listen_smtps.host, "::") == 0 && c->listen_submission.port == 587,
	   "[::]:465 and a bare 0.0.0.0 listener");
	config_unref(c);
	c = load_extra("[milter]\nsocket = unix:/run/authgate/milter.sock\n", &err);
	ok(c != NULL, "milter socket unix:/path");
	config_unref(c);
	c = config_load_string(NULL, "t.conf", &err);
	ok(c == NULL && err.msg[0] != '\0', "NULL text is an error, not a crash");
}

static void test_hostport(void)
{
	struct ag_hostport hp;
	const char *why = NULL;

	ok(config_parse_hostport("[::1]", 0, &hp, &why) < 0 && strstr(why, "port") != NULL,
	   "[::1] without a port and no default");
	ok(config_parse_hostport("mail.example:2525", 0, &hp, &why) == 0 && hp.port == 2525 &&
	       strcmp(hp.host, "mail.example") == 0,
	   "host:port");
	ok(config_parse_hostport("[1.2.3.4]:25", 0, &hp, &why) < 0, "brackets around IPv4 refused");
	ok(config_parse_hostport("a.example:0", 0, &hp, &why) < 0, "port 0 refused");
	ok(config_parse_hostport("a.example:65536", 0, &hp, &why) < 0, "port 65536 refused");
	ok(config_parse_hostport("a.example:65535", 0, &hp, &why) == 0 && hp.port == 65535,
	   "port 65535 accepted");
	ok(config_parse_hostport("[::1]x", 25, &hp, &why) < 0, "text after ] refused");
	ok(config_parse_hostport("256.1.1.1:25", 0, &hp, &why) < 0, "256.1.1.1 refused");
	ok(config_parse_hostport(":25", 0, &hp, &why) < 0, "missing host refused");
	ok(config_parse_hostport("-bad.example:25", 0, &hp, &why) < 0, "bad host name refused");
}

static void test_instant(void)
{
	static const struct {
		const char *s;
		int64_t want;
	} good[] = {
	    {"2028-02-29T00:00:00Z", 1835395200}, /* leap year */
	    {"2000-02-29T12:34:56Z", 951827696},  /* divisible by 400: leap */
	    {"1969-12-31T23:59:59Z", -1},	  /* before 1970 */
	    {"1900-03-01T00:00:00Z", -2203891200},
	    {"1600-02-29T00:00:00Z", -11670998400},
	    {"1970-01-01T00:00:00.999Z", 0},	       /* fraction dropped */
	    {"1969-12-31T23:59:59.5Z", -1},	       /* ... which is a floor */
	    {"2027-01-15T01:00:00+01:00", 1799971200}, /* offsets converted */
	    {"2027-01-14T19:30:00-04:30", 1799971200},
	    {"2027-01-15T00:00:00+00:00", 1799971200},
	    {"9999-12-31T23:59:59Z", 253402300799},
	};
	static const char *const bad[] = {
	    "2027-02-29T00:00:00Z", /* not a leap year */
	    "1900-02-29T00:00:00Z", /* divisible by 100 only */
	    "2027-02-30T00:00:00Z",
	    "2027-04-31T00:00:00Z",
	    "2027-13-01T00:00:00Z",
	    "2027-01-15T24:00:00Z",
	    "2027-01-15T23:59:60Z",
	    "2027-01-15T00:00:00",
	    "2027-01-15",
	    "2027-01-15T00:00:00.Z",
	    "2027-01-15T00:00:00+0100",
	    "2027-01-15T00:00:00Z ",
	    "2027-1-15T00:00:00Z",
	    "",
	};
	int64_t t;
	size_t i, nok = 0, nbad = 0;
	const char *why;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		t = 42;
		if (config_parse_instant(good[i].s, &t, &why) == 0 && t == good[i].want)
			nok++;
		else
			printf("#   %s: got %lld\n", good[i].s, (long long)t);
	}
	is_int(nok, sizeof(good) / sizeof(good[0]),
	       "instants: leap years, pre-1970, fractions, offsets");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (config_parse_instant(bad[i], &t, &why) < 0)
			nbad++;
		else
			printf("#   accepted \"%s\"\n", bad[i]);
	}
	is_int(nbad, sizeof(bad) / sizeof(bad[0]),
	       "bad instants refused (Feb 29, hour 24, no zone...)");
	ok(config_parse_instant("2027-02-29T00:00:00Z", &t, &why) < 0 && strstr(why, "day") != NULL,
	   "Feb 29 of a common year: the day is named");
}

static void test_refcount(void)
{
	struct ag_config_error err;
	struct ag_config *c = load_extra("", &err), *r;

	if (!ok(c != NULL, "config for refcount"))
		return;
	r = config_ref(c);
	ok(r == c && c->refcnt == 2, "config_ref returns the same snapshot, count 2");
	config_unref(c);
	is_int(c->refcnt, 1, "config_unref drops to 1");
	config_unref(r); /* frees: valgrind/ASan check there is no leak */
	ok(config_ref(NULL) == NULL, "config_ref(NULL)");
	config_unref(NULL);
}

/* config_key_where: the prefix of messages about a loaded key, with the line that set it. */
static void test_key_where(void)
{
	struct ag_config_error err;
	struct ag_config *c = load_extra("[general]\nuser = mail\n", &err);
	char buf[256];

	if (!ok(c != NULL, "config for config_key_where"))
		return;
	config_key_where(c, "general", "hostname", buf, sizeof(buf));
	is_str(buf, "t.conf:2: [general] hostname",
	       "a key from the file: FILE:LINE: [section] key");
	config_key_where(c, "general", "user", buf, sizeof(buf));
	is_str(buf, "t.conf:6: [general] user", "a key set in a second [general]: its own line");
	config_key_where(c, "proxy", "pam_service", buf, sizeof(buf));
	is_str(buf, "t.conf: [proxy] pam_service", "a defaulted key: FILE: [section] key");
	config_key_where(c, "nosuch", "key", buf, sizeof(buf));
	is_str(buf, "t.conf: [nosuch] key", "an unknown key: no line");
	config_key_where(c, "general", "hostname", buf, 8);
	is_str(buf, "t.conf:", "truncated to the buffer, terminated");
	config_unref(c);
}

/* Every effective key, once, "section.key = value"; the dump loads back to the same dump. */
static void test_dump(void)
{
	struct ag_config_error err;
	struct ag_config *c, *c2;
	char path[4096], *buf = NULL, *buf2 = NULL, *ini = NULL, *line, *save, sect[32] = "";
	char *doc = NULL, row[160];
	size_t len = 0, len2 = 0, inilen = 0, nlines = 0, missing = 0;
	FILE *out, *fp;

	c = config_load(data_path("good.conf", path, sizeof(path)), &err);
	out = open_memstream(&buf, &len);
	if (!ok(c != NULL && out != NULL, "dump: config and stream"))
		return;
	config_dump(c, out);
	fclose(out);
	ok(strstr(buf, "general.hostname = smtp.example.ac.uk\n") != NULL, "dump: hostname");
	ok(strstr(buf, "proxy.backends = 127.0.0.1:10025, mx2.example.ac.uk:10025\n") != NULL,
	   "dump: backends");
	ok(strstr(buf, "policy.trusted_networks = 127.0.0.0/8, ::1/128\n") != NULL,
	   "dump: CIDRs in their text form");
	ok(strstr(buf, "policy.mandatory_from = 2027-01-15T00:00:00Z\n") != NULL, "dump: instant");
	ok(strstr(buf, "proxy.timeout_data = 600\n") != NULL, "dump: defaults shown too");
	ok(strstr(buf, "general.hostname") < strstr(buf, "proxy.") &&
	       strstr(buf, "lists.hub") < strstr(buf, "milter.socket"),
	   "dump: section order");

	/* Rebuild an INI file from the dump (empty values are unset keys) and load it again. */
	fp = open_memstream(&ini, &inilen);
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *dot = strchr(line, '.');

		nlines++;
		if (dot == NULL || line[strlen(line) - 1] == '=')
			continue;
		*dot = '\0';
		if (strcmp(sect, line) != 0) {
			snprintf(sect, sizeof(sect), "%s", line);
			fprintf(fp, "[%s]\n", sect);
		}
		fprintf(fp, "%s\n", dot + 1);
	}
	fclose(fp);
	is_int(nlines, 54, "dump: one line per key");
	c2 = config_load_string(ini, "dump.conf", &err);
	if (!ok(c2 != NULL, "dump output loads back"))
		printf("#   %s\n", err.msg);
	out = open_memstream(&buf2, &len2);
	config_dump(c2, out);
	fclose(out);
	free(buf);
	buf = NULL;
	out = open_memstream(&buf, &len);
	config_dump(c, out);
	fclose(out);
	is_str(buf2, buf, "dump of the reloaded dump is identical");

	/* doc/config-reference.md lists every key the loader knows. */
	snprintf(path, sizeof(path), "%s/doc/config-reference.md", top_srcdir());
	fp = fopen(path, "r");
	if (fp != NULL) {
		size_t cap = 0;
		ssize_t got = getdelim(&doc, &cap, '\0', fp);

		fclose(fp);
		if (got < 0) {
			free(doc);
			doc = NULL;
		}
	}
	for (line = strtok_r(buf, "\n", &save); doc != NULL && line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *dot = strchr(line, '.'), *sp = strchr(line, ' ');

		if (dot == NULL || sp == NULL)
			continue;
		*dot = '\0';
		*sp = '\0';
		snprintf(row, sizeof(row), "| %s | `%s` |", line, dot + 1);
		if (strstr(doc, row) == NULL) {
			printf("#   not in the reference: %s\n", row);
			missing++;
		}
	}
	ok(doc != NULL && missing == 0, "doc/config-reference.md has a row for every key");
	free(doc);
	free(buf);
	free(buf2);
	free(ini);
	config_unref(c);
	config_unref(c2);
}

int main(void)
{
	test_good();
	test_minimal();
	test_bad_files();
	test_strings();
	test_hostport();
	test_instant();
	test_refcount();
	test_key_where();
	test_dump();
	return tap_done();
}
