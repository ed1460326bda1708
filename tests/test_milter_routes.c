/* test_milter_routes.c: the -T routing tables for the protected lists. */
#include "milter/milter.h"

#include <stdlib.h>

#include "tap.h"

static const char *conf_text =
    "[general]\nhostname = mx.example.ac.uk\n"
    "[policy]\nlocal_domains = example.ac.uk\n"
    "[lists]\nhub = exhub.example.ac.uk:2525\n"
    "protected = staff-all@example.ac.uk, students-*@example.ac.uk, a.b+c@example.ac.uk\n";

/* Run routes_print into a memory buffer. */
static char *print(const struct ag_config *c, enum routes_format fmt, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	const char *why = NULL;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	*rc = routes_print(c, fmt, f, &why);
	fclose(f);
	return buf;
}

int main(void)
{
	struct ag_config_error err;
	struct ag_config *c;
	enum routes_format fmt;
	char re[256], *out;
	int rc = -2;

	/* pattern -> regex */
	ok(routes_pattern_regex("students-*@example.ac.uk", re, sizeof(re)) > 0,
	   "wildcard converts");
	is_str(re, "^students-.*@example\\.ac\\.uk$", "'*' becomes .*, dots are escaped");
	ok(routes_pattern_regex("a+b?{x}|(y)$^[z]@ex.org", re, sizeof(re)) > 0,
	   "metachars convert");
	is_str(re, "^a\\+b\\?\\{x\\}\\|\\(y\\)\\$\\^\\[z\\]@ex\\.org$",
	       "every ERE metachar escaped");
	is_int(routes_pattern_regex("students-*@example.ac.uk", re, 10), -1, "too small a buffer");

	/* format names */
	ok(routes_parse_format("postfix", &fmt) == 0 && fmt == ROUTES_POSTFIX, "-T postfix");
	ok(routes_parse_format("sendmail", &fmt) == 0 && fmt == ROUTES_SENDMAIL, "-T sendmail");
	ok(routes_parse_format("postfix-hash", &fmt) == 0 && fmt == ROUTES_POSTFIX_HASH,
	   "-T postfix-hash");
	ok(routes_parse_format("exim", &fmt) < 0, "unknown MTA refused");

	c = config_load_string(conf_text, "routes.conf", &err);
	ok(c != NULL, "test configuration loads");
	if (c == NULL) {
		printf("# %s\n", err.msg);
		return tap_done();
	}

	out = print(c, ROUTES_POSTFIX_HASH, &rc);
	is_int(rc, 0, "hash table printed");
	is_str(out,
	       "staff-all@example.ac.uk\tsmtp:[exhub.example.ac.uk]:2525\n"
	       "a.b+c@example.ac.uk\tsmtp:[exhub.example.ac.uk]:2525\n",
	       "exact addresses only, hub with brackets and port");
	free(out);

	out = print(c, ROUTES_POSTFIX_REGEXP, &rc);
	is_int(rc, 0, "regexp table printed");
	is_str(out, "/^students-.*@example\\.ac\\.uk$/\tsmtp:[exhub.example.ac.uk]:2525\n",
	       "wildcards only, as a regexp line");
	free(out);

	out = print(c, ROUTES_POSTFIX, &rc);
	is_int(rc, 0, "combined postfix output printed");
	ok(out && strstr(out, "transport_maps = hash:/etc/postfix/authgate_lists") != NULL,
	   "it says which main.cf line to add");
	ok(out && strstr(out, "\nstaff-all@example.ac.uk\tsmtp:") != NULL, "it has the hash part");
	ok(out && strstr(out, "\n/^students-.*@example\\.ac\\.uk$/\tsmtp:") != NULL,
	   "it has the regexp part");
	free(out);

	out = print(c, ROUTES_SENDMAIL, &rc);
	is_int(rc, 0, "sendmail output printed");
	ok(out && strstr(out, "FEATURE(`ldap_routing'") != NULL, "it uses ldap_routing");
	ok(out && strstr(out, "LDAPROUTE_DOMAIN(`example.ac.uk')\n") != NULL,
	   "the list domain is an LDAP routing domain");
	ok(out && strstr(out, "TCP $h 2525") != NULL, "a non-25 hub port is configured");
	ok(out && strstr(out, "regex -aexhub.example.ac.uk ^students-.*@example\\.ac\\.uk$") !=
		      NULL,
	   "wildcards become case-insensitive regex maps");
	ok(out && strstr(out, "regex -f") == NULL, "no -f: sendmail regex maps would match case");
	ok(out && strstr(out, "\nstaff-all@example.ac.uk\texhub.example.ac.uk\n") != NULL,
	   "exact addresses map to the hub host");
	free(out);
	config_unref(c);

	c = config_load_string("[general]\nhostname = mx.example.org\n"
			       "[policy]\nlocal_domains = example.org\n",
			       "nohub.conf", &err);
	ok(c != NULL, "configuration without lists loads");
	if (c != NULL) {
		out = print(c, ROUTES_POSTFIX, &rc);
		is_int(rc, -1, "no hub: -T fails");
		free(out);
		config_unref(c);
	}
	return tap_done();
}
