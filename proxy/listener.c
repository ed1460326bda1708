/* listener.c: the 465 (implicit TLS) and 587 (STARTTLS) listening sockets. */
#include "listener.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/listener.h>
#include <event2/util.h>

#include "policy/config.h"
#include "log.h"
#include "session.h"
#include "startup.h"

#define LISTEN_BACKLOG 128
/* Past twice the limit a connection is closed before it is even a session. */
#define OVERLOAD_FACTOR 2

int listener_bind(const struct ag_hostport *hp, char *why, size_t whylen)
{
	struct addrinfo *res;
	int fd = -1, on = 1, rc;

	rc = startup_resolve_listen(hp, &res);
	if (rc != 0) {
		snprintf(why, whylen, "%s:%u: %s", hp->host, hp->port, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/*
	 * Replies are small and each must go out now, not wait for an ACK (Nagle).
	 * Set on the listening socket, every accepted one inherits it (Linux):
	 * no system call per connection (issue 16).
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(why, whylen, "%s:%u: %s", hp->host, hp->port, strerror(errno));
		close(fd);
		fd = -1;
		goto out;
	}
	evutil_make_socket_nonblocking(fd);
out:
	freeaddrinfo(res);
	return fd;
}

static void listener_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
			    int salen, void *arg)
{
	struct proxy_server *srv = arg;
	enum listener_kind kind = srv->listener[LISTENER_SMTPS] == l ? LISTENER_SMTPS
								     : LISTENER_SUBMISSION;
	const struct ag_config *cfg = srv->cfg;
	struct ag_ip ip;

	if (session_addr_from_sockaddr(sa, salen, &ip, NULL) < 0 || srv->draining) {
		evutil_closesocket(fd);
		return;
	}
	/*
	 * Up to the limit a session is served; past it (session_start) it is
	 * closed at once, before any TLS (587: a 421 in clear if the socket
	 * takes it); past twice the limit not even counted or logged.
	 */
	if (cfg->max_connections > 0 && srv->nsessions >= OVERLOAD_FACTOR * cfg->max_connections) {
		evutil_closesocket(fd);
		return;
	}
	session_new(srv, fd, sa, salen, kind);
}

static void listener_error(struct evconnlistener *l, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();

	(void)l;
	(void)arg;
	/* EMFILE and friends: log and keep going, libevent retries on the next event. */
	log_msg(LOG_ERR, NULL, "accept: %s", evutil_socket_error_to_string(err));
}

int listener_attach(struct proxy_server *srv, enum listener_kind kind)
{
	if (srv->listen_fd[kind] < 0)
		return 0;
	srv->listener[kind] = evconnlistener_new(srv->base, listener_accept, srv,
						 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
						 srv->listen_fd[kind]);
	if (srv->listener[kind] == NULL)
		return -1;
	evconnlistener_set_error_cb(srv->listener[kind], listener_error);
	return 0;
}

void listener_close_all(struct proxy_server *srv)
{
	for (int k = 0; k < LISTENER_COUNT; k++) {
		if (srv->listener[k] != NULL) {
			evconnlistener_free(srv->listener[k]);
			srv->listener[k] = NULL;
		} else if (srv->listen_fd[k] >= 0) {
			close(srv->listen_fd[k]);
		}
		srv->listen_fd[k] = -1;
	}
}
