/*
 * auditlog.c: where audit records go: a file (one write() per record, reopened on
 * SIGUSR1) or syslog. The daemons' I/O, kept out of policy/, which only builds the
 * records (policy/audit.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dup3(): swap descriptors without losing O_CLOEXEC */
#endif
#include "io/auditlog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define AUDIT_LOG_MODE 0640
#define AUDIT_WRITE_TRIES 8 /* EINTR before anything was written */
/*
 * Most records are a few hundred bytes: formatted on the stack, they cost no
 * 64 KiB allocation (issue 16); a larger one takes the heap path, cut to fit.
 */
#define AUDIT_SMALL_RECORD 2048

struct ag_audit_log {
	int fd;	      /* -1 for syslog */
	int facility; /* syslog only */
	char *path;   /* file only: reopened on logrotate */
	pthread_mutex_t reopen_lock;
};

static const struct {
	const char *name;
	int facility;
} audit_facilities[] = {
    {"mail", LOG_MAIL},	    {"daemon", LOG_DAEMON}, {"user", LOG_USER},	    {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

static int audit_open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, AUDIT_LOG_MODE);
}

struct ag_audit_log *audit_log_open(const char *target, const char **why)
{
	struct ag_audit_log *log;
	size_t i;

	if (target == NULL || target[0] == '\0') {
		*why = "no audit log target";
		return NULL;
	}
	log = calloc(1, sizeof(*log));
	if (log == NULL) {
		*why = "out of memory";
		return NULL;
	}
	log->fd = -1;
	if (strncmp(target, "syslog:", 7) == 0) {
		for (i = 0; i < sizeof(audit_facilities) / sizeof(audit_facilities[0]); i++)
			if (strcmp(target + 7, audit_facilities[i].name) == 0)
				break;
		if (i == sizeof(audit_facilities) / sizeof(audit_facilities[0])) {
			*why = "unknown syslog facility (mail, daemon, user, local0..local7)";
			free(log);
			return NULL;
		}
		/*
		 * No openlog(): it would take over the daemon's own ident and default
		 * facility. The facility goes with each record's priority instead.
		 */
		log->facility = audit_facilities[i].facility;
	} else {
		log->path = strdup(target);
		if (log->path == NULL) {
			*why = "out of memory";
			free(log);
			return NULL;
		}
		log->fd = audit_open_file(log->path);
		if (log->fd < 0) {
			*why = strerror(errno);
			free(log->path);
			free(log);
			return NULL;
		}
	}
	if (pthread_mutex_init(&log->reopen_lock, NULL) != 0) {
		*why = "cannot create mutex";
		if (log->fd >= 0)
			close(log->fd);
		free(log->path);
		free(log);
		return NULL;
	}
	return log;
}

static int audit_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n = -1;
	int tries;

	/* One write() only: a second one could land after another writer's line. */
	for (tries = 0; tries < AUDIT_WRITE_TRIES; tries++) {
		n = write(fd, buf, len);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int audit_log_write(struct ag_audit_log *log, const struct ag_audit_record *r)
{
	char small[AUDIT_SMALL_RECORD];
	char *buf = small;
	int n, rc;

	if (log == NULL || r == NULL) {
		errno = EINVAL;
		return -1;
	}
	n = audit_format_record(r, small, sizeof(small));
	if (n < 0) {
		/* On the heap: milter threads may run on small stacks. */
		buf = malloc(AG_AUDIT_MAX_RECORD);
		if (buf == NULL) {
			errno = ENOMEM;
			return -1;
		}
		n = audit_format_record_fitting(r, buf, AG_AUDIT_MAX_RECORD);
	}
	if (n < 0) {
		if (buf != small)
			free(buf);
		errno = EMSGSIZE;
		return -1;
	}
	if (log->fd < 0) {
		/* syslog frames records itself: no newline inside the message. */
		buf[n - 1] = '\0';
		syslog(log->facility | LOG_INFO, "%s", buf);
		rc = 0;
	} else {
		rc = audit_write_all(log->fd, buf, (size_t)n);
	}
	if (buf != small)
		free(buf);
	return rc;
}

int audit_log_reopen(struct ag_audit_log *log)
{
	int fd, rc = 0, saved;

	if (log == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (log->path == NULL)
		return 0; /* syslog: nothing to reopen */
	pthread_mutex_lock(&log->reopen_lock);
	fd = audit_open_file(log->path);
	if (fd < 0) {
		rc = -1;
	} else {
		/*
		 * dup3 replaces the descriptor number atomically: a writer in
		 * another thread writes to the old file or the new one, never
		 * to a closed (or reused) descriptor.
		 */
		if (dup3(fd, log->fd, O_CLOEXEC) < 0)
			rc = -1;
		saved = errno;
		close(fd);
		errno = saved;
	}
	pthread_mutex_unlock(&log->reopen_lock);
	return rc;
}

void audit_log_close(struct ag_audit_log *log)
{
	if (log == NULL)
		return;
	if (log->fd >= 0)
		close(log->fd);
	pthread_mutex_destroy(&log->reopen_lock);
	free(log->path);
	free(log);
}
