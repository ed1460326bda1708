/* msgfilter.c: the header-section filter and the trace headers the proxy adds (pure). */
#include "msgfilter.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "authres_id.h"

static const char ar_name[] = "Authentication-Results";

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static size_t strip_cr(const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	return len;
}

/* Length of "Authentication-Results:" (with optional WSP before ':') at text, or 0. */
static size_t ar_name_len(const char *text, size_t len)
{
	size_t n = sizeof(ar_name) - 1, i;

	if (len < n + 1 || strncasecmp(text, ar_name, n) != 0)
		return 0;
	i = n;
	while (i < len && is_wsp(text[i]))
		i++;
	if (i < len && text[i] == ':')
		return i + 1;
	return 0;
}

/* complete: the header has ended, so an id that is still unreadable never will be. */
static int ar_decide(const char *text, size_t len, const char *id, bool complete)
{
	size_t i = ar_name_len(text, len);

	if (i == 0)
		return 0;
	/* The one reading of RFC 8601 2.2 that the milter uses too. */
	return (int)authres_id_match(text + i, len - i, id, complete);
}

int msgfilter_ar_is_ours(const char *text, size_t len, const char *id)
{
	return ar_decide(text, len, id, false);
}

void msgfilter_init(struct msgfilter *f, const char *authserv_id)
{
	memset(f, 0, sizeof(*f));
	f->authserv_id = authserv_id;
	f->in_header = true;
}

/* Release (or drop) the held header; ours == 1 drops it. */
static int release_held(struct msgfilter *f, int ours, msgfilter_emit_fn emit, void *arg)
{
	size_t i = 0;
	int rc = 0;

	f->holding = false;
	if (ours == 1) {
		f->removed++;
		f->dropping = true;
		f->held_len = 0;
		return 0;
	}
	f->dropping = false;
	while (i < f->held_len && rc == 0) {
		const char *nl = memchr(f->held + i, '\n', f->held_len - i);
		size_t l = (size_t)(nl - (f->held + i));

		rc = emit(arg, f->held + i, l);
		i += l + 1;
	}
	f->held_len = 0;
	return rc;
}

static int hold_line(struct msgfilter *f, const char *line, size_t len, msgfilter_emit_fn emit,
		     void *arg)
{
	int ours;

	if (f->held_len + len + 1 > sizeof(f->held)) {
		/*
		 * No id after 8 KB of comments and folding: it is not a header
		 * a verifier could trust; treat it as ours and remove it.
		 */
		f->holding = false;
		f->removed++;
		f->dropping = true;
		f->held_len = 0;
		return 0;
	}
	memcpy(f->held + f->held_len, line, len);
	f->held_len += len;
	f->held[f->held_len++] = '\n';
	ours = msgfilter_ar_is_ours(f->held, f->held_len, f->authserv_id);
	if (ours >= 0)
		return release_held(f, ours, emit, arg);
	return 0;
}

int msgfilter_line(struct msgfilter *f, const char *line, size_t len, msgfilter_emit_fn emit,
		   void *arg)
{
	size_t text;
	int rc;

	len = strip_cr(line, len);
	text = len;
	if (!f->in_header)
		return emit(arg, line, len);
	if (!f->started) {
		f->started = true;
		if (text > 0 && is_wsp(line[0]))
			return MSGFILTER_LEADING_FOLD;
	}
	if (text > 0 && is_wsp(line[0])) {
		/* A continuation line belongs to the header before it. */
		if (f->holding)
			return hold_line(f, line, len, emit, arg);
		if (f->dropping)
			return 0;
		return emit(arg, line, len);
	}
	/* A new header, or the end of the header section: decide on the held one. */
	if (f->holding) {
		/* Undecidable now means no id at all: nothing a verifier could trust. */
		rc = release_held(f, ar_decide(f->held, f->held_len, f->authserv_id, true), emit,
				  arg);
		if (rc != 0)
			return rc;
	}
	f->dropping = false;
	if (text == 0 || memchr(line, ':', text) == NULL) {
		/* Empty line (or a line that is no header): the body starts here. */
		f->in_header = false;
		return emit(arg, line, len);
	}
	if (ar_name_len(line, text) > 0) {
		f->holding = true;
		f->held_len = 0;
		return hold_line(f, line, text, emit, arg);
	}
	return emit(arg, line, len);
}

int msgfilter_finish(struct msgfilter *f, msgfilter_emit_fn emit, void *arg)
{
	int rc = 0;

	if (f->holding) {
		rc = release_held(f, ar_decide(f->held, f->held_len, f->authserv_id, true), emit,
				  arg);
	}
	f->in_header = false;
	return rc;
}

const char *msgfilter_protocol(bool esmtp, bool tls, bool auth)
{
	if (!esmtp)
		return "SMTP";
	if (tls && auth)
		return "ESMTPSA";
	if (tls)
		return "ESMTPS";
	if (auth)
		return "ESMTPA";
	return "ESMTP";
}

/* Client-supplied text inside a header: printable ASCII only, no comment delimiters. */
static void sanitise(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	if (in == NULL)
		in = "";
	for (; *in != '\0' && o + 1 < outlen; in++) {
		unsigned char c = (unsigned char)*in;

		out[o++] = (c < 33 || c > 126 || c == '(' || c == ')' || c == '\\' || c == '"' ||
			    c == ';')
				   ? '?'
				   : (char)c;
	}
	out[o] = '\0';
}

int msgfilter_build_received(const struct msgfilter_received *r, char *buf, size_t len)
{
	char helo[256], rdns[256], user[300], tls[160], date[64];
	struct tm tm;
	time_t t = (time_t)r->now;
	int n;

	sanitise(r->helo && r->helo[0] ? r->helo : "unknown", helo, sizeof(helo));
	sanitise(r->rdns ? r->rdns : "unknown", rdns, sizeof(rdns));
	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	/* RFC 5322 3.3 date-time; English names regardless of locale. */
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
		 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	tls[0] = '\0';
	if (r->tls_version != NULL)
		snprintf(tls, sizeof(tls), " (%s %s)", r->tls_version,
			 r->tls_cipher ? r->tls_cipher : "unknown");
	user[0] = '\0';
	if (r->auth_user != NULL) {
		char u[AG_MSGFILTER_USER_MAX];

		sanitise(r->auth_user, u, sizeof(u));
		snprintf(user, sizeof(user), "\r\n\t(Authenticated sender: %s)", u);
	}
	n = snprintf(buf, len,
		     "Received: from %s (%s [%s%s]) by %s (authgate)\r\n"
		     "\twith %s id %s%s%s; %s\r\n",
		     helo, rdns, r->client_ipv6 ? "IPv6:" : "", r->client_ip, r->hostname,
		     r->protocol, r->id, tls, user, date);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

int msgfilter_build_auth_results(const char *authserv_id, const char *user, char *buf,
				 size_t len)
{
	char u[AG_MSGFILTER_USER_MAX];
	int n;

	sanitise(user, u, sizeof(u));
	n = snprintf(buf, len, "Authentication-Results: %s; auth=pass smtp.auth=%s\r\n",
		     authserv_id, u);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}
