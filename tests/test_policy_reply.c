/* test_policy_reply.c: the reply table against INTERFACE.md, help_url, truncation. */
#include <stdio.h>
#include <string.h>

/* Not "config.h": in tests/ that would find autoconf's header in the build directory. */
#include "policy/config.h"
#include "reply.h"
#include "tap.h"

#define HELP "https://www.example.ac.uk/it/authenticated-smtp"

/* Every reply INTERFACE.md names, with the text where it gives one. */
static void test_table(void)
{
	static const struct {
		enum ag_reply_id id;
		int code;
		const char *enhanced, *text;
	} want[] = {
	    {AG_REPLY_AUTH_ENCRYPTION_REQUIRED, 538, "5.7.11",
	     "Encryption required for requested authentication mechanism"},
	    {AG_REPLY_AUTH_REQUIRED, 530, "5.7.0", "Authentication required"},
	    {AG_REPLY_AUTH_INVALID, 535, "5.7.8", "Authentication credentials invalid"},
	    {AG_REPLY_AUTH_TEMPFAIL, 454, "4.7.0", "Temporary authentication failure"},
	    {AG_REPLY_AUTH_TOO_MANY, 421, "4.7.0", NULL},
	    {AG_REPLY_AUTH_UNKNOWN_MECH, 504, "5.5.4", NULL},
	    {AG_REPLY_AUTH_BAD_BASE64, 501, "5.5.2", NULL},
	    {AG_REPLY_AUTH_LINE_TOO_LONG, 500, "5.5.6", NULL},
	    {AG_REPLY_SENDER_NOT_OWNED, 553, "5.7.1", "Sender address rejected: not owned by user"},
	    {AG_REPLY_NO_BACKEND, 451, "4.4.1", NULL},
	    {AG_REPLY_RELAY_AUTH_REQUIRED, 530, "5.7.0", "Authentication required to relay"},
	    {AG_REPLY_LIST_AUTH_ONLY, 550, "5.7.1", "This list accepts only authenticated mail"},
	    {AG_REPLY_LINE_TOO_LONG, 500, "5.5.2", "Line too long"},
	    {AG_REPLY_MESSAGE_TOO_BIG, 552, "5.3.4", NULL},
	};
	size_t i, good = 0, n = sizeof(want) / sizeof(want[0]);

	for (i = 0; i < n; i++) {
		const struct ag_reply *r = reply_get(want[i].id);

		if (r->code == want[i].code && strcmp(r->enhanced, want[i].enhanced) == 0 &&
		    (want[i].text == NULL || strcmp(r->text, want[i].text) == 0) &&
		    (r->code / 100) == (r->enhanced[0] - '0'))
			good++;
		else
			printf("#   id %d: %d %s %s\n", (int)want[i].id, r->code, r->enhanced,
			       r->text);
	}
	is_int(good, n, "every INTERFACE.md reply: code, enhanced code, text");
	ok(reply_get(AG_REPLY_AUTH_REQUIRED)->with_help &&
	       reply_get(AG_REPLY_RELAY_AUTH_REQUIRED)->with_help &&
	       reply_get(AG_REPLY_LIST_AUTH_ONLY)->with_help,
	   "the three rejections INTERFACE.md marks (+ help_url) carry it");
	ok(!reply_get(AG_REPLY_AUTH_INVALID)->with_help &&
	       !reply_get(AG_REPLY_NO_BACKEND)->with_help,
	   "other replies carry no help_url");
	ok(reply_get((enum ag_reply_id)AG_REPLY_COUNT) == reply_get(AG_REPLY_NONE) &&
	       reply_get((enum ag_reply_id) - 1) == reply_get(AG_REPLY_NONE),
	   "out-of-range ids fall back to the NONE entry");
}

static void test_format(void)
{
	struct ag_config_error err;
	struct ag_config *cfg, *nohelp;
	char buf[512];
	int n;

	cfg = config_load_string("[general]\nhostname = h.example\n[policy]\n"
				 "local_domains = example.org\nhelp_url = " HELP "\n",
				 "reply.conf", &err);
	nohelp = config_load_string("[general]\nhostname = h.example\n[policy]\n"
				    "local_domains = example.org\n",
				    "reply.conf", &err);
	if (!ok(cfg != NULL && nohelp != NULL, "configs with and without help_url")) {
		printf("#   %s\n", err.msg);
		return;
	}
	n = reply_format(cfg, AG_REPLY_AUTH_REQUIRED, buf, sizeof(buf));
	is_str(buf, "530 5.7.0 Authentication required (see " HELP ")", "530 with help_url");
	is_int(n, (int)strlen(buf), "reply_format returns the length");
	reply_format(cfg, AG_REPLY_AUTH_INVALID, buf, sizeof(buf));
	is_str(buf, "535 5.7.8 Authentication credentials invalid", "535 never gets the help_url");
	reply_format(nohelp, AG_REPLY_RELAY_AUTH_REQUIRED, buf, sizeof(buf));
	is_str(buf, "530 5.7.0 Authentication required to relay", "empty help_url: nothing added");
	reply_format(NULL, AG_REPLY_LIST_AUTH_ONLY, buf, sizeof(buf));
	is_str(buf, "550 5.7.1 This list accepts only authenticated mail", "cfg NULL: no help_url");
	n = reply_format_text(cfg, AG_REPLY_LIST_AUTH_ONLY, buf, sizeof(buf));
	is_str(buf, "This list accepts only authenticated mail (see " HELP ")",
	       "reply_format_text: text and help, no code (smfi_setreply)");

	/* A reply that does not fit is an error, never a silently cut text. */
	is_int(reply_format_text(cfg, AG_REPLY_LIST_AUTH_ONLY, buf, (size_t)n + 1), n,
	       "exactly fitting buffer");
	is_int(reply_format_text(cfg, AG_REPLY_LIST_AUTH_ONLY, buf, (size_t)n), -1,
	       "one byte short: -1");
	is_int(reply_format(cfg, AG_REPLY_AUTH_REQUIRED, buf, 8), -1, "code does not fit: -1");
	n = reply_format(cfg, AG_REPLY_AUTH_REQUIRED, buf, sizeof(buf));
	is_int(reply_format(cfg, AG_REPLY_AUTH_REQUIRED, buf, (size_t)n), -1,
	       "text does not fit after the code: -1");
	config_unref(cfg);
	config_unref(nohelp);
}

int main(void)
{
	test_table();
	test_format();
	return tap_done();
}
