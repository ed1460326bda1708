/* server.h: the process-wide state of the network side (one per authgate-proxy). */
#ifndef AG_PROXY_SERVER_H
#define AG_PROXY_SERVER_H

#include <stdbool.h>

#include <openssl/ssl.h>

struct event_base;
struct evdns_base;
struct evconnlistener;
struct event;
struct ag_config;
struct ag_audit_log;
struct privsep;
struct proxy_session;
struct ag_authlimit;
struct authcache;
struct tls_tickets;
struct sharedstate;
struct backend_caps;
struct rdns_ctx;

enum listener_kind { LISTENER_SMTPS = 0, LISTENER_SUBMISSION = 1, LISTENER_COUNT };

struct proxy_server {
	struct event_base *base;
	struct evdns_base *dns;       /* backend names, client rDNS; never a blocking lookup */
	struct rdns_ctx *rdns;        /* client-name answers and cancelled lookups (rdns.c) */
	const char *config_path;
	struct ag_config *cfg;        /* snapshot for new sessions (we hold one ref) */
	SSL_CTX *ssl_ctx;             /* context for new sessions (we hold one ref) */
	struct tls_tickets *tickets;  /* session-ticket keys of every context */
	struct event *ticket_timer;   /* rotates them every tls_ticket_lifetime */
	struct ag_audit_log *audit;
	struct privsep *ps;
	struct ag_authlimit *authlimit; /* failed AUTHs across sessions, per IP (/64) and user */
	struct authcache *authcache;    /* recently verified credentials (auth_cache_ttl) */
	struct sharedstate *shared;     /* shared_state: Redis, NULL for none */
	char *shared_password;          /* read as root at start; wiped once handed over */
	struct backend_caps *backend_caps; /* what each backend's EHLO offers (backend_caps.c) */
	int listen_fd[LISTENER_COUNT]; /* -1 if not configured */
	struct evconnlistener *listener[LISTENER_COUNT];
	struct proxy_session *sessions; /* all live sessions, doubly linked */
	unsigned nsessions;
	bool foreground;
	bool draining;                /* SIGTERM: no new sessions, finish the others */
	struct event *grace_timer;
	bool trim_pending;            /* memtrim.c: a heap trim is due within a second */
};

/* server_checks.c: the startup checks (all of them for -t); 0, or -1 if one is fatal. */
int server_startup_checks(struct proxy_server *srv, bool check);

#endif
