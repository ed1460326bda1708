/* main.c: authgate-proxy: flags, startup as root, privilege drop, signals, the event loop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "io/auditlog.h"
#include "authcache.h"
#include "backend_caps.h"
#include "authlimit.h"
#include "io/configfile.h"
#include "io/daemon_opts.h"
#include "io/privdrop.h"
#include "listener.h"
#include "log.h"
#include "privsep.h"
#include "rdns.h"
#include "relay.h"
#include "server.h"
#include "session.h"
#include "sharedstate.h"
#include "startup.h"
#include "tls.h"
#include "tls_tickets.h"

#ifndef AG_VERSION
#define AG_VERSION "unknown"
#endif

#define DEFAULT_SHUTDOWN_GRACE 30
/* Failed-AUTH counters kept (per address and per user): about 8 MB, LRU beyond. */
#define AUTHLIMIT_CAPACITY 65536

static void usage(FILE *out)
{
	fprintf(out,
		"usage: authgate-proxy [-f] [-c FILE]\n"
		"       authgate-proxy -t [-n] [-c FILE]\n"
		"       authgate-proxy -V | -h\n"
		"  -c FILE        configuration (default %s)\n"
		"  -f             stay in the foreground, log to stderr as well\n"
		"  -t             check the configuration and what startup needs, and exit\n"
		"                 (0 and \"ok\", or 1 with file:line: [section] key: message)\n"
		"  -n             with -t: print the effective configuration\n"
		"  -V, --version  print the version\n"
		"  -h, --help     print this help\n",
		AG_DEFAULT_CONFIG);
}

static void version(void)
{
	printf("authgate-proxy %s\n", AG_VERSION);
}

/* Drop root for good; the PAM process (already forked) keeps it. */
static int drop_privileges(const char *user)
{
	struct privdrop_user u;
	char why[256];

	if (geteuid() != 0)
		return 0; /* started unprivileged: nothing to drop */
	if (privdrop_lookup(user, &u, why, sizeof(why)) < 0 ||
	    privdrop_become(user, &u, why, sizeof(why)) < 0) {
		log_msg(LOG_ERR, NULL, "%s", why);
		return -1;
	}
	return 0;
}

/* A Redis password is at most this long (the file's first line). */
#define SHARED_PASSWORD_MAX 512

/*
 * shared_state_password_file, read once at start while still root: the
 * unprivileged network process is the one that talks to Redis, so it must
 * hold the password anyway, and reading it before the privilege drop lets
 * the file stay root-only (0600 or 0400, owned by root). Anything wider is
 * refused: a password others can read is no password.
 */
static int shared_read_password(struct proxy_server *srv)
{
	const char *path = srv->cfg->shared_state_password_file;
	char buf[SHARED_PASSWORD_MAX + 2];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd;

	if (strcmp(srv->cfg->shared_state, "none") == 0 || path[0] == '\0')
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		log_msg(LOG_ERR, NULL, "shared_state_password_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
	    (st.st_uid != 0 && st.st_uid != geteuid())) {
		log_msg(LOG_ERR, NULL,
			"shared_state_password_file %s: must be a regular file of root, mode 0600 "
			"or stricter",
			path);
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		log_msg(LOG_ERR, NULL, "shared_state_password_file %s: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	if (len == 0 || len > SHARED_PASSWORD_MAX) {
		log_msg(LOG_ERR, NULL, "shared_state_password_file %s: empty or over %d bytes", path,
			SHARED_PASSWORD_MAX);
		memset(buf, 0, sizeof(buf));
		return -1;
	}
	buf[len] = '\0';
	srv->shared_password = strdup(buf);
	memset(buf, 0, sizeof(buf));
	if (srv->shared_password == NULL) {
		log_msg(LOG_ERR, NULL, "out of memory");
		return -1;
	}
	return 0;
}

static void shared_password_wipe(struct proxy_server *srv)
{
	if (srv->shared_password == NULL)
		return;
	memset(srv->shared_password, 0, strlen(srv->shared_password));
	free(srv->shared_password);
	srv->shared_password = NULL;
}

static void warn_restart(const char *what, const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a && b && strcmp(a, b) != 0))
		log_msg(LOG_WARNING, NULL, "reload: %s changed; takes effect after a restart", what);
}

/*
 * The failure counters and the credential cache are sized from the
 * configuration; a reload that changes those keys starts them afresh (and
 * says so), one that does not keeps what they know.
 */
static int server_auth_tables(struct proxy_server *srv, const struct ag_config *old,
			      const struct ag_config *cfg)
{
	if (old == NULL || srv->authlimit == NULL || old->auth_fail_limit != cfg->auth_fail_limit ||
	    old->auth_fail_window != cfg->auth_fail_window ||
	    old->auth_user_fail_limit != cfg->auth_user_fail_limit ||
	    old->auth_familiar_days != cfg->auth_familiar_days ||
	    old->auth_familiar_size != cfg->auth_familiar_size) {
		const struct ag_authlimit_conf conf = {
			.capacity = AUTHLIMIT_CAPACITY,
			.ip_limit = cfg->auth_fail_limit,
			.user_limit = cfg->auth_user_fail_limit,
			.window = cfg->auth_fail_window,
			.familiar_capacity = cfg->auth_familiar_size,
			.familiar_ttl = cfg->auth_familiar_days * 86400u,
		};
		struct ag_authlimit *al = authlimit_new(&conf);

		if (al == NULL) {
			log_msg(LOG_ERR, NULL, "cannot allocate the failed-AUTH counters");
			return -1;
		}
		if (srv->authlimit != NULL)
			log_msg(LOG_NOTICE, NULL, "reload: auth_fail_*/auth_familiar_* changed: failure "
						  "counters and familiar networks start from zero");
		authlimit_free(srv->authlimit);
		srv->authlimit = al;
	}
	if (old == NULL || srv->authcache == NULL || old->auth_cache_ttl != cfg->auth_cache_ttl ||
	    old->auth_cache_size != cfg->auth_cache_size) {
		struct authcache *ac = authcache_new(cfg->auth_cache_size, cfg->auth_cache_ttl);

		if (ac == NULL) {
			log_msg(LOG_ERR, NULL, "cannot allocate the credential cache");
			return -1;
		}
		/* A shorter ttl or a cache turned off must not leave old entries working. */
		authcache_free(srv->authcache);
		srv->authcache = ac;
	}
	return 0;
}

/*
 * The key is read by the auth process, as root: a 0600 root key (the normal
 * case) reloads too. Without an auth process (none started) we try the file
 * ourselves. A key that does not match the certificate is refused by
 * tls_ctx_new_with_key, and the running pair stays.
 */
static SSL_CTX *server_reload_tls(struct proxy_server *srv, const struct ag_config *cfg,
				  char *err, size_t errlen)
{
	char *pem = NULL;
	size_t len = 0;
	SSL_CTX *ctx;

	if (srv->ps == NULL)
		return tls_ctx_new(cfg, err, errlen);
	if (privsep_fetch_key(srv->ps, &pem, &len, err, errlen) < 0)
		return NULL;
	ctx = tls_ctx_new_with_key(cfg, pem, len, err, errlen);
	explicit_bzero(pem, len);
	free(pem);
	return ctx;
}

static void ticket_rotate(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_server *srv = arg;

	(void)fd;
	(void)what;
	if (tls_tickets_rotate(srv->tickets) < 0)
		log_msg(LOG_ERR, NULL, "session-ticket key rotation failed: keeping the keys");
	else
		log_msg(LOG_INFO, NULL, "session-ticket key rotated");
}

/* (Re)arm the rotation every tls_ticket_lifetime seconds. */
static int ticket_timer_arm(struct proxy_server *srv)
{
	struct timeval tv = { (time_t)srv->cfg->tls_ticket_lifetime, 0 };

	if (srv->ticket_timer == NULL)
		srv->ticket_timer = event_new(srv->base, -1, EV_PERSIST, ticket_rotate, srv);
	if (srv->ticket_timer == NULL || event_add(srv->ticket_timer, &tv) < 0) {
		log_msg(LOG_ERR, NULL, "cannot schedule the session-ticket key rotation");
		return -1;
	}
	return 0;
}

static void server_reload(struct proxy_server *srv)
{
	struct ag_config_error err;
	struct ag_config *cfg;
	char tlserr[512];
	SSL_CTX *ctx;

	memset(&err, 0, sizeof(err));
	cfg = config_load(srv->config_path, &err);
	if (cfg == NULL) {
		log_msg(LOG_ERR, NULL, "reload refused, keeping the running configuration: %s",
			err.msg);
		return;
	}
	ctx = server_reload_tls(srv, cfg, tlserr, sizeof(tlserr));
	if (ctx != NULL && tls_tickets_attach(ctx, srv->tickets, cfg->tls_ticket_lifetime) < 0) {
		SSL_CTX_free(ctx);
		ctx = NULL;
		snprintf(tlserr, sizeof(tlserr), "cannot set up session tickets");
	}
	if (ctx == NULL) {
		log_msg(LOG_ERR, NULL, "reload refused, keeping the running configuration: %s",
			tlserr);
		config_unref(cfg);
		return;
	}
	warn_restart("user", srv->cfg->user, cfg->user);
	warn_restart("pam_service", srv->cfg->pam_service, cfg->pam_service);
	warn_restart("resolver", srv->cfg->resolver, cfg->resolver);
	warn_restart("audit_log", srv->cfg->audit_log, cfg->audit_log);
	warn_restart("shared_state", srv->cfg->shared_state, cfg->shared_state);
	warn_restart("shared_state_password_file", srv->cfg->shared_state_password_file,
		     cfg->shared_state_password_file);
	warn_restart("shared_state_prefix", srv->cfg->shared_state_prefix,
		     cfg->shared_state_prefix);
	if (srv->cfg->shared_state_timeout != cfg->shared_state_timeout)
		log_msg(LOG_WARNING, NULL,
			"reload: shared_state_timeout changed; takes effect after a restart");
	if (srv->cfg->has_listen_smtps != cfg->has_listen_smtps ||
	    srv->cfg->has_listen_submission != cfg->has_listen_submission ||
	    memcmp(&srv->cfg->listen_smtps, &cfg->listen_smtps, sizeof(cfg->listen_smtps)) != 0 ||
	    memcmp(&srv->cfg->listen_submission, &cfg->listen_submission,
		   sizeof(cfg->listen_submission)) != 0)
		log_msg(LOG_WARNING, NULL, "reload: listen addresses changed; takes effect after a "
					   "restart");
	server_auth_tables(srv, srv->cfg, cfg);
	/* Running sessions keep the snapshot (and TLS context) they started with. */
	config_unref(srv->cfg);
	srv->cfg = cfg;
	if (srv->ticket_timer != NULL)
		(void)ticket_timer_arm(srv); /* a changed tls_ticket_lifetime counts from now */
	SSL_CTX_free(srv->ssl_ctx);
	srv->ssl_ctx = ctx;
	log_msg(LOG_INFO, NULL, "configuration reloaded from %s", srv->config_path);
	/* The backends may be new, or reconfigured: what may EHLO promise now? */
	backend_caps_probe_all(srv, srv->cfg);
}

static void grace_expired(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_server *srv = arg;

	(void)fd;
	(void)what;
	log_msg(LOG_NOTICE, NULL, "shutdown grace over: closing %u sessions", srv->nsessions);
	while (srv->sessions != NULL)
		session_free(srv->sessions);
	event_base_loopexit(srv->base, NULL);
}

static void server_drain(struct proxy_server *srv)
{
	struct timeval tv = { srv->cfg->shutdown_grace, 0 };

	if (srv->draining)
		return;
	srv->draining = true;
	log_msg(LOG_INFO, NULL, "shutting down: %u sessions to finish", srv->nsessions);
	listener_close_all(srv);
	session_drain_all(srv);
	if (srv->nsessions == 0) {
		event_base_loopexit(srv->base, NULL);
		return;
	}
	if (tv.tv_sec == 0)
		tv.tv_sec = DEFAULT_SHUTDOWN_GRACE;
	srv->grace_timer = evtimer_new(srv->base, grace_expired, srv);
	if (srv->grace_timer == NULL || evtimer_add(srv->grace_timer, &tv) < 0)
		grace_expired(-1, 0, srv);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct proxy_server *srv = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		server_reload(srv);
		break;
	case SIGUSR1:
		/*
		 * We are `user` now: the file was handed to it at start
		 * (startup_audit_chown), and logrotate's "create 0640 authgate
		 * adm" makes the new one ours as well. Without "create", `user`
		 * must be able to create files in the log directory.
		 */
		if (audit_log_reopen(srv->audit) < 0)
			log_msg(LOG_ERR, NULL, "audit log reopen failed (is the new file, or its "
					       "directory, writable by the configured user?): %s",
				strerror(errno));
		else
			log_msg(LOG_INFO, NULL, "audit log reopened");
		break;
	default:
		server_drain(srv);
		break;
	}
}

static int server_bind(struct proxy_server *srv)
{
	char why[512];

	srv->listen_fd[LISTENER_SMTPS] = srv->listen_fd[LISTENER_SUBMISSION] = -1;
	if (srv->cfg->has_listen_smtps) {
		srv->listen_fd[LISTENER_SMTPS] = listener_bind(&srv->cfg->listen_smtps, why,
							       sizeof(why));
		if (srv->listen_fd[LISTENER_SMTPS] < 0) {
			log_msg(LOG_ERR, NULL, "listen_smtps: %s", why);
			return -1;
		}
	}
	if (srv->cfg->has_listen_submission) {
		srv->listen_fd[LISTENER_SUBMISSION] =
			listener_bind(&srv->cfg->listen_submission, why, sizeof(why));
		if (srv->listen_fd[LISTENER_SUBMISSION] < 0) {
			log_msg(LOG_ERR, NULL, "listen_submission: %s", why);
			return -1;
		}
	}
	if (srv->listen_fd[LISTENER_SMTPS] < 0 && srv->listen_fd[LISTENER_SUBMISSION] < 0) {
		log_msg(LOG_ERR, NULL, "neither listen_smtps nor listen_submission is set");
		return -1;
	}
	return 0;
}

/* epoll with a changelist: the TLS bufferevents' disable/enable on each read and write
 * costs one epoll_ctl per loop turn or none (issue 16); no descriptor of ours is dup()ed. */
static struct event_base *server_event_base_new(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (ec == NULL)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

static int server_run(struct proxy_server *srv)
{
	static const int sigs[] = { SIGHUP, SIGUSR1, SIGTERM, SIGINT };
	struct event *sigev[sizeof(sigs) / sizeof(sigs[0])] = { NULL };
	int rc = 1;

	srv->base = server_event_base_new();
	if (srv->base == NULL) {
		log_msg(LOG_ERR, NULL, "cannot create the event loop");
		return 1;
	}
	if (server_auth_tables(srv, NULL, srv->cfg) < 0)
		goto out;
	if (strcmp(srv->cfg->shared_state, "none") != 0) {
		srv->shared = sharedstate_new(srv->base, srv->cfg->shared_state, srv->shared_password,
					      srv->cfg->shared_state_timeout,
					      srv->cfg->shared_state_prefix);
		shared_password_wipe(srv);
		if (srv->shared == NULL) {
			log_msg(LOG_ERR, NULL, "cannot set up the shared state client");
			goto out;
		}
	}
	if (rdns_setup(srv) < 0)
		goto out;
	if (srv->ps != NULL && privsep_attach(srv->ps, srv->base) < 0) {
		log_msg(LOG_ERR, NULL, "cannot attach the authentication process");
		goto out;
	}
	for (int k = 0; k < LISTENER_COUNT; k++) {
		if (listener_attach(srv, (enum listener_kind)k) < 0) {
			log_msg(LOG_ERR, NULL, "cannot listen");
			goto out;
		}
	}
	if (srv->tickets != NULL && ticket_timer_arm(srv) < 0)
		goto out;
	srv->backend_caps = backend_caps_new();
	if (srv->backend_caps == NULL) {
		log_msg(LOG_ERR, NULL, "out of memory");
		goto out;
	}
	backend_caps_probe_all(srv, srv->cfg);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigev[i] = evsignal_new(srv->base, sigs[i], on_signal, srv);
		if (sigev[i] == NULL || evsignal_add(sigev[i], NULL) < 0) {
			log_msg(LOG_ERR, NULL, "cannot install signal handlers");
			goto out;
		}
	}
	log_msg(LOG_INFO, NULL, "authgate-proxy %s started", AG_VERSION);
	event_base_dispatch(srv->base);
	log_msg(LOG_INFO, NULL, "authgate-proxy stopped");
	rc = 0;
out:
	while (srv->sessions != NULL)
		session_free(srv->sessions);
	listener_close_all(srv);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigev[i])
			event_free(sigev[i]);
	if (srv->grace_timer)
		event_free(srv->grace_timer);
	if (srv->ticket_timer)
		event_free(srv->ticket_timer);
	srv->ticket_timer = NULL;
	rdns_teardown(srv);
	/* After the sessions: their pending requests were cancelled by session_free. */
	sharedstate_free(srv->shared);
	srv->shared = NULL;
	shared_password_wipe(srv);
	authlimit_free(srv->authlimit);
	authcache_free(srv->authcache);
	srv->authlimit = NULL;
	srv->authcache = NULL;
	/* privsep's events live on this base: free them first (valgrind found the order). */
	privsep_stop(srv->ps);
	srv->ps = NULL;
	relay_free_detached(); /* their bufferevents live on this base too */
	event_base_free(srv->base);
	backend_caps_free(srv->backend_caps);
	srv->backend_caps = NULL;
	return rc;
}

int main(int argc, char **argv)
{
	struct proxy_server srv;
	struct daemon_opts opts;
	struct ag_config_error err;
	const char *why = NULL;
	int rc;

	memset(&srv, 0, sizeof(srv));
	rc = daemon_opts_parse(argc, argv, false, usage, version, &opts);
	if (rc >= 0)
		return rc; /* -h, -V or a usage error: answered */
	srv.config_path = opts.config_path;
	srv.foreground = opts.foreground;

	memset(&err, 0, sizeof(err));
	srv.cfg = config_load(srv.config_path, &err);
	if (srv.cfg == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (opts.check) {
		rc = server_startup_checks(&srv, true) < 0 ? 1 : 0;
		if (rc == 0 && opts.dump)
			config_dump(srv.cfg, stdout);
		else if (rc == 0)
			printf("ok\n");
		config_unref(srv.cfg);
		return rc;
	}

	log_init("authgate-proxy", srv.foreground);
	signal(SIGPIPE, SIG_IGN);
	if (server_startup_checks(&srv, false) < 0) {
		if (srv.audit != NULL)
			audit_log_close(srv.audit);
		config_unref(srv.cfg);
		return 1;
	}
	if (server_bind(&srv) < 0)
		return 1;
	if (!srv.foreground && daemon(0, 0) < 0) {
		log_msg(LOG_ERR, NULL, "daemon: %s", strerror(errno));
		return 1;
	}
	if (shared_read_password(&srv) < 0)
		return 1;
	srv.ps = privsep_start(srv.cfg->pam_service, srv.cfg->auth_workers, srv.config_path, &why);
	if (srv.ps == NULL) {
		log_msg(LOG_ERR, NULL, "cannot start the authentication process: %s",
			why ? why : "unknown error");
		return 1;
	}
	if (drop_privileges(srv.cfg->user) < 0) {
		privsep_stop(srv.ps);
		return 1;
	}
	rc = server_run(&srv);
	if (srv.ps != NULL)
		privsep_stop(srv.ps);
	audit_log_close(srv.audit);
	SSL_CTX_free(srv.ssl_ctx);
	tls_tickets_free(srv.tickets); /* after the last context that uses it */
	config_unref(srv.cfg);
	return rc;
}
