/* session_data.c: MAIL, RCPT and DATA: policy checks here, the transaction through the relay. */
#include "session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "audit.h"
#include "backend_caps.h"
#include "policy/esmtp.h"
#include "policy/config.h"
#include "log.h"
#include "policy/escape.h"
#include "relay.h"

/*
 * A reply of ours to a RCPT: while MAIL or earlier RCPTs are still at the
 * backend it waits in the relay's queue for their results, so the client's
 * replies keep the order of its commands (RFC 2920 3.1).
 */
void session_reply_ordered(struct proxy_session *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (s->relay == NULL || s->txn.inflight == 0) {
		session_reply(s, "%s", buf);
		return;
	}
	s->txn.inflight++;
	relay_hold_reply(s->relay, buf);
}

static void session_reply_id_ordered(struct proxy_session *s, enum ag_reply_id id)
{
	char buf[512];

	if (reply_format(s->cfg, id, buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "%d %s", reply_get(id)->code, reply_get(id)->enhanced);
	session_reply_ordered(s, "%s", buf);
}

/* A refused MAIL/RCPT parameter: 555 when not offered (RFC 5321 4.1.1.11), 501 when malformed. */
static void params_refuse(struct proxy_session *s, enum ag_param_result res, const char *why,
			  const char *bad)
{
	char esc[ESCAPE_LOG_SIZE(64)];
	size_t n = strcspn(bad, " \t");

	/* Client bytes in a reply: escaped and bounded, as in the log. */
	log_escape(bad, n > 64 ? 64 : n, esc, sizeof(esc));
	if (res == AG_PARAM_UNSUPPORTED)
		session_reply_ordered(s, "555 5.5.4 Unsupported option: %s", esc);
	else
		session_reply_ordered(s, "501 5.5.4 Bad parameter: %s (%s)", esc, why);
}

/* What this session's EHLO offered (backend_caps.c), asked anew: derived, not stored. */
static void session_allow(struct proxy_session *s, struct ag_esmtp_allow *allow,
			  uint64_t *size_limit)
{
	struct ag_esmtp_caps offer;

	backend_caps_offer(s->srv, s->cfg, &offer);
	/* HELO announced no extensions: none may be used (RFC 5321 4.1.1.1). */
	allow->smtputf8 = offer.smtputf8 && (s->flags & SF_EHLO);
	allow->dsn = offer.dsn && (s->flags & SF_EHLO);
	if (size_limit != NULL)
		*size_limit = offer.size_limit;
}

static void data_audit(struct proxy_session *s, const char *event, const char *action,
		       const char *reason, const char *backend_reply)
{
	struct ag_audit_record r;

	session_audit_fill(s, &r, event, action, reason);
	r.mail_from = s->txn.mail_from;
	r.rcpts = (const char *const *)s->txn.rcpts;
	r.nrcpts = s->txn.nrcpts;
	if (s->state == SS_DATA || s->txn.size > 0)
		r.size = (int64_t)s->txn.size;
	if (s->relay != NULL && relay_backend_name(s->relay)[0])
		r.backend = relay_backend_name(s->relay);
	r.backend_reply = backend_reply;
	session_audit_write(s, &r);
}

static const char *action_for_code(int code)
{
	if (code >= 200 && code < 400)
		return "accept";
	return code >= 500 ? "reject" : "tempfail";
}

/* The last line of a (multi-line) reply: what goes into one audit field. */
static const char *reply_last_line(const char *reply)
{
	const char *p = strrchr(reply, '\n');

	return p ? p + 1 : reply;
}

static void session_relay_cb(void *arg, enum relay_step step, int code, const char *reply);

/*
 * Replies to MAIL and the RCPTs pipelined with it wait here, in order, for
 * the reply to the DATA that ends the group, so that the client gets them
 * all in one TLS record and one write, as from Postfix itself (RFC 2920 3.2).
 */
static void session_batch_reply(struct proxy_session *s, const char *reply)
{
	size_t n = strnlen(reply, 1021); /* what session_reply would send of it */
	char *b = realloc(s->txn.batch, s->txn.batch_len + n + 2);

	if (b == NULL) {
		session_batch_flush(s);
		session_reply(s, "%s", reply);
		return;
	}
	memcpy(b + s->txn.batch_len, reply, n);
	memcpy(b + s->txn.batch_len + n, "\r\n", 2);
	s->txn.batch = b;
	s->txn.batch_len += n + 2;
}

void session_batch_flush(struct proxy_session *s)
{
	if (s->txn.batch_len == 0)
		return;
	bufferevent_write(s->bev, s->txn.batch, s->txn.batch_len);
	s->txn.batch_len = 0;
}

/* Is the next command a DATA that will go to the backend (check_data will let it)? */
static bool session_data_follows(struct proxy_session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	char head[6];

	return s->state == SS_COMMAND && (s->flags & SF_MAIL) && s->txn.nrcpts > 0 &&
	       s->relay != NULL && evbuffer_copyout(in, head, sizeof(head)) == sizeof(head) &&
	       strncasecmp(head, "DATA\r\n", sizeof(head)) == 0;
}

void session_mail(struct proxy_session *s, const char *args, size_t len)
{
	struct ag_address addr;
	struct ag_facts f;
	const char *why = NULL, *bad = NULL;
	struct ag_mail_params mp;
	struct ag_esmtp_allow allow;
	enum ag_param_result res;
	uint64_t size_limit;
	struct relay_client cl;

	/* The name goes into XCLIENT, on the connection this MAIL opens: wait for it (bounded). */
	if (session_name_wait(s, args, len))
		return;
	session_allow(s, &allow, &size_limit);
	/*
	 * RFC 6531 3.4: the SMTPUTF8 parameter comes after the path it governs,
	 * so the path is parsed in UTF-8 mode when SMTPUTF8 is offered, and a
	 * non-ASCII path is then refused below unless the parameter was given.
	 */
	if (address_parse_path(args, len, AG_ADDR_NULL_OK | (allow.smtputf8 ? AG_ADDR_UTF8 : 0),
			       &addr, &why) < 0) {
		session_reply_id(s, why == address_why_utf8 ? AG_REPLY_SMTPUTF8_REQUIRED
							    : AG_REPLY_BAD_ADDRESS);
		return;
	}
	res = esmtp_parse_mail_params(args + addr.params_off, &allow, &mp, &why, &bad);
	if (res != AG_PARAM_OK) {
		params_refuse(s, res, why, bad);
		return;
	}
	if (addr.utf8 && !mp.smtputf8) {
		session_reply_id(s, AG_REPLY_SMTPUTF8_REQUIRED);
		return;
	}
	/* RFC 1870 6.1: refused at MAIL, before the upload, if over what any backend takes. */
	if (mp.has_size && mp.size > size_limit) {
		session_reply_id(s, AG_REPLY_MESSAGE_TOO_BIG);
		return;
	}
	memset(&f, 0, sizeof(f));
	f.client = &s->ip;
	f.auth_user = s->auth_user;
	f.mail_from = addr.addr;
	f.now = (int64_t)time(NULL);
	policy_decide_mail(s->cfg, &f, &s->txn.decision);
	snprintf(s->txn.mail_from, sizeof(s->txn.mail_from), "%s", addr.addr);
	if (s->txn.decision.action == AG_ACTION_REJECT ||
	    s->txn.decision.action == AG_ACTION_TEMPFAIL) {
		char esc[ESCAPE_LOG_SIZE(AG_MAX_PATH)], user[ESCAPE_LOG_SIZE(AG_MAX_LOGIN)];

		log_escape(addr.addr, strlen(addr.addr), esc, sizeof(esc));
		log_msg(LOG_NOTICE, s->id, "sender <%s> refused for \"%s\": %s", esc,
			escape_log_str(s->auth_user, user, sizeof(user)), s->txn.decision.reason);
		data_audit(s, s->txn.decision.action == AG_ACTION_REJECT ? "reject" : "tempfail",
			   policy_action_name(s->txn.decision.action), s->txn.decision.reason, NULL);
		session_reply_id(s, s->txn.decision.reply);
		session_txn_reset(s);
		return;
	}
	s->txn.tagged = s->txn.decision.action == AG_ACTION_TAG;
	s->txn.smtputf8 = mp.smtputf8;
	s->txn.size_limit = size_limit;
	s->flags |= SF_MAIL;
	memset(&cl, 0, sizeof(cl));
	cl.session_id = s->id;
	cl.login = s->auth_user;
	cl.client_ip = s->ip_text;
	cl.client_ipv6 = !net_ip_is_v4(&s->ip);
	cl.client_port = s->port;
	cl.helo = s->helo;
	cl.name = session_name_xclient(s);
	/* The last transaction's connection if nothing that went into its XCLIENT changed. */
	s->relay = s->relay_idle;
	s->relay_idle = NULL;
	if (s->relay != NULL && !relay_reuse(s->relay, s->cfg, &cl, &mp)) {
		relay_free(s->relay);
		s->relay = NULL;
	}
	if (s->relay == NULL)
		s->relay = relay_new(s->srv, s->cfg, &cl, session_relay_cb, s);
	if (s->relay == NULL) {
		session_reply_id(s, AG_REPLY_NO_BACKEND);
		session_txn_reset(s);
		return;
	}
	/* Not paused: RCPTs pipelined behind MAIL join it (session_process waits for others). */
	s->txn.inflight = 1;
	relay_mail(s->relay, addr.addr, &mp);
}

void session_rcpt(struct proxy_session *s, const char *args, size_t len)
{
	struct ag_address addr;
	struct ag_rcpt_params rp;
	struct ag_esmtp_allow allow;
	enum ag_param_result res;
	const char *why = NULL, *bad = NULL;
	char **v, *to;

	session_allow(s, &allow, NULL);
	if (address_parse_path(args, len, s->txn.smtputf8 ? AG_ADDR_UTF8 : 0, &addr, &why) < 0) {
		session_reply_id_ordered(s, why == address_why_utf8 ? AG_REPLY_SMTPUTF8_REQUIRED
								    : AG_REPLY_BAD_RCPT_ADDRESS);
		return;
	}
	res = esmtp_parse_rcpt_params(args + addr.params_off, &allow, &rp, &why, &bad);
	if (res != AG_PARAM_OK) {
		params_refuse(s, res, why, bad);
		return;
	}
	if (s->relay == NULL) {
		session_reply_id(s, AG_REPLY_NO_BACKEND);
		return;
	}
	v = realloc(s->txn.rcpts, (s->txn.nrcpts + s->txn.npending + 1) * sizeof(*v));
	if (v != NULL)
		s->txn.rcpts = v;
	to = v != NULL ? strdup(addr.addr) : NULL;
	if (to == NULL) {
		session_reply_ordered(s, "452 4.3.0 Error: out of memory");
		return;
	}
	/* Its result comes through session_relay_cb, in order, with the others'. */
	s->txn.rcpts[s->txn.nrcpts + s->txn.npending++] = to;
	s->txn.inflight++;
	relay_rcpt(s->relay, addr.addr, &rp);
}

void session_data(struct proxy_session *s)
{
	if (s->relay == NULL) {
		session_reply_id(s, AG_REPLY_NO_BACKEND);
		return;
	}
	session_pause(s, SW_BACKEND);
	relay_data(s->relay);
}

static void data_fail(struct proxy_session *s, enum ag_reply_id id)
{
	if (s->txn.data_error == AG_REPLY_NONE)
		s->txn.data_error = id;
	/* Closing mid-DATA makes the backend drop the message: nothing half-delivered. */
	if (s->relay != NULL) {
		relay_free(s->relay);
		s->relay = NULL;
	}
}

static int data_emit(void *arg, const char *line, size_t len)
{
	struct proxy_session *s = arg;
	char buf[SMTP_MAX_TEXT_LINE + 4];
	size_t n = 0;
	int rc;

	if (s->relay == NULL)
		return -1;
	/* Undo the unstuffing we did for the filter (RFC 5321 4.5.2). */
	if (len > 0 && line[0] == '.')
		buf[n++] = '.';
	if (len > SMTP_MAX_TEXT_LINE)
		len = SMTP_MAX_TEXT_LINE;
	memcpy(buf + n, line, len);
	n += len;
	buf[n++] = '\r';
	buf[n++] = '\n';
	rc = relay_write(s->relay, buf, n);
	if (rc < 0) {
		data_fail(s, AG_REPLY_NO_BACKEND);
		return -1;
	}
	if (rc > 0)
		session_pause(s, SW_BACKEND_DRAIN);
	return 0;
}

static int data_headers(struct proxy_session *s)
{
	char buf[2048];
	struct msgfilter_received rv;
	SSL *ssl = SESSION_SECURE(s) ? bufferevent_openssl_get_ssl(s->bev) : NULL;
	int n;

	memset(&rv, 0, sizeof(rv));
	rv.helo = s->helo;
	rv.rdns = session_name(s);
	rv.client_ip = s->ip_text;
	rv.client_ipv6 = !net_ip_is_v4(&s->ip);
	rv.hostname = s->cfg->hostname;
	rv.protocol = msgfilter_protocol(s->flags & SF_EHLO, SESSION_SECURE(s),
					 SESSION_AUTHENTICATED(s));
	rv.id = s->id;
	rv.tls_version = ssl ? SSL_get_version(ssl) : NULL;
	rv.tls_cipher = ssl ? SSL_get_cipher_name(ssl) : NULL;
	rv.auth_user = SESSION_AUTHENTICATED(s) ? s->auth_user : NULL;
	rv.now = (int64_t)time(NULL);
	n = msgfilter_build_received(&rv, buf, sizeof(buf));
	if (n < 0 || relay_write(s->relay, buf, (size_t)n) < 0)
		return -1;
	n = msgfilter_build_auth_results(s->cfg->authserv_id, s->auth_user, buf, sizeof(buf));
	if (n < 0 || relay_write(s->relay, buf, (size_t)n) < 0)
		return -1;
	if (s->txn.tagged) {
		char w[1024];

		if (policy_format_warning(s->cfg, &s->txn.decision, w, sizeof(w)) >= 0) {
			n = snprintf(buf, sizeof(buf), "X-Authgate-Warning: %s\r\n", w);
			if (n > 0 && (size_t)n < sizeof(buf) &&
			    relay_write(s->relay, buf, (size_t)n) < 0)
				return -1;
		}
	}
	return 0;
}

static void data_start(struct proxy_session *s, const char *reply)
{
	s->txn.filter = malloc(sizeof(*s->txn.filter));
	if (s->txn.filter == NULL) {
		session_reply(s, "451 4.3.0 Error: out of memory");
		session_txn_reset(s);
		return;
	}
	msgfilter_init(s->txn.filter, s->cfg->authserv_id);
	s->txn.size = 0;
	s->txn.data_error = AG_REPLY_NONE;
	s->txn.prev_crlf = true; /* "DATA" CRLF, 354, then "." CRLF is an empty message */
	s->state = SS_DATA;
	if (data_headers(s) < 0)
		data_fail(s, AG_REPLY_NO_BACKEND);
	session_reply(s, "%s", reply);
}

static void data_end(struct proxy_session *s)
{
	enum ag_reply_id err;

	if (s->txn.data_error == AG_REPLY_NONE && s->txn.filter != NULL &&
	    msgfilter_finish(s->txn.filter, data_emit, s) != 0 && s->txn.data_error == AG_REPLY_NONE)
		data_fail(s, AG_REPLY_NO_BACKEND);
	err = s->txn.data_error;
	if (err == AG_REPLY_NONE && s->relay != NULL) {
		session_pause(s, SW_BACKEND);
		relay_end(s->relay);
		return;
	}
	if (err == AG_REPLY_NONE)
		err = AG_REPLY_NO_BACKEND;
	{
		char buf[512];

		char esc[AG_MAX_PATH * 4 + 4];

		reply_format(s->cfg, err, buf, sizeof(buf));
		log_escape(s->txn.mail_from, strlen(s->txn.mail_from), esc, sizeof(esc));
		log_msg(LOG_NOTICE, s->id, "message from <%s> not relayed: %s", esc, buf);
		data_audit(s, err == AG_REPLY_NO_BACKEND ? "tempfail" : "reject",
			   err == AG_REPLY_NO_BACKEND ? "tempfail" : "reject", reply_get(err)->text,
			   NULL);
		session_reply(s, "%s", buf);
	}
	s->state = SS_COMMAND;
	session_txn_reset(s);
}

void session_data_line(struct proxy_session *s, const char *line, size_t len, bool crlf)
{
	bool prev_crlf = s->txn.prev_crlf;

	s->txn.prev_crlf = crlf;
	if (smtp_data_end(line, len, crlf, prev_crlf)) {
		data_end(s);
		return;
	}
	s->txn.size += len + 2;
	if (s->txn.size > s->txn.size_limit)
		data_fail(s, AG_REPLY_MESSAGE_TOO_BIG);
	/*
	 * Smuggling: a bare LF or CR, or a NUL, fails the whole message (the backend
	 * connection is dropped mid-DATA, so it discards what it has), and we
	 * keep reading text up to the real CRLF.CRLF, so whatever the client hid
	 * behind "\n.\n" is read as text, never as commands.
	 */
	if (smtp_text_check(line, len, crlf) != SMTP_TEXT_OK)
		data_fail(s, AG_REPLY_BARE_NEWLINE);
	if (s->txn.data_error != AG_REPLY_NONE || s->txn.filter == NULL)
		return;
	/* The filter sees the text as it will be read, without the transparency dot. */
	if (len > 0 && line[0] == '.') {
		line++;
		len--;
	}
	if (msgfilter_line(s->txn.filter, line, len, data_emit, s) == MSGFILTER_LEADING_FOLD)
		data_fail(s, AG_REPLY_LEADING_FOLD);
}

void session_data_overlong(struct proxy_session *s, bool crlf)
{
	s->txn.prev_crlf = crlf;
	/* RFC 5321 4.5.3.1.6: refuse at the end rather than fold or cut the text. */
	data_fail(s, AG_REPLY_LINE_TOO_LONG);
}

static void session_relay_cb(void *arg, enum relay_step step, int code, const char *reply)
{
	struct proxy_session *s = arg;
	bool ok = code >= 200 && code < 300;

	switch (step) {
	case RELAY_STEP_MAIL:
		s->txn.inflight--;
		session_batch_reply(s, reply);
		if (!ok) {
			bool none = s->relay == NULL || relay_backend_name(s->relay)[0] == '\0';
			const char *why = none ? "no backend reachable" : "backend refused sender";

			if (s->relay != NULL && relay_xclient_refused(s->relay))
				why = "no backend takes XCLIENT LOGIN and ADDR";
			data_audit(s, code >= 500 ? "reject" : "tempfail", action_for_code(code), why,
				   reply_last_line(reply));
			/*
			 * The RCPTs pipelined behind it: a temporary failure (no backend,
			 * one lost) is theirs too, so no client bounces a recipient for
			 * it; after a permanent one, what check_rcpt says without MAIL.
			 */
			while (s->txn.inflight > 0) {
				s->txn.inflight--;
				if (s->txn.inflight == 0 && (s->flags & SF_CLOSE_AFTER_BATCH)) {
					/* The last one held is the 421 of session_count_error. */
					char bye[512];

					snprintf(bye, sizeof(bye), SESSION_TOO_MANY_ERRORS,
						 s->cfg->hostname);
					session_batch_reply(s, bye);
					break;
				}
				session_batch_reply(s, code / 100 == 4
							       ? reply
							       : "503 5.5.1 Error: need MAIL command");
			}
			session_batch_flush(s);
			session_txn_reset(s);
		}
		break;
	case RELAY_STEP_RCPT: {
		char **pending = s->txn.rcpts + s->txn.nrcpts;

		s->txn.inflight--;
		if (s->txn.npending == 0)
			break; /* not ours: never */
		s->txn.npending--;
		if (ok) {
			s->txn.nrcpts++;
		} else {
			free(pending[0]);
			memmove(pending, pending + 1, s->txn.npending * sizeof(*pending));
		}
		session_batch_reply(s, reply);
		break;
	}
	case RELAY_STEP_HELD:
		s->txn.inflight--;
		session_batch_reply(s, reply);
		break;
	case RELAY_STEP_DATA:
		session_batch_flush(s);
		if (code == 354) {
			data_start(s, reply);
			break;
		}
		session_reply(s, "%s", reply);
		if (code == 451 && s->relay != NULL && relay_backend_name(s->relay)[0] == '\0')
			session_txn_reset(s);
		break;
	case RELAY_STEP_END: {
		char esc[AG_MAX_PATH * 4 + 4], rep[512];
		const char *last = reply_last_line(reply);

		log_escape(s->txn.mail_from, strlen(s->txn.mail_from), esc, sizeof(esc));
		log_escape(last, strlen(last), rep, sizeof(rep));
		log_msg(LOG_INFO, s->id, "from=<%s> nrcpt=%zu size=%llu backend=%s: %s", esc,
			s->txn.nrcpts, (unsigned long long)s->txn.size,
			s->relay ? relay_backend_name(s->relay) : "", rep);
		data_audit(s, "message", action_for_code(code), NULL, reply_last_line(reply));
		session_reply(s, "%s", reply);
		if (relay_keep(s->relay, code)) {
			s->relay_idle = s->relay;
			s->relay = NULL;
		}
		s->state = SS_COMMAND;
		session_txn_reset(s);
		break;
	}
	case RELAY_STEP_DRAINED:
		if (code == 451)
			data_fail(s, AG_REPLY_NO_BACKEND);
		break;
	}
	/* More results of this batch follow at once; the client's next line waits for them. */
	if (s->txn.inflight > 0)
		return;
	if (s->flags & SF_CLOSE_AFTER_BATCH) {
		/* Its 421 was the batch's last reply: nothing more is read. */
		session_batch_flush(s);
		session_close(s);
		return;
	}
	/* Anything but a DATA that goes on: its reply must not overtake the group's. */
	if (!session_data_follows(s))
		session_batch_flush(s);
	session_resume(s);
}
