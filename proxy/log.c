/* log.c: one line per event to syslog (LOG_MAIL), and to stderr in the foreground. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy/escape.h"

static bool log_to_stderr;

void log_init(const char *ident, bool to_stderr)
{
	log_to_stderr = to_stderr;
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_msg(int prio, const char *sid, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (sid != NULL) {
		syslog(prio, "%s: %s", sid, text);
		if (log_to_stderr)
			fprintf(stderr, "authgate-proxy: %s: %s\n", sid, text);
	} else {
		syslog(prio, "%s", text);
		if (log_to_stderr)
			fprintf(stderr, "authgate-proxy: %s\n", text);
	}
}

void log_escape(const char *in, size_t len, char *out, size_t outlen)
{
	escape_log(in, len, out, outlen);
}
