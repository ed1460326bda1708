/*
 * relay.c: the backend side: one SMTP client connection to the first backend that answers.
 *
 * A backend connection belongs to one client session: opened at its first
 * MAIL FROM (greeting, EHLO, XCLIENT, EHLO). After a transaction that ended
 * well the session keeps it idle (relay_keep.c, backend_idle_timeout) and its
 * next MAIL goes on it straight away while everything that went into XCLIENT
 * is unchanged, as Postfix's smtp client caches connections; it is never
 * shared with another session, whose XCLIENT LOGIN would differ. An aborted
 * transaction (RSET, a failed DATA, a refused MAIL) QUITs or closes it. The
 * RCPTs the client pipelined go with MAIL in one write when the backend offers
 * PIPELINING (relay_queue.c); their replies go back to the session together.
 * Failover to the next backend happens only before the backend has accepted
 * anything (connect, greeting, EHLO, XCLIENT, no reply to MAIL; a kept
 * connection lost there is replaced once, from the first backend); a backend
 * lost later gives the client 451 4.4.1 and nothing is delivered because the
 * final "." was never sent.
 */
#include "relay.h"
#include "relay_priv.h"
#include "relay_out.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>

#include "backend_caps.h"
#include "policy/config.h"
#include "policy/esmtp.h"
#include "log.h"
#include "policy/escape.h"
#include "reply.h"
#include "server.h"
#include "smtp_parse.h"
#include "xclient.h"

/*
 * Relays whose session is gone and which only wait for the backend's reply to
 * QUIT (at most RELAY_QUIT_TIMEOUT): no session holds them, so this list does,
 * and a proxy that stops inside that wait frees them (else they leak at exit).
 */
static struct relay *relay_detached;

void relay_destroy(struct relay *r)
{
	if (r->detached) {
		if (r->detached_prev != NULL)
			r->detached_prev->detached_next = r->detached_next;
		else if (relay_detached == r)
			relay_detached = r->detached_next;
		if (r->detached_next != NULL)
			r->detached_next->detached_prev = r->detached_prev;
	}
	if (r->bev)
		bufferevent_free(r->bev);
	if (r->timer)
		event_free(r->timer);
	if (r->done_ev)
		event_free(r->done_ev);
	relay_out_free(r);
	if (r->cfg_held)
		config_unref(r->cfg_held);
	if (r->qlines)
		evbuffer_free(r->qlines);
	if (r->held)
		evbuffer_free(r->held);
	if (r->results)
		evbuffer_free(r->results);
	free(r);
}

static void relay_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;
	struct relay_result h;
	char reply[RELAY_MAX_REPLY];

	(void)fd;
	(void)what;
	/* The callback may free r (relay_free waits for us) or ask for more. */
	r->delivering = true;
	while (!r->free_wanted && evbuffer_remove(r->results, &h, sizeof(h)) == (int)sizeof(h)) {
		evbuffer_remove(r->results, reply, h.len);
		reply[h.len] = '\0';
		r->cb(r->arg, h.step, h.code, reply);
	}
	r->delivering = false;
	if (r->free_wanted)
		relay_free(r);
}

void relay_complete(struct relay *r, enum relay_step step, int code, const char *reply)
{
	struct {
		struct relay_result h;
		char text[RELAY_MAX_REPLY];
	} m;

	m.h.step = step;
	m.h.code = code;
	m.h.len = strnlen(reply, sizeof(m.text) - 1);
	memcpy(m.text, reply, m.h.len);
	if (evbuffer_add(r->results, &m, sizeof(m.h) + m.h.len) != 0) {
		log_msg(LOG_ERR, r->cl.session_id, "out of memory: a backend reply is lost");
		return;
	}
	/* The replies to a batch go to the client together, once none is outstanding. */
	if (r->qsent == 0 || (step != RELAY_STEP_MAIL && step != RELAY_STEP_RCPT))
		event_active(r->done_ev, EV_TIMEOUT, 0);
}

void relay_complete_451(struct relay *r, enum relay_step step)
{
	char buf[256];
	/* 4.7.0 only for "no backend to start with"; one lost later is 4.4.1 as ever. */
	enum ag_reply_id id = r->xclient_refused && step == RELAY_STEP_MAIL
				      ? AG_REPLY_XCLIENT_UNAVAILABLE
				      : AG_REPLY_NO_BACKEND;

	if (reply_format(r->cfg, id, buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "451 4.4.1 Try again later");
	relay_complete(r, step, 451, buf);
}

void relay_arm(struct relay *r, unsigned seconds)
{
	struct timeval tv = { seconds ? (time_t)seconds : 60, 0 };

	evtimer_add(r->timer, &tv);
}

void relay_send(struct relay *r, enum relay_state next, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = smtp_vformat_line(buf, sizeof(buf), false, fmt, ap);
	va_end(ap);
	if (n < 0) {
		/* Never a cut command: an empty line, which the backend refuses. */
		memcpy(buf, "\r\n", 2);
		n = 2;
	}
	r->state = next;
	r->reply_len = 0;
	r->reply[0] = '\0';
	/* A failure shows as the backend's silence: the timer below, then failover or 451. */
	if (relay_out(r, buf, (size_t)n) != 0)
		log_msg(LOG_ERR, r->cl.session_id, "out of memory: a command for the backend is lost");
	relay_arm(r, r->cfg->timeout_backend);
}

void relay_close_conn(struct relay *r)
{
	if (r->bev != NULL) {
		bufferevent_free(r->bev);
		r->bev = NULL;
	}
	relay_out_discard(r); /* what waited for this connection is not for the next */
	evtimer_del(r->timer);
}

static bool relay_before_mail_accepted(const struct relay *r)
{
	return r->state >= RS_CONNECTING && r->state <= RS_MAIL;
}

/* This backend is no use: next one while nothing was accepted, else 451 for what waits. */
void relay_fail(struct relay *r, const char *why)
{
	enum relay_state st = r->state;
	char esc[1024];

	/* why may quote the backend's reply, which may echo client bytes. */
	log_msg(r->reused && relay_before_mail_accepted(r) ? LOG_INFO : LOG_WARNING,
		r->cl.session_id, "backend %s: %s", r->backend_name,
		escape_log_str(why, esc, sizeof(esc)));
	relay_close_conn(r);
	if (r->detached) {
		relay_destroy(r);
		return;
	}
	if (r->reused && relay_before_mail_accepted(r)) {
		/* The backend's idle timeout met our MAIL: once more, on a new connection. */
		log_msg(LOG_INFO, r->cl.session_id,
			"backend %s: kept connection lost before MAIL was answered: "
			"MAIL again on a new one",
			r->backend_name);
		r->reused = false;
		relay_q_unsend(r);
		r->backend = 0;
		relay_connect_next(r);
		return;
	}
	if (relay_before_mail_accepted(r)) {
		if (r->probe) {
			relay_destroy(r);
			return;
		}
		relay_q_unsend(r);
		r->backend++;
		relay_connect_next(r);
		return;
	}
	r->state = RS_DEAD;
	/* Each RCPT still without a result: 451 in its turn (none is delivered). */
	relay_q_fail(r);
	switch (st) {
	case RS_DATA:
		relay_complete_451(r, RELAY_STEP_DATA);
		break;
	case RS_END:
		relay_complete_451(r, RELAY_STEP_END);
		break;
	case RS_STREAM:
		if (r->drain_wanted) {
			r->drain_wanted = false;
			relay_complete(r, RELAY_STEP_DRAINED, 451, "");
		}
		break;
	default:
		break;
	}
}

static void relay_readcb(struct bufferevent *bev, void *arg)
{
	struct relay *r = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t n;

	if (r->state == RS_KEPT) {
		relay_kept_lost(r, "spoke");
		return;
	}
	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		int code;
		bool last;
		enum relay_state before = r->state;

		if (smtp_reply_parse(line, n, &code, &last) < 0) {
			free(line);
			relay_fail(r, "malformed reply");
			return;
		}
		if (r->state == RS_EHLO || r->state == RS_EHLO2)
			relay_capability(r, line, n);
		if (r->reply_len + n + 3 <= sizeof(r->reply)) {
			if (r->reply_len > 0) {
				memcpy(r->reply + r->reply_len, "\r\n", 2);
				r->reply_len += 2;
			}
			memcpy(r->reply + r->reply_len, line, n);
			r->reply_len += n;
			r->reply[r->reply_len] = '\0';
		}
		free(line);
		if (!last)
			continue;
		relay_reply_done(r, code);
		/* relay_fail may have moved to another backend, or RS_QUIT freed us. */
		if (before == RS_QUIT || r->bev != bev)
			return;
		/* Pipelined replies follow each other in one read. */
		r->reply_len = 0;
		r->reply[0] = '\0';
	}
	if (evbuffer_get_length(in) > RELAY_MAX_PENDING_LINE)
		relay_fail(r, "reply line too long");
}

static void relay_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct relay *r = arg;
	char why[256];

	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;

		/*
		 * Each command is one small write answered by one reply: without
		 * TCP_NODELAY, Nagle holds the next command until the delayed ACK
		 * (~40 ms a message on Linux loopback, measured in bench/).
		 */
		(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		r->state = RS_GREETING;
		relay_arm(r, r->cfg->timeout_backend);
		return;
	}
	if (r->state == RS_QUIT) {
		relay_quit_done(r);
		return;
	}
	if (r->state == RS_KEPT) {
		relay_kept_lost(r, "closed by the backend");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		int dnserr = bufferevent_socket_get_dns_error(bev);

		if (dnserr != 0)
			snprintf(why, sizeof(why), "lookup failed: %s", evutil_gai_strerror(dnserr));
		else
			snprintf(why, sizeof(why), "%s",
				 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	} else {
		snprintf(why, sizeof(why), "connection closed");
	}
	relay_fail(r, why);
}

static void relay_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;

	(void)fd;
	(void)what;
	if (r->state == RS_QUIT) {
		relay_quit_done(r);
		return;
	}
	if (r->state == RS_KEPT) {
		relay_kept_expire(r);
		return;
	}
	relay_fail(r, r->state == RS_CONNECTING ? "connect timeout" : "timeout");
}

void relay_connect_next(struct relay *r)
{
	const struct ag_hostport *hp;

	if (r->backend >= r->cfg->nbackends) {
		log_msg(LOG_ERR, r->cl.session_id, "%s",
			r->xclient_refused ? "no backend takes XCLIENT LOGIN and ADDR from us: "
					     "mail refused with 451 4.7.0"
			: r->ext_refused   ? "no backend offers the SMTPUTF8 or DSN this message "
					     "asks for (any more): 451 4.4.1"
					   : "no backend reachable");
		r->state = RS_DEAD;
		r->backend_name[0] = '\0';
		relay_complete_451(r, RELAY_STEP_MAIL);
		return;
	}
	hp = &r->cfg->backends[r->backend];
	snprintf(r->backend_name, sizeof(r->backend_name), strchr(hp->host, ':') ? "[%s]:%u" : "%s:%u",
		 hp->host, hp->port);
	r->ext_xclient = r->ext_size = r->ext_8bitmime = r->pipelining = false;
	r->ntxn = 0;
	r->unsolicited = false;
	r->bev = bufferevent_socket_new(r->srv->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (r->bev == NULL) {
		r->state = RS_CONNECTING;
		relay_fail(r, "out of memory");
		return;
	}
	bufferevent_setcb(r->bev, relay_readcb, relay_out_writecb, relay_eventcb, r);
	bufferevent_enable(r->bev, EV_READ | EV_WRITE);
	r->state = RS_CONNECTING;
	relay_arm(r, r->cfg->timeout_connect);
	if (bufferevent_socket_connect_hostname(r->bev, r->srv->dns, AF_UNSPEC, hp->host,
						hp->port) < 0)
		relay_fail(r, "cannot connect");
}

struct relay *relay_new(struct proxy_server *srv, const struct ag_config *cfg,
			const struct relay_client *cl, relay_cb cb, void *arg)
{
	struct relay *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->srv = srv;
	r->cfg = cfg;
	r->cl = *cl;
	snprintf(r->sid, sizeof(r->sid), "%s", cl->session_id ? cl->session_id : "-");
	r->cl.session_id = r->sid;
	relay_identity_set(r);
	r->cb = cb;
	r->arg = arg;
	r->timer = evtimer_new(srv->base, relay_timeout, r);
	r->done_ev = event_new(srv->base, -1, 0, relay_done_cb, r);
	r->qlines = evbuffer_new();
	r->held = evbuffer_new();
	r->results = evbuffer_new();
	if (r->timer == NULL || r->done_ev == NULL || r->qlines == NULL || r->held == NULL ||
	    r->results == NULL || relay_out_init(r, srv->base) != 0) {
		relay_destroy(r);
		return NULL;
	}
	return r;
}

void relay_mail(struct relay *r, const char *from, const struct ag_mail_params *mp)
{
	snprintf(r->mail_from, sizeof(r->mail_from), "MAIL FROM:<%s>", from);
	r->mp = *mp;
	if (r->reused) {
		/* A kept connection (relay_reuse): greeting, EHLO and XCLIENT stand. */
		relay_send_mail(r);
		return;
	}
	r->backend = 0;
	relay_connect_next(r);
}

void relay_rcpt(struct relay *r, const char *to, const struct ag_rcpt_params *rp)
{
	char params[AG_MAX_ORCPT + 64], line[1024];
	bool open = r->state >= RS_CONNECTING && r->state <= RS_RCPT;
	int n = -1;

	if (open && esmtp_format_rcpt_params(rp, params, sizeof(params)) >= 0 &&
	    /* The session offered DSN only if this backend did; checked again at MAIL. */
	    !(params[0] != '\0' && r->state >= RS_MAIL && !r->caps.dsn))
		n = snprintf(line, sizeof(line), "RCPT TO:<%s>%s\r\n", to, params);
	if (n >= (int)sizeof(line))
		n = -1; /* never a cut command */
	relay_q_add(r, n < 0 ? NULL : line, n < 0 ? 0 : (size_t)n, n >= 0 && params[0] != '\0');
}

void relay_hold_reply(struct relay *r, const char *reply)
{
	relay_q_hold(r, reply);
}

void relay_probe(struct proxy_server *srv, struct ag_config *cfg, size_t backend)
{
	struct relay_client cl;
	struct relay *r;

	if (backend >= cfg->nbackends)
		return;
	memset(&cl, 0, sizeof(cl));
	cl.session_id = "probe";
	r = relay_new(srv, cfg, &cl, NULL, NULL);
	if (r == NULL)
		return;
	r->cfg_held = config_ref(cfg);
	r->probe = true;
	r->backend = backend;
	relay_connect_next(r);
}

void relay_data(struct relay *r)
{
	if (r->state != RS_READY || r->qn > 0) {
		relay_complete_451(r, RELAY_STEP_DATA);
		return;
	}
	relay_send(r, RS_DATA, "DATA");
}

int relay_write(struct relay *r, const char *data, size_t len)
{
	if (r->state != RS_STREAM || r->bev == NULL || relay_out(r, data, len) != 0)
		return -1;
	if (relay_out_pending(r) > RELAY_HIGH_WATER) {
		/* The write callback (or the flush, if the socket takes all) reports at half. */
		bufferevent_setwatermark(r->bev, EV_WRITE, RELAY_HIGH_WATER / 2, 0);
		r->drain_wanted = true;
		relay_arm(r, r->cfg->timeout_backend);
		return 1;
	}
	return 0;
}

void relay_end(struct relay *r)
{
	if (r->state != RS_STREAM || r->bev == NULL) {
		relay_complete_451(r, RELAY_STEP_END);
		return;
	}
	bufferevent_setwatermark(r->bev, EV_WRITE, 0, 0);
	r->drain_wanted = false;
	relay_send(r, RS_END, ".");
}

bool relay_xclient_refused(const struct relay *r)
{
	return r->xclient_refused && r->state == RS_DEAD;
}

const char *relay_backend_name(const struct relay *r)
{
	return r->backend_name;
}

void relay_free(struct relay *r)
{
	if (r == NULL)
		return;
	if (r->delivering) {
		r->free_wanted = true;
		return;
	}
	event_del(r->done_ev);
	if ((r->state == RS_READY || r->state == RS_KEPT || r->state == RS_QUIT) && r->bev != NULL) {
		/*
		 * Polite end; the backend discards any open envelope. From here
		 * on nothing of the session (cfg, client strings) may be used.
		 * A kept relay whose idle time is up has sent its QUIT already.
		 */
		r->detached = true;
		r->detached_next = relay_detached;
		if (relay_detached != NULL)
			relay_detached->detached_prev = r;
		relay_detached = r;
		if (r->state == RS_QUIT)
			return;
		relay_send(r, RS_QUIT, "QUIT");
		evtimer_del(r->timer);
		relay_arm(r, RELAY_QUIT_TIMEOUT);
		return;
	}
	relay_destroy(r);
}

void relay_free_detached(void)
{
	while (relay_detached != NULL)
		relay_destroy(relay_detached);
}
