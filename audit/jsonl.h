/* jsonl.h: one audit log line (a JSON object, INTERFACE.md schema) into a struct audit_rec. */
#ifndef AUDIT_JSONL_H
#define AUDIT_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/audit.h"

#define JSONL_MAX_LINE (1024 * 1024) /* bytes; a record is at most 64 KiB when written */
#define JSONL_MAX_DEPTH 32	     /* nesting inside values of unknown keys */

enum rec_component { REC_PROXY = 0, REC_MILTER };
enum rec_event { REC_CONNECT = 0, REC_AUTH, REC_MESSAGE, REC_REJECT, REC_TEMPFAIL };
enum rec_action { REC_ACT_NONE = 0, REC_ACT_ACCEPT, REC_ACT_REJECT, REC_ACT_TEMPFAIL, REC_ACT_TAG };

/*
 * One decision. String fields are NULL when the key is absent (or null);
 * they point into the line buffer the parser decoded in place, so they live
 * as long as that buffer. Every string is valid UTF-8 without NUL.
 */
struct audit_rec {
	int64_t ts_ms;
	enum rec_component component;
	enum rec_event event;
	enum rec_action action;
	const char *const *rcpts; /* NULL when absent */
	size_t nrcpts;
	int64_t size; /* -1 when absent */
	AG_AUDIT_TEXT_FIELDS(AG_AUDIT_DECLARE_TEXT)
};

/* Reused across lines: owns the recipient pointer array. */
struct jsonl_parser {
	const char **rcpts;
	size_t cap;
};

struct jsonl_error {
	size_t column; /* 1-based byte offset in the line */
	char why[128];
};

void jsonl_parser_init(struct jsonl_parser *p);
void jsonl_parser_free(struct jsonl_parser *p);

/*
 * Parse line[0..len) (no newline) into rec. Strict RFC 8259: one object,
 * nothing after it but white space, valid UTF-8, all escapes including
 * surrogate pairs; \u0000 and lone surrogates are refused. Known keys must
 * have their schema type and appear once; unknown keys are skipped (any
 * value, nested up to JSONL_MAX_DEPTH). ts, component and event are required
 * and must hold known values. The line buffer is modified.
 * Returns 0, or -1 with err filled.
 */
int jsonl_parse_line(struct jsonl_parser *p, char *line, size_t len, struct audit_rec *rec,
		     struct jsonl_error *err);

const char *rec_component_name(enum rec_component c);
const char *rec_event_name(enum rec_event e);
const char *rec_action_name(enum rec_action a); /* NULL for REC_ACT_NONE */

#endif
