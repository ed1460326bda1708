/* test_audit_jsonl.c: the audit log line parser (audit/jsonl.c) and record time stamps. */
#include <stdlib.h>
#include <string.h>

#include "audit/jsonl.h"
#include "audit/timeutil.h"
#include "tap.h"

static struct jsonl_parser parser;
static char *line_buf; /* the last parsed line: the record's strings point into it */

/* Parse a copy of s (len bytes, may hold NUL); 0 or -1 like jsonl_parse_line. */
static int parse_n(const char *s, size_t len, struct audit_rec *r, struct jsonl_error *e)
{
	free(line_buf);
	line_buf = malloc(len + 1);
	if (line_buf == NULL)
		return -2;
	memcpy(line_buf, s, len);
	line_buf[len] = '\0';
	return jsonl_parse_line(&parser, line_buf, len, r, e);
}

static int parse(const char *s, struct audit_rec *r, struct jsonl_error *e)
{
	return parse_n(s, strlen(s), r, e);
}

#define HEAD "{\"ts\":\"2026-11-23T10:00:00.123Z\",\"component\":\"proxy\",\"event\":\"message\""

/* HEAD + extra + "}" */
static int parse_with(const char *extra, struct audit_rec *r, struct jsonl_error *e)
{
	char buf[8192];

	snprintf(buf, sizeof(buf), "%s%s}", HEAD, extra);
	return parse(buf, r, e);
}

static void test_full_record(void)
{
	struct audit_rec r;
	struct jsonl_error e;
	int rc;

	rc = parse(
	    "{\"ts\":\"2026-11-23T10:00:00.123Z\",\"component\":\"proxy\",\"session\":\"7Kx2Q9\","
	    "\"client_ip\":\"203.0.113.7\",\"auth_user\":\"jdoe\",\"tls\":\"TLSv1.3\","
	    "\"event\":\"message\",\"mail_from\":\"jdoe@example.ac.uk\","
	    "\"rcpts\":[\"a@example.org\",\"b@example.org\"],\"size\":4211,\"action\":\"accept\","
	    "\"backend\":\"127.0.0.1:10025\",\"backend_reply\":\"250 2.0.0 Ok: queued as 4F3A1\"}",
	    &r, &e);
	is_int(rc, 0, "the INTERFACE.md example parses");
	is_int(r.ts_ms, INT64_C(1795428000123), "ts to Unix milliseconds");
	is_int(r.component, REC_PROXY, "component proxy");
	is_int(r.event, REC_MESSAGE, "event message");
	is_int(r.action, REC_ACT_ACCEPT, "action accept");
	is_str(r.auth_user, "jdoe", "auth_user");
	is_int(r.nrcpts, 2, "two recipients");
	is_str(r.rcpts ? r.rcpts[1] : NULL, "b@example.org", "second recipient");
	is_int(r.size, 4211, "size");
	is_str(r.backend_reply, "250 2.0.0 Ok: queued as 4F3A1", "backend_reply");
	ok(r.queue_id == NULL && r.phase == NULL, "absent keys are NULL");

	rc = parse(
	    "{\"ts\":\"2026-11-23T10:00:00Z\",\"component\":\"milter\",\"event\":\"message\","
	    "\"queue_id\":\"4F3A1\",\"phase\":\"voluntary\",\"route\":\"hub\",\"action\":\"tag\"}",
	    &r, &e);
	ok(rc == 0 && r.component == REC_MILTER && r.action == REC_ACT_TAG, "milter record");
	is_str(r.route, "hub", "route");
	is_int(r.size, -1, "absent size is -1");
}

static void test_escapes(void)
{
	struct audit_rec r;
	struct jsonl_error e;

	ok(parse_with(",\"helo\":\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t.\"", &r, &e) == 0 &&
	       strcmp(r.helo, "q\"b\\s/\b\f\n\r\t.") == 0,
	   "all two-character escapes decode");
	ok(parse_with(",\"helo\":\"caf\\u00e9 \\u20AC\"", &r, &e) == 0 &&
	       strcmp(r.helo, "caf\xc3\xa9 \xe2\x82\xac") == 0,
	   "\\u escapes to UTF-8 (2 and 3 bytes, either hex case)");
	ok(parse_with(",\"helo\":\"\\ud83d\\ude00!\"", &r, &e) == 0 &&
	       strcmp(r.helo, "\xf0\x9f\x98\x80!") == 0,
	   "surrogate pair to one 4-byte character");
	is_int(parse_with(",\"helo\":\"\\ud83d\"", &r, &e), -1, "lone high surrogate refused");
	ok(strstr(e.why, "surrogate") != NULL, "and the reason says so");
	is_int(parse_with(",\"helo\":\"\\ude00x\"", &r, &e), -1, "lone low surrogate refused");
	is_int(parse_with(",\"helo\":\"\\ud83d\\u0041\"", &r, &e), -1,
	       "high surrogate followed by a non-surrogate refused");
	is_int(parse_with(",\"helo\":\"a\\u0000b\"", &r, &e), -1,
	       "\\u0000 refused (would cut the string)");
	is_int(parse_with(",\"helo\":\"\\x41\"", &r, &e), -1, "unknown escape refused");
	is_int(parse_with(",\"helo\":\"\\u12G4\"", &r, &e), -1, "bad hex in \\u refused");
	ok(parse_with(",\"h\\u0065lp\":1,\"\\u0068elo\":\"x\"", &r, &e) == 0 && r.helo != NULL &&
	       strcmp(r.helo, "x") == 0,
	   "escaped key names are decoded before matching");
}

static void test_utf8(void)
{
	struct audit_rec r;
	struct jsonl_error e;
	char buf[256];
	size_t at;

	is_int(parse_with(",\"helo\":\"a\xff\"", &r, &e), -1, "raw 0xff refused");
	at = strlen(HEAD) + strlen(",\"helo\":\"a") + 1;
	is_int(e.column, at, "column points at the bad byte");
	is_int(parse_with(",\"helo\":\"\xc0\xaf\"", &r, &e), -1, "overlong encoding refused");
	is_int(parse_with(",\"helo\":\"\xed\xa0\x80\"", &r, &e), -1,
	       "UTF-8 encoded surrogate refused");
	is_int(parse_with(",\"helo\":\"\xf4\x90\x80\x80\"", &r, &e), -1, "beyond U+10FFFF refused");
	is_int(parse_with(",\"helo\":\"\xe2\x82\"", &r, &e), -1, "truncated sequence refused");
	ok(parse_with(",\"helo\":\"\xf0\x9f\x98\x80 \xc3\xa9\"", &r, &e) == 0 &&
	       strcmp(r.helo, "\xf0\x9f\x98\x80 \xc3\xa9") == 0,
	   "valid raw UTF-8 kept");
	is_int(parse_with(",\"helo\":\"a\tb\"", &r, &e), -1,
	       "raw control character in a string refused");
	/* HEAD ,"helo":"a<NUL>b"} built by hand: a format string would stop at the NUL. */
	at = strlen(HEAD);
	memcpy(buf, HEAD, at);
	memcpy(buf + at, ",\"helo\":\"a\0b\"}", 15);
	is_int(parse_n(buf, at + 15, &r, &e), -1, "NUL byte inside the line refused");
}

static void test_structure(void)
{
	struct audit_rec r;
	struct jsonl_error e;
	char deep[256];
	int i, n;

	is_int(parse(HEAD, &r, &e), -1, "truncated line (no closing brace) refused");
	is_int(e.column, strlen(HEAD) + 1, "error at the end of the line");
	is_int(parse("{\"ts\":\"2026-11-23T10:00:00Z\",\"compon", &r, &e), -1, "cut inside a key");
	ok(strstr(e.why, "unterminated") != NULL, "reported as unterminated");
	is_int(parse_with("} x", &r, &e), -1, "trailing data refused");
	is_int(parse("[1,2]", &r, &e), -1, "an array is not a record");
	is_int(parse("", &r, &e), -1, "empty input refused");
	is_int(parse_with(",\"helo\" \"x\"", &r, &e), -1, "missing colon refused");
	is_int(parse_with(",\"helo\":\"x\",", &r, &e), -1, "trailing comma refused");
	ok(parse_with(" , \"helo\" : \"x\" ,\"z\":[ ] ,\"y\":{ }\t", &r, &e) == 0,
	   "white space between tokens accepted");
	ok(parse_with(
	       ",\"extra\":{\"a\":[1,2.5e-3,{\"b\":null}],\"c\":true,\"d\":\"s\"},\"f\":false", &r,
	       &e) == 0,
	   "unknown keys with nested values skipped");
	is_int(parse_with(",\"extra\":{\"a\":[1,}", &r, &e), -1,
	       "malformed junk inside an unknown key refused");
	n = 0;
	for (i = 0; i < 40; i++)
		deep[n++] = '[';
	for (i = 0; i < 40; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	{
		char buf[512];

		snprintf(buf, sizeof(buf), ",\"extra\":%s", deep);
		is_int(parse_with(buf, &r, &e), -1, "nesting deeper than JSONL_MAX_DEPTH refused");
	}
	is_int(parse_with(",\"extra\":01", &r, &e), -1, "leading zero refused");
	is_int(parse_with(",\"extra\":-", &r, &e), -1, "lone minus refused");
	is_int(parse_with(",\"extra\":1e", &r, &e), -1, "exponent without digits refused");
	is_int(parse_with(",\"extra\":tru", &r, &e), -1, "cut literal refused");
}

static void test_schema(void)
{
	struct audit_rec r;
	struct jsonl_error e;
	char buf[4096];
	size_t n;
	int i;

	is_int(parse("{\"component\":\"proxy\",\"event\":\"auth\"}", &r, &e), -1,
	       "missing ts refused");
	ok(strstr(e.why, "ts") != NULL, "reason names the key");
	is_int(parse("{\"ts\":\"2026-11-23T10:00:00Z\",\"event\":\"auth\"}", &r, &e), -1,
	       "missing component refused");
	is_int(
	    parse("{\"ts\":\"2026-11-23T10:00:00Z\",\"component\":\"proxy\",\"event\":\"party\"}",
		  &r, &e),
	    -1, "unknown event refused");
	is_int(parse_with(",\"action\":\"maybe\"", &r, &e), -1, "unknown action refused");
	is_int(parse_with(",\"ts\":\"2026-11-23T10:00:00Z\"", &r, &e), -1, "duplicate key refused");
	is_int(parse_with(",\"auth_user\":5", &r, &e), -1, "number where a string belongs refused");
	is_int(parse_with(",\"auth_user\":{\"x\":1}", &r, &e), -1,
	       "object where a string belongs refused");
	ok(parse_with(",\"auth_user\":null", &r, &e) == 0 && r.auth_user == NULL,
	   "null string is absent");
	is_int(parse_with(",\"rcpts\":\"a@b\"", &r, &e), -1, "rcpts must be an array");
	is_int(parse_with(",\"rcpts\":[\"a@b\",2]", &r, &e), -1, "rcpts must hold strings only");
	ok(parse_with(",\"rcpts\":[]", &r, &e) == 0 && r.rcpts != NULL && r.nrcpts == 0,
	   "empty rcpts is present and empty");
	is_int(parse_with(",\"size\":-1", &r, &e), -1, "negative size refused");
	is_int(parse_with(",\"size\":1.5", &r, &e), -1, "fractional size refused");
	is_int(parse_with(",\"size\":99999999999999999999", &r, &e), -1,
	       "size beyond int64 refused");
	is_int(parse_with(",\"ts\":1", &r, &e) == -1 && strstr(e.why, "duplicate") != NULL, 1,
	       "ts twice is a duplicate whatever its type");
	is_int(parse("{\"ts\":\"2026-02-30T10:00:00Z\",\"component\":\"proxy\",\"event\":\"auth\"}",
		     &r, &e),
	       -1, "impossible date refused");

	/* 40 recipients: the parser's array grows past its first allocation. */
	n = (size_t)snprintf(buf, sizeof(buf), ",\"rcpts\":[");
	for (i = 0; i < 40; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\"r%d@example.org\"",
				      i ? "," : "", i);
	snprintf(buf + n, sizeof(buf) - n, "]");
	ok(parse_with(buf, &r, &e) == 0 && r.nrcpts == 40 &&
	       strcmp(r.rcpts[39], "r39@example.org") == 0,
	   "40 recipients");
}

static void test_stamps(void)
{
	int64_t ms = 0, ms2 = 0;
	const char *why;

	ok(time_parse_stamp("2026-11-23T10:00:00+01:00", 25, &ms, &why) == 0 &&
	       time_parse_stamp("2026-11-23T09:00:00Z", 20, &ms2, &why) == 0 && ms == ms2,
	   "offset +01:00 is an hour before Z");
	ok(time_parse_stamp("2026-11-23T10:00:00.5Z", 22, &ms, &why) == 0 && ms % 1000 == 500,
	   "one fraction digit is tenths");
	is_int(time_parse_stamp("2026-11-23 10:00:00Z", 20, &ms, &why), -1,
	       "space instead of T refused");
	is_int(time_parse_stamp("2026-13-01T10:00:00Z", 20, &ms, &why), -1, "month 13 refused");
	ok(time_parse_stamp("2024-02-29T23:59:60Z", 20, &ms, &why) == 0 &&
	       ms == time_days_from_civil(2024, 3, 1) * TIME_MS_PER_DAY - 1000,
	   "leap day and leap second");
	ok(time_bucket(-1, false) == -1 && time_bucket(TIME_MS_PER_DAY, false) == 1,
	   "buckets floor towards the past");
}

int main(void)
{
	jsonl_parser_init(&parser);
	test_full_record();
	test_escapes();
	test_utf8();
	test_structure();
	test_schema();
	test_stamps();
	jsonl_parser_free(&parser);
	free(line_buf);
	return tap_done();
}
