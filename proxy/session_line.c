/*
 * session_line.c: line framing: complete lines out of the input buffer, one at a time, to the
 * handler of the session's state, each with the length limit RFC 5321 (or RFC 4954) gives it.
 */
#include "session.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "policy/config.h"
#include "log.h"
#include "relay.h"

static size_t session_line_limit(struct proxy_session *s, struct evbuffer *in)
{
	switch (s->state) {
	case SS_DATA:
		return SMTP_MAX_TEXT_LINE;
	case SS_AUTH_PLAIN:
	case SS_AUTH_USERNAME:
	case SS_AUTH_PASSWORD:
		return SMTP_MAX_SASL_LINE;
	default:
		/* Fewer than 5 bytes: well within the smaller limit, nothing decided yet. */
		if (!(s->flags & SF_DISCARDING)) { /* else: the middle of the line, not its start */
			char head[5];
			ev_ssize_t n = evbuffer_copyout(in, head, sizeof(head));

			s->line_sasl = n > 0 && smtp_command_limit(head, (size_t)n) ==
							SMTP_MAX_SASL_LINE;
		}
		return s->line_sasl ? SMTP_MAX_SASL_LINE : SMTP_MAX_COMMAND_LINE;
	}
}

/* crlf: the overlong line ended in CRLF (DATA needs it to find its end). */
static void session_line_too_long(struct proxy_session *s, bool crlf)
{
	switch (s->state) {
	case SS_DATA:
		session_data_overlong(s, crlf);
		break;
	case SS_AUTH_PLAIN:
	case SS_AUTH_USERNAME:
	case SS_AUTH_PASSWORD:
		session_auth_abort(s);
		s->state = SS_COMMAND;
		session_reply_id(s, AG_REPLY_AUTH_LINE_TOO_LONG);
		break;
	default:
		/* An AUTH line with its initial response: the SASL reply (RFC 4954 4). */
		session_reply_id(s, s->line_sasl ? AG_REPLY_AUTH_LINE_TOO_LONG
						 : AG_REPLY_LINE_TOO_LONG);
		break;
	}
}

/*
 * Commands still accept a bare LF as their end, as Postfix did for decades
 * and most servers still do: it is safe because no command line is ever
 * passed on as it came. Each command is parsed here and the relay writes its
 * own, CRLF-terminated, to the backend (relay_send), so there is no second
 * parser downstream to disagree with ours about where a command ends. Message
 * text is the one thing that crosses the proxy byte for byte, and there a
 * bare LF or CR is refused (session_data_line, smtp_text_check). A bare CR
 * inside a command line stays in its arguments, where it reaches no backend
 * raw: addresses refuse control characters (address_parse_path), the HELO
 * name is xtext-encoded in XCLIENT and sanitised in our Received header.
 */
static void session_dispatch(struct proxy_session *s, const char *line, size_t len, bool crlf)
{
	switch (s->state) {
	case SS_COMMAND:
		session_cmd_line(s, line, len);
		/* "AUTH PLAIN <initial response>" held a password too. */
		if (s->line_sasl)
			explicit_bzero(s->line, len);
		break;
	case SS_AUTH_PLAIN:
	case SS_AUTH_USERNAME:
	case SS_AUTH_PASSWORD:
		session_auth_line(s, line, len);
		/* The line held a password (base64 is no protection). */
		explicit_bzero(s->line, len);
		break;
	case SS_DATA:
		session_data_line(s, line, len, crlf);
		break;
	default:
		break;
	}
}

/* A line buffer of at least need + 1 bytes; a big one (SASL) no longer needed goes. */
static int session_line_room(struct proxy_session *s, size_t need)
{
	char *p;

	if (s->line_cap > need && (s->line_cap <= SMTP_MAX_TEXT_LINE + 1 || need > SMTP_MAX_TEXT_LINE))
		return 0;
	p = malloc(need + 1);
	if (p == NULL)
		return -1;
	if (s->line != NULL) {
		explicit_bzero(s->line, s->line_cap);
		free(s->line);
	}
	s->line = p;
	s->line_cap = need + 1;
	return 0;
}

/*
 * Nothing buffered and nothing outstanding: the client's turn, which may be
 * a long one (an idle connection between messages). The line buffer goes
 * until the next line (issue 16); DATA keeps it, lines follow each other.
 */
static void session_line_release(struct proxy_session *s, struct evbuffer *in)
{
	if (s->line == NULL || s->wait != SW_NONE || s->state == SS_DATA ||
	    evbuffer_get_length(in) > 0)
		return;
	explicit_bzero(s->line, s->line_cap);
	free(s->line);
	s->line = NULL;
	s->line_cap = 0;
}

/* Is the byte at pos of in a CR? (How an overlong line we skipped was ended.) */
static bool session_byte_is_cr(struct evbuffer *in, size_t pos)
{
	struct evbuffer_ptr p;
	char c = 0;

	return evbuffer_ptr_set(in, &p, pos, EVBUFFER_PTR_SET) == 0 &&
	       evbuffer_copyout_from(in, &p, &c, 1) == 1 && c == '\r';
}

/*
 * While MAIL or RCPTs are at the backend, only a further RCPT may join them
 * (RFC 2920 3.1: they are sent on in one batch); any other command, or a
 * line too long, waits for their results so its reply cannot overtake theirs.
 */
static bool session_line_must_wait(struct proxy_session *s, const char *line, size_t len)
{
	if (s->state != SS_COMMAND || s->txn.inflight == 0)
		return false;
	return line == NULL || len < 5 || strncasecmp(line, "RCPT ", 5) != 0 ||
	       s->txn.inflight >= RELAY_MAX_PIPELINE;
}

/* Handle complete lines one at a time, in order, until we must wait. */
void session_process(struct proxy_session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);

	s->flags |= SF_IN_PROCESS;
	while (s->wait == SW_NONE &&
	       (s->state == SS_COMMAND || s->state == SS_DATA || s->state == SS_AUTH_PLAIN ||
		s->state == SS_AUTH_USERNAME || s->state == SS_AUTH_PASSWORD)) {
		size_t n = evbuffer_get_length(in), limit = session_line_limit(s, in), peek;
		size_t linelen, textlen;
		enum session_state before = s->state;
		const char *data;
		bool crlf;

		if (n == 0)
			break;
		if (s->flags & SF_DISCARDING) {
			struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);

			if (p.pos < 0) {
				s->discard_cr = session_byte_is_cr(in, n - 1);
				evbuffer_drain(in, n);
				break;
			}
			/* The LF's CR may have gone with an earlier piece of the line. */
			crlf = p.pos > 0 ? session_byte_is_cr(in, (size_t)p.pos - 1) : s->discard_cr;
			evbuffer_drain(in, (size_t)p.pos + 1);
			s->flags &= ~SF_DISCARDING;
			session_line_too_long(s, crlf);
			continue;
		}
		peek = n < limit ? n : limit;
		data = (const char *)evbuffer_pullup(in, (ev_ssize_t)peek);
		if (data == NULL)
			break;
		switch (smtp_line_find(data, peek, limit, &linelen, &textlen)) {
		case SMTP_LINE_NEED_MORE:
			goto out;
		case SMTP_LINE_TOO_LONG:
			if (session_line_must_wait(s, NULL, 0)) {
				session_pause(s, SW_BACKEND);
				goto out;
			}
			if (linelen == 0) {
				/* RFC 5321 4.5.3.1: reply, do not truncate; skip to the LF. */
				s->discard_cr = data[peek - 1] == '\r';
				evbuffer_drain(in, peek);
				s->flags |= SF_DISCARDING;
				continue;
			}
			crlf = linelen >= 2 && data[linelen - 2] == '\r';
			evbuffer_drain(in, linelen);
			session_line_too_long(s, crlf);
			break;
		case SMTP_LINE_OK:
			if (session_line_must_wait(s, data, textlen)) {
				session_pause(s, SW_BACKEND);
				goto out;
			}
			if (session_line_room(s, limit) < 0) {
				log_msg(LOG_ERR, s->id, "out of memory");
				session_reply(s, "421 4.3.0 %s Error: out of memory", s->cfg->hostname);
				session_close(s);
				goto out;
			}
			memcpy(s->line, data, textlen);
			s->line[textlen] = '\0';
			/* smtp_line_find takes one CR off; any other is part of the text. */
			crlf = linelen == textlen + 2;
			evbuffer_drain(in, linelen);
			session_dispatch(s, s->line, textlen, crlf);
			break;
		}
		if (s->state != before && s->state != SS_CLOSING && s->state != SS_STARTTLS)
			session_set_timeout(s);
	}
out:
	s->flags &= ~SF_IN_PROCESS;
	if (s->state == SS_CLOSING || s->state == SS_STARTTLS)
		return;
	if (s->srv->draining && session_idle(s) && evbuffer_get_length(in) == 0) {
		session_reply(s, "421 4.3.2 %s Service shutting down", s->cfg->hostname);
		session_close(s);
		return;
	}
	if ((s->flags & SF_EOF) && s->wait == SW_NONE && s->txn.inflight == 0) {
		session_close(s);
		return;
	}
	session_line_release(s, in);
}

