/* test_policy_esmtp.c: EHLO keywords learnt, MAIL/RCPT parameters (SIZE, BODY, SMTPUTF8, DSN)
 * validated. */
#include <string.h>

#include "esmtp.h"
#include "tap.h"

static const struct ag_esmtp_allow all = {true, true}, none = {false, false};

static enum ag_param_result mail(const char *p, const struct ag_esmtp_allow *a,
				 struct ag_mail_params *mp)
{
	const char *why = NULL, *bad = NULL;

	return esmtp_parse_mail_params(p, a, mp, &why, &bad);
}

static enum ag_param_result rcpt(const char *p, const struct ag_esmtp_allow *a,
				 struct ag_rcpt_params *rp)
{
	const char *why = NULL, *bad = NULL;

	return esmtp_parse_rcpt_params(p, a, rp, &why, &bad);
}

static void test_caps(void)
{
	struct ag_esmtp_caps c;

	memset(&c, 0, sizeof(c));
	esmtp_caps_line(&c, "250-mx.example.org", 18);
	esmtp_caps_line(&c, "250-SIZE 10240000", 17);
	esmtp_caps_line(&c, "250-SMTPUTF8", 12);
	esmtp_caps_line(&c, "250 DSN", 7);
	ok(c.size && c.size_limit == 10240000, "caps: SIZE value");
	ok(c.smtputf8 && c.dsn, "caps: SMTPUTF8 and DSN");
	memset(&c, 0, sizeof(c));
	esmtp_caps_line(&c, "250-SIZE", 8);
	esmtp_caps_line(&c, "250-DSNX", 8);
	esmtp_caps_line(&c, "250 SMTPUTF8X", 13);
	ok(c.size && c.size_limit == 0, "caps: SIZE alone is no fixed limit");
	ok(!c.dsn && !c.smtputf8, "caps: longer keywords are not ours");
	memset(&c, 0, sizeof(c));
	esmtp_caps_line(&c, "250-SIZE 99999999999999999999999", 32);
	ok(c.size && c.size_limit == 0, "caps: absurd SIZE is no limit of its own");
	esmtp_caps_line(&c, "DSN", 3);
	ok(!c.dsn, "caps: not a reply line");
}

static void test_mail(void)
{
	struct ag_mail_params mp;
	char buf[256];
	const char *why = NULL, *bad = NULL;

	is_int(mail("", &none, &mp), AG_PARAM_OK, "mail: no parameters");
	is_int(mail("SIZE=1000 BODY=8BITMIME", &none, &mp), AG_PARAM_OK, "mail: SIZE and BODY");
	ok(mp.has_size && mp.size == 1000 && mp.body_8bit, "mail: values");
	is_int(mail("SIZE=", &none, &mp), AG_PARAM_SYNTAX, "mail: empty SIZE");
	is_int(mail("SIZE=12a", &none, &mp), AG_PARAM_SYNTAX, "mail: SIZE not a number");
	is_int(mail("SIZE=99999999999999999999", &none, &mp), AG_PARAM_SYNTAX,
	       "mail: SIZE overflow");
	is_int(mail("SIZE=1 SIZE=2", &none, &mp), AG_PARAM_SYNTAX, "mail: SIZE twice");
	is_int(mail("BODY=BINARYMIME", &none, &mp), AG_PARAM_SYNTAX, "mail: BODY=BINARYMIME");
	is_int(mail("AUTH=<>", &none, &mp), AG_PARAM_OK, "mail: AUTH=<> accepted (dropped)");
	is_int(mail("AUTH=a+2Bb", &none, &mp), AG_PARAM_OK, "mail: AUTH xtext");
	is_int(mail("AUTH=a+2b", &none, &mp), AG_PARAM_SYNTAX, "mail: AUTH bad hexchar");
	is_int(mail("SMTPUTF8", &none, &mp), AG_PARAM_UNSUPPORTED,
	       "mail: SMTPUTF8 not offered: 555");
	is_int(mail("SMTPUTF8", &all, &mp), AG_PARAM_OK, "mail: SMTPUTF8 offered");
	ok(mp.smtputf8, "mail: SMTPUTF8 noted");
	is_int(mail("SMTPUTF8=yes", &all, &mp), AG_PARAM_SYNTAX, "mail: SMTPUTF8 takes no value");
	is_int(mail("RET=FULL", &none, &mp), AG_PARAM_UNSUPPORTED, "mail: RET without DSN: 555");
	is_int(mail("ENVID=x", &none, &mp), AG_PARAM_UNSUPPORTED, "mail: ENVID without DSN: 555");
	is_int(mail("ret=hdrs ENVID=QQ+2B314", &all, &mp), AG_PARAM_OK, "mail: RET and ENVID");
	ok(mp.ret == AG_RET_HDRS && strcmp(mp.envid, "QQ+2B314") == 0, "mail: DSN values");
	is_int(mail("RET=BODY", &all, &mp), AG_PARAM_SYNTAX, "mail: RET=BODY refused");
	is_int(mail("RET=FULL RET=HDRS", &all, &mp), AG_PARAM_SYNTAX, "mail: RET twice");
	is_int(mail("ENVID=a+zz", &all, &mp), AG_PARAM_SYNTAX, "mail: ENVID bad hexchar");
	is_int(mail("ENVID=a+4", &all, &mp), AG_PARAM_SYNTAX, "mail: ENVID truncated hexchar");
	is_int(mail("ENVID=a\x01", &all, &mp), AG_PARAM_SYNTAX, "mail: ENVID control char");
	is_int(mail("ENVID=a\xc3\xa9", &all, &mp), AG_PARAM_SYNTAX, "mail: ENVID 8-bit");
	{
		char big[200];

		memset(big, 'x', sizeof(big));
		memcpy(big, "ENVID=", 6);
		big[6 + 100] = '\0';
		is_int(mail(big, &all, &mp), AG_PARAM_OK, "mail: ENVID of 100");
		big[6 + 100] = 'x';
		big[6 + 101] = '\0';
		is_int(mail(big, &all, &mp), AG_PARAM_SYNTAX, "mail: ENVID of 101 refused");
	}
	is_int(mail("FOO=bar", &all, &mp), AG_PARAM_UNSUPPORTED, "mail: unknown keyword: 555");
	is_int(mail("=x", &all, &mp), AG_PARAM_SYNTAX, "mail: no keyword");
	is_int(mail("SIZE=1 X\x7f", &all, &mp), AG_PARAM_SYNTAX, "mail: bad keyword char");
	is_int(mail("BODY=", &all, &mp), AG_PARAM_SYNTAX, "mail: empty value");
	ok(esmtp_parse_mail_params("SIZE=1 FOO=2", &all, &mp, &why, &bad) == AG_PARAM_UNSUPPORTED &&
	       strncmp(bad, "FOO=2", 5) == 0,
	   "mail: bad points at the parameter");

	is_int(mail("SIZE=10 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=id+2B1 AUTH=<>", &all, &mp),
	       AG_PARAM_OK, "format: parse");
	ok(esmtp_format_mail_params(&mp, true, true, buf, sizeof(buf)) > 0 &&
	       strcmp(buf, " SIZE=10 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=id+2B1") == 0,
	   "format: rebuilt, AUTH dropped");
	ok(esmtp_format_mail_params(&mp, false, false, buf, sizeof(buf)) > 0 &&
	       strcmp(buf, " SMTPUTF8 RET=FULL ENVID=id+2B1") == 0,
	   "format: without SIZE/8BITMIME at the backend");
	ok(esmtp_format_mail_params(&mp, true, true, buf, 10) < 0, "format: too small a buffer");
}

static void test_rcpt(void)
{
	struct ag_rcpt_params rp;
	char buf[600];

	is_int(rcpt("", &none, &rp), AG_PARAM_OK, "rcpt: none");
	is_int(rcpt("NOTIFY=NEVER", &none, &rp), AG_PARAM_UNSUPPORTED, "rcpt: NOTIFY without DSN");
	is_int(rcpt("FOO=1", &all, &rp), AG_PARAM_UNSUPPORTED, "rcpt: unknown keyword");
	is_int(rcpt("NOTIFY=SUCCESS,FAILURE,DELAY", &all, &rp), AG_PARAM_OK, "rcpt: NOTIFY list");
	is_int((int)rp.notify, AG_NOTIFY_SUCCESS | AG_NOTIFY_FAILURE | AG_NOTIFY_DELAY,
	       "rcpt: NOTIFY bits");
	is_int(rcpt("NOTIFY=never", &all, &rp), AG_PARAM_OK, "rcpt: NOTIFY=NEVER");
	is_int(rcpt("NOTIFY=NEVER,SUCCESS", &all, &rp), AG_PARAM_SYNTAX, "rcpt: NEVER not alone");
	is_int(rcpt("NOTIFY=SUCCESS,SUCCESS", &all, &rp), AG_PARAM_SYNTAX,
	       "rcpt: NOTIFY repeated word");
	is_int(rcpt("NOTIFY=SUCCESS,", &all, &rp), AG_PARAM_SYNTAX, "rcpt: NOTIFY trailing comma");
	is_int(rcpt("NOTIFY=SOMETIMES", &all, &rp), AG_PARAM_SYNTAX, "rcpt: NOTIFY unknown word");
	is_int(rcpt("NOTIFY=FAILURE NOTIFY=DELAY", &all, &rp), AG_PARAM_SYNTAX,
	       "rcpt: NOTIFY twice");
	is_int(rcpt("ORCPT=rfc822;a+40b.example", &all, &rp), AG_PARAM_OK, "rcpt: ORCPT");
	is_str(rp.orcpt, "rfc822;a+40b.example", "rcpt: ORCPT value");
	is_int(rcpt("ORCPT=RFC822;a@b", &all, &rp), AG_PARAM_OK, "rcpt: ORCPT type any case");
	is_str(rp.orcpt, "rfc822;a@b", "rcpt: ORCPT type normalised");
	is_int(rcpt("ORCPT=rfc822;", &all, &rp), AG_PARAM_SYNTAX, "rcpt: ORCPT empty address");
	is_int(rcpt("ORCPT=x400;a", &all, &rp), AG_PARAM_SYNTAX, "rcpt: ORCPT other type");
	is_int(rcpt("ORCPT=utf-8;a", &all, &rp), AG_PARAM_SYNTAX,
	       "rcpt: ORCPT utf-8 type not passed");
	is_int(rcpt("ORCPT=rfc822;a+4", &all, &rp), AG_PARAM_SYNTAX, "rcpt: ORCPT bad xtext");
	{
		char big[600];

		memset(big, 'x', sizeof(big));
		memcpy(big, "ORCPT=rfc822;", 13);
		big[6 + 500] = '\0';
		is_int(rcpt(big, &all, &rp), AG_PARAM_OK, "rcpt: ORCPT of 500");
		big[6 + 500] = 'x';
		big[6 + 501] = '\0';
		is_int(rcpt(big, &all, &rp), AG_PARAM_SYNTAX, "rcpt: ORCPT of 501 refused");
	}
	is_int(rcpt("NOTIFY=DELAY,SUCCESS ORCPT=rfc822;u+40x", &all, &rp), AG_PARAM_OK,
	       "format: parse");
	ok(esmtp_format_rcpt_params(&rp, buf, sizeof(buf)) > 0 &&
	       strcmp(buf, " NOTIFY=SUCCESS,DELAY ORCPT=rfc822;u+40x") == 0,
	   "format: rcpt rebuilt");
}

int main(void)
{
	test_caps();
	test_mail();
	test_rcpt();
	ok(esmtp_is_xtext("abc+2B", 6) && !esmtp_is_xtext("a=b", 3) && !esmtp_is_xtext("a b", 3),
	   "xtext");
	return tap_done();
}
