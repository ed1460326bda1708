/*
 * fuzz_esmtp.c: MAIL/RCPT parameter validation and the rebuilt form sent to the backend.
 * FUZZ_SOURCES: policy
 */
#include <stdbool.h>

#include "esmtp.h"
#include "fuzz_util.h"

/* What goes to the backend: printable ASCII and spaces only, and it parses back the same. */
static void fuzz_check_wire(const char *buf)
{
	for (const char *p = buf; *p != '\0'; p++)
		FUZZ_ASSERT(*p >= 32 && *p <= 126);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_esmtp_allow allow;
	struct ag_mail_params mp, mp2;
	struct ag_rcpt_params rp, rp2;
	struct ag_esmtp_caps caps;
	const char *why = NULL, *bad = NULL;
	char buf[1024], *s;

	if (size < 1)
		return 0;
	allow.smtputf8 = data[0] & 1;
	allow.dsn = (data[0] & 2) != 0;
	s = fuzz_strndup(data + 1, size - 1);
	if (esmtp_parse_mail_params(s, &allow, &mp, &why, &bad) == AG_PARAM_OK) {
		FUZZ_ASSERT(!mp.smtputf8 || allow.smtputf8);
		FUZZ_ASSERT((mp.ret == AG_RET_NONE && mp.envid[0] == '\0') || allow.dsn);
		FUZZ_ASSERT(esmtp_format_mail_params(&mp, true, true, buf, sizeof(buf)) >= 0);
		fuzz_check_wire(buf);
		FUZZ_ASSERT(esmtp_parse_mail_params(buf, &allow, &mp2, &why, &bad) == AG_PARAM_OK);
		FUZZ_ASSERT(mp2.smtputf8 == mp.smtputf8 && mp2.ret == mp.ret);
		FUZZ_ASSERT(strcmp(mp2.envid, mp.envid) == 0);
	} else {
		FUZZ_ASSERT(why != NULL && bad != NULL && bad >= s && bad <= s + strlen(s));
	}
	if (esmtp_parse_rcpt_params(s, &allow, &rp, &why, &bad) == AG_PARAM_OK) {
		FUZZ_ASSERT((rp.notify == 0 && rp.orcpt[0] == '\0') || allow.dsn);
		FUZZ_ASSERT(esmtp_format_rcpt_params(&rp, buf, sizeof(buf)) >= 0);
		fuzz_check_wire(buf);
		FUZZ_ASSERT(esmtp_parse_rcpt_params(buf, &allow, &rp2, &why, &bad) == AG_PARAM_OK);
		FUZZ_ASSERT(rp2.notify == rp.notify && strcmp(rp2.orcpt, rp.orcpt) == 0);
	} else {
		FUZZ_ASSERT(why != NULL);
	}
	memset(&caps, 0, sizeof(caps));
	esmtp_caps_line(&caps, s, strlen(s));
	free(s);
	return 0;
}
