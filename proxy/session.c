/* session.c: one client SMTP session: lifecycle, replies, timeouts, TLS, the audit record. */
#include "session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "io/auditlog.h"
#include "policy/config.h"
#include "log.h"
#include "memtrim.h"
#include "privsep.h"
#include "rdns.h"
#include "relay.h"

static void session_readcb(struct bufferevent *bev, void *arg);
static void session_writecb(struct bufferevent *bev, void *arg);
static void session_eventcb(struct bufferevent *bev, short what, void *arg);

int64_t session_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* 12 base62 characters from the CSPRNG: unguessable and grep-friendly. */
static int session_make_id(char *id)
{
	static const char b62[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t n = 0;

	while (n < SESSION_ID_LEN) {
		unsigned char buf[32];

		if (RAND_bytes(buf, sizeof(buf)) != 1)
			return -1;
		/* Reject 248..255 so every character is equally likely. */
		for (size_t i = 0; i < sizeof(buf) && n < SESSION_ID_LEN; i++)
			if (buf[i] < 248)
				id[n++] = b62[buf[i] % 62];
	}
	id[n] = '\0';
	return 0;
}

int session_addr_from_sockaddr(const struct sockaddr *sa, int salen, struct ag_ip *ip,
			       uint16_t *port)
{
	memset(ip, 0, sizeof(*ip));
	if (sa->sa_family == AF_INET && salen >= (int)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		net_ip_from_v4((const uint8_t *)&sin->sin_addr, ip);
		if (port)
			*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && salen >= (int)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		memcpy(ip->addr, &sin6->sin6_addr, 16);
		if (port)
			*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}

/* TLS is set up on the socket but the handshake is not over: timeout_tls is the one that runs. */
static bool session_handshaking(const struct proxy_session *s)
{
	SSL *ssl;

	if (!SESSION_SECURE(s) || s->bev == NULL ||
	    (ssl = bufferevent_openssl_get_ssl(s->bev)) == NULL)
		return false;
	return !SSL_is_init_finished(ssl);
}

void session_set_timeout(struct proxy_session *s)
{
	struct timeval tv = { 0, 0 };

	if (session_handshaking(s))
		tv.tv_sec = s->cfg->timeout_tls;
	else
		tv.tv_sec = s->state == SS_DATA ? s->cfg->timeout_data : s->cfg->timeout_command;
	if (tv.tv_sec == 0)
		tv.tv_sec = 300;
	bufferevent_set_timeouts(s->bev, &tv, &tv);
}

static void session_bev_setup(struct proxy_session *s)
{
	bufferevent_setcb(s->bev, session_readcb, session_writecb, session_eventcb, s);
	session_set_timeout(s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

static struct bufferevent *session_tls_bev(struct proxy_session *s)
{
	SSL *ssl = SSL_new(s->ssl_ctx);
	struct bufferevent *bev;

	if (ssl == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(s->srv->base, s->fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* Clients often just close after QUIT without close_notify. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

void session_new(struct proxy_server *srv, int fd, const struct sockaddr *sa, int salen,
		 enum listener_kind kind)
{
	struct proxy_session *s = calloc(1, sizeof(*s));

	if (s == NULL || session_make_id(s->id) < 0) {
		log_msg(LOG_ERR, NULL, "out of memory or entropy: connection dropped");
		free(s);
		close(fd);
		return;
	}
	s->srv = srv;
	s->fd = fd;
	s->kind = kind;
	s->cfg = config_ref(srv->cfg);
	SSL_CTX_up_ref(srv->ssl_ctx);
	s->ssl_ctx = srv->ssl_ctx;
	session_addr_from_sockaddr(sa, salen, &s->ip, &s->port);
	if (net_format_ip(&s->ip, s->ip_text, sizeof(s->ip_text)) < 0)
		snprintf(s->ip_text, sizeof(s->ip_text), "unknown");
	memcpy(s->peer_text, s->ip_text, sizeof(s->peer_text));
	s->next = srv->sessions;
	if (srv->sessions)
		srv->sessions->prev = s;
	srv->sessions = s;
	srv->nsessions++;
	/*
	 * Only a listed balancer may name the client: anyone else who sends a
	 * header would pick his own address past the per-IP limits and
	 * trusted_networks. Closed before a byte is read.
	 */
	if (s->cfg->proxy_protocol && !net_cidr_list_match(&s->cfg->proxy_protocol_from, &s->ip)) {
		log_msg(LOG_WARNING, s->id,
			"connection from [%s] refused: not in proxy_protocol_from (PROXY header "
			"not accepted from it); connection closed",
			s->peer_text);
		session_free(s);
		return;
	}
	if (s->cfg->proxy_protocol)
		session_proxy_begin(s); /* calls session_start once the header is in */
	else
		session_start(s);
}

/* Connection limits, counted on the real client (after a PROXY header), not the balancer. */
static const char *session_over_limit(const struct proxy_session *s)
{
	const struct ag_config *cfg = s->cfg;
	unsigned n = 0;

	if (cfg->max_connections > 0 && s->srv->nsessions > cfg->max_connections)
		return "max_connections";
	if (cfg->max_connections_per_ip == 0)
		return NULL;
	for (const struct proxy_session *o = s->srv->sessions; o != NULL; o = o->next)
		if (o != s && o->state != SS_PROXYHDR &&
		    memcmp(o->ip.addr, s->ip.addr, sizeof(s->ip.addr)) == 0)
			n++;
	return n >= cfg->max_connections_per_ip ? "max_connections_per_ip" : NULL;
}

/*
 * Over a limit: said and done at once, on the raw socket, before any TLS.
 * The refused connection holds no slot while a TLS handshake or a slow
 * reader would keep it (a flood from one address must not crowd out
 * others). 587 gets its 421 in clear if the socket takes it now; on 465 the
 * client expects TLS, and a handshake is exactly what we will not spend.
 */
static void session_refuse(struct proxy_session *s, const char *over_limit)
{
	static const char msg[] = "421 4.7.0 Too many connections\r\n";

	log_msg(LOG_WARNING, s->id, "refused [%s]: %s reached", s->ip_text, over_limit);
	session_audit(s, "tempfail", "tempfail", over_limit);
	if (s->kind == LISTENER_SUBMISSION)
		(void)send(s->fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	session_free(s);
}

void session_start(struct proxy_session *s)
{
	const char *over_limit = session_over_limit(s);

	if (over_limit != NULL) {
		session_refuse(s, over_limit);
		return;
	}
	s->state = SS_COMMAND;
	if (s->kind == LISTENER_SMTPS) {
		s->bev = session_tls_bev(s);
		s->flags |= SF_SECURE | SF_BEV_OWNS_FD;
	} else {
		s->bev = bufferevent_socket_new(s->srv->base, s->fd, 0);
	}
	if (s->bev == NULL) {
		log_msg(LOG_ERR, s->id, "cannot set up connection from [%s]", s->ip_text);
		session_free(s);
		return;
	}
	session_bev_setup(s);
	session_name_start(s);
	if (strcmp(s->peer_text, s->ip_text) != 0 || s->cfg->proxy_protocol)
		log_msg(LOG_INFO, s->id, "connect from [%s]:%u via [%s] (%s)", s->ip_text, s->port,
			s->peer_text, s->kind == LISTENER_SMTPS ? "smtps" : "submission");
	else
		log_msg(LOG_INFO, s->id, "connect from [%s]:%u (%s)", s->ip_text, s->port,
			s->kind == LISTENER_SMTPS ? "smtps" : "submission");
	session_audit(s, "connect", "accept", NULL);
	session_reply(s, "220 %s ESMTP authgate", s->cfg->hostname);
}

void session_txn_reset(struct proxy_session *s)
{
	struct session_txn *t = &s->txn;

	for (size_t i = 0; i < t->nrcpts + t->npending; i++)
		free(t->rcpts[i]);
	free(t->rcpts);
	free(t->filter);
	free(t->batch);
	memset(t, 0, sizeof(*t));
	s->flags &= ~SF_MAIL;
	if (s->relay != NULL) {
		relay_free(s->relay);
		s->relay = NULL;
	}
}

void session_free(struct proxy_session *s)
{
	struct proxy_server *srv = s->srv;

	if (s->prev)
		s->prev->next = s->next;
	else
		srv->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	srv->nsessions--;

	if (s->auth_req != 0)
		privsep_cancel(srv->ps, s->auth_req);
	session_proxy_free(s);
	rdns_free(s->rdns); /* its callbacks must never find this session again */
	session_auth_abort(s);
	session_txn_reset(s);
	relay_free(s->relay_idle); /* QUIT, as after any transaction */
	if (s->timer)
		event_free(s->timer);
	if (s->close_timer)
		event_free(s->close_timer);
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	if (!(s->flags & SF_BEV_OWNS_FD) || s->bev == NULL)
		close(s->fd);
	log_msg(LOG_INFO, s->id, "disconnect from [%s]", s->ip_text);
	SSL_CTX_free(s->ssl_ctx);
	config_unref(s->cfg);
	free(s->helo);
	if (s->line != NULL) {
		explicit_bzero(s->line, s->line_cap);
		free(s->line);
	}
	free(s);
	memtrim_note(srv);
	if (srv->draining && srv->nsessions == 0)
		event_base_loopexit(srv->base, NULL);
}

void session_reply(struct proxy_session *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = smtp_vformat_line(buf, sizeof(buf), true, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	bufferevent_write(s->bev, buf, (size_t)n);
}

void session_reply_id(struct proxy_session *s, enum ag_reply_id id)
{
	char buf[512];

	if (reply_format(s->cfg, id, buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "%d %s", reply_get(id)->code, reply_get(id)->enhanced);
	session_reply(s, "%s", buf);
}

static void session_close_expired(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_free(arg);
}

void session_close(struct proxy_session *s)
{
	struct timeval tv = { SESSION_CLOSE_WAIT, 0 };

	s->state = SS_CLOSING;
	/*
	 * A peer that is gone (or never reads) may leave the reply unsent
	 * and no event to tell us: do not wait for it for ever.
	 */
	if (s->close_timer == NULL)
		s->close_timer = evtimer_new(s->srv->base, session_close_expired, s);
	if (s->close_timer != NULL)
		evtimer_add(s->close_timer, &tv);
	bufferevent_disable(s->bev, EV_READ);
	/* The write callback frees the session once the last reply is out. */
	bufferevent_trigger(s->bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

void session_pause(struct proxy_session *s, enum session_wait why)
{
	s->wait = why;
	bufferevent_disable(s->bev, EV_READ);
}

void session_resume(struct proxy_session *s)
{
	s->wait = SW_NONE;
	if (s->state == SS_CLOSING || s->state == SS_STARTTLS)
		return;
	session_set_timeout(s);
	bufferevent_enable(s->bev, EV_READ);
	/* Pipelined commands may already be waiting in the buffer. */
	if (!(s->flags & SF_IN_PROCESS))
		session_process(s);
}

bool session_idle(const struct proxy_session *s)
{
	return s->state == SS_COMMAND && s->wait == SW_NONE && !(s->flags & SF_MAIL);
}

const char *session_tls_version(const struct proxy_session *s)
{
	SSL *ssl;

	if (!SESSION_SECURE(s) || (ssl = bufferevent_openssl_get_ssl(s->bev)) == NULL ||
	    !SSL_is_init_finished(ssl))
		return NULL;
	return SSL_get_version(ssl);
}

void session_audit_fill(struct proxy_session *s, struct ag_audit_record *r, const char *event,
			const char *action, const char *reason)
{
	memset(r, 0, sizeof(*r));
	r->ts_ms = session_now_ms();
	r->component = "proxy";
	r->session = s->id;
	r->client_ip = s->ip_text;
	r->auth_user = SESSION_AUTHENTICATED(s) ? s->auth_user : NULL;
	r->tls = session_tls_version(s);
	r->event = event;
	r->action = action;
	r->reason = reason;
	r->helo = s->helo;
	r->size = -1;
}

void session_audit_write(struct proxy_session *s, const struct ag_audit_record *r)
{
	if (s->srv->audit != NULL && audit_log_write(s->srv->audit, r) < 0)
		log_msg(LOG_ERR, s->id, "audit log write failed: %m");
}

void session_audit(struct proxy_session *s, const char *event, const char *action,
		   const char *reason)
{
	struct ag_audit_record r;

	session_audit_fill(s, &r, event, action, reason);
	session_audit_write(s, &r);
}

static void session_readcb(struct bufferevent *bev, void *arg)
{
	struct proxy_session *s = arg;

	(void)bev;
	if (s->wait == SW_NONE && !(s->flags & SF_IN_PROCESS))
		session_process(s);
}

/* After "220 Ready to start TLS" is out: the same socket, now with TLS (RFC 3207). */
static void session_starttls_switch(struct proxy_session *s)
{
	struct bufferevent *old = s->bev;

	s->bev = session_tls_bev(s);
	bufferevent_free(old);
	if (s->bev == NULL) {
		log_msg(LOG_ERR, s->id, "STARTTLS: cannot set up TLS");
		session_free(s);
		return;
	}
	s->flags |= SF_SECURE | SF_BEV_OWNS_FD;
	s->state = SS_COMMAND;
	session_bev_setup(s);
}

static void session_writecb(struct bufferevent *bev, void *arg)
{
	struct proxy_session *s = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (s->state == SS_CLOSING)
		session_free(s);
	else if (s->state == SS_STARTTLS)
		session_starttls_switch(s);
}

static void session_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct proxy_session *s = arg;
	unsigned long e;

	if (what & BEV_EVENT_CONNECTED) {
		SSL *ssl = bufferevent_openssl_get_ssl(bev);

		if (ssl != NULL)
			log_msg(LOG_INFO, s->id, "TLS %s %s%s", SSL_get_version(ssl),
				SSL_get_cipher_name(ssl), SSL_session_reused(ssl) ? " (resumed)" : "");
		session_set_timeout(s); /* from timeout_tls to the command timeout */
		memtrim_note(s->srv); /* the handshake's buffers are free now */
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && session_handshaking(s)) {
		/* Nothing can be said: there is no TLS to say it in. */
		log_msg(LOG_INFO, s->id, "TLS handshake timeout (timeout_tls) from [%s]", s->ip_text);
		session_free(s);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		log_msg(LOG_INFO, s->id, "timeout after %s from [%s]",
			s->state == SS_DATA ? "DATA" : "command", s->ip_text);
		session_reply(s, "421 4.4.2 %s Error: timeout exceeded", s->cfg->hostname);
		session_close(s);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* A half-closed client may still have pipelined commands for us. */
		if (s->state != SS_CLOSING && s->state != SS_STARTTLS) {
			s->flags |= SF_EOF;
			if (s->wait == SW_NONE && !(s->flags & SF_IN_PROCESS))
				session_process(s);
			return;
		}
	} else if (what & BEV_EVENT_ERROR) {
		e = bufferevent_get_openssl_error(bev);
		if (e != 0) {
			char buf[256];

			ERR_error_string_n(e, buf, sizeof(buf));
			log_msg(LOG_INFO, s->id, "TLS error from [%s]: %s", s->ip_text, buf);
		}
		while (bufferevent_get_openssl_error(bev) != 0)
			;
	}
	session_free(s);
}

void session_drain_all(struct proxy_server *srv)
{
	struct proxy_session *s, *next;

	for (s = srv->sessions; s != NULL; s = next) {
		next = s->next;
		if (s->state == SS_PROXYHDR) { /* not a session yet: nothing to finish */
			session_free(s);
			continue;
		}
		if (session_idle(s) && !(s->flags & SF_IN_PROCESS)) {
			session_reply(s, "421 4.3.2 %s Service shutting down", s->cfg->hostname);
			session_close(s);
		}
	}
}
