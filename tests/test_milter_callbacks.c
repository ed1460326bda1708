/*
 * test_milter_callbacks.c: the libmilter callbacks driven directly, with libmilter and the
 * process state stubbed: what is agreed at negotiation and what a connect-time failure
 * leads to (issue 16: with SMFIP_NR_CONN the MTA reads no answer to connect, so the
 * message must still be tempfailed at MAIL, RCPT and end of message).
 */
#include "milter/milter.h"
#include "milter/callbacks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* libmilter, stubbed: one connection at a time. */
static void *fake_priv;
static char fake_ctx_storage;
static int fake_headers_added;

void *smfi_getpriv(SMFICTX *ctx)
{
	(void)ctx;
	return fake_priv;
}

int smfi_setpriv(SMFICTX *ctx, void *p)
{
	(void)ctx;
	fake_priv = p;
	return MI_SUCCESS;
}

char *smfi_getsymval(SMFICTX *ctx, char *name)
{
	static char queue_id[] = "4XTEST1";
	static char user[] = "jdoe";

	(void)ctx;
	if (strcmp(name, "i") == 0)
		return queue_id;
	if (strcmp(name, "{auth_authen}") == 0)
		return user;
	return NULL;
}

int smfi_setreply(SMFICTX *ctx, char *code, char *xcode, char *text)
{
	(void)ctx;
	(void)code;
	(void)xcode;
	(void)text;
	return MI_SUCCESS;
}

int smfi_setsymlist(SMFICTX *ctx, int stage, char *list)
{
	(void)ctx;
	(void)stage;
	(void)list;
	return MI_SUCCESS;
}

int smfi_insheader(SMFICTX *ctx, int index, char *name, char *value)
{
	(void)ctx;
	(void)index;
	(void)name;
	(void)value;
	fake_headers_added++;
	return MI_SUCCESS;
}

int smfi_addheader(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	fake_headers_added++;
	return MI_SUCCESS;
}

int smfi_chgheader(SMFICTX *ctx, char *name, int index, char *value)
{
	(void)ctx;
	(void)name;
	(void)index;
	(void)value;
	return MI_SUCCESS;
}

/* state.c, stubbed: the configuration can be missing, audit records are counted. */
static struct ag_config *fake_cfg;
static int fake_audit_tempfails, fake_audit_messages, fake_conns;

struct ag_config *state_config_get(void)
{
	return fake_cfg != NULL ? config_ref(fake_cfg) : NULL;
}

void state_conn_enter(void)
{
	fake_conns++;
}

void state_conn_leave(void)
{
	fake_conns--;
}

void state_audit_write(struct ag_audit_record *r)
{
	if (strcmp(r->event, "tempfail") == 0)
		fake_audit_tempfails++;
	else if (strcmp(r->event, "message") == 0)
		fake_audit_messages++;
}

void milter_log(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

const char *milter_escape(const char *in, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", in);
	return out;
}

static const char conf_text[] = "[general]\n"
				"hostname = smtp.authgate.test\n"
				"authserv_id = smtp.authgate.test\n"
				"[policy]\n"
				"phase = voluntary\n"
				"local_domains = authgate.test\n"
				"[milter]\n"
				"socket = inet:8891@127.0.0.1\n";

static const unsigned long mta_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST;
/* What Postfix offers (milter_protocol = 6). */
static const unsigned long mta_steps =
    SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOHDRS |
    SMFIP_NOEOH | SMFIP_NR_HDR | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NR_CONN | SMFIP_NR_HELO |
    SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_BODY |
    SMFIP_HDR_LEADSPC;

/* One milter connection up to connect; returns connect's answer, *steps what we agreed. */
static sfsistat open_conn(SMFICTX *ctx, unsigned long offered, unsigned long *steps)
{
	struct sockaddr_in sa;
	unsigned long a = 0, f2 = 0, f3 = 0;
	sfsistat r;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(0x7f000001);
	*steps = 0;
	r = milter_desc.xxfi_negotiate(ctx, mta_actions, offered, 0, 0, &a, steps, &f2, &f3);
	if (r != SMFIS_CONTINUE)
		return r;
	return milter_desc.xxfi_connect(ctx, "client.example", (struct sockaddr *)&sa);
}

static void close_conn(SMFICTX *ctx)
{
	milter_desc.xxfi_close(ctx);
}

int main(void)
{
	SMFICTX *ctx = (SMFICTX *)(void *)&fake_ctx_storage;
	struct ag_config_error err;
	char from[] = "<jdoe@authgate.test>", rcpt[] = "<someone@example.org>";
	char *from_argv[] = {from, NULL}, *rcpt_argv[] = {rcpt, NULL};
	char hname[] = "Subject", hvalue[] = "hello";
	unsigned long steps;

	memset(&err, 0, sizeof(err));
	fake_cfg = config_load_string(conf_text, "test", &err);
	if (!ok(fake_cfg != NULL, "the test configuration loads"))
		return tap_done();

	/* The usual case: no reply to connect, the message goes through and is recorded. */
	is_int(open_conn(ctx, mta_steps, &steps), SMFIS_NOREPLY,
	       "with SMFIP_NR_CONN agreed, connect gives no reply");
	ok((steps & SMFIP_NR_CONN) != 0, "SMFIP_NR_CONN is agreed when the MTA offers it");
	ok((steps & SMFIP_NR_HDR) != 0, "SMFIP_NR_HDR is agreed when the MTA offers it");
	ok((steps & (SMFIP_NR_MAIL | SMFIP_NR_RCPT)) == 0,
	   "MAIL and RCPT keep their replies: they can refuse");
	is_int(milter_desc.xxfi_envfrom(ctx, from_argv), SMFIS_CONTINUE, "MAIL FROM continues");
	is_int(milter_desc.xxfi_envrcpt(ctx, rcpt_argv), SMFIS_CONTINUE, "RCPT TO continues");
	is_int(milter_desc.xxfi_header(ctx, hname, hvalue), SMFIS_NOREPLY, "a header: no reply");
	fake_headers_added = 0;
	is_int(milter_desc.xxfi_eom(ctx), SMFIS_CONTINUE, "the end of the message continues");
	is_int(fake_audit_messages, 1, "the message is audited");
	is_int(fake_headers_added, 1, "our Authentication-Results is added");
	close_conn(ctx);
	is_int(fake_conns, 0, "the connection is counted out at close");

	/* An MTA without SMFIP_NR_CONN: connect answers as before. */
	is_int(open_conn(ctx, mta_steps & ~SMFIP_NR_CONN, &steps), SMFIS_CONTINUE,
	       "without SMFIP_NR_CONN, connect answers continue");
	ok((steps & SMFIP_NR_CONN) == 0, "SMFIP_NR_CONN is not agreed when not offered");
	close_conn(ctx);

	/* A connect-time failure (no configuration) with no reply to connect. */
	config_unref(fake_cfg);
	fake_cfg = NULL;
	fake_audit_messages = 0;
	is_int(open_conn(ctx, mta_steps, &steps), SMFIS_NOREPLY,
	       "a connect-time failure under SMFIP_NR_CONN still gives no reply");
	is_int(milter_desc.xxfi_envfrom(ctx, from_argv), SMFIS_TEMPFAIL,
	       "... and MAIL FROM is tempfailed");
	is_int(milter_desc.xxfi_envrcpt(ctx, rcpt_argv), SMFIS_TEMPFAIL,
	       "... RCPT TO is tempfailed (an MTA that goes on)");
	is_int(milter_desc.xxfi_eom(ctx), SMFIS_TEMPFAIL, "... the end of the message too");
	is_int(fake_audit_messages, 0, "... and no message is recorded as accepted");
	is_int(milter_desc.xxfi_envfrom(ctx, from_argv), SMFIS_TEMPFAIL,
	       "... a second MAIL FROM on the connection is tempfailed as well");
	close_conn(ctx);
	is_int(fake_conns, 0, "no connection is left counted");

	/* The same failure where the MTA reads connect's answer: tempfail at once. */
	is_int(open_conn(ctx, mta_steps & ~SMFIP_NR_CONN, &steps), SMFIS_TEMPFAIL,
	       "without SMFIP_NR_CONN, a connect-time failure tempfails at connect");
	close_conn(ctx);
	return tap_done();
}
