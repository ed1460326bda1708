/* session_cmd.c: the SMTP command table: for each verb a check (allowed now?) and a proceed. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "backend_caps.h"
#include "policy/config.h"
#include "log.h"

/* A check replies and returns -1 when the command may not run now. */
typedef int (*session_check_fn)(struct proxy_session *s, const struct smtp_command *c);
typedef void (*session_proceed_fn)(struct proxy_session *s, const struct smtp_command *c);

struct session_cmd {
	enum smtp_verb verb;
	session_check_fn check;
	session_proceed_fn proceed;
};

static int check_syntax_none(struct proxy_session *s, const struct smtp_command *c)
{
	if (c->args_len != 0) {
		session_reply(s, "501 5.5.4 Syntax: %s", smtp_verb_name(c->verb));
		return -1;
	}
	return 0;
}

static int check_helo(struct proxy_session *s, const struct smtp_command *c)
{
	if (c->args_len == 0) {
		session_reply(s, "501 5.5.4 Syntax: %s hostname", smtp_verb_name(c->verb));
		return -1;
	}
	return 0;
}

static void helo_store(struct proxy_session *s, const struct smtp_command *c)
{
	size_t n = c->args_len < SMTP_MAX_COMMAND_LINE - 1 ? c->args_len : SMTP_MAX_COMMAND_LINE - 1;
	char *helo = malloc(n + 1);

	/* RFC 5321 4.1.1.1: a new EHLO/HELO is an implicit RSET. */
	session_txn_reset(s);
	free(s->helo);
	s->helo = helo;
	if (helo != NULL) {
		memcpy(helo, c->args, n);
		helo[n] = '\0';
	} else {
		/* Only named in XCLIENT and Received: both say nothing without it. */
		log_msg(LOG_ERR, s->id, "out of memory: HELO name not kept");
	}
	s->flags |= SF_GREETED;
}

static void proceed_helo(struct proxy_session *s, const struct smtp_command *c)
{
	helo_store(s, c);
	s->flags &= ~SF_EHLO;
	session_reply(s, "250 %s", s->cfg->hostname);
}

static void proceed_ehlo(struct proxy_session *s, const struct smtp_command *c)
{
	struct ag_esmtp_caps offer;

	helo_store(s, c);
	s->flags |= SF_EHLO;
	session_reply(s, "250-%s", s->cfg->hostname);
	session_reply(s, "250-PIPELINING");
	/* Derived from what the backends offer (backend_caps.c), never promised beyond it. */
	backend_caps_offer(s->srv, s->cfg, &offer);
	session_reply(s, "250-SIZE %llu", (unsigned long long)offer.size_limit);
	if (offer.dsn)
		session_reply(s, "250-DSN");
	if (offer.smtputf8)
		session_reply(s, "250-SMTPUTF8");
	if (ADVERTISE_STARTTLS(s))
		session_reply(s, "250-STARTTLS");
	if (ADVERTISE_AUTH(s)) {
		session_reply(s, "250-AUTH PLAIN LOGIN");
		/* Outlook Express and other pre-RFC 2554 clients look for this form. */
		session_reply(s, "250-AUTH=PLAIN LOGIN");
	}
	session_reply(s, "250-ENHANCEDSTATUSCODES");
	session_reply(s, "250 8BITMIME");
}

static int check_starttls(struct proxy_session *s, const struct smtp_command *c)
{
	if (SESSION_SECURE(s)) {
		session_reply(s, "554 5.5.1 Error: TLS already active");
		return -1;
	}
	if (!ADVERTISE_STARTTLS(s)) {
		session_reply(s, "502 5.5.1 Error: command not implemented");
		return -1;
	}
	return check_syntax_none(s, c);
}

void session_starttls_begin(struct proxy_session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	size_t extra = evbuffer_get_length(in);

	/*
	 * RFC 3207 section 4 (and CVE-2011-0411): anything pipelined after
	 * STARTTLS arrived in plaintext and must not be executed under TLS.
	 */
	if (extra > 0) {
		log_msg(LOG_NOTICE, s->id, "discarded %zu bytes sent after STARTTLS by [%s]", extra,
			s->ip_text);
		evbuffer_drain(in, extra);
	}
	session_txn_reset(s);
	s->flags &= ~(SF_EHLO | SF_GREETED);
	free(s->helo);
	s->helo = NULL;
	session_reply(s, "220 2.0.0 Ready to start TLS");
	s->state = SS_STARTTLS;
	bufferevent_disable(s->bev, EV_READ);
}

static void proceed_starttls(struct proxy_session *s, const struct smtp_command *c)
{
	(void)c;
	session_starttls_begin(s);
}

static int check_auth(struct proxy_session *s, const struct smtp_command *c)
{
	if (!SESSION_SECURE(s)) {
		session_reply_id(s, AG_REPLY_AUTH_ENCRYPTION_REQUIRED);
		return -1;
	}
	if (SESSION_AUTHENTICATED(s)) {
		session_reply_id(s, AG_REPLY_AUTH_ALREADY);
		return -1;
	}
	if (!(s->flags & SF_EHLO)) {
		session_reply(s, "503 5.5.1 Error: send EHLO first");
		return -1;
	}
	if (s->flags & SF_MAIL) {
		session_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
		return -1;
	}
	if (c->args_len == 0) {
		session_reply(s, "501 5.5.4 Syntax: AUTH mechanism");
		return -1;
	}
	return 0;
}

static void proceed_auth(struct proxy_session *s, const struct smtp_command *c)
{
	session_auth_start(s, c->args, c->args_len);
}

static int check_mail(struct proxy_session *s, const struct smtp_command *c)
{
	if (!SESSION_AUTHENTICATED(s)) {
		session_reply_id(s, AG_REPLY_AUTH_REQUIRED);
		return -1;
	}
	if (s->flags & SF_MAIL) {
		session_reply(s, "503 5.5.1 Error: nested MAIL command");
		return -1;
	}
	if (smtp_args_after(c->args, c->args_len, "FROM:", &(size_t){ 0 }) == NULL) {
		session_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return -1;
	}
	return 0;
}

static void proceed_mail(struct proxy_session *s, const struct smtp_command *c)
{
	size_t len;
	const char *rest = smtp_args_after(c->args, c->args_len, "FROM:", &len);

	session_mail(s, rest, len);
}

static int check_rcpt(struct proxy_session *s, const struct smtp_command *c)
{
	if (!(s->flags & SF_MAIL)) {
		session_reply_ordered(s, "503 5.5.1 Error: need MAIL command");
		return -1;
	}
	if (smtp_args_after(c->args, c->args_len, "TO:", &(size_t){ 0 }) == NULL) {
		session_reply_ordered(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return -1;
	}
	/* Those still at the backend count: they may all be accepted. */
	if (s->txn.nrcpts + s->txn.npending >= SESSION_MAX_RCPTS) {
		session_reply_ordered(s, "452 4.5.3 Error: too many recipients");
		return -1;
	}
	return 0;
}

static void proceed_rcpt(struct proxy_session *s, const struct smtp_command *c)
{
	size_t len;
	const char *rest = smtp_args_after(c->args, c->args_len, "TO:", &len);

	session_rcpt(s, rest, len);
}

static int check_data(struct proxy_session *s, const struct smtp_command *c)
{
	if (!(s->flags & SF_MAIL)) {
		session_reply(s, "503 5.5.1 Error: need RCPT command");
		return -1;
	}
	if (s->txn.nrcpts == 0) {
		session_reply(s, "554 5.5.1 Error: no valid recipients");
		return -1;
	}
	return check_syntax_none(s, c);
}

static void proceed_data(struct proxy_session *s, const struct smtp_command *c)
{
	(void)c;
	session_data(s);
}

static void proceed_rset(struct proxy_session *s, const struct smtp_command *c)
{
	(void)c;
	session_txn_reset(s);
	session_reply(s, "250 2.0.0 Ok");
}

static void proceed_noop(struct proxy_session *s, const struct smtp_command *c)
{
	(void)c;
	session_reply(s, "250 2.0.0 Ok");
}

static void proceed_quit(struct proxy_session *s, const struct smtp_command *c)
{
	(void)c;
	session_reply(s, "221 2.0.0 Bye");
	session_close(s);
}

static void proceed_help(struct proxy_session *s, const struct smtp_command *c)
{
	(void)c;
	if (s->cfg->help_url && s->cfg->help_url[0])
		session_reply(s, "214-2.0.0 See %s", s->cfg->help_url);
	session_reply(s, "214 2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA RSET NOOP "
			 "QUIT HELP");
}

static void proceed_vrfy(struct proxy_session *s, const struct smtp_command *c)
{
	/* As Postfix with disable_vrfy_command: no address harvesting through us. */
	session_reply(s, "502 5.5.1 %s command is disabled", smtp_verb_name(c->verb));
}

static const struct session_cmd session_cmds[] = {
	{ SMTP_CMD_HELO, check_helo, proceed_helo },
	{ SMTP_CMD_EHLO, check_helo, proceed_ehlo },
	{ SMTP_CMD_STARTTLS, check_starttls, proceed_starttls },
	{ SMTP_CMD_AUTH, check_auth, proceed_auth },
	{ SMTP_CMD_MAIL, check_mail, proceed_mail },
	{ SMTP_CMD_RCPT, check_rcpt, proceed_rcpt },
	{ SMTP_CMD_DATA, check_data, proceed_data },
	{ SMTP_CMD_RSET, check_syntax_none, proceed_rset },
	{ SMTP_CMD_NOOP, NULL, proceed_noop },
	{ SMTP_CMD_QUIT, NULL, proceed_quit },
	{ SMTP_CMD_HELP, NULL, proceed_help },
	{ SMTP_CMD_VRFY, NULL, proceed_vrfy },
	{ SMTP_CMD_EXPN, NULL, proceed_vrfy },
};

static void session_count_error(struct proxy_session *s)
{
	if (++s->errors < SESSION_MAX_ERRORS)
		return;
	log_msg(LOG_NOTICE, s->id, "too many errors from [%s]", s->ip_text);
	if (s->relay != NULL && s->txn.inflight > 0) {
		/*
		 * Pipelined RCPTs still wait for their replies: the 421 takes its
		 * turn after them (RFC 2920 3.1), and nothing more is read; the
		 * session closes once it is out (session_relay_cb).
		 */
		session_reply_ordered(s, SESSION_TOO_MANY_ERRORS, s->cfg->hostname);
		s->flags |= SF_CLOSE_AFTER_BATCH;
		session_pause(s, SW_BACKEND);
		return;
	}
	session_reply(s, SESSION_TOO_MANY_ERRORS, s->cfg->hostname);
	session_close(s);
}

void session_cmd_line(struct proxy_session *s, const char *line, size_t len)
{
	struct smtp_command c;

	smtp_command_parse(line, len, &c);
	for (size_t i = 0; i < sizeof(session_cmds) / sizeof(session_cmds[0]); i++) {
		const struct session_cmd *cmd = &session_cmds[i];

		if (cmd->verb != c.verb)
			continue;
		if (cmd->check != NULL && cmd->check(s, &c) < 0) {
			session_count_error(s);
			return;
		}
		cmd->proceed(s, &c);
		return;
	}
	session_reply(s, "502 5.5.2 Error: command not recognized");
	session_count_error(s);
}
