/* output.h: one result table as aligned text, RFC 4180 CSV or JSON, streamed row by row. */
#ifndef AUDIT_OUTPUT_H
#define AUDIT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OUT_TEXT_BUFFER_ROWS 2000 /* text widths are measured on the first rows this many */
#define OUT_MAX_NOTES 8

enum out_format { OUT_TEXT = 0, OUT_CSV, OUT_JSON };

enum col_type {
	COL_STR,  /* text */
	COL_INT,  /* integer, right-aligned */
	COL_PCT,  /* percentage, one decimal */
	COL_TIME, /* Unix ms: "2026-11-23 10:00:00" in text, ISO 8601 otherwise */
	COL_LIST, /* strings: "first +N" in text, "a; b" in CSV, an array in JSON */
};

struct out_col {
	const char *name;
	enum col_type type;
};

/* One cell; which member counts depends on the column type. */
struct out_val {
	const char *s;
	int64_t i;
	double d;
	const char *const *list;
	size_t n;
	bool null; /* "-" in text, empty in CSV, null in JSON */
};

/* What the footer says: where the numbers came from and what was bounded. */
struct out_summary {
	uint64_t files;
	uint64_t records;
	uint64_t bad;
	uint64_t io_errors;
	uint64_t rows;
	const char *notes[OUT_MAX_NOTES]; /* e.g. a table that reached its cap */
	size_t nnotes;
};

struct out;

struct out *out_new(FILE *f, enum out_format fmt);
void out_begin(struct out *o, const char *command, const struct out_col *cols, size_t ncols);
void out_row(struct out *o, const struct out_val *vals);
/* Flush the table and write the summary (text footer, JSON "summary"; CSV has none). */
void out_end(struct out *o, const struct out_summary *s);
/* -1 if anything failed (no memory for the text buffer is not a failure: it flushes early). */
int out_status(const struct out *o);
void out_free(struct out *o);

int out_parse_format(const char *s, enum out_format *fmt);

/* Helpers for building rows. */
struct out_val out_str(const char *s); /* NULL -> null */
struct out_val out_int(int64_t i);
struct out_val out_pct(int64_t part, int64_t whole); /* null when whole == 0 */
struct out_val out_list(const char *const *list, size_t n);

/* JSON string literal of s (valid UTF-8 assumed) to f. */
void out_json_string(FILE *f, const char *s);

#endif
