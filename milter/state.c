/* state.c: the milter's process-wide state: config snapshot, audit log, connection count, log. */
#include "milter.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"
#include "io/journal.h"

/*
 * Two locks, each for one thing. cfg_lock guards the snapshot pointer only
 * for the instant of taking a reference: callbacks never hold it while they
 * work. audit_lock is shared by writers and taken exclusively only to swap a
 * log whose target changed at reload, so no thread writes to a closed log.
 */
static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ag_config *cur_cfg;

static pthread_rwlock_t audit_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct ag_audit_log *cur_audit;

static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conn_cv = PTHREAD_COND_INITIALIZER;
static unsigned conn_active;

static bool log_foreground;

void milter_log_open(bool foreground)
{
	log_foreground = foreground;
	/* Under its unit (-f, stderr to the journal) syslog alone: else every line twice. */
	openlog(MILTER_NAME,
		LOG_PID | LOG_NDELAY |
		    (foreground && !journal_owns_fd(STDERR_FILENO) ? LOG_PERROR : 0),
		LOG_MAIL);
}

void milter_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
}

const char *milter_escape(const char *in, char *out, size_t outlen)
{
	return escape_log_str(in, out, outlen);
}

void state_init(struct ag_config *cfg, struct ag_audit_log *audit)
{
	pthread_mutex_lock(&cfg_lock);
	cur_cfg = cfg;
	pthread_mutex_unlock(&cfg_lock);
	pthread_rwlock_wrlock(&audit_lock);
	cur_audit = audit;
	pthread_rwlock_unlock(&audit_lock);
}

struct ag_config *state_config_get(void)
{
	struct ag_config *c;

	pthread_mutex_lock(&cfg_lock);
	c = config_ref(cur_cfg);
	pthread_mutex_unlock(&cfg_lock);
	return c;
}

/* Settings that only take effect at start: say so instead of silently ignoring them. */
static void state_warn_restart(const struct ag_config *old, const struct ag_config *new)
{
	if (strcmp(old->milter_socket, new->milter_socket) != 0)
		milter_log(LOG_WARNING,
			   "reload: [milter] socket changed to %s; it takes effect "
			   "at the next restart",
			   new->milter_socket);
	if (strcmp(old->user, new->user) != 0)
		milter_log(LOG_WARNING,
			   "reload: [general] user changed to %s; it takes effect "
			   "at the next restart",
			   new->user);
}

int state_reload(const char *path)
{
	struct ag_config_error err;
	struct ag_config *new, *old;
	struct ag_audit_log *log = NULL, *oldlog = NULL;
	const char *why = NULL;

	new = config_load(path, &err);
	if (new == NULL) {
		milter_log(LOG_ERR, "reload refused, keeping the running configuration: %s",
			   err.msg);
		return -1;
	}
	old = state_config_get();
	if (strcmp(old->audit_log, new->audit_log) != 0) {
		log = audit_log_open(new->audit_log, &why);
		if (log == NULL) {
			milter_log(LOG_ERR,
				   "reload refused, keeping the running configuration: "
				   "audit_log %s: %s",
				   new->audit_log, why);
			config_unref(new);
			config_unref(old);
			return -1;
		}
		/* audit_log_open("syslog:...") calls openlog() itself: take our ident back. */
		milter_log_open(log_foreground);
	}
	state_warn_restart(old, new);

	if (log != NULL) {
		pthread_rwlock_wrlock(&audit_lock);
		oldlog = cur_audit;
		cur_audit = log;
		pthread_rwlock_unlock(&audit_lock);
		audit_log_close(oldlog);
		milter_log_open(log_foreground);
	}
	pthread_mutex_lock(&cfg_lock);
	cur_cfg = new;
	pthread_mutex_unlock(&cfg_lock);
	/* Once for our own reference, once for the one state held: connections keep theirs. */
	config_unref(old);
	config_unref(old);
	milter_log(LOG_INFO, "reload: configuration %s in effect", path);
	return 0;
}

void state_audit_reopen(void)
{
	pthread_rwlock_rdlock(&audit_lock);
	if (cur_audit != NULL && audit_log_reopen(cur_audit) < 0)
		milter_log(LOG_ERR, "audit log reopen failed, still writing to the old file: %s",
			   strerror(errno));
	pthread_rwlock_unlock(&audit_lock);
}

void state_audit_write(struct ag_audit_record *r)
{
	struct timespec ts;
	int rc, saved = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	r->ts_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	r->component = "milter";
	pthread_rwlock_rdlock(&audit_lock);
	rc = cur_audit != NULL ? audit_log_write(cur_audit, r) : 0;
	if (rc < 0)
		saved = errno;
	pthread_rwlock_unlock(&audit_lock);
	if (rc < 0)
		milter_log(LOG_ERR, "%s: audit record (%s) not written: %s",
			   r->queue_id ? r->queue_id : (r->session ? r->session : "-"),
			   r->event ? r->event : "-", strerror(saved));
}

void state_conn_enter(void)
{
	pthread_mutex_lock(&conn_lock);
	conn_active++;
	pthread_mutex_unlock(&conn_lock);
}

void state_conn_leave(void)
{
	pthread_mutex_lock(&conn_lock);
	if (conn_active > 0)
		conn_active--;
	if (conn_active == 0)
		pthread_cond_broadcast(&conn_cv);
	pthread_mutex_unlock(&conn_lock);
}

/* true when every connection closed within `seconds`. */
bool state_conn_drain(unsigned seconds)
{
	struct timespec until;
	bool done;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&conn_lock);
	while (conn_active > 0 && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&conn_cv, &conn_lock, &until);
	done = conn_active == 0;
	pthread_mutex_unlock(&conn_lock);
	return done;
}

void state_shutdown(void)
{
	struct ag_config *c;
	struct ag_audit_log *log;

	pthread_mutex_lock(&cfg_lock);
	c = cur_cfg;
	cur_cfg = NULL;
	pthread_mutex_unlock(&cfg_lock);
	pthread_rwlock_wrlock(&audit_lock);
	log = cur_audit;
	cur_audit = NULL;
	pthread_rwlock_unlock(&audit_lock);
	if (c != NULL)
		config_unref(c);
	audit_log_close(log);
}
