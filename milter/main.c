/* main.c: authgate-milter: options, start-up, the worker's threads and signals, shutdown. */
#include "milter.h"
#include "supervise.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "io/daemon_opts.h"
#include "io/privdrop.h"
#include "proxy/startup.h"

struct milter_opts {
	const char *config_path; /* absolute once the worker runs: daemon() chdirs to "/" */
	bool foreground;
};

/* Set by the thread running smfi_main() when it returns; read by the main thread. */
static volatile sig_atomic_t smfi_done;
static int smfi_result = MI_SUCCESS;
static pthread_t main_thread;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: authgate-milter [-f] [-c FILE]\n"
		"       authgate-milter -t [-n] [-c FILE]\n"
		"       authgate-milter -T postfix|postfix-hash|postfix-regexp|sendmail [-c FILE]\n"
		"       authgate-milter -V | -h\n"
		"  -c FILE        configuration (default %s)\n"
		"  -f             stay in the foreground, log to stderr as well\n"
		"  -t             check the configuration and what startup needs, and exit\n"
		"                 (0 and \"ok\", or 1 with file:line: [section] key: message)\n"
		"  -n             with -t: print the effective configuration\n"
		"  -T MTA         print the routing table for the protected lists\n"
		"  -V, --version  print the version\n"
		"  -h, --help     print this help\n",
		AG_DEFAULT_CONFIG);
}

static void version(void)
{
	printf("authgate-milter %s (libmilter %u.%u.%u)\n", AG_VERSION,
	       SM_LM_VRS_MAJOR(SMFI_VERSION), SM_LM_VRS_MINOR(SMFI_VERSION),
	       SM_LM_VRS_PLVL(SMFI_VERSION));
}

/* libmilter's socket belongs to the user we become; Postfix joins that group (README). */
static int milter_socket_owner(const char *conn, uid_t uid, gid_t gid)
{
	const char *path;

	if (strncmp(conn, "unix:", 5) == 0)
		path = conn + 5;
	else if (strncmp(conn, "local:", 6) == 0)
		path = conn + 6;
	else
		return 0;
	if (chown(path, uid, gid) < 0 || chmod(path, 0660) < 0) {
		milter_log(LOG_ERR, "socket %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* After the socket is open: nothing else needs root, and client input should never meet it. */
/*
 * libmilter writes each reply as a small packet and the MTA answers with small packets:
 * with Nagle's algorithm and delayed ACKs, an inet: milter waits up to 40 ms per round trip.
 * libmilter has no option for TCP_NODELAY and does not hand out its listening socket, so
 * find it (the only listening TCP socket this process has right after smfi_opensocket) and
 * set it there: on Linux, accepted sockets inherit it. A unix: socket has nothing to set.
 */
static void milter_listen_nodelay(void)
{
	int fd, on = 1, listening, domain;
	socklen_t len;

	for (fd = 3; fd < 1024; fd++) {
		len = sizeof(listening);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
			continue;
		len = sizeof(domain);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
		    (domain != AF_INET && domain != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0)
			milter_log(LOG_WARNING, "TCP_NODELAY on the milter socket: %s",
				   strerror(errno));
	}
}

static int milter_drop_privileges(const struct ag_config *cfg)
{
	struct privdrop_user u;
	char why[256];

	if (geteuid() != 0)
		return 0; /* started as an ordinary user: nothing to drop */
	if (strcmp(cfg->user, "root") == 0) {
		milter_log(LOG_WARNING, "[general] user = root: the milter keeps root privileges");
		return 0;
	}
	if (privdrop_lookup(cfg->user, &u, why, sizeof(why)) < 0) {
		milter_log(LOG_ERR, "[general] user: %s (create it, or set user)", why);
		return -1;
	}
	if (milter_socket_owner(cfg->milter_socket, u.uid, u.gid) < 0)
		return -1;
	if (privdrop_become(cfg->user, &u, why, sizeof(why)) < 0) {
		milter_log(LOG_ERR, "%s", why);
		return -1;
	}
	return 0;
}

static void *milter_smfi_thread(void *arg)
{
	(void)arg;
	smfi_result = smfi_main();
	smfi_done = 1;
	/* Wake the main thread out of sigwait(). */
	pthread_kill(main_thread, SIGUSR2);
	return NULL;
}

/*
 * Drain: keep serving, old connections and new ones (an MTA session may open its
 * milter connection late), until none is open or shutdown_grace has passed;
 * then stop the listener. Mail still open after that gets the MTA's
 * milter_default_action (tempfail): nothing is lost silently.
 */
static void milter_drain(void)
{
	struct ag_config *now = state_config_get();
	unsigned grace = now != NULL ? now->shutdown_grace : 30;

	config_unref(now);
	milter_log(LOG_INFO, "SIGTERM: serving until idle, at most %us, then stopping", grace);
	if (!state_conn_drain(grace))
		milter_log(LOG_WARNING, "still busy after %us: stopping anyway", grace);
	smfi_stop();
}

/*
 * The worker's main thread: SIGHUP unblocked and ignored (see supervise.c),
 * SIGUSR1/SIGUSR2/SUPERVISE_SIG_DRAIN taken here with sigwait(), SIGTERM/SIGINT
 * left blocked for libmilter's own signal thread, which stops the listener on them.
 */
static int milter_signal_loop(const struct milter_opts *o, bool *drained_out)
{
	bool drained = false;
	sigset_t wait, block;
	int sig;

	sigemptyset(&wait);
	sigaddset(&wait, SIGUSR1);
	sigaddset(&wait, SIGUSR2);
	sigaddset(&wait, SUPERVISE_SIG_DRAIN);
	while (!smfi_done) {
		if (sigwait(&wait, &sig) != 0)
			continue;
		if (smfi_done)
			break;
		if (sig == SUPERVISE_SIG_DRAIN) {
			milter_drain();
			drained = true;
		} else if (sig == SIGUSR1) {
			milter_log(LOG_INFO, "SIGUSR1: reopening the audit log");
			state_audit_reopen();
		} else if (sig == SIGUSR2) {
			milter_log(LOG_INFO, "reloading %s", o->config_path);
			state_reload(o->config_path);
		}
	}
	/* While draining, a late SIGUSR2 from the parent must not kill us. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SUPERVISE_SIG_DRAIN);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	*drained_out = drained;
	return 0;
}

static int milter_worker(void *arg)
{
	const struct milter_opts *o = arg;
	struct ag_config_error err;
	struct ag_config *cfg, *now;
	struct ag_audit_log *audit;
	struct sigaction sa;
	sigset_t mask;
	pthread_t tid;
	const char *why;
	unsigned grace;
	bool drained = false;

	/* The configuration again: the file may have changed since the parent read it. */
	cfg = config_load(o->config_path, &err);
	if (cfg == NULL) {
		milter_log(LOG_ERR, "%s", err.msg);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SUPERVISE_SIG_DRAIN);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);

	audit = audit_log_open(cfg->audit_log, &why);
	if (audit == NULL) {
		milter_log(LOG_ERR, "audit_log %s: %s", cfg->audit_log, why);
		config_unref(cfg);
		return 1;
	}
	milter_log_open(o->foreground); /* audit_log_open("syslog:") may have changed it */
	if (smfi_setconn(cfg->milter_socket) != MI_SUCCESS ||
	    smfi_register(milter_desc) != MI_SUCCESS || smfi_opensocket(true) != MI_SUCCESS) {
		milter_log(LOG_ERR, "cannot listen on %s", cfg->milter_socket);
		audit_log_close(audit);
		config_unref(cfg);
		return 1;
	}
	milter_listen_nodelay();
	if (milter_drop_privileges(cfg) < 0) {
		audit_log_close(audit);
		config_unref(cfg);
		return 1;
	}
	state_init(cfg, audit);
	milter_log(LOG_INFO, "authgate-milter %s listening on %s (%s)", AG_VERSION,
		   cfg->milter_socket, o->config_path);

	main_thread = pthread_self();
	if (pthread_create(&tid, NULL, milter_smfi_thread, NULL) != 0) {
		milter_log(LOG_ERR, "cannot start the milter thread");
		state_shutdown();
		return 1;
	}
	milter_signal_loop(o, &drained);
	pthread_join(tid, NULL);

	now = state_config_get();
	grace = now != NULL ? now->shutdown_grace : 30;
	config_unref(now);
	if (drained)
		grace = grace < 5 ? grace : 5; /* the drain has had its grace already */
	milter_log(LOG_INFO, "listener stopped; waiting up to %us for open connections", grace);
	if (!state_conn_drain(grace)) {
		/* Their MTAs apply milter_default_action; nothing is lost silently. */
		milter_log(LOG_WARNING, "connections still open after %us: exiting anyway", grace);
		return smfi_result == MI_SUCCESS ? 0 : 1;
	}
	state_shutdown();
	milter_log(LOG_INFO, "stopped");
	return smfi_result == MI_SUCCESS ? 0 : 1;
}

/* One -t finding on stderr; -1 if fatal. */
static int milter_report(const struct ag_config *cfg, enum startup_result r, const char *section,
			 const char *key, const char *msg)
{
	char line[1600];

	if (r == STARTUP_OK)
		return 0;
	startup_format(cfg, r, section, key, msg, line, sizeof(line));
	fprintf(stderr, "%s\n", line);
	return r == STARTUP_FATAL ? -1 : 0;
}

/* libmilter's "inet:PORT@HOST" / "inet6:PORT@HOST": HOST must resolve for smfi_opensocket. */
static enum startup_result milter_check_socket(const char *conn, char *msg, size_t len)
{
	struct ag_hostport hp;
	const char *at, *p;
	char *end;
	unsigned long port;
	size_t hl;

	if (strncmp(conn, "inet:", 5) == 0)
		p = conn + 5;
	else if (strncmp(conn, "inet6:", 6) == 0)
		p = conn + 6;
	else
		return STARTUP_OK; /* unix:/local: sockets are made when binding */
	at = strchr(p, '@');
	port = strtoul(p, &end, 10);
	if (at == NULL || end != at || port == 0 || port > 65535) {
		snprintf(msg, len, "%s: expected inet:PORT@HOST", conn);
		return STARTUP_FATAL;
	}
	at++;
	if (*at == '[')
		at++;
	hl = strcspn(at, "]");
	if (hl == 0 || hl > AG_MAX_HOST) {
		snprintf(msg, len, "%s: expected inet:PORT@HOST", conn);
		return STARTUP_FATAL;
	}
	memcpy(hp.host, at, hl);
	hp.host[hl] = '\0';
	hp.port = (uint16_t)port;
	return startup_check_listen(&hp, msg, len);
}

/*
 * -t: what the worker needs before serving, short of binding and dropping
 * privileges: the user to run as, the audit log, the socket's address; the
 * hub answering is a warning (the MTA queues until it does).
 */
static int milter_check(const struct ag_config *cfg)
{
	char msg[1024];
	int bad = 0;

	bad |=
	    milter_report(cfg, startup_check_user(cfg, msg, sizeof(msg)), "general", "user", msg);
	bad |= milter_report(cfg, startup_check_audit(cfg, msg, sizeof(msg)), "general",
			     "audit_log", msg);
	bad |= milter_report(cfg, milter_check_socket(cfg->milter_socket, msg, sizeof(msg)),
			     "milter", "socket", msg);
	milter_report(cfg, startup_check_hub(cfg, msg, sizeof(msg)), "lists", "hub", msg);
	return bad;
}

/* -t, -n, -T, -V: answer and exit, no daemon. */
static int milter_oneshot(const struct ag_config *cfg, bool check, bool dump, const char *routes)
{
	enum routes_format fmt;
	const char *why;

	if (routes != NULL) {
		if (routes_parse_format(routes, &fmt) < 0) {
			fprintf(stderr,
				"authgate-milter: -T %s: expected postfix, postfix-hash, "
				"postfix-regexp or sendmail\n",
				routes);
			return 2;
		}
		if (routes_print(cfg, fmt, stdout, &why) < 0) {
			fprintf(stderr, "authgate-milter: -T %s: %s\n", routes, why);
			return 1;
		}
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (check && milter_check(cfg) < 0)
		return 1;
	if (dump)
		config_dump(cfg, stdout);
	else if (check)
		printf("ok\n");
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct milter_opts o;
	struct daemon_opts opts;
	struct ag_config_error err;
	struct ag_config *cfg;
	char abspath[PATH_MAX];
	int rc;

	rc = daemon_opts_parse(argc, argv, true, usage, version, &opts);
	if (rc >= 0)
		return rc; /* -h, -V or a usage error: answered */
	o.config_path = opts.config_path;
	o.foreground = opts.foreground;
	cfg = config_load(o.config_path, &err);
	if (cfg == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (opts.check || opts.routes != NULL) {
		rc = milter_oneshot(cfg, opts.check, opts.dump, opts.routes);
		config_unref(cfg);
		return rc;
	}
	config_unref(cfg); /* the worker loads its own; the parent keeps nothing */
	if (realpath(o.config_path, abspath) == NULL) {
		fprintf(stderr, "authgate-milter: %s: %s\n", o.config_path, strerror(errno));
		return 1;
	}
	o.config_path = abspath;

	milter_log_open(o.foreground);
	if (!o.foreground && daemon(0, 0) < 0) {
		fprintf(stderr, "authgate-milter: daemon: %s\n", strerror(errno));
		return 1;
	}
	return supervise_run(milter_worker, &o);
}
