/*
 * fuzz_msgfilter.c: the Authentication-Results filter over fuzzed messages, and the trace
 * headers built from fuzzed client strings.
 * FUZZ_SOURCES: proxy/msgfilter.c policy/authres_id.c
 */
#include <stdbool.h>
#include <strings.h>

#include "fuzz_util.h"
#include "policy/authres_id.h"
#include "proxy/msgfilter.h"

#define OUR_ID "smtp.example.ac.uk"

/* What came out, as the backend would see it: a header section we re-check header by header. */
struct sink {
	bool in_header;
	char hdr[4 * MSGFILTER_MAX_HELD]; /* the current header, lines joined by '\n' */
	size_t hdr_len;
	bool hdr_overflow;
	size_t lines;
};

static bool is_ar(const char *s, size_t len)
{
	static const char name[] = "Authentication-Results";
	size_t n = sizeof(name) - 1, i;

	if (len < n || strncasecmp(s, name, n) != 0)
		return false;
	for (i = n; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	return i < len && s[i] == ':';
}

/* A finished header that reached the backend must not be an A-R header carrying our id. */
static void sink_end_header(struct sink *k)
{
	if (k->hdr_len > 0 && !k->hdr_overflow && is_ar(k->hdr, k->hdr_len)) {
		char *t = malloc(k->hdr_len + 1);

		if (t == NULL)
			abort();
		memcpy(t, k->hdr, k->hdr_len);
		t[k->hdr_len] = '\n';
		FUZZ_ASSERT(msgfilter_ar_is_ours(t, k->hdr_len + 1, OUR_ID) == 0);
		free(t);
	}
	k->hdr_len = 0;
	k->hdr_overflow = false;
}

static int sink_emit(void *arg, const char *line, size_t len)
{
	struct sink *k = arg;

	k->lines++;
	FUZZ_ASSERT(memchr(line, '\n', len) == NULL);
	if (!k->in_header)
		return 0;
	if (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
		if (k->hdr_len + len + 1 > sizeof(k->hdr)) {
			k->hdr_overflow = true;
			return 0;
		}
		k->hdr[k->hdr_len++] = '\n';
		memcpy(k->hdr + k->hdr_len, line, len);
		k->hdr_len += len;
		return 0;
	}
	sink_end_header(k);
	if (len == 0 || memchr(line, ':', len) == NULL) {
		k->in_header = false;
		return 0;
	}
	if (len > sizeof(k->hdr)) {
		k->hdr_overflow = true;
		return 0;
	}
	memcpy(k->hdr, line, len);
	k->hdr_len = len;
	return 0;
}

/* Client strings in a trace header must not add lines, comments or fields. */
static void fuzz_received(const char *helo, const char *user, int64_t now)
{
	char buf[2048];
	struct msgfilter_received r = {
	    helo,     user,	 "192.0.2.1",
	    false,    OUR_ID,	 msgfilter_protocol(true, true, user != NULL),
	    "7Kx2Q9", "TLSv1.3", "TLS_AES_256_GCM_SHA384",
	    user,     now};
	int n = msgfilter_build_received(&r, buf, sizeof(buf));
	size_t i, crlf = 0;

	if (n >= 0) {
		FUZZ_ASSERT((size_t)n == strlen(buf));
		for (i = 0; i < (size_t)n; i++) {
			unsigned char c = (unsigned char)buf[i];

			if (c == '\r') {
				FUZZ_ASSERT(buf[i + 1] == '\n');
				crlf++;
				/* Every line after the first is a continuation. */
				FUZZ_ASSERT(buf[i + 2] == '\0' || buf[i + 2] == '\t');
			}
			FUZZ_ASSERT(c >= 0x20 || c == '\r' || c == '\n' || c == '\t');
			FUZZ_ASSERT(c < 0x7f);
		}
		FUZZ_ASSERT(crlf == (user != NULL ? 3 : 2));
	}
	n = msgfilter_build_auth_results(OUR_ID, user != NULL ? user : "", buf, sizeof(buf));
	if (n >= 0) {
		FUZZ_ASSERT(strstr(buf, "\r\n") == buf + n - 2);
		FUZZ_ASSERT(strchr(buf, ';') == strrchr(buf, ';'));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msgfilter *f = malloc(sizeof(*f));
	struct sink *k = calloc(1, sizeof(*k));
	char *buf = fuzz_memdup(data, size);
	size_t off = 0;
	int rc = 0;

	if (f == NULL || k == NULL)
		abort();
	k->in_header = true;
	msgfilter_init(f, OUR_ID);
	while (off < size && rc == 0) {
		const char *lf = memchr(buf + off, '\n', size - off);
		size_t len = lf != NULL ? (size_t)(lf - (buf + off)) : size - off;

		rc = msgfilter_line(f, buf + off, len, sink_emit, k);
		off += len + 1;
	}
	/* The only refusal: a first line that would fold into our header, and nothing passed on. */
	FUZZ_ASSERT(rc == 0 || (rc == MSGFILTER_LEADING_FOLD && k->lines == 0 &&
				(buf[0] == ' ' || buf[0] == '\t')));
	FUZZ_ASSERT(msgfilter_finish(f, sink_emit, k) == 0);
	sink_end_header(k);
	(void)msgfilter_ar_is_ours(buf, size, OUR_ID);
	/* The shared RFC 8601 reader: a complete value always gets an answer. */
	FUZZ_ASSERT(authres_id_match(buf, size, OUR_ID, true) != AUTHRES_ID_UNDECIDED);
	(void)authres_id_match(buf, size, OUR_ID, false);

	if (size >= 8) {
		/* "helo NUL user", now from the first 8 bytes. */
		int64_t now;
		char *s = fuzz_strndup(data + 8, size - 8);
		size_t hl = strlen(s);

		memcpy(&now, data, sizeof(now));
		fuzz_received(s, hl + 1 < size - 8 ? s + hl + 1 : NULL, now);
		free(s);
	}
	free(buf);
	free(k);
	free(f);
	return 0;
}
