/* output.c: one result table as aligned text, RFC 4180 CSV or JSON, streamed row by row. */
#include "output.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "policy/escape.h"
#include "timeutil.h"

#define OUT_MAX_COLS 16

struct out {
	FILE *f;
	enum out_format fmt;
	const struct out_col *cols;
	size_t ncols;
	uint64_t rows;
	bool failed;

	/* Text: rows kept as cells until the widths are known. */
	char **cells; /* OUT_TEXT_BUFFER_ROWS * ncols */
	size_t nbuffered;
	size_t width[OUT_MAX_COLS];
	bool widths_fixed;
};

struct out *out_new(FILE *f, enum out_format fmt)
{
	struct out *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->f = f;
	o->fmt = fmt;
	return o;
}

int out_parse_format(const char *s, enum out_format *fmt)
{
	if (strcmp(s, "text") == 0)
		*fmt = OUT_TEXT;
	else if (strcmp(s, "csv") == 0)
		*fmt = OUT_CSV;
	else if (strcmp(s, "json") == 0)
		*fmt = OUT_JSON;
	else
		return -1;
	return 0;
}

struct out_val out_str(const char *s)
{
	struct out_val v = {0};

	v.s = s;
	v.null = s == NULL;
	return v;
}

struct out_val out_int(int64_t i)
{
	struct out_val v = {0};

	v.i = i;
	return v;
}

struct out_val out_pct(int64_t part, int64_t whole)
{
	struct out_val v = {0};

	v.null = whole == 0;
	v.d = whole ? 100.0 * (double)part / (double)whole : 0.0;
	return v;
}

struct out_val out_list(const char *const *list, size_t n)
{
	struct out_val v = {0};

	v.list = list;
	v.n = n;
	v.null = list == NULL;
	return v;
}

static bool col_right(enum col_type t)
{
	return t == COL_INT || t == COL_PCT;
}

/*
 * Text goes to terminals: control characters (C0, DEL, C1) from a client's
 * envelope must not reach them raw. Each becomes '?'.
 */
static void text_sanitise(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;

	while (*p != '\0' && w + 1 < len) {
		if (*p < 0x20 || *p == 0x7f) {
			buf[w++] = '?';
			p++;
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			buf[w++] = '?';
			p += 2;
		} else {
			buf[w++] = (char)*p++;
		}
	}
	/* Cut short: never inside a UTF-8 sequence. */
	if (*p != '\0') {
		size_t k = w, need;
		unsigned char lead;

		while (k > 0 && ((unsigned char)buf[k - 1] & 0xc0) == 0x80)
			k--;
		if (k > 0 && (lead = (unsigned char)buf[k - 1]) >= 0xc0) {
			need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
			if (w - (k - 1) < need)
				w = k - 1;
		}
	}
	buf[w] = '\0';
}

static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* A number or an instant as every format writes it ("%" PRId64, "%.1f"; ISO 8601 UTC). */
static void out_scalar(enum col_type t, const struct out_val *v, char *buf, size_t len)
{
	if (t == COL_TIME)
		time_format_iso(v->i, buf, len);
	else if (t == COL_PCT)
		snprintf(buf, len, "%.1f", v->d);
	else
		snprintf(buf, len, "%" PRId64, v->i);
}

static char *text_cell(const struct out_col *c, const struct out_val *v)
{
	char buf[1024], tmp[900];

	if (v->null) {
		strcpy(buf, "-");
	} else {
		switch (c->type) {
		case COL_STR:
			text_sanitise(v->s, buf, sizeof(buf));
			break;
		case COL_INT:
		case COL_PCT:
			out_scalar(c->type, v, buf, sizeof(buf));
			break;
		case COL_TIME:
			time_format_text(v->i, buf, sizeof(buf));
			break;
		case COL_LIST:
			if (v->n == 0) {
				strcpy(buf, "-");
				break;
			}
			text_sanitise(v->list[0], tmp, sizeof(tmp));
			if (v->n > 1)
				snprintf(buf, sizeof(buf), "%s +%zu", tmp, v->n - 1);
			else
				snprintf(buf, sizeof(buf), "%s", tmp);
			break;
		}
	}
	return strdup(buf);
}

static void text_print_row(struct out *o, char *const *cells)
{
	size_t i, w, pad;

	for (i = 0; i < o->ncols; i++) {
		w = text_width(cells[i]);
		pad = o->width[i] > w ? o->width[i] - w : 0;
		if (i > 0)
			fputs("  ", o->f);
		if (col_right(o->cols[i].type))
			fprintf(o->f, "%*s%s", (int)pad, "", cells[i]);
		else if (i + 1 < o->ncols)
			fprintf(o->f, "%s%*s", cells[i], (int)pad, "");
		else
			fputs(cells[i], o->f);
	}
	fputc('\n', o->f);
}

static void text_flush(struct out *o)
{
	const char *header[OUT_MAX_COLS];
	size_t r, i;

	if (!o->widths_fixed) {
		for (i = 0; i < o->ncols; i++)
			header[i] = o->cols[i].name;
		text_print_row(o, (char *const *)header);
		o->widths_fixed = true;
	}
	for (r = 0; r < o->nbuffered; r++) {
		text_print_row(o, o->cells + r * o->ncols);
		for (i = 0; i < o->ncols; i++)
			free(o->cells[r * o->ncols + i]);
	}
	o->nbuffered = 0;
}

static void csv_field(FILE *f, const char *s)
{
	const char *p;
	bool quote = false;

	/* A leading = + - @ makes spreadsheets run the cell as a formula (CSV injection). */
	if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
	    s[0] == '\r')
		quote = true;
	for (p = s; *p != '\0' && !quote; p++)
		if (*p == ',' || *p == '"' || *p == '\r' || *p == '\n')
			quote = true;
	if (!quote) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
	    s[0] == '\r')
		fputc('\'', f);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

static void out_json_put(void *arg, const char *s, size_t n)
{
	fwrite(s, 1, n, arg);
}

/* The audit log's own JSON writer (policy/escape.c), so both sides agree. */
void out_json_string(FILE *f, const char *s)
{
	escape_json(s, out_json_put, f);
}

static void csv_row(struct out *o, const struct out_val *v)
{
	char buf[64];
	size_t i, k, len;
	char *joined;

	for (i = 0; i < o->ncols; i++) {
		if (i > 0)
			fputc(',', o->f);
		if (v[i].null)
			continue;
		switch (o->cols[i].type) {
		case COL_STR:
			csv_field(o->f, v[i].s);
			break;
		case COL_INT:
		case COL_PCT:
		case COL_TIME:
			out_scalar(o->cols[i].type, &v[i], buf, sizeof(buf));
			fputs(buf, o->f);
			break;
		case COL_LIST:
			for (k = 0, len = 1; k < v[i].n; k++)
				len += strlen(v[i].list[k]) + 2;
			joined = malloc(len);
			if (joined == NULL) {
				o->failed = true;
				break;
			}
			joined[0] = '\0';
			for (k = 0, len = 0; k < v[i].n; k++) {
				if (k > 0) {
					memcpy(joined + len, "; ", 2);
					len += 2;
				}
				strcpy(joined + len, v[i].list[k]);
				len += strlen(v[i].list[k]);
			}
			csv_field(o->f, joined);
			free(joined);
			break;
		}
	}
	fputs("\r\n", o->f); /* RFC 4180 2.1 */
}

static void json_row(struct out *o, const struct out_val *v)
{
	char buf[64];
	size_t i, k;

	fputs(o->rows > 0 ? ",\n{" : "\n{", o->f);
	for (i = 0; i < o->ncols; i++) {
		if (i > 0)
			fputc(',', o->f);
		out_json_string(o->f, o->cols[i].name);
		fputc(':', o->f);
		if (v[i].null) {
			fputs("null", o->f);
			continue;
		}
		switch (o->cols[i].type) {
		case COL_STR:
			out_json_string(o->f, v[i].s);
			break;
		case COL_INT:
		case COL_PCT:
			out_scalar(o->cols[i].type, &v[i], buf, sizeof(buf));
			fputs(buf, o->f);
			break;
		case COL_TIME:
			out_scalar(COL_TIME, &v[i], buf, sizeof(buf));
			out_json_string(o->f, buf);
			break;
		case COL_LIST:
			fputc('[', o->f);
			for (k = 0; k < v[i].n; k++) {
				if (k > 0)
					fputc(',', o->f);
				out_json_string(o->f, v[i].list[k]);
			}
			fputc(']', o->f);
			break;
		}
	}
	fputc('}', o->f);
}

void out_begin(struct out *o, const char *command, const struct out_col *cols, size_t ncols)
{
	size_t i;

	o->cols = cols;
	o->ncols = ncols < OUT_MAX_COLS ? ncols : OUT_MAX_COLS;
	o->rows = 0;
	switch (o->fmt) {
	case OUT_TEXT:
		for (i = 0; i < o->ncols; i++)
			o->width[i] = text_width(cols[i].name);
		o->cells = calloc((size_t)OUT_TEXT_BUFFER_ROWS * o->ncols, sizeof(char *));
		break;
	case OUT_CSV:
		for (i = 0; i < o->ncols; i++) {
			if (i > 0)
				fputc(',', o->f);
			csv_field(o->f, cols[i].name);
		}
		fputs("\r\n", o->f);
		break;
	case OUT_JSON:
		fputs("{\"command\":", o->f);
		out_json_string(o->f, command);
		fputs(",\"rows\":[", o->f);
		break;
	}
}

void out_row(struct out *o, const struct out_val *vals)
{
	char *row[OUT_MAX_COLS];
	size_t i, w;

	switch (o->fmt) {
	case OUT_TEXT:
		for (i = 0; i < o->ncols; i++) {
			row[i] = text_cell(&o->cols[i], &vals[i]);
			if (row[i] == NULL) {
				while (i > 0)
					free(row[--i]);
				o->failed = true;
				return;
			}
			w = text_width(row[i]);
			if (!o->widths_fixed && w > o->width[i])
				o->width[i] = w;
		}
		if (o->cells == NULL && !o->widths_fixed)
			text_flush(o); /* no buffer: header now, widths from the names */
		if (o->cells == NULL || o->widths_fixed) {
			text_print_row(o, row);
			for (i = 0; i < o->ncols; i++)
				free(row[i]);
			break;
		}
		memcpy(o->cells + o->nbuffered * o->ncols, row, o->ncols * sizeof(char *));
		if (++o->nbuffered == OUT_TEXT_BUFFER_ROWS)
			text_flush(o);
		break;
	case OUT_CSV:
		csv_row(o, vals);
		break;
	case OUT_JSON:
		json_row(o, vals);
		break;
	}
	o->rows++;
}

void out_end(struct out *o, const struct out_summary *s)
{
	size_t i;

	switch (o->fmt) {
	case OUT_TEXT:
		text_flush(o);
		fprintf(o->f,
			"\n%" PRIu64 " row%s from %" PRIu64 " record%s in %" PRIu64
			" file%s; %" PRIu64 " bad line%s",
			s->rows, s->rows == 1 ? "" : "s", s->records, s->records == 1 ? "" : "s",
			s->files, s->files == 1 ? "" : "s", s->bad, s->bad == 1 ? "" : "s");
		if (s->io_errors)
			fprintf(o->f, "; %" PRIu64 " read errors", s->io_errors);
		fputc('\n', o->f);
		for (i = 0; i < s->nnotes; i++)
			fprintf(o->f, "note: %s\n", s->notes[i]);
		break;
	case OUT_CSV:
		break;
	case OUT_JSON:
		fprintf(o->f,
			"\n],\n\"summary\":{\"rows\":%" PRIu64 ",\"records\":%" PRIu64
			",\"files\":%" PRIu64 ",\"bad\":%" PRIu64 ",\"read_errors\":%" PRIu64
			",\"notes\":[",
			s->rows, s->records, s->files, s->bad, s->io_errors);
		for (i = 0; i < s->nnotes; i++) {
			if (i > 0)
				fputc(',', o->f);
			out_json_string(o->f, s->notes[i]);
		}
		fputs("]}}\n", o->f);
		break;
	}
	if (ferror(o->f))
		o->failed = true;
}

int out_status(const struct out *o)
{
	return o->failed || ferror(o->f) ? -1 : 0;
}

void out_free(struct out *o)
{
	size_t i;

	if (o == NULL)
		return;
	if (o->cells != NULL) {
		for (i = 0; i < o->nbuffered * o->ncols; i++)
			free(o->cells[i]);
		free(o->cells);
	}
	free(o);
}
