/* startup.c: what an admin must hear before the proxy serves (issue 8), at start and from -t. */
#include "startup.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/asn1.h>
#include <openssl/x509.h>

#include "policy/config.h"
#include "smtp_parse.h"
#include "tls.h"
#include "xclient.h"

enum startup_result startup_check_cert_expiry(const struct ag_config *cfg, SSL_CTX *ctx,
					      const char **key, char *msg, size_t len)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);
	const ASN1_TIME *na;
	int days = 0, secs = 0;

	*key = "tls_cert";
	if (x == NULL || (na = X509_get0_notAfter(x)) == NULL)
		return STARTUP_OK; /* tls_ctx_new() has refused anything worse */
	if (ASN1_TIME_diff(&days, &secs, NULL, na) != 1) {
		snprintf(msg, len, "%s: cannot read its expiry date", cfg->tls_cert);
		return STARTUP_WARN;
	}
	if (days < 0 || secs < 0) {
		/* Not fatal: refusing to start would stop mail that clients might still send. */
		snprintf(msg, len, "%s has EXPIRED: clients will refuse it; renew it now",
			 cfg->tls_cert);
		return STARTUP_WARN;
	}
	if (days < STARTUP_CERT_WARN_DAYS) {
		snprintf(msg, len, "%s expires in %d day%s: renew it", cfg->tls_cert, days,
			 days == 1 ? "" : "s");
		return STARTUP_WARN;
	}
	return STARTUP_OK;
}

static bool startup_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Linux-PAM: with /etc/pam.d (or the vendor directory /usr/lib/pam.d)
 * present, a service is /etc/pam.d/NAME, else /usr/lib/pam.d/NAME, and
 * /etc/pam.conf is not read at all; without them, /etc/pam.conf. A missing
 * service silently becomes "other" (pam_deny on Debian): every password
 * would be "wrong". Better to refuse to start than to answer 535 to all.
 */
enum startup_result startup_check_pam(const struct ag_config *cfg, char *msg, size_t len)
{
	const char *svc = cfg->pam_service;
	char etc[300], vendor[300];

	if (svc == NULL || svc[0] == '\0' || strchr(svc, '/') != NULL || strlen(svc) > 255) {
		snprintf(msg, len, "\"%s\" is not a PAM service name", svc ? svc : "");
		return STARTUP_FATAL;
	}
	snprintf(etc, sizeof(etc), "/etc/pam.d/%s", svc);
	snprintf(vendor, sizeof(vendor), "/usr/lib/pam.d/%s", svc);
	if (startup_is_dir("/etc/pam.d") || startup_is_dir("/usr/lib/pam.d")) {
		int err;

		if (access(etc, R_OK) == 0)
			return STARTUP_OK;
		err = errno;
		if (access(vendor, R_OK) == 0)
			return STARTUP_OK;
		snprintf(msg, len,
			 "%s does not exist (%s): PAM would use the \"other\" "
			 "service and refuse every login; create it (see the shipped "
			 "etc/pam.d/authgate)",
			 etc, strerror(err));
		return STARTUP_FATAL;
	}
	if (access("/etc/pam.conf", R_OK) == 0)
		return STARTUP_OK; /* whether it names the service, only libpam can say */
	snprintf(msg, len,
		 "neither %s nor /etc/pam.conf exists: PAM cannot "
		 "authenticate anybody",
		 etc);
	return STARTUP_FATAL;
}

enum startup_result startup_check_audit(const struct ag_config *cfg, char *msg, size_t len)
{
	const char *path = cfg->audit_log;
	char dirbuf[4096];
	struct stat st;

	if (path == NULL || strncmp(path, "syslog:", 7) == 0)
		return STARTUP_OK;
	if (lstat(path, &st) == 0) {
		int fd;

		if (!S_ISREG(st.st_mode)) {
			snprintf(msg, len, "%s is not a regular file", path);
			return STARTUP_FATAL;
		}
		fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			snprintf(msg, len, "%s is not writable: %s", path, strerror(errno));
			return STARTUP_FATAL;
		}
		close(fd);
		return STARTUP_OK;
	}
	if (errno != ENOENT) {
		snprintf(msg, len, "%s: %s", path, strerror(errno));
		return STARTUP_FATAL;
	}
	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	if (!startup_is_dir(dirname(dirbuf)) || access(dirbuf, W_OK | X_OK) < 0) {
		snprintf(msg, len, "cannot create %s: directory %s %s", path, dirbuf,
			 startup_is_dir(dirbuf) ? "is not writable" : "does not exist");
		return STARTUP_FATAL;
	}
	return STARTUP_OK;
}

enum startup_result startup_audit_chown(const struct ag_config *cfg, char *msg, size_t len)
{
	const char *path = cfg->audit_log;
	struct passwd *pw;
	struct stat st;
	int fd;

	if (geteuid() != 0 || path == NULL || strncmp(path, "syslog:", 7) == 0 ||
	    cfg->user == NULL || cfg->user[0] == '\0' || (pw = getpwnam(cfg->user)) == NULL)
		return STARTUP_OK;
	/* O_NOFOLLOW + fchown: a symlink planted at the path cannot hand us another file. */
	fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(msg, len, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return STARTUP_FATAL;
	}
	if (S_ISREG(st.st_mode) && st.st_uid != pw->pw_uid &&
	    fchown(fd, pw->pw_uid, (gid_t)-1) < 0) {
		snprintf(msg, len, "cannot give %s to %s: %s (SIGUSR1 reopen will fail)", path,
			 cfg->user, strerror(errno));
		close(fd);
		return STARTUP_WARN;
	}
	close(fd);
	return STARTUP_OK;
}

struct startup_probe {
	const struct ag_hostport *hp;
	struct evutil_addrinfo *ai;
	struct evdns_getaddrinfo_request *req;
	int fd;
	bool done;
	const char *error; /* NULL when reached */
	char errbuf[128];
};

struct startup_dns {
	struct event_base *base;
	unsigned pending;
};

static struct startup_dns *startup_dns_ctx; /* only during startup_probe_reach */

static void startup_probe_fail(struct startup_probe *p, const char *why)
{
	snprintf(p->errbuf, sizeof(p->errbuf), "%s", why);
	p->error = p->errbuf;
	p->done = true;
}

static void startup_resolved(int err, struct evutil_addrinfo *res, void *arg)
{
	struct startup_probe *p = arg;

	p->req = NULL;
	if (err != 0)
		startup_probe_fail(p, err == EVUTIL_EAI_CANCEL ? "name not resolved in time"
							       : evutil_gai_strerror(err));
	else
		p->ai = res;
	if (startup_dns_ctx != NULL && --startup_dns_ctx->pending == 0)
		event_base_loopbreak(startup_dns_ctx->base);
}

/*
 * Names are resolved with libevent's resolver (the one the relay uses), so a
 * dead DNS server costs the same bounded wait as a dead backend, not the
 * system resolver's retries.
 */
static void startup_resolve_all(struct startup_probe *probe, size_t n, int ms)
{
	struct startup_dns ctx = {NULL, 0};
	struct evdns_base *dns = NULL;
	struct evutil_addrinfo hints;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	char port[8];
	size_t i;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	ctx.base = event_base_new();
	if (ctx.base != NULL)
		dns = evdns_base_new(ctx.base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	startup_dns_ctx = &ctx;
	for (i = 0; i < n; i++) {
		struct startup_probe *p = &probe[i];

		snprintf(port, sizeof(port), "%u", p->hp->port);
		hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
		if (evutil_getaddrinfo(p->hp->host, port, &hints, &p->ai) == 0)
			continue;
		p->ai = NULL;
		if (dns == NULL) {
			startup_probe_fail(p, "no resolver (resolv.conf) to look the name up");
			continue;
		}
		hints.ai_flags = EVUTIL_AI_NUMERICSERV;
		ctx.pending++;
		p->req = evdns_getaddrinfo(dns, p->hp->host, port, &hints, startup_resolved, p);
		/* NULL: answered at once (hosts file, or an error): the callback has run. */
	}
	if (ctx.pending > 0) {
		event_base_loopexit(ctx.base, &tv);
		event_base_dispatch(ctx.base);
	}
	for (i = 0; i < n; i++)
		if (probe[i].req != NULL)
			evdns_getaddrinfo_cancel(probe[i].req);
	if (dns != NULL)
		evdns_base_free(dns, 1);
	if (ctx.base != NULL) {
		event_base_loop(ctx.base, EVLOOP_NONBLOCK); /* deferred callbacks, if any */
		event_base_free(ctx.base);
	}
	startup_dns_ctx = NULL;
	for (i = 0; i < n; i++)
		if (!probe[i].done && probe[i].ai == NULL)
			startup_probe_fail(&probe[i], "name not resolved");
}

static void startup_probe_open(struct startup_probe *p)
{
	const struct evutil_addrinfo *ai = p->ai;

	p->fd = -1;
	if (p->done || ai == NULL)
		return;
	p->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || (connect(p->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS))
		startup_probe_fail(p, strerror(errno));
}

static long startup_elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * One complete SMTP reply from a non-blocking fd, appended to buf (the lines
 * with their CRLF), waiting at most until deadline ms after t0. Its code, or
 * -1 (no answer in time, closed, malformed, too long for buf).
 */
static int startup_smtp_reply(int fd, const struct timespec *t0, long deadline, char *buf,
			      size_t len)
{
	size_t have = 0, line = 0;

	buf[0] = '\0';
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		long left = deadline - startup_elapsed_ms(t0);
		ssize_t n;
		char *lf;

		while ((lf = memchr(buf + line, '\n', have - line)) != NULL) {
			size_t l = (size_t)(lf - (buf + line));
			int code;
			bool last;

			if (l > 0 && lf[-1] == '\r')
				l--;
			if (smtp_reply_parse(buf + line, l, &code, &last) < 0)
				return -1;
			line = (size_t)(lf - buf) + 1;
			if (last)
				return code;
		}
		if (left <= 0 || have + 1 >= len || poll(&p, 1, (int)left) <= 0)
			return -1;
		n = read(fd, buf + have, len - have - 1);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
	}
}

/*
 * backend_xclient = yes: does this (connected) backend offer XCLIENT with
 * the LOGIN and ADDR attributes to us? 1 yes, 0 no, -1 it did not say in time.
 * The relay refuses to use one that does not (451 4.7.0), so say it now.
 */
static int startup_probe_xclient(int fd, const struct ag_config *cfg, const struct timespec *t0,
				 long deadline)
{
	char buf[4096], cmd[300];
	const char *p;
	int n, rc = 0;

	if (startup_smtp_reply(fd, t0, deadline, buf, sizeof(buf)) != 220)
		return -1;
	n = snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", cfg->hostname);
	if (n < 0 || (size_t)n >= sizeof(cmd) || write(fd, cmd, (size_t)n) != n ||
	    startup_smtp_reply(fd, t0, deadline, buf, sizeof(buf)) != 250)
		return -1;
	for (p = buf; *p != '\0'; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		char names[256];
		size_t l = strcspn(p, "\r\n");

		if (l < 11 || strncasecmp(p + 4, "XCLIENT", 7) != 0 || (p[11] != ' ' && l > 11))
			continue;
		snprintf(names, sizeof(names), "%.*s", l > 12 ? (int)(l - 12) : 0, p + 12);
		rc = xclient_supports(names, "LOGIN") && xclient_supports(names, "ADDR");
	}
	(void)!write(fd, "QUIT\r\n", 6);
	return rc;
}

/*
 * One non-blocking connect to each of hp[0..n) at once, all within
 * STARTUP_BACKEND_TIMEOUT_MS; returns how many did not answer and lists them
 * in msg ("host:port (why), ..."). With xc (backend_xclient = yes), each one that
 * answered is also asked for its EHLO: xc[i] is 1 if it offers XCLIENT LOGIN and ADDR,
 * 0 if not, -1 if it did not say in time (and 1 for those that did not answer at all).
 */
static size_t startup_probe_reach(const struct ag_hostport *hp, size_t n,
				  const struct ag_config *cfg, int *xc, char *msg, size_t len)
{
	struct startup_probe probe[AG_MAX_BACKENDS];
	struct pollfd pfd[AG_MAX_BACKENDS];
	struct timespec t0;
	size_t i, bad = 0, off = 0;
	long deadline;

	if (n > AG_MAX_BACKENDS)
		n = AG_MAX_BACKENDS;
	memset(probe, 0, sizeof(probe));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		probe[i].hp = &hp[i];
	startup_resolve_all(probe, n, STARTUP_BACKEND_TIMEOUT_MS * 3 / 4);
	for (i = 0; i < n; i++)
		startup_probe_open(&probe[i]);
	/* Whatever DNS took, the connects get a moment of their own. */
	deadline = startup_elapsed_ms(&t0) + STARTUP_BACKEND_TIMEOUT_MS / 4;
	if (deadline < STARTUP_BACKEND_TIMEOUT_MS)
		deadline = STARTUP_BACKEND_TIMEOUT_MS;
	/* Bounded: each turn either finishes a probe or lets time run towards the deadline. */
	for (;;) {
		long waited = startup_elapsed_ms(&t0), npfd = 0;
		int rc;

		for (i = 0; i < n; i++) {
			pfd[i].fd = probe[i].done ? -1 : probe[i].fd;
			pfd[i].events = POLLOUT;
			pfd[i].revents = 0;
			npfd += !probe[i].done;
		}
		if (npfd == 0 || waited >= deadline)
			break;
		rc = poll(pfd, n, (int)(deadline - waited));
		if (rc < 0 && errno != EINTR)
			break;
		for (i = 0; rc > 0 && i < n; i++) {
			int err = 0;
			socklen_t elen = sizeof(err);

			if (probe[i].done || pfd[i].revents == 0)
				continue;
			probe[i].done = true;
			if (getsockopt(probe[i].fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
				err = errno;
			if (err != 0)
				startup_probe_fail(&probe[i], strerror(err));
		}
	}
	/* The ones that answered: one EHLO each, within the same kind of bound. */
	deadline = startup_elapsed_ms(&t0) + STARTUP_BACKEND_TIMEOUT_MS;
	for (i = 0; xc != NULL && i < n; i++) {
		xc[i] = 1;
		if (probe[i].done && probe[i].error == NULL && probe[i].fd >= 0)
			xc[i] = startup_probe_xclient(probe[i].fd, cfg, &t0, deadline);
	}
	msg[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *why = probe[i].error  ? probe[i].error
				  : probe[i].done ? NULL
						  : "no answer in time";

		if (probe[i].fd >= 0)
			close(probe[i].fd);
		if (probe[i].ai != NULL)
			evutil_freeaddrinfo(probe[i].ai);
		if (why == NULL)
			continue;
		if (off < len)
			off += (size_t)snprintf(msg + off, len - off,
						strchr(hp[i].host, ':') ? "%s[%s]:%u (%s)"
									: "%s%s:%u (%s)",
						bad > 0 ? ", " : "", hp[i].host, hp[i].port, why);
		bad++;
	}
	return bad;
}

enum startup_result startup_check_backends(const struct ag_config *cfg, char *msg, size_t len)
{
	int xc[AG_MAX_BACKENDS];
	size_t n = cfg->nbackends, i, bad, noxc = 0, off = 0;
	char list[768];
	bool first = true;

	if (n > AG_MAX_BACKENDS)
		n = AG_MAX_BACKENDS;
	bad = startup_probe_reach(cfg->backends, n, cfg, cfg->backend_xclient ? xc : NULL, list,
				  sizeof(list));
	for (i = 0; cfg->backend_xclient && i < n; i++)
		noxc += xc[i] == 0;
	if (bad == 0 && noxc == 0)
		return STARTUP_OK;
	msg[0] = '\0';
	if (bad > 0)
		off = (size_t)snprintf(msg, len, "cannot reach %s%s", list,
				       bad == n ? "; mail will get 451 until one is up"
						: "; the others are used");
	/* backend_xclient = yes: the relay refuses those (451 4.7.0), so say it now. */
	for (i = 0; noxc > 0 && i < n && off < len; i++) {
		if (xc[i] != 0)
			continue;
		off += (size_t)snprintf(msg + off, len - off,
					strchr(cfg->backends[i].host, ':') ? "%s[%s]:%u" : "%s%s:%u",
					off == 0 ? "" : first ? "; " : ", ", cfg->backends[i].host,
					cfg->backends[i].port);
		first = false;
	}
	if (noxc > 0 && off < len)
		snprintf(msg + off, len - off,
			 " %s not offer XCLIENT LOGIN and ADDR to us (backend_xclient = yes): "
			 "mail through %s gets 451 4.7.0",
			 noxc > 1 ? "do" : "does", noxc > 1 ? "them" : "it");
	return STARTUP_WARN;
}

enum startup_result startup_check_hub(const struct ag_config *cfg, char *msg, size_t len)
{
	char list[512];

	if (!cfg->has_hub || startup_probe_reach(&cfg->hub, 1, cfg, NULL, list, sizeof(list)) == 0)
		return STARTUP_OK;
	snprintf(msg, len,
		 "cannot reach %s; protected-list mail waits in the MTA's queue until it answers",
		 list);
	return STARTUP_WARN;
}

/* The user we drop to: a typo here would otherwise be found only after binding. */
enum startup_result startup_check_user(const struct ag_config *cfg, char *msg, size_t len)
{
	struct passwd *pw;

	if (cfg->user == NULL || cfg->user[0] == '\0') {
		snprintf(msg, len, "no user to run as");
		return STARTUP_FATAL;
	}
	errno = 0;
	pw = getpwnam(cfg->user);
	if (pw != NULL)
		return STARTUP_OK;
	if (errno != 0 && errno != ENOENT && errno != ESRCH)
		snprintf(msg, len, "cannot look up user \"%s\": %s", cfg->user, strerror(errno));
	else
		snprintf(msg, len,
			 "user \"%s\" does not exist (create it, e.g. adduser --system --group %s)",
			 cfg->user, cfg->user);
	return STARTUP_FATAL;
}

int startup_resolve_listen(const struct ag_hostport *hp, struct addrinfo **res)
{
	struct addrinfo hints;
	char port[8];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", hp->port);
	*res = NULL;
	return getaddrinfo(hp->host[0] ? hp->host : NULL, port, &hints, res);
}

/* Resolved as the listener will bind it, by the same function. */
enum startup_result startup_check_listen(const struct ag_hostport *hp, char *msg, size_t len)
{
	struct addrinfo *res;
	int rc;

	rc = startup_resolve_listen(hp, &res);
	if (rc == 0) {
		freeaddrinfo(res);
		return STARTUP_OK;
	}
	snprintf(msg, len, strchr(hp->host, ':') ? "[%s]:%u: %s" : "%s:%u: %s", hp->host, hp->port,
		 gai_strerror(rc));
	return STARTUP_FATAL;
}

/* A directory or a missing file gets a plain sentence, not an OpenSSL error code. */
static enum startup_result startup_check_file(const char *path, char *msg, size_t len)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(msg, len, "%s: %s", path, strerror(errno));
		return STARTUP_FATAL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, len, "%s is %s, not a file", path,
			 S_ISDIR(st.st_mode) ? "a directory" : "a special file");
		return STARTUP_FATAL;
	}
	if (access(path, R_OK) < 0) {
		snprintf(msg, len, "%s: %s", path, strerror(errno));
		return STARTUP_FATAL;
	}
	return STARTUP_OK;
}

enum startup_result startup_check_tls(const struct ag_config *cfg, SSL_CTX **ctx, const char **key,
				      char *msg, size_t len)
{
	char tlserr[512];

	*ctx = NULL;
	*key = "tls_cert";
	if (cfg->tls_cert != NULL && startup_check_file(cfg->tls_cert, msg, len) != STARTUP_OK)
		return STARTUP_FATAL;
	*key = "tls_key";
	if (cfg->tls_key != NULL && startup_check_file(cfg->tls_key, msg, len) != STARTUP_OK)
		return STARTUP_FATAL;
	*ctx = tls_ctx_new(cfg, tlserr, sizeof(tlserr));
	if (*ctx != NULL)
		return startup_check_cert_expiry(cfg, *ctx, key, msg, len);
	/* tls.c names what failed first: the certificate, the key, or the pair. */
	if (strncmp(tlserr, "cannot load certificate", 23) == 0)
		*key = "tls_cert";
	else if (strncmp(tlserr, "tls_min_version", 15) == 0)
		*key = "tls_min_version";
	snprintf(msg, len, "%s", tlserr);
	return STARTUP_FATAL;
}

void startup_format(const struct ag_config *cfg, enum startup_result r, const char *section,
		    const char *key, const char *msg, char *out, size_t len)
{
	char where[512];

	config_key_where(cfg, section, key, where, sizeof(where));
	snprintf(out, len, "%s: %s%s", where, r == STARTUP_WARN ? "warning: " : "", msg);
}
