/* smtpload_conn.c: one client SMTP session as a state machine on libevent bufferevents. */

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "smtpload.h"

#define LOAD_MAX_REPLY_LINE 8192 /* longer without CRLF: the server is not speaking SMTP */

enum conn_state {
	ST_CONNECTING, /* TCP handshake */
	ST_TLS,	       /* TLS handshake (implicit, or after STARTTLS) */
	ST_BANNER,     /* waiting for 220 */
	ST_EHLO,
	ST_STARTTLS,
	ST_AUTH,
	ST_MAIL,
	ST_RCPT,
	ST_DATA,
	ST_BODY,
	ST_QUIT,    /* waiting for 221 */
	ST_CLOSING, /* 221 seen: waiting for the server to close first */
	ST_HELD,    /* hold mode: TLS + EHLO done, idle */
};

struct load_conn {
	struct load_run *run;
	struct load_conn *prev, *next;
	int fd; /* owned until a bufferevent with CLOSE_ON_FREE takes it */
	struct event *ev_connect;
	struct bufferevent *bev;
	enum conn_state st;
	bool tls;	/* TLS is up */
	unsigned quota; /* messages this connection may still send */
	unsigned sent;
	bool in_msg; /* a counted message is in flight */
	unsigned skip; /* --pipeline: replies still due to commands of a failed transaction */
	bool held;
	uint64_t t0;	  /* connect() called */
	uint64_t t_phase; /* start of the phase being timed */
	uint64_t t_msg;
};

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

static void conn_free(struct load_conn *c)
{
	struct load_run *run = c->run;

	if (c->prev)
		c->prev->next = c->next;
	else
		run->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->ev_connect)
		event_free(c->ev_connect);
	if (c->bev)
		bufferevent_free(c->bev); /* closes fd and frees the SSL (CLOSE_ON_FREE) */
	else if (c->fd >= 0)
		close(c->fd);
	if (c->held)
		run->held--;
	run->active--;
	free(c);
}

static bool run_hold_mode(const struct load_run *run)
{
	return run->o.hold > 0;
}

static void hold_check_ready(struct load_run *run)
{
	FILE *f;

	if (run->hold_reported || run->held + run->hold_failed < run->o.hold)
		return;
	run->hold_reported = true;
	fprintf(stderr, "smtpload: holding %u connections (%u failed)\n", run->held,
		run->hold_failed);
	if (run->o.ready_file) {
		f = fopen(run->o.ready_file, "w");
		if (f) {
			fprintf(f, "held %u failed %u\n", run->held, run->hold_failed);
			fclose(f);
		}
	}
	if (run->ev_hold) {
		struct timeval tv = {
		    (time_t)run->o.hold_seconds,
		    (suseconds_t)((run->o.hold_seconds - (double)(time_t)run->o.hold_seconds) *
				  1e6)};
		event_add(run->ev_hold, &tv);
	}
}

/* A failure: count it once (e == ERR_COUNT: already counted as a reply code), give back
 * the messages this connection will not send. */
static void conn_fail(struct load_conn *c, enum load_err e)
{
	struct load_run *run = c->run;

	if (c->st == ST_CLOSING) { /* the server's close after 221 raced our read */
		run->conns_ok++;
	} else {
		if (e != ERR_COUNT)
			stats_count_error(run, e);
		if (c->in_msg)
			run->msgs_failed++;
		if (run_hold_mode(run) && !c->held)
			run->hold_failed++;
	}
	run->reserved -= c->quota;
	conn_free(c);
	if (run_hold_mode(run))
		hold_check_ready(run);
	if (run->o.max_errors && run->errors_total > run->o.max_errors && !run->stopping) {
		fprintf(stderr, "smtpload: more than %llu errors: stopping\n",
			(unsigned long long)run->o.max_errors);
		run->aborted = true;
		run->stopping = true;
	}
	conn_launch_more(run);
	run_check_done(run);
}

static void conn_done(struct load_conn *c)
{
	struct load_run *run = c->run;

	run->conns_ok++;
	run->reserved -= c->quota;
	conn_free(c);
	conn_launch_more(run);
	run_check_done(run);
}

static void conn_send(struct load_conn *c, const char *line, enum conn_state next)
{
	evbuffer_add_reference(bufferevent_get_output(c->bev), line, strlen(line), NULL, NULL);
	c->st = next;
}

static void conn_set_timeouts(struct load_conn *c, bool on)
{
	struct timeval tv = {(time_t)c->run->o.timeout, 0};

	bufferevent_set_timeouts(c->bev, on ? &tv : NULL, on ? &tv : NULL);
}

static int conn_start_tls(struct load_conn *c)
{
	struct load_run *run = c->run;
	SSL *ssl;

	ssl = SSL_new(run->ssl_ctx);
	if (!ssl)
		return -1;
	SSL_set_tlsext_host_name(ssl, "localhost");
	if (run->o.resume && run->session)
		SSL_set_session(ssl, run->session);
	c->bev = bufferevent_openssl_socket_new(run->base, c->fd, ssl, BUFFEREVENT_SSL_CONNECTING,
						BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		SSL_free(ssl);
		return -1;
	}
	c->fd = -1;
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	conn_set_timeouts(c, true);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->st = ST_TLS;
	c->t_phase = load_now_us();
	return 0;
}

static int conn_start_plain(struct load_conn *c, int opts)
{
	c->bev = bufferevent_socket_new(c->run->base, c->fd, opts);
	if (!c->bev)
		return -1;
	if (opts & BEV_OPT_CLOSE_ON_FREE)
		c->fd = -1;
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	conn_set_timeouts(c, true);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->st = ST_BANNER;
	return 0;
}

/* After the STARTTLS 220 the server says nothing until the handshake (RFC 3207), so the
 * plain bufferevent can be dropped and the same socket handed to an SSL one. */
static int conn_switch_to_tls(struct load_conn *c)
{
	struct bufferevent *old = c->bev;

	if (evbuffer_get_length(bufferevent_get_input(old)) != 0)
		return -1; /* RFC 3207 sec. 4.2: data after 220 is an injection attempt */
	c->fd = bufferevent_getfd(old);
	c->bev = NULL;
	bufferevent_free(old); /* opened without CLOSE_ON_FREE: the socket stays open */
	return conn_start_tls(c);
}

static void conn_next_message(struct load_conn *c)
{
	struct load_run *run = c->run;
	uint64_t now = load_now_us();

	if (c->sent > 0 && !c->in_msg && c->quota == 0)
		hist_add(&run->hist[PH_SESSION], now - c->t0);
	if (c->quota == 0 || run->stopping) {
		conn_send(c, "QUIT\r\n", ST_QUIT);
		return;
	}
	c->quota--;
	c->in_msg = true;
	run->msgs_started++;
	c->t_msg = now;
	if (run->o.pipeline) {
		/* RFC 2920 3.1: the envelope and DATA as one group; the replies come in order. */
		conn_send(c, run->mail_line, ST_MAIL);
		conn_send(c, run->rcpt_line, ST_MAIL);
		conn_send(c, "DATA\r\n", ST_MAIL);
		return;
	}
	conn_send(c, run->mail_line, ST_MAIL);
}

static void conn_ready(struct load_conn *c)
{
	struct load_run *run = c->run;
	uint64_t now = load_now_us();

	hist_add(&run->hist[PH_SETUP], now - c->t0);
	if (run_hold_mode(run)) {
		c->st = ST_HELD;
		c->held = true;
		run->held++;
		if (run->held > run->held_peak)
			run->held_peak = run->held;
		conn_set_timeouts(c, false);
		hold_check_ready(run);
		conn_launch_more(run);
		return;
	}
	if (run->o.user) {
		c->t_phase = now;
		conn_send(c, run->auth_line, ST_AUTH);
		return;
	}
	conn_next_message(c);
}

/* The reply to the command sent in state c->st. Returns false if c was freed. */
static bool conn_reply(struct load_conn *c, int code)
{
	struct load_run *run = c->run;
	uint64_t now = load_now_us();
	int want;

	switch (c->st) {
	case ST_BANNER:
	case ST_STARTTLS:
		want = 220;
		break;
	case ST_EHLO:
	case ST_MAIL:
	case ST_BODY:
		want = 250;
		break;
	case ST_RCPT:
		want = (code == 251) ? 251 : 250;
		break;
	case ST_AUTH:
		want = 235;
		break;
	case ST_DATA:
		want = 354;
		break;
	case ST_QUIT:
		if (code != 221)
			stats_count_code(run, code);
		c->st = ST_CLOSING;
		bufferevent_disable(c->bev, EV_WRITE);
		return true;
	default: /* unsolicited: a 421 on a held connection, or garbage */
		stats_count_code(run, code);
		conn_fail(c, ERR_COUNT);
		return false;
	}
	if (code != want) {
		stats_count_code(run, code);
		if (c->in_msg) {
			run->msgs_failed++;
			c->in_msg = false;
		}
		if (code == 421 || c->st == ST_BANNER || c->st == ST_EHLO) {
			conn_fail(c, ERR_COUNT);
			return false;
		}
		/* A refused AUTH or transaction: what this connection would still have sent
		 * fails with it (giving it back would retry a refusal until --max-errors). */
		if (run->o.pipeline)
			c->skip = c->st == ST_MAIL ? 2 : c->st == ST_RCPT ? 1 : 0;
		run->msgs_failed += c->quota;
		c->quota = 0;
		conn_send(c, "QUIT\r\n", ST_QUIT);
		return true;
	}
	switch (c->st) {
	case ST_BANNER:
		c->t_phase = now;
		conn_send(c, run->ehlo_line, ST_EHLO);
		break;
	case ST_EHLO:
		hist_add(&run->hist[PH_EHLO], now - c->t_phase);
		if (run->o.mode == LOAD_MODE_STARTTLS && !c->tls) {
			c->t_phase = now;
			conn_send(c, "STARTTLS\r\n", ST_STARTTLS);
		} else {
			conn_ready(c);
		}
		break;
	case ST_STARTTLS:
		if (conn_switch_to_tls(c) < 0) {
			conn_fail(c, ERR_TLS);
			return false;
		}
		return false; /* the old bufferevent is gone: stop reading from it */
	case ST_AUTH:
		hist_add(&run->hist[PH_AUTH], now - c->t_phase);
		conn_next_message(c);
		break;
	case ST_MAIL:
		if (run->o.pipeline)
			c->st = ST_RCPT; /* sent already */
		else
			conn_send(c, run->rcpt_line, ST_RCPT);
		break;
	case ST_RCPT:
		if (run->o.pipeline)
			c->st = ST_DATA;
		else
			conn_send(c, "DATA\r\n", ST_DATA);
		break;
	case ST_DATA:
		evbuffer_add_reference(bufferevent_get_output(c->bev), run->body, run->body_len,
				       NULL, NULL);
		c->st = ST_BODY;
		break;
	case ST_BODY:
		hist_add(&run->hist[PH_MSG], now - c->t_msg);
		run->msgs_ok++;
		run->msgs_ok_all++;
		if (run->measuring && !run->stopping)
			run->msgs_ok_window++;
		c->in_msg = false;
		c->sent++;
		conn_next_message(c);
		break;
	default:
		break;
	}
	return true;
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct load_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t n;
	int code;

	for (;;) {
		line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
		if (!line) {
			if (evbuffer_get_length(in) > LOAD_MAX_REPLY_LINE)
				conn_fail(c, ERR_PROTO);
			return;
		}
		if (n < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9' || (n > 3 && line[3] != ' ' && line[3] != '-')) {
			free(line);
			conn_fail(c, ERR_PROTO);
			return;
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (n > 3 && line[3] == '-') { /* continuation of a multi-line reply */
			free(line);
			continue;
		}
		free(line);
		if (c->skip > 0) { /* for a command of a transaction already given up */
			c->skip--;
			continue;
		}
		if (!conn_reply(c, code))
			return;
	}
}

static void conn_tls_up(struct load_conn *c)
{
	struct load_run *run = c->run;
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	hist_add(&run->hist[PH_TLS], load_now_us() - c->t_phase);
	run->conns_tls++;
	if (ssl && SSL_session_reused(ssl))
		run->conns_resumed++;
	c->tls = true;
	if (run->o.mode == LOAD_MODE_STARTTLS) {
		c->t_phase = load_now_us();
		conn_send(c, run->ehlo_line, ST_EHLO); /* RFC 3207: forget the first EHLO */
	} else {
		c->st = ST_BANNER;
	}
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct load_conn *c = arg;
	static bool tls_error_shown;
	unsigned long e;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		conn_tls_up(c);
		return;
	}
	if (c->st == ST_CLOSING && (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) {
		conn_done(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		conn_fail(c, ERR_TIMEOUT);
		return;
	}
	if (c->st == ST_TLS) {
		e = bufferevent_get_openssl_error(c->bev);
		if (e && !tls_error_shown) {
			char buf[256];

			ERR_error_string_n(e, buf, sizeof(buf));
			fprintf(stderr, "smtpload: TLS handshake failed: %s\n", buf);
			tls_error_shown = true;
		}
		conn_fail(c, ERR_TLS);
		return;
	}
	conn_fail(c, ERR_EOF);
}

static void conn_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct load_conn *c = arg;
	struct load_run *run = c->run;
	int err = 0;
	socklen_t len = sizeof(err);

	event_free(c->ev_connect);
	c->ev_connect = NULL;
	if ((what & EV_TIMEOUT) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		conn_fail(c, (what & EV_TIMEOUT) ? ERR_TIMEOUT : ERR_CONNECT);
		return;
	}
	hist_add(&run->hist[PH_CONNECT], load_now_us() - c->t0);
	if (run->o.mode == LOAD_MODE_SMTPS) {
		if (conn_start_tls(c) < 0)
			conn_fail(c, ERR_TLS);
		return;
	}
	/* STARTTLS keeps the socket for the SSL bufferevent: no CLOSE_ON_FREE yet */
	if (conn_start_plain(c, run->o.mode == LOAD_MODE_PLAIN ? BEV_OPT_CLOSE_ON_FREE : 0) < 0)
		conn_fail(c, ERR_CONNECT);
}

static int conn_launch(struct load_run *run, unsigned quota)
{
	struct load_conn *c;
	struct timeval tv = {(time_t)run->o.timeout, 0};
	int one = 1;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->run = run;
	c->quota = quota;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fprintf(stderr, "smtpload: socket: %s\n", strerror(errno));
		free(c);
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->next = run->conns;
	if (run->conns)
		run->conns->prev = c;
	run->conns = c;
	run->active++;
	run->launched++;
	run->reserved += quota;
	c->st = ST_CONNECTING;
	c->t0 = load_now_us();
	if (connect(c->fd, (struct sockaddr *)&run->o.addr, sizeof(run->o.addr)) < 0 &&
	    errno != EINPROGRESS) {
		conn_fail(c, ERR_CONNECT);
		return 0;
	}
	c->ev_connect = event_new(run->base, c->fd, EV_WRITE, conn_connect_cb, c);
	if (!c->ev_connect || event_add(c->ev_connect, &tv) < 0) {
		conn_fail(c, ERR_CONNECT);
		return 0;
	}
	return 0;
}

/* Keep `concurrency` connections busy; never promise more than --total messages. In hold
 * mode, at most `concurrency` connections are in their handshakes at once. */
void conn_launch_more(struct load_run *run)
{
	const struct load_opts *o = &run->o;
	unsigned quota;
	static bool in_launch;

	if (in_launch) /* conn_fail inside conn_launch calls back here */
		return;
	in_launch = true;
	while (!run->stopping) {
		if (run_hold_mode(run)) {
			if (run->launched >= o->hold || run->active - run->held >= o->concurrency)
				break;
			quota = 0;
		} else {
			if (run->active >= o->concurrency)
				break;
			/* open loop: a client arrives on schedule, whether or not others are done
			 */
			if (o->rate > 0 && run->launched >= run->rate_due)
				break;
			quota = o->per_conn;
			if (o->total) {
				if (run->reserved >= o->total)
					break;
				if (o->total - run->reserved < quota)
					quota = (unsigned)(o->total - run->reserved);
			}
		}
		if (conn_launch(run, quota) < 0) {
			run->aborted = true;
			run->stopping = true;
		}
	}
	in_launch = false;
}

void conn_close_all(struct load_run *run)
{
	while (run->conns)
		conn_free(run->conns);
}

void run_check_done(struct load_run *run)
{
	bool done;

	if (run_hold_mode(run))
		done = run->stopping && run->active == 0;
	else
		done = run->active == 0 &&
		       (run->stopping || (run->o.total && run->reserved >= run->o.total));
	if (!done)
		return;
	if (!run->t_stop_us)
		run->t_stop_us = load_now_us();
	event_base_loopbreak(run->base);
}
