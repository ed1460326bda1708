/* test_policy_decide.c: policy decisions against configs loaded from real authgate.conf text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "decide.h"
#include "net.h"
#include "reply.h"
#include "tap.h"

#define T_MANDATORY 1799971200LL /* 2027-01-15T00:00:00Z */
#define HELP "https://www.example.ac.uk/it/authenticated-smtp"

/* The INTERFACE.md sample; the [policy] lines vary per test. */
static const char conf_head[] = "[general]\n"
				"hostname     = smtp.example.ac.uk\n"
				"authserv_id  = smtp.example.ac.uk\n"
				"audit_log    = /var/log/authgate/audit.jsonl\n"
				"user         = authgate\n"
				"\n"
				"[proxy]\n"
				"listen_smtps      = 0.0.0.0:465\n"
				"listen_submission = 0.0.0.0:587\n"
				"tls_cert          = /etc/authgate/cert.pem\n"
				"tls_key           = /etc/authgate/key.pem\n"
				"tls_min_version   = TLSv1.2\n"
				"backends          = 127.0.0.1:10025, mx2.example.ac.uk:10025\n"
				"backend_xclient   = yes\n"
				"pam_service       = authgate\n"
				"login_domains     = %s\n"
				"max_message_size  = 52428800\n"
				"proxy_protocol    = no\n"
				"auth_fail_limit   = 5\n"
				"auth_fail_window  = 600\n"
				"\n"
				"[policy]\n"
				"phase          = %s\n"
				"%s"
				"local_domains  = %s\n"
				"trusted_networks = 127.0.0.0/8, ::1/128\n"
				"sender_login   = %s\n"
				"help_url       = %s\n"
				"\n"
				"[lists]\n"
				"hub       = exhub.example.ac.uk:25\n"
				"protected = staff-all@example.ac.uk, students-*@example.ac.uk\n"
				"\n"
				"[milter]\n"
				"socket = inet:8891@127.0.0.1\n";

struct variant {
	const char *login_domains;
	const char *phase;
	const char *mandatory_from; /* whole line or "" */
	const char *local_domains;
	const char *sender_login;
	const char *help_url;
};

static const struct variant sample = {
    "example.ac.uk",
    "voluntary",
    "mandatory_from = 2027-01-15T00:00:00Z\n",
    "example.ac.uk, *.example.ac.uk",
    "strict",
    HELP,
};

/* The sample with `extra` lines appended (they land in [milter], the last section). */
static struct ag_config *load_with(const struct variant *v, const char *extra)
{
	struct ag_config_error err;
	struct ag_config *c;
	char text[4096];
	int n, m;

	n = snprintf(text, sizeof(text), conf_head, v->login_domains, v->phase, v->mandatory_from,
		     v->local_domains, v->sender_login, v->help_url);
	m = n < 0 || (size_t)n >= sizeof(text)
		? -1
		: snprintf(text + n, sizeof(text) - (size_t)n, "%s", extra);
	if (m < 0 || (size_t)(n + m) >= sizeof(text)) {
		printf("Bail out! config text too long\n");
		exit(1);
	}
	c = config_load_string(text, "test.conf", &err);
	if (c == NULL) {
		printf("Bail out! config_load_string: %s\n", err.msg);
		exit(1);
	}
	return c;
}

static struct ag_config *load(const struct variant *v)
{
	return load_with(v, "");
}

static struct ag_ip ip(const char *s)
{
	struct ag_ip a;
	const char *why;

	if (net_parse_ip(s, &a, &why) != 0) {
		printf("Bail out! net_parse_ip(%s): %s\n", s, why);
		exit(1);
	}
	return a;
}

static struct ag_decision rcpt(const struct ag_config *c, const struct ag_ip *client,
			       const char *user, int64_t now, const char *to)
{
	struct ag_facts f = {client, user, "sender@example.org", now};
	struct ag_decision d;

	memset(&d, 0xa5, sizeof(d)); /* every field must be set by the call */
	policy_decide_rcpt(c, &f, to, &d);
	return d;
}

static struct ag_decision mail(const struct ag_config *c, const char *user, const char *from)
{
	struct ag_ip cl = ip("203.0.113.7");
	struct ag_facts f = {&cl, user, from, T_MANDATORY - 100};
	struct ag_decision d;

	memset(&d, 0xa5, sizeof(d));
	policy_decide_mail(c, &f, &d);
	return d;
}

static const char *norm(const struct ag_config *c, const char *in, size_t len, char *out,
			size_t outlen)
{
	const char *why = NULL;

	if (policy_normalise_login(c, in, len, out, outlen, &why) != 0)
		return why ? "(refused)" : "(refused, no reason)";
	return out;
}

static void test_names(void)
{
	is_str(policy_action_name(AG_ACTION_ACCEPT), "accept", "action name accept");
	is_str(policy_action_name(AG_ACTION_TAG), "tag", "action name tag");
	is_str(policy_action_name(AG_ACTION_REJECT), "reject", "action name reject");
	is_str(policy_action_name(AG_ACTION_TEMPFAIL), "tempfail", "action name tempfail");
	is_str(policy_route_name(AG_ROUTE_DEFAULT), "default", "route name default");
	is_str(policy_route_name(AG_ROUTE_HUB), "hub", "route name hub");
	is_str(policy_phase_name(AG_PHASE_VOLUNTARY), "voluntary", "phase name voluntary");
	is_str(policy_phase_name(AG_PHASE_MANDATORY), "mandatory", "phase name mandatory");
}

static void test_phase(const struct ag_config *c)
{
	struct variant v = sample;
	struct ag_config *m, *nofrom;
	struct ag_ip out = ip("203.0.113.7");
	struct ag_decision d;

	is_int(c->mandatory_from, T_MANDATORY, "mandatory_from parsed as 2027-01-15T00:00:00Z");
	is_int(policy_phase_at(c, T_MANDATORY - 1), AG_PHASE_VOLUNTARY, "voluntary 1 s before");
	is_int(policy_phase_at(c, T_MANDATORY), AG_PHASE_MANDATORY, "mandatory at the instant");
	is_int(policy_phase_at(c, T_MANDATORY + 1), AG_PHASE_MANDATORY, "mandatory 1 s after");

	d = rcpt(c, &out, NULL, T_MANDATORY - 1, "a@example.org");
	is_int(d.action, AG_ACTION_TAG, "relay before mandatory_from: tag");
	is_int(d.reply, AG_REPLY_NONE, "relay tag: no reply");
	is_int(d.phase, AG_PHASE_VOLUNTARY, "relay tag: phase voluntary");
	is_str(d.reason, "unauthenticated relay", "relay tag: reason");
	is_int(d.route, AG_ROUTE_DEFAULT, "relay tag: route default");
	d = rcpt(c, &out, NULL, T_MANDATORY, "a@example.org");
	is_int(d.action, AG_ACTION_REJECT, "relay at mandatory_from: reject");
	is_int(d.reply, AG_REPLY_RELAY_AUTH_REQUIRED, "relay reject: 530 reply id");
	is_int(d.phase, AG_PHASE_MANDATORY, "relay reject: phase mandatory");
	d = rcpt(c, &out, NULL, T_MANDATORY + 1, "a@example.org");
	is_int(d.action, AG_ACTION_REJECT, "relay after mandatory_from: reject");

	v.phase = "mandatory";
	v.mandatory_from = "";
	m = load(&v);
	is_int(policy_phase_at(m, 0), AG_PHASE_MANDATORY, "phase = mandatory: always mandatory");
	d = rcpt(m, &out, "", 0, "a@example.org");
	is_int(d.action, AG_ACTION_REJECT, "phase mandatory: empty auth_user is unauthenticated");
	config_unref(m);

	v = sample;
	v.mandatory_from = "";
	nofrom = load(&v);
	is_int(policy_phase_at(nofrom, T_MANDATORY * 10), AG_PHASE_VOLUNTARY,
	       "no mandatory_from: voluntary forever");
	config_unref(nofrom);
}

static void test_clients_domains(const struct ag_config *c)
{
	struct variant v = sample;
	struct ag_config *wild;
	struct ag_ip a;

	a = ip("127.0.0.1");
	ok(policy_client_trusted(c, &a), "127.0.0.1 trusted");
	a = ip("::ffff:127.0.0.5");
	ok(policy_client_trusted(c, &a), "v4-mapped ::ffff:127.0.0.5 trusted by 127.0.0.0/8");
	a = ip("::1");
	ok(policy_client_trusted(c, &a), "::1 trusted");
	a = ip("128.0.0.1");
	ok(!policy_client_trusted(c, &a), "128.0.0.1 not trusted");
	a = ip("::2");
	ok(!policy_client_trusted(c, &a), "::2 not trusted");
	ok(!policy_client_trusted(c, NULL), "unknown client not trusted");

	ok(policy_domain_is_local(c, "example.ac.uk"), "apex local");
	ok(policy_domain_is_local(c, "EXAMPLE.Ac.UK"), "apex local, any case");
	ok(policy_domain_is_local(c, "dept.example.ac.uk"), "subdomain local by wildcard");
	ok(!policy_domain_is_local(c, "badexample.ac.uk"), "badexample.ac.uk not local");
	ok(!policy_domain_is_local(c, "example.ac.uk.evil.org"), "suffix trick not local");
	ok(!policy_domain_is_local(c, ""), "empty domain not local");
	ok(!policy_domain_is_local(c, NULL), "NULL domain not local");

	v.local_domains = "*.example.ac.uk";
	wild = load(&v);
	ok(!policy_domain_is_local(wild, "example.ac.uk"), "wildcard alone: apex not local");
	ok(policy_domain_is_local(wild, "dept.example.ac.uk"), "wildcard alone: subdomain local");
	config_unref(wild);
}

/* Sendmail behind the proxy: our own Authentication-Results names the login from proxy_addresses
 * only. */
static void test_identity(const struct ag_config *plain)
{
	struct ag_config *c =
	    load_with(&sample, "proxy_addresses = 10.1.0.11/32, 2001:db8::11/128\n");
	struct ag_ip proxy = ip("10.1.0.11"), proxy6 = ip("2001:db8::11"), other = ip("10.1.0.12");
	const char *r;

	ok(policy_client_is_proxy(c, &proxy), "10.1.0.11 is a proxy address");
	ok(policy_client_is_proxy(c, &proxy6), "2001:db8::11 is a proxy address");
	ok(!policy_client_is_proxy(c, &other), "10.1.0.12 is not");
	ok(!policy_client_is_proxy(c, NULL), "an unknown client is not");
	ok(!policy_client_is_proxy(plain, &proxy), "no proxy_addresses: nobody is");
	r = policy_identity(c, &proxy, NULL, "jdoe");
	ok(r != NULL && strcmp(r, "jdoe") == 0, "from the proxy, the header's login counts");
	r = policy_identity(c, &proxy, "svc", "jdoe");
	ok(r != NULL && strcmp(r, "svc") == 0, "what the MTA authenticated wins over the header");
	ok(policy_identity(c, &other, NULL, "jdoe") == NULL,
	   "from elsewhere, the header is nothing");
	ok(policy_identity(c, NULL, NULL, "jdoe") == NULL, "from an unknown client, nothing");
	ok(policy_identity(plain, &proxy, NULL, "jdoe") == NULL,
	   "without proxy_addresses, the header is nothing");
	ok(policy_identity(c, &proxy, NULL, "") == NULL, "an empty login is nothing");
	r = policy_identity(plain, &other, "jdoe", NULL);
	ok(r != NULL && strcmp(r, "jdoe") == 0, "SMTP AUTH / XCLIENT login counts from anywhere");
	config_unref(c);
}

static void test_rcpt(const struct ag_config *c)
{
	struct ag_ip out = ip("203.0.113.7"), lo = ip("127.0.0.1"), mapped = ip("::ffff:127.0.0.1");
	int64_t before = T_MANDATORY - 1, after = T_MANDATORY;
	struct ag_decision d;

	d = rcpt(c, &out, NULL, after, "jdoe@example.ac.uk");
	is_int(d.action, AG_ACTION_ACCEPT, "inbound to local recipient accepted when mandatory");
	is_str(d.reason, "local recipient", "inbound: reason local recipient");
	d = rcpt(c, &out, NULL, after, "jdoe@Dept.Example.AC.UK");
	is_int(d.action, AG_ACTION_ACCEPT, "inbound to wildcard subdomain accepted");
	d = rcpt(c, &out, NULL, after, "postmaster");
	is_int(d.action, AG_ACTION_ACCEPT, "bare postmaster is local (RFC 5321 4.5.1)");
	d = rcpt(c, &out, NULL, after, "\"x@example.ac.uk\"@example.org");
	is_int(d.action, AG_ACTION_REJECT,
	       "domain is after the last @: quoted @ is not a local domain");
	d = rcpt(c, &out, NULL, after, "\"x@example.org\"@example.ac.uk");
	is_int(d.action, AG_ACTION_ACCEPT,
	       "domain is after the last @: quoted @ is not the domain");
	d = rcpt(c, &out, NULL, after, "a@[192.0.2.1]");
	is_int(d.action, AG_ACTION_REJECT, "address literal is a relay");

	d = rcpt(c, &out, "jdoe", after, "a@example.org");
	is_int(d.action, AG_ACTION_ACCEPT, "authenticated relay accepted");
	is_str(d.reason, "authenticated", "authenticated: reason");
	d = rcpt(c, &lo, NULL, after, "a@example.org");
	is_int(d.action, AG_ACTION_ACCEPT, "trusted relay accepted");
	is_str(d.reason, "trusted network", "trusted: reason");
	d = rcpt(c, &mapped, NULL, after, "a@example.org");
	is_int(d.action, AG_ACTION_ACCEPT, "v4-mapped trusted client relays");
	d = rcpt(c, NULL, NULL, after, "a@example.org");
	is_int(d.action, AG_ACTION_REJECT, "unknown client relay rejected when mandatory");

	/* Protected lists. */
	d = rcpt(c, &out, NULL, before, "staff-all@example.ac.uk");
	is_int(d.action, AG_ACTION_REJECT, "protected list, unauthenticated, voluntary: reject");
	is_int(d.reply, AG_REPLY_LIST_AUTH_ONLY, "protected list reject: 550 reply id");
	is_int(d.phase, AG_PHASE_VOLUNTARY, "protected list reject: phase still reported");
	d = rcpt(c, &out, NULL, after, "students-2026@example.ac.uk");
	is_int(d.action, AG_ACTION_REJECT, "wildcard protected list, mandatory: reject");
	is_int(d.reply, AG_REPLY_LIST_AUTH_ONLY, "wildcard protected list: 550 reply id");
	d = rcpt(c, &out, NULL, before, "Students-Y1@EXAMPLE.ac.uk");
	is_int(d.action, AG_ACTION_REJECT, "protected list matched case-insensitively");
	d = rcpt(c, &out, "jdoe", before, "students-y1@example.ac.uk");
	is_int(d.action, AG_ACTION_ACCEPT, "authenticated to protected list: accept");
	is_int(d.route, AG_ROUTE_HUB, "authenticated to protected list: route hub");
	d = rcpt(c, &lo, NULL, after, "staff-all@example.ac.uk");
	is_int(d.action, AG_ACTION_ACCEPT, "trusted to protected list: accept");
	is_int(d.route, AG_ROUTE_HUB, "trusted to protected list: route hub");
	d = rcpt(c, &out, NULL, after, "studentsx@example.ac.uk");
	is_int(d.action, AG_ACTION_ACCEPT, "near-miss of the list pattern is a local recipient");
	is_int(d.route, AG_ROUTE_DEFAULT, "near-miss: route default");
	d = rcpt(c, &out, "jdoe", after, "staff-all@example.org");
	is_int(d.route, AG_ROUTE_DEFAULT, "same local part, other domain: not the list");
}

static void test_mail(const struct ag_config *c)
{
	struct variant v = sample;
	struct ag_config *warn, *off;
	struct ag_decision d;

	d = mail(c, NULL, "anyone@example.org");
	is_int(d.action, AG_ACTION_ACCEPT, "MAIL without auth: accept");
	is_str(d.reason, "not authenticated", "MAIL without auth: reason");
	d = mail(c, "jdoe", "jdoe@example.ac.uk");
	is_int(d.action, AG_ACTION_ACCEPT, "strict: own address accepted");
	d = mail(c, "jdoe", "JDoe@EXAMPLE.AC.UK");
	is_int(d.action, AG_ACTION_ACCEPT, "strict: own address in other case accepted");
	d = mail(c, "jdoe", "jdoe@maths.example.ac.uk");
	is_int(d.action, AG_ACTION_ACCEPT, "strict: own address at a wildcard local domain");
	d = mail(c, "jdoe", "\"jdoe\"@example.ac.uk");
	is_int(d.action, AG_ACTION_ACCEPT, "strict: quoted local part compared unquoted");
	d = mail(c, "jdoe", "jdoe@example.org");
	is_int(d.action, AG_ACTION_REJECT, "strict: own name at a foreign domain rejected");
	is_int(d.reply, AG_REPLY_SENDER_NOT_OWNED, "strict reject: 553 reply id");
	is_str(d.reason, "sender not owned by login", "strict reject: reason");
	d = mail(c, "jdoe", "bob@example.ac.uk");
	is_int(d.action, AG_ACTION_REJECT, "strict: someone else's address rejected");
	d = mail(c, "jdoe", "jdoex@example.ac.uk");
	is_int(d.action, AG_ACTION_REJECT, "strict: longer local part is not owned");
	d = mail(c, "jdoe", "");
	is_int(d.action, AG_ACTION_ACCEPT, "strict: null sender accepted");
	is_str(d.reason, "null sender", "null sender: reason");
	d = mail(c, "jdoe@example.ac.uk", "jdoe@maths.example.ac.uk");
	is_int(d.action, AG_ACTION_ACCEPT,
	       "login with login domain is normalised before the check");
	d = mail(c, "bob@partner.org", "BOB@Partner.org");
	is_int(d.action, AG_ACTION_ACCEPT, "login with foreign domain owns exactly that address");
	d = mail(c, "bob@partner.org", "bob@example.ac.uk");
	is_int(d.action, AG_ACTION_REJECT, "login with foreign domain owns nothing else");

	/* SMTPUTF8 (RFC 6531): UTF-8 local parts are compared octet for octet. */
	d = mail(c, "j\xc3\xb6rg", "j\xc3\xb6rg@example.ac.uk");
	is_int(d.action, AG_ACTION_ACCEPT, "strict: UTF-8 local part owned by the same login");
	d = mail(c, "jorg", "j\xc3\xb6rg@example.ac.uk");
	is_int(d.action, AG_ACTION_REJECT, "strict: UTF-8 local part not owned by an ASCII look-alike");
	d = mail(c, "j\xc3\xb6rg", "j\xc3\xb6rgx@example.ac.uk");
	is_int(d.action, AG_ACTION_REJECT, "strict: longer UTF-8 local part not owned");
	ok(!policy_sender_owned(c, "jdoe", "jdoe"), "address without domain is not owned");
	ok(!policy_sender_owned(c, "jdoe", ""), "null sender is not owned");
	ok(!policy_sender_owned(c, NULL, "jdoe@example.ac.uk"), "NULL login owns nothing");

	v.sender_login = "warn";
	warn = load(&v);
	d = mail(warn, "jdoe", "bob@example.ac.uk");
	is_int(d.action, AG_ACTION_TAG, "warn: foreign sender tagged");
	is_int(d.reply, AG_REPLY_NONE, "warn: no reply");
	d = mail(warn, "jdoe", "jdoe@example.ac.uk");
	is_int(d.action, AG_ACTION_ACCEPT, "warn: own sender accepted");
	config_unref(warn);

	v.sender_login = "off";
	off = load(&v);
	d = mail(off, "jdoe", "bob@example.org");
	is_int(d.action, AG_ACTION_ACCEPT, "off: any sender accepted");
	config_unref(off);
}

static void test_normalise(const struct ag_config *c)
{
	struct variant v = sample;
	struct ag_config *wild;
	char out[AG_MAX_LOGIN + 1], big[AG_MAX_LOGIN + 2], roomy[2 * AG_MAX_LOGIN];
	const char *why = NULL;

	is_str(norm(c, "jdoe@example.ac.uk", 18, out, sizeof(out)), "jdoe",
	       "login domain stripped");
	is_str(norm(c, "JDoe@EXAMPLE.AC.UK", 18, out, sizeof(out)), "JDoe",
	       "domain case-insensitive, user case kept");
	is_str(norm(c, "jdoe@partner.org", 16, out, sizeof(out)), "jdoe@partner.org",
	       "other domain kept");
	is_str(norm(c, "jdoe@maths.example.ac.uk", 24, out, sizeof(out)),
	       "jdoe@maths.example.ac.uk", "subdomain not in login_domains kept");
	is_str(norm(c, "jdoe", 4, out, sizeof(out)), "jdoe", "plain login unchanged");
	is_str(norm(c, "a@b@example.ac.uk", 17, out, sizeof(out)), "a@b",
	       "last @ separates domain");
	is_str(norm(c, "", 0, out, sizeof(out)), "(refused)", "empty login refused");
	is_str(norm(c, "jd\0oe", 5, out, sizeof(out)), "(refused)", "NUL refused");
	is_str(norm(c, "jdoe\r", 5, out, sizeof(out)), "(refused)", "CR refused");
	is_str(norm(c, "jdoe\nx", 6, out, sizeof(out)), "(refused)", "LF refused");
	is_str(norm(c, "jd\toe", 5, out, sizeof(out)), "(refused)", "TAB refused");
	is_str(norm(c, "jdoe\x7f", 5, out, sizeof(out)), "(refused)", "DEL refused");
	is_str(norm(c, "   ", 3, out, sizeof(out)), "(refused)", "blank login refused");
	is_str(norm(c, "@example.ac.uk", 14, out, sizeof(out)), "(refused)",
	       "empty user part refused");
	is_str(norm(c, "jdoe@example.ac.uk", 18, out, 4), "(refused)", "output too small refused");
	ok(policy_normalise_login(c, "x", 1, out, sizeof(out), &why) == 0 && why == NULL,
	   "success leaves why alone");
	ok(policy_normalise_login(c, "a\rb", 3, out, sizeof(out), &why) < 0 && why != NULL,
	   "refusal explains why");

	memset(big, 'a', sizeof(big));
	big[AG_MAX_LOGIN + 1] = '\0';
	is_int(strlen(norm(c, big, AG_MAX_LOGIN, out, sizeof(out))), AG_MAX_LOGIN,
	       "256-byte login accepted");
	is_str(norm(c, big, AG_MAX_LOGIN + 1, roomy, sizeof(roomy)), "(refused)",
	       "257-byte login refused even with room to copy it");

	v.login_domains = "example.ac.uk, *.example.ac.uk";
	wild = load(&v);
	is_str(norm(wild, "jdoe@maths.example.ac.uk", 24, out, sizeof(out)), "jdoe",
	       "wildcard login domain stripped");
	config_unref(wild);
}

static void test_replies(const struct ag_config *c)
{
	struct ag_ip out = ip("203.0.113.7");
	const struct ag_reply *r;
	struct ag_decision d;
	char buf[256];

	d = rcpt(c, &out, NULL, T_MANDATORY, "a@example.org");
	r = reply_get(d.reply);
	ok(r->code == 530 && strcmp(r->enhanced, "5.7.0") == 0, "relay reject is 530 5.7.0");
	reply_format(c, d.reply, buf, sizeof(buf));
	is_str(buf, "530 5.7.0 Authentication required to relay (see " HELP ")",
	       "relay reply text with help_url");
	d = rcpt(c, &out, NULL, 0, "staff-all@example.ac.uk");
	r = reply_get(d.reply);
	ok(r->code == 550 && strcmp(r->enhanced, "5.7.1") == 0, "list reject is 550 5.7.1");
	d = mail(c, "jdoe", "bob@example.org");
	r = reply_get(d.reply);
	ok(r->code == 553 && strcmp(r->enhanced, "5.7.1") == 0, "sender reject is 553 5.7.1");
}

static void test_warning(const struct ag_config *c)
{
	struct variant v = sample;
	struct ag_config *plain;
	struct ag_ip out = ip("203.0.113.7");
	struct ag_decision d;
	char buf[512];
	int n;

	d = rcpt(c, &out, NULL, 0, "a@example.org");
	n = policy_format_warning(c, &d, buf, sizeof(buf));
	is_str(buf,
	       "unauthenticated relay from this client; authentication will become mandatory on "
	       "2027-01-15T00:00:00Z; see " HELP,
	       "warning with date and help URL");
	is_int(n, (int)strlen(buf), "warning returns its length");
	ok(strpbrk(buf, "\r\n") == NULL, "warning has no CR/LF");
	is_int(policy_format_warning(c, &d, buf, (size_t)n), -1, "warning one byte short: -1");

	d = mail(c, "jdoe", "bob@example.org");
	d.action = AG_ACTION_TAG;
	policy_format_warning(c, &d, buf, sizeof(buf));
	is_str(buf, "sender address not owned by the authenticated user; see " HELP,
	       "sender warning has no date");

	v.mandatory_from = "";
	v.help_url = "";
	plain = load(&v);
	d = rcpt(plain, &out, NULL, 0, "a@example.org");
	policy_format_warning(plain, &d, buf, sizeof(buf));
	is_str(buf, "unauthenticated relay from this client",
	       "no mandatory_from, no help_url: reason only");
	config_unref(plain);
}

int main(void)
{
	struct ag_config *c = load(&sample);

	test_names();
	test_phase(c);
	test_clients_domains(c);
	test_identity(c);
	test_rcpt(c);
	test_mail(c);
	test_normalise(c);
	test_replies(c);
	test_warning(c);
	config_unref(c);
	return tap_done();
}
