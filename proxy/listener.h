/* listener.h: the 465 (implicit TLS) and 587 (STARTTLS) listening sockets. */
#ifndef AG_PROXY_LISTENER_H
#define AG_PROXY_LISTENER_H

#include "server.h"

struct ag_hostport;

/* Create, bind and listen (as root, before the event loop). fd, or -1 with *why. */
int listener_bind(const struct ag_hostport *hp, char *why, size_t whylen);
/* Accept connections on srv->listen_fd[kind] from the event loop. 0 ok, -1 error. */
int listener_attach(struct proxy_server *srv, enum listener_kind kind);
/* Stop accepting (SIGTERM); the sockets are closed. */
void listener_close_all(struct proxy_server *srv);

#endif
