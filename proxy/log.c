/* log.c: one line per event to syslog (LOG_MAIL), and to stderr in the foreground. */
#include "log.h"

#include <paths.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/journal.h"
#include "policy/escape.h"

#define LOG_IDENT_MAX 64

static bool log_to_stderr;
/* stderr is the journal (a unit's -f): a line that went to syslog is there already. */
static bool log_stderr_journal;
/*
 * "NAME[PID]", the ident syslog() puts first: with LOG_PID glibc would call
 * getpid() for every line (issue 16). Rewritten in the child of every fork
 * (daemon(), the auth process), since openlog() keeps this pointer.
 */
static char log_ident[LOG_IDENT_MAX];
static const char *log_name = "authgate";
/* No /dev/log (a container, a test host): syslog() would try socket() and
 * connect() for every line. Looked at again once a second. */
static bool log_no_syslog;
static time_t log_next_look;

static void log_set_ident(void)
{
	snprintf(log_ident, sizeof(log_ident), "%s[%ld]", log_name, (long)getpid());
}

void log_init(const char *ident, bool to_stderr)
{
	static bool atfork_done;

	log_to_stderr = to_stderr;
	log_stderr_journal = to_stderr && journal_owns_fd(STDERR_FILENO);
	log_name = ident;
	log_set_ident();
	if (!atfork_done && pthread_atfork(NULL, NULL, log_set_ident) == 0)
		atfork_done = true;
	openlog(log_ident, LOG_NDELAY, LOG_MAIL);
}

static bool log_syslog_up(void)
{
	time_t now = time(NULL);

	if (now >= log_next_look) {
		log_no_syslog = access(_PATH_LOG, F_OK) != 0;
		log_next_look = now + 1;
	}
	return !log_no_syslog;
}

void log_msg(int prio, const char *sid, const char *fmt, ...)
{
	char text[2048];
	va_list ap;
	bool to_syslog = log_syslog_up();
	bool to_stderr = log_to_stderr && !(to_syslog && log_stderr_journal);

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (sid != NULL) {
		if (to_syslog)
			syslog(prio, "%s: %s", sid, text);
		if (to_stderr)
			fprintf(stderr, "authgate-proxy: %s: %s\n", sid, text);
	} else {
		if (to_syslog)
			syslog(prio, "%s", text);
		if (to_stderr)
			fprintf(stderr, "authgate-proxy: %s\n", text);
	}
}

void log_escape(const char *in, size_t len, char *out, size_t outlen)
{
	escape_log(in, len, out, outlen);
}
