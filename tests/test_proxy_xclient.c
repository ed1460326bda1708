/* test_proxy_xclient.c: xtext encoding and splitting XCLIENT into <= 512-octet commands. */
#include <string.h>

#include "proxy/xclient.h"
#include "tap.h"

int main(void)
{
	char out[64];
	struct xclient_cmds c;
	const char *why = NULL;
	const char *all = "NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT";
	char longhelo[300];

	ok(xclient_xtext_encode("jdoe", out, sizeof(out)) == 4 && strcmp(out, "jdoe") == 0,
	   "plain text unchanged");
	xclient_xtext_encode("a+b=c d", out, sizeof(out));
	is_str(out, "a+2Bb+3Dc+20d", "plus, equals, space encoded");
	xclient_xtext_encode("\xc3\xa9\x01", out, sizeof(out));
	is_str(out, "+C3+A9+01", "8-bit and control bytes encoded");
	is_int(xclient_xtext_encode("abcdef", out, 6), -1, "too small output refused");
	is_int(xclient_xtext_encode("abcde", out, 6), 5, "exact fit");

	ok(xclient_supports(all, "LOGIN"), "LOGIN advertised");
	ok(xclient_supports(all, "login"), "case-insensitive");
	ok(!xclient_supports(all, "LOG"), "prefix is no match");
	ok(!xclient_supports("NAME ADDR", "LOGIN"), "LOGIN not advertised");

	{
		const struct xclient_attr a[] = {
			{ "LOGIN", "jdoe" }, { "PROTO", "ESMTP" }, { "NAME", NULL },
			{ "ADDR", "203.0.113.7" },
		};

		is_int(xclient_build(all, a, 4, &c, &why), 0, "build ok");
		is_int(c.n, 1, "one command");
		is_str(c.line[0], "XCLIENT LOGIN=jdoe PROTO=ESMTP NAME=[UNAVAILABLE] ADDR=203.0.113.7",
		       "NAME and ADDR last, UNAVAILABLE");
		is_int(xclient_build("NAME ADDR", a, 4, &c, &why), 0, "build with fewer attrs");
		is_str(c.line[0], "XCLIENT NAME=[UNAVAILABLE] ADDR=203.0.113.7",
		       "unadvertised attributes left out");
	}
	{
		struct xclient_attr a[] = {
			{ "ADDR", "203.0.113.7" }, { "HELO", longhelo }, { "LOGIN", longhelo },
			{ "NAME", NULL },
		};
		size_t i;
		bool short_enough = true;

		memset(longhelo, 'h', 250);
		longhelo[250] = '\0';
		is_int(xclient_build(all, a, 4, &c, &why), 0, "long values build");
		ok(c.n >= 2, "split into several commands");
		for (i = 0; i < c.n; i++)
			if (strlen(c.line[i]) + 2 > XCLIENT_MAX_LINE ||
			    strncmp(c.line[i], "XCLIENT ", 8) != 0)
				short_enough = false;
		ok(short_enough, "each command <= 512 with CRLF and starts with XCLIENT");
		ok(strstr(c.line[c.n - 1], "NAME=[UNAVAILABLE]") != NULL &&
			   strstr(c.line[c.n - 1], "ADDR=203.0.113.7") != NULL,
		   "NAME and ADDR together in the last command");
		ok(strstr(c.line[0], "ADDR=") == NULL || c.n == 1, "ADDR not in the first command");

		memset(longhelo, '+', 200); /* 600 after xtext: cannot fit */
		longhelo[200] = '\0';
		is_int(xclient_build(all, a, 4, &c, &why), -1, "an attribute over 512 refused");
		ok(why != NULL, "with a reason");
	}
	return tap_done();
}
