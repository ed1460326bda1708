/* routes.c: -T, the MTA routing table that sends the protected lists to the [lists] hub. */
#include "milter.h"

#include <stdio.h>
#include <string.h>

/*
 * The milter decides who may post to a protected list; the MTA does the
 * routing, because a milter cannot choose a next hop. We print the table the
 * MTA needs, from the same [lists] the milter enforces, so the two cannot
 * drift apart: regenerate it after editing authgate.conf.
 */

#define ROUTES_MAX_REGEX 1024

int routes_parse_format(const char *s, enum routes_format *out)
{
	static const struct {
		const char *name;
		enum routes_format fmt;
	} names[] = {
	    {"postfix", ROUTES_POSTFIX},
	    {"postfix-hash", ROUTES_POSTFIX_HASH},
	    {"postfix-regexp", ROUTES_POSTFIX_REGEXP},
	    {"sendmail", ROUTES_SENDMAIL},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].fmt;
			return 0;
		}
	return -1;
}

static bool routes_is_wildcard(const char *pattern)
{
	return strchr(pattern, '*') != NULL;
}

int routes_pattern_regex(const char *pattern, char *buf, size_t len)
{
	size_t o = 0;
	const char *p;

	if (len < 3)
		return -1;
	buf[o++] = '^';
	for (p = pattern; *p != '\0'; p++) {
		/* Room for two characters, '$' and the NUL. */
		if (o + 2 + 2 > len)
			return -1;
		if (*p == '*') {
			buf[o++] = '.';
			buf[o++] = '*';
			continue;
		}
		/* POSIX ERE metacharacters (regex(7)); '/' is handled by the delimiter choice. */
		if (strchr(".[]()+?{}|^$\\", *p) != NULL)
			buf[o++] = '\\';
		buf[o++] = *p;
	}
	buf[o++] = '$';
	buf[o] = '\0';
	return (int)o;
}

/* regexp_table(5): any non-alphanumeric delimiter; take one the expression does not hold. */
static int routes_delimiter(const char *re)
{
	static const char candidates[] = "/,:;%!";
	const char *c;

	for (c = candidates; *c != '\0'; c++)
		if (strchr(re, *c) == NULL)
			return *c;
	return -1;
}

/* Postfix next hop: brackets turn off the MX lookup; an IPv6 address goes inside them too. */
static void routes_postfix_nexthop(const struct ag_config *c, char *buf, size_t len)
{
	snprintf(buf, len, "smtp:[%s]:%u", c->hub.host, (unsigned)c->hub.port);
}

static int routes_postfix_hash(const struct ag_config *c, FILE *out)
{
	char hop[AG_MAX_HOST + 32];
	size_t i;

	routes_postfix_nexthop(c, hop, sizeof(hop));
	for (i = 0; i < c->protected_lists.n; i++)
		if (!routes_is_wildcard(c->protected_lists.v[i]))
			fprintf(out, "%s\t%s\n", c->protected_lists.v[i], hop);
	return 0;
}

static int routes_postfix_regexp(const struct ag_config *c, FILE *out, const char **why)
{
	char hop[AG_MAX_HOST + 32], re[ROUTES_MAX_REGEX];
	size_t i;
	int d;

	routes_postfix_nexthop(c, hop, sizeof(hop));
	for (i = 0; i < c->protected_lists.n; i++) {
		if (!routes_is_wildcard(c->protected_lists.v[i]))
			continue;
		if (routes_pattern_regex(c->protected_lists.v[i], re, sizeof(re)) < 0 ||
		    (d = routes_delimiter(re)) < 0) {
			*why = "a protected pattern cannot be written as a regexp table line";
			return -1;
		}
		/* Matching is case-insensitive by default (flag i), like our patterns. */
		fprintf(out, "%c%s%c\t%s\n", d, re, d, hop);
	}
	return 0;
}

static int routes_postfix(const struct ag_config *c, FILE *out, const char **why)
{
	fprintf(out,
		"# authgate-milter -T postfix: routes for the protected lists of %s.\n"
		"# The milter lets only authenticated (or trusted) clients post to them;\n"
		"# these tables make Postfix deliver them to the hub %s:%u.\n"
		"#\n"
		"# Exact addresses go into a hash: table, wildcard patterns into a regexp:\n"
		"# table (a hash key cannot hold a wildcard). Write each part to its file:\n"
		"#   authgate-milter -T postfix-hash   > /etc/postfix/authgate_lists\n"
		"#   postmap /etc/postfix/authgate_lists\n"
		"#   authgate-milter -T postfix-regexp > /etc/postfix/authgate_lists.regexp\n"
		"# and list both first in main.cf (before any transport_maps you already have):\n"
		"#   transport_maps = hash:/etc/postfix/authgate_lists,\n"
		"#       regexp:/etc/postfix/authgate_lists.regexp\n"
		"#   postfix reload\n"
		"\n"
		"# --- hash:/etc/postfix/authgate_lists (exact addresses) ---\n",
		c->path ? c->path : "authgate.conf", c->hub.host, (unsigned)c->hub.port);
	routes_postfix_hash(c, out);
	fprintf(out, "\n# --- regexp:/etc/postfix/authgate_lists.regexp (wildcard patterns) ---\n");
	return routes_postfix_regexp(c, out, why);
}

/*
 * sendmail's mailertable is keyed by domain ("example.ac.uk", ".example.ac.uk"),
 * so it cannot send one address of a local domain elsewhere, and virtusertable
 * can only rewrite the address. The mechanism sendmail has for per-address next
 * hops is FEATURE(`ldap_routing') (cf/README, "LDAP ROUTING"): its mailHost map
 * (address -> host) may be any map definition, not only LDAP, and mail for an
 * address found there is relayed to that host with the address unchanged.
 * Exact addresses become a hash map; each wildcard a regex map whose -a value
 * is the hub; a sequence map asks them in turn. FEATURE(`ldap_routing') defines
 * its map in LOCAL_CONFIG too, and sendmail reads a sequence map's members when
 * it meets the sequence: ours come first (tests/integration/t_sendmail_milter.sh).
 */
static bool routes_domain_seen(const struct ag_config *c, size_t i)
{
	const char *at = strrchr(c->protected_lists.v[i], '@');
	size_t j;

	for (j = 0; j < i; j++) {
		const char *other = strrchr(c->protected_lists.v[j], '@');
		if (at != NULL && other != NULL && strcmp(at, other) == 0)
			return true;
	}
	return false;
}

static int routes_sendmail(const struct ag_config *c, FILE *out, const char **why)
{
	char re[ROUTES_MAX_REGEX];
	size_t i, nre = 0;

	fprintf(out,
		"# authgate-milter -T sendmail: routes for the protected lists of %s.\n"
		"# mailertable is keyed by domain and cannot route single addresses;\n"
		"# per-address next hops come from FEATURE(`ldap_routing') with non-LDAP maps\n"
		"# (sendmail cf/README, LDAP ROUTING). The authgate tests run these lines in\n"
		"# Sendmail 8.17.\n"
		"# 1. The address lines at the end, without the comments:\n"
		"#      authgate-milter -T sendmail | grep -v '^#' > /etc/mail/authgate_lists\n"
		"#      makemap hash /etc/mail/authgate_lists < /etc/mail/authgate_lists\n"
		"# 2. In sendmail.mc, before the MAILER lines, the maps first (sendmail\n"
		"#    refuses a sequence map whose members are defined after it):\n"
		"#      LOCAL_CONFIG\n"
		"#      Kauthgate_hash hash -o /etc/mail/authgate_lists\n",
		c->path ? c->path : "authgate.conf");
	for (i = 0; i < c->protected_lists.n; i++) {
		if (!routes_is_wildcard(c->protected_lists.v[i]))
			continue;
		if (routes_pattern_regex(c->protected_lists.v[i], re, sizeof(re)) < 0) {
			*why = "a protected pattern cannot be written as a regex map";
			return -1;
		}
		/*
		 * Sendmail's regex maps fold case unless -f is given (map.c: -f clears
		 * REG_ICASE), so no flag; -a: the value returned on a match.
		 */
		fprintf(out, "#      Kauthgate_re%zu regex -a%s %s\n", ++nre, c->hub.host, re);
	}
	fprintf(out, "#      Kauthgate_lists sequence authgate_hash");
	for (i = 1; i <= nre; i++)
		fprintf(out, " authgate_re%zu", i);
	fprintf(
	    out,
	    "\n#      FEATURE(`ldap_routing', `sequence authgate_lists', `null', `passthru')\n");
	for (i = 0; i < c->protected_lists.n; i++) {
		const char *at = strrchr(c->protected_lists.v[i], '@');

		if (at != NULL && !routes_domain_seen(c, i))
			fprintf(out, "#      LDAPROUTE_DOMAIN(`%s')\n", at + 1);
	}
	if (c->hub.port != 25)
		fprintf(out, "#      define(`RELAY_MAILER_ARGS', `TCP $h %u')\n",
			(unsigned)c->hub.port);
	fprintf(out, "# 3. Rebuild sendmail.cf and restart sendmail.\n\n");
	for (i = 0; i < c->protected_lists.n; i++)
		if (!routes_is_wildcard(c->protected_lists.v[i]))
			fprintf(out, "%s\t%s\n", c->protected_lists.v[i], c->hub.host);
	return 0;
}

int routes_print(const struct ag_config *c, enum routes_format fmt, FILE *out, const char **why)
{
	if (!c->has_hub) {
		*why = "no [lists] hub configured";
		return -1;
	}
	switch (fmt) {
	case ROUTES_POSTFIX:
		return routes_postfix(c, out, why);
	case ROUTES_POSTFIX_HASH:
		return routes_postfix_hash(c, out);
	case ROUTES_POSTFIX_REGEXP:
		return routes_postfix_regexp(c, out, why);
	case ROUTES_SENDMAIL:
		return routes_sendmail(c, out, why);
	}
	*why = "unknown format";
	return -1;
}
