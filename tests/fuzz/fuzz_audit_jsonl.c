/*
 * fuzz_audit_jsonl.c: authgate-audit's reader, jsonl_parse_line(), on fuzzed lines. The audit
 * log carries client-chosen strings (HELO, addresses, logins), so every byte of it is hostile.
 * Whatever the line, the parser must not read or write outside it, and a record it accepts
 * must keep its promises: every string valid UTF-8 without NUL and inside the line buffer,
 * known enum values, a recipient count that matches the array.
 * FUZZ_SOURCES: audit/jsonl.c audit/jsonl_lex.c audit/timeutil.c policy
 */
#include <stdbool.h>

#include "audit/jsonl.h"
#include "fuzz_util.h"
#include "utf8.h"

static void check_string(const char *s, const char *buf, size_t len)
{
	const unsigned char *p;
	size_t n;

	if (s == NULL)
		return;
	FUZZ_ASSERT(s >= buf && s <= buf + len); /* decoded in place */
	n = strlen(s);
	FUZZ_ASSERT(s + n <= buf + len);
	for (p = (const unsigned char *)s; *p != '\0';) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		size_t l = utf8_sequence_len(p, n - (size_t)(p - (const unsigned char *)s));

		FUZZ_ASSERT(l >= 2);
		p += l;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jsonl_parser parser;
	static bool ready;
	struct audit_rec rec;
	struct jsonl_error err;
	char *line;
	size_t i;

	if (size > JSONL_MAX_LINE)
		return 0;
	if (!ready) {
		jsonl_parser_init(&parser); /* reused across lines, as the reader does */
		ready = true;
	}
	line = malloc(size + 1); /* exactly the line: ASan sees any read past it */
	if (line == NULL)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	memset(&rec, 0, sizeof(rec));
	if (jsonl_parse_line(&parser, line, size, &rec, &err) == 0) {
		const char *fields[] = {rec.session,  rec.client_ip, rec.auth_user, rec.tls,
					rec.mail_from, rec.backend, rec.backend_reply,
					rec.queue_id, rec.phase,     rec.route,	 rec.reason,
					rec.helo};

		FUZZ_ASSERT(rec_component_name(rec.component) != NULL);
		FUZZ_ASSERT(rec_event_name(rec.event) != NULL);
		FUZZ_ASSERT(rec.size >= -1);
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			check_string(fields[i], line, size);
		FUZZ_ASSERT(rec.rcpts != NULL || rec.nrcpts == 0);
		for (i = 0; i < rec.nrcpts; i++) {
			FUZZ_ASSERT(rec.rcpts[i] != NULL);
			check_string(rec.rcpts[i], line, size);
		}
	} else {
		FUZZ_ASSERT(err.column <= size + 1);
		FUZZ_ASSERT(memchr(err.why, '\0', sizeof(err.why)) != NULL);
	}
	free(line);
	return 0;
}
