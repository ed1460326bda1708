/* server_checks.c: what the proxy checks before it serves, and what -t prints. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "io/auditlog.h"
#include "policy/config.h"
#include "log.h"
#include "server.h"
#include "startup.h"
#include "tls.h"
#include "tls_tickets.h"

/* One startup finding: to stderr for -t, to the log otherwise; -1 if fatal. */
static int startup_report(const struct proxy_server *srv, bool check, enum startup_result r,
			  const char *section, const char *key, const char *msg)
{
	char line[1600];

	if (r == STARTUP_OK)
		return 0;
	startup_format(srv->cfg, r, section, key, msg, line, sizeof(line));
	if (check)
		fprintf(stderr, "%s\n", line);
	else
		log_msg(r == STARTUP_WARN ? LOG_WARNING : LOG_ERR, NULL, "%s", line);
	return r == STARTUP_FATAL ? -1 : 0;
}

/*
 * Issues 8 and 14: the mistakes an admin makes at install time, said plainly
 * before anything is served, and all of them by -t. Fatal: no such user, a
 * listen address that does not resolve, a certificate or key that cannot be
 * loaded or do not match, no PAM service, an audit log that cannot be
 * written. Warnings: a certificate about to expire, a backend that does not
 * answer now (it may later). With check (-t) nothing is opened for good,
 * nothing created.
 */
int server_startup_checks(struct proxy_server *srv, bool check)
{
	const struct ag_config *cfg = srv->cfg;
	enum startup_result r;
	const char *key;
	char msg[1024];
	int bad = 0;
	SSL_CTX *ctx;

	/* Not running as root, the proxy keeps its own user: nothing to look up. */
	if (check || geteuid() == 0)
		bad |= startup_report(srv, check, startup_check_user(cfg, msg, sizeof(msg)),
				      "general", "user", msg);
	if (cfg->has_listen_smtps)
		bad |= startup_report(srv, check,
				      startup_check_listen(&cfg->listen_smtps, msg, sizeof(msg)),
				      "proxy", "listen_smtps", msg);
	if (cfg->has_listen_submission)
		bad |= startup_report(
		    srv, check, startup_check_listen(&cfg->listen_submission, msg, sizeof(msg)),
		    "proxy", "listen_submission", msg);
	/* Keys are read as root: they need not be readable by the unprivileged user. */
	r = startup_check_tls(cfg, &ctx, &key, msg, sizeof(msg)); /* sets key: not in one call */
	bad |= startup_report(srv, check, r, "proxy", key, msg);
	bad |= startup_report(srv, check, startup_check_pam(cfg, msg, sizeof(msg)), "proxy",
			      "pam_service", msg);
	if (check) {
		bad |= startup_report(srv, check, startup_check_audit(cfg, msg, sizeof(msg)),
				      "general", "audit_log", msg);
	} else if (bad == 0) {
		const char *why = NULL;

		srv->audit = audit_log_open(cfg->audit_log, &why);
		if (srv->audit == NULL) {
			snprintf(msg, sizeof(msg), "cannot open %s: %s", cfg->audit_log,
				 why ? why : strerror(errno));
			bad |=
			    startup_report(srv, check, STARTUP_FATAL, "general", "audit_log", msg);
		} else {
			bad |=
			    startup_report(srv, check, startup_audit_chown(cfg, msg, sizeof(msg)),
					   "general", "audit_log", msg);
		}
	}
	if (bad == 0)
		startup_report(srv, check, startup_check_backends(cfg, msg, sizeof(msg)), "proxy",
			       "backends", msg);
	if (!check && bad == 0 &&
	    ((srv->tickets = tls_tickets_new()) == NULL ||
	     tls_tickets_attach(ctx, srv->tickets, srv->cfg->tls_ticket_lifetime) < 0))
		bad |= startup_report(srv, check, STARTUP_FATAL, "proxy", "tls_ticket_lifetime",
				      "cannot set up TLS session tickets");
	if (check || bad != 0)
		SSL_CTX_free(ctx);
	else
		srv->ssl_ctx = ctx;
	return bad;
}
