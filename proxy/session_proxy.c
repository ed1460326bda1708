/*
 * session_proxy.c: the HAProxy PROXY v1/v2 header, read from the raw socket (proxy_protocol = yes).
 *
 * The header comes in clear before anything else, on 465 before the TLS
 * ClientHello. We read it straight from the socket, never a byte past its
 * end: whatever follows belongs to the TLS or SMTP layer that is set up on
 * the same descriptor afterwards (session_start), and a byte taken here
 * would be lost to it. So each recv() asks only for bytes that are surely
 * still header:
 *   - the first 15 (no valid header is shorter: "PROXY UNKNOWN\r\n");
 *   - v1: up to the LF, found with MSG_PEEK; without an LF in sight, all
 *     that was peeked (it is header: the line has not ended);
 *   - v2: the 16-byte fixed part, then exactly the length it announces.
 * Every read consumes what it looked at, so a partial header never leaves
 * the socket readable with nothing to do (no busy loop), and the whole
 * header has one deadline, not one per byte (a slow sender cannot stretch it).
 */
#include "session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "policy/config.h"
#include "log.h"
#include "proxyproto.h"

#define PROXYHDR_TIMEOUT_MS 10000 /* a balancer sends the header at once */
#define PROXYHDR_MIN 15		  /* "PROXY UNKNOWN\r\n": the shortest valid header */

struct session_proxyhdr {
	struct event *ev;
	int64_t deadline_ms;
	size_t len;
	uint8_t buf[PROXYPROTO_MAX_HEADER];
};

void session_proxy_free(struct proxy_session *s)
{
	struct session_proxyhdr *h = s->proxyhdr;

	if (h == NULL)
		return;
	if (h->ev != NULL)
		event_free(h->ev);
	free(h);
	s->proxyhdr = NULL;
}

static void proxyhdr_fail(struct proxy_session *s, const char *why)
{
	log_msg(LOG_WARNING, s->id, "PROXY header from [%s]: %s; connection closed", s->peer_text,
		why);
	session_free(s);
}

/*
 * How many bytes may be read now without passing the end of the header:
 * > 0; 0 at end of stream; -1 with errno (EAGAIN: nothing there yet); -2 malformed.
 */
static ssize_t proxyhdr_want(struct proxy_session *s, struct session_proxyhdr *h)
{
	size_t room = sizeof(h->buf) - h->len;
	ssize_t n;

	if (h->len < PROXYHDR_MIN)
		return (ssize_t)(PROXYHDR_MIN - h->len);
	if (h->buf[0] == 'P') {
		size_t most = PROXYPROTO_V1_MAX > h->len ? PROXYPROTO_V1_MAX - h->len : 1;

		if (most > room)
			most = room;
		do
			n = recv(s->fd, h->buf + h->len, most, MSG_PEEK);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return n;
		const uint8_t *lf = memchr(h->buf + h->len, '\n', (size_t)n);

		return lf != NULL ? lf - (h->buf + h->len) + 1 : n;
	}
	if (h->len < PROXYPROTO_V2_HDR)
		return (ssize_t)(PROXYPROTO_V2_HDR - h->len);
	n = (ssize_t)(PROXYPROTO_V2_HDR + ((size_t)h->buf[14] << 8 | h->buf[15]));
	if ((size_t)n > sizeof(h->buf) || (size_t)n <= h->len)
		return -2; /* the parser has refused it already; be safe anyway */
	return n - (ssize_t)h->len;
}

/* The header is complete: the session is now the client's, not the balancer's. */
static void proxyhdr_done(struct proxy_session *s, const struct proxyproto_result *r)
{
	session_proxy_free(s);
	if (!r->local) {
		s->ip = r->src;
		s->port = r->src_port;
		if (net_format_ip(&s->ip, s->ip_text, sizeof(s->ip_text)) < 0)
			snprintf(s->ip_text, sizeof(s->ip_text), "unknown");
	}
	/* LOCAL (a balancer's health check) keeps the connection's own addresses. */
	session_start(s);
}

static void proxyhdr_read(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_session *s = arg;
	struct session_proxyhdr *h = s->proxyhdr;
	struct proxyproto_result r;
	int64_t left;

	(void)fd;
	if ((what & EV_TIMEOUT) || session_now_ms() >= h->deadline_ms) {
		proxyhdr_fail(s, h->len == 0 ? "none received in time" : "incomplete, timed out");
		return;
	}
	/* Bounded: each turn reads at least one byte or returns. */
	for (;;) {
		ssize_t want = proxyhdr_want(s, h), n;
		int rc;

		if (want == 0) {
			proxyhdr_fail(s, h->len == 0 ? "connection closed before it"
						     : "connection closed in the middle of it");
			return;
		}
		if (want == -2) {
			proxyhdr_fail(s, "malformed");
			return;
		}
		if (want > 0) {
			do
				n = recv(s->fd, h->buf + h->len, (size_t)want, 0);
			while (n < 0 && errno == EINTR);
		} else {
			n = -1;
		}
		if (n == 0) {
			proxyhdr_fail(s, h->len == 0 ? "connection closed before it"
						     : "connection closed in the middle of it");
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			proxyhdr_fail(s, strerror(errno));
			return;
		}
		h->len += (size_t)n;
		memset(&r, 0, sizeof(r));
		rc = proxyproto_parse(h->buf, h->len, &r);
		if (rc > 0 && (size_t)rc == h->len) {
			proxyhdr_done(s, &r);
			return;
		}
		if (rc != 0 || h->len >= sizeof(h->buf)) {
			/* rc short of len cannot happen with the reads above; refuse rather than
			 * lose bytes. */
			proxyhdr_fail(s, rc < 0 && r.why ? r.why : "malformed");
			return;
		}
	}
	left = h->deadline_ms - session_now_ms();
	if (left < 1)
		left = 1;
	{
		struct timeval tv = {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000};

		if (event_add(h->ev, &tv) < 0)
			proxyhdr_fail(s, "cannot wait for it");
	}
}

void session_proxy_begin(struct proxy_session *s)
{
	struct session_proxyhdr *h = calloc(1, sizeof(*h));
	struct timeval tv = {PROXYHDR_TIMEOUT_MS / 1000, (PROXYHDR_TIMEOUT_MS % 1000) * 1000};

	s->state = SS_PROXYHDR;
	s->proxyhdr = h;
	if (h == NULL) {
		log_msg(LOG_ERR, s->id, "out of memory: connection from [%s] dropped",
			s->peer_text);
		session_free(s);
		return;
	}
	h->deadline_ms = session_now_ms() + PROXYHDR_TIMEOUT_MS;
	h->ev = event_new(s->srv->base, s->fd, EV_READ, proxyhdr_read, s);
	if (h->ev == NULL || event_add(h->ev, &tv) < 0) {
		log_msg(LOG_ERR, s->id, "cannot wait for the PROXY header from [%s]", s->peer_text);
		session_free(s);
	}
}
