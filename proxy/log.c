/* log.c: one line per event to syslog (LOG_MAIL), and to stderr in the foreground. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (outlen == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		size_t need = (c < 32 || c >= 127 || c == '\\') ? 4 : 1;

		if (o + need + 4 > outlen) {
			if (o + 4 <= outlen) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (need == 4) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}
