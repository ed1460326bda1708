/* jsonl.c: one audit log line (a JSON object, INTERFACE.md schema) into a struct audit_rec. */
#include "jsonl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl_lex.h"
#include "timeutil.h"

enum key_type { KEY_STR, KEY_TS, KEY_COMPONENT, KEY_EVENT, KEY_ACTION, KEY_RCPTS, KEY_SIZE };

/* The schema: every key audit_format_record writes, with the C field it fills. */
static const struct {
	const char *name;
	enum key_type type;
	size_t off; /* of the const char * field, for KEY_STR */
} jsonl_keys[] = {
#define JSONL_TEXT_KEY(name) {#name, KEY_STR, offsetof(struct audit_rec, name)},
    {"ts", KEY_TS, 0},
    {"component", KEY_COMPONENT, 0},
    {"event", KEY_EVENT, 0},
    {"rcpts", KEY_RCPTS, 0},
    {"size", KEY_SIZE, 0},
    {"action", KEY_ACTION, 0},
    AG_AUDIT_TEXT_FIELDS(JSONL_TEXT_KEY)
#undef JSONL_TEXT_KEY
};
#define JSONL_NKEYS (sizeof(jsonl_keys) / sizeof(jsonl_keys[0]))

/* An empty "rcpts":[] is present (non-NULL) but holds nothing. */
static const char *const empty_rcpts[1] = {NULL};

static const char *const component_names[] = {"proxy", "milter"};
static const char *const event_names[] = {"connect", "auth", "message", "reject", "tempfail"};
static const char *const action_names[] = {NULL, "accept", "reject", "tempfail", "tag"};

const char *rec_component_name(enum rec_component c)
{
	return component_names[c];
}

const char *rec_event_name(enum rec_event e)
{
	return event_names[e];
}

const char *rec_action_name(enum rec_action a)
{
	return action_names[a];
}

void jsonl_parser_init(struct jsonl_parser *p)
{
	p->rcpts = NULL;
	p->cap = 0;
}

void jsonl_parser_free(struct jsonl_parser *p)
{
	free(p->rcpts);
	p->rcpts = NULL;
	p->cap = 0;
}

/* A string or null (NULL) for a known key. */
static int jp_string_or_null(struct jp *j, const char *key, const char **out)
{
	jp_ws(j);
	if (jp_peek(j) == 'n') {
		*out = NULL;
		return jp_literal(j, "null");
	}
	if (jp_peek(j) != '"')
		return jp_fail_at(j, j->pos, "%s: expected a string", key);
	return jp_string(j, out);
}

static int jp_rcpts(struct jp *j, struct jsonl_parser *p, struct audit_rec *rec)
{
	const char **grown, *str;
	size_t n = 0;

	jp_ws(j);
	if (jp_peek(j) == 'n')
		return jp_literal(j, "null");
	if (jp_peek(j) != '[')
		return jp_fail_at(j, j->pos, "rcpts: expected an array of strings");
	j->pos++;
	jp_ws(j);
	if (jp_peek(j) != ']') {
		for (;;) {
			jp_ws(j);
			if (jp_peek(j) != '"')
				return jp_fail_at(j, j->pos, "rcpts: expected a string");
			if (jp_string(j, &str) < 0)
				return -1;
			if (n == p->cap) {
				grown =
				    realloc(p->rcpts, (p->cap ? p->cap * 2 : 16) * sizeof(*grown));
				if (grown == NULL)
					return jp_fail_at(j, j->pos, "out of memory");
				p->rcpts = grown;
				p->cap = p->cap ? p->cap * 2 : 16;
			}
			p->rcpts[n++] = str;
			jp_ws(j);
			if (jp_peek(j) == ']')
				break;
			if (jp_peek(j) != ',')
				return jp_fail_at(j, j->pos, "rcpts: expected ',' or ']'");
			j->pos++;
		}
	}
	j->pos++;
	rec->rcpts = n ? p->rcpts : empty_rcpts;
	rec->nrcpts = n;
	return 0;
}

static int jp_size(struct jp *j, struct audit_rec *rec)
{
	size_t start, i;
	bool integer;
	int64_t v = 0;

	jp_ws(j);
	if (jp_peek(j) == 'n')
		return jp_literal(j, "null");
	if (jp_peek(j) != '-' && !jp_is_digit(jp_peek(j)))
		return jp_fail_at(j, j->pos, "size: expected a number");
	if (jp_number(j, &start, &integer) < 0)
		return -1;
	if (!integer || j->s[start] == '-')
		return jp_fail_at(j, start, "size: expected a non-negative integer");
	for (i = start; i < j->pos; i++) {
		if (v > (INT64_MAX - 9) / 10)
			return jp_fail_at(j, start, "size: too large");
		v = v * 10 + (j->s[i] - '0');
	}
	rec->size = v;
	return 0;
}

/* Map a string value onto one of names[0..n), or fail naming the key. */
static int jp_enum(struct jp *j, const char *key, const char *const *names, size_t n, int *out,
		   bool required)
{
	size_t at, i;
	const char *str;

	jp_ws(j);
	at = j->pos;
	if (jp_string_or_null(j, key, &str) < 0)
		return -1;
	if (str == NULL) {
		if (required)
			return jp_fail_at(j, at, "%s: must not be null", key);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (names[i] != NULL && strcmp(names[i], str) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return jp_fail_at(j, at, "%s: unknown value \"%.40s\"", key, str);
}

static int jp_known_value(struct jp *j, struct jsonl_parser *p, size_t k, struct audit_rec *rec)
{
	const char *str;
	const char *why;
	size_t at;
	int v;

	switch (jsonl_keys[k].type) {
	case KEY_STR:
		if (jp_string_or_null(j, jsonl_keys[k].name, &str) < 0)
			return -1;
		*(const char **)((char *)rec + jsonl_keys[k].off) = str;
		return 0;
	case KEY_TS:
		jp_ws(j);
		at = j->pos;
		if (jp_peek(j) != '"')
			return jp_fail_at(j, at, "ts: expected a string");
		if (jp_string(j, &str) < 0)
			return -1;
		if (time_parse_stamp(str, strlen(str), &rec->ts_ms, &why) < 0)
			return jp_fail_at(j, at, "ts: %s", why);
		return 0;
	case KEY_COMPONENT:
		if (jp_enum(j, "component", component_names, 2, &v, true) < 0)
			return -1;
		rec->component = (enum rec_component)v;
		return 0;
	case KEY_EVENT:
		if (jp_enum(j, "event", event_names, 5, &v, true) < 0)
			return -1;
		rec->event = (enum rec_event)v;
		return 0;
	case KEY_ACTION:
		v = REC_ACT_NONE;
		if (jp_enum(j, "action", action_names, 5, &v, false) < 0)
			return -1;
		rec->action = (enum rec_action)v;
		return 0;
	case KEY_RCPTS:
		return jp_rcpts(j, p, rec);
	case KEY_SIZE:
		return jp_size(j, rec);
	}
	return -1;
}

int jsonl_parse_line(struct jsonl_parser *p, char *line, size_t len, struct audit_rec *rec,
		     struct jsonl_error *err)
{
	struct jp j = {line, len, 0, err};
	uint32_t seen = 0;
	const char *key;
	size_t k, at;

	memset(rec, 0, sizeof(*rec));
	rec->size = -1;
	err->column = 0;
	err->why[0] = '\0';

	jp_ws(&j);
	if (jp_peek(&j) != '{')
		return jp_fail_at(&j, j.pos, "not a JSON object");
	j.pos++;
	jp_ws(&j);
	if (jp_peek(&j) == '}') {
		j.pos++;
	} else {
		for (;;) {
			jp_ws(&j);
			at = j.pos;
			if (jp_peek(&j) != '"')
				return jp_fail_at(&j, j.pos, "expected a key");
			if (jp_string(&j, &key) < 0)
				return -1;
			jp_ws(&j);
			if (jp_peek(&j) != ':')
				return jp_fail_at(&j, j.pos, "expected ':'");
			j.pos++;
			for (k = 0; k < JSONL_NKEYS; k++)
				if (strcmp(jsonl_keys[k].name, key) == 0)
					break;
			if (k == JSONL_NKEYS) {
				if (jp_skip_value(&j, 1) < 0)
					return -1;
			} else {
				if (seen & (UINT32_C(1) << k))
					return jp_fail_at(&j, at, "duplicate key \"%s\"",
							  jsonl_keys[k].name);
				seen |= UINT32_C(1) << k;
				if (jp_known_value(&j, p, k, rec) < 0)
					return -1;
			}
			jp_ws(&j);
			if (jp_peek(&j) == '}') {
				j.pos++;
				break;
			}
			if (jp_peek(&j) != ',')
				return jp_fail_at(&j, j.pos, "expected ',' or '}'");
			j.pos++;
		}
	}
	jp_ws(&j);
	if (j.pos != j.len)
		return jp_fail_at(&j, j.pos, "trailing data after the object");
	/* Required: without them a record cannot be placed in time or meaning. */
	for (k = 0; k < JSONL_NKEYS; k++) {
		if ((jsonl_keys[k].type == KEY_TS || jsonl_keys[k].type == KEY_COMPONENT ||
		     jsonl_keys[k].type == KEY_EVENT) &&
		    !(seen & (UINT32_C(1) << k)))
			return jp_fail_at(&j, 0, "missing key \"%s\"", jsonl_keys[k].name);
	}
	return 0;
}
