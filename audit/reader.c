/* reader.c: stream audit records out of log files (plain or gzip), reporting every bad line. */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define READER_CHUNK (256 * 1024)

struct reader {
	char *const *paths;
	size_t npaths;
	size_t next; /* index of the next file to open */
	FILE *diag;

	gzFile gz; /* NULL between files */
	const char *path;
	uint64_t lineno;
	bool eof;
	bool overlong; /* discarding the rest of a line longer than JSONL_MAX_LINE */

	/* buf[start..end) is read but not yet split into lines. */
	char *buf;
	size_t cap;
	size_t start;
	size_t end;

	struct jsonl_parser jp;
	struct reader_stats st;
};

struct reader *reader_new(char *const *paths, size_t npaths, FILE *diag)
{
	struct reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->cap = JSONL_MAX_LINE + READER_CHUNK;
	r->buf = malloc(r->cap);
	if (r->buf == NULL) {
		free(r);
		return NULL;
	}
	r->paths = paths;
	r->npaths = npaths;
	r->diag = diag;
	jsonl_parser_init(&r->jp);
	return r;
}

void reader_free(struct reader *r)
{
	if (r == NULL)
		return;
	if (r->gz != NULL)
		gzclose(r->gz);
	jsonl_parser_free(&r->jp);
	free(r->buf);
	free(r);
}

const struct reader_stats *reader_stats(const struct reader *r)
{
	return &r->st;
}

static void reader_bad(struct reader *r, size_t column, const char *why)
{
	r->st.bad++;
	if (r->st.bad > READER_MAX_REPORTED)
		return;
	if (column > 0)
		fprintf(r->diag, "%s:%llu: bad record: column %zu: %s\n", r->path,
			(unsigned long long)r->lineno, column, why);
	else
		fprintf(r->diag, "%s:%llu: bad record: %s\n", r->path,
			(unsigned long long)r->lineno, why);
	if (r->st.bad == READER_MAX_REPORTED)
		fprintf(r->diag, "%s: further bad records are counted, not shown\n", r->path);
}

/*
 * zlib reads plain files as they are (transparent mode) and gunzips when it
 * finds the gzip magic 1f 8b, so a rotated set mixing both needs no guessing
 * from file names. "-" is standard input.
 */
static int reader_open_next(struct reader *r)
{
	int fd;

	while (r->next < r->npaths) {
		r->path = r->paths[r->next++];
		if (strcmp(r->path, "-") == 0)
			fd = dup(STDIN_FILENO);
		else
			fd = open(r->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(r->diag, "%s: cannot open: %s\n", r->path, strerror(errno));
			r->st.io_errors++;
			continue;
		}
		r->gz = gzdopen(fd, "rb");
		if (r->gz == NULL) {
			fprintf(r->diag, "%s: cannot read: out of memory\n", r->path);
			close(fd);
			r->st.io_errors++;
			continue;
		}
		gzbuffer(r->gz, READER_CHUNK);
		r->st.files++;
		r->lineno = 0;
		r->eof = false;
		r->overlong = false;
		r->start = r->end = 0;
		return 1;
	}
	return 0;
}

static void reader_close(struct reader *r)
{
	gzclose(r->gz);
	r->gz = NULL;
}

/* Refill buf after compacting; sets eof at the end of the file or on an error. */
static void reader_fill(struct reader *r)
{
	const char *msg;
	size_t room;
	int n, zerr;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	room = r->cap - r->end;
	if (room > READER_CHUNK)
		room = READER_CHUNK;
	n = gzread(r->gz, r->buf + r->end, (unsigned)room);
	if (n < 0) {
		msg = gzerror(r->gz, &zerr);
		fprintf(r->diag, "%s: read error after line %llu: %s\n", r->path,
			(unsigned long long)r->lineno, zerr == Z_ERRNO ? strerror(errno) : msg);
		r->st.io_errors++;
		r->eof = true;
		return;
	}
	if (n == 0) {
		/* A gzip member cut short ends without an error from gzread on some zlibs. */
		msg = gzerror(r->gz, &zerr);
		if (zerr != Z_OK && zerr != Z_STREAM_END) {
			fprintf(r->diag, "%s: read error after line %llu: %s\n", r->path,
				(unsigned long long)r->lineno, msg);
			r->st.io_errors++;
		}
		r->eof = true;
		return;
	}
	r->end += (size_t)n;
}

/*
 * Records sent to syslog (audit_log = syslog:mail) come back with a prefix,
 * "Nov 23 10:00:00 host authgate[123]: {...}": the object starts after ": ".
 */
static size_t reader_skip_syslog(const char *line, size_t len)
{
	size_t i;

	if (len > 0 && line[0] == '{')
		return 0;
	for (i = 0; i + 2 < len; i++) {
		if (line[i] == '{')
			return 0;
		if (line[i] == ':' && line[i + 1] == ' ' && line[i + 2] == '{')
			return i + 2;
	}
	return 0;
}

/* One complete line: 1 if it is a record, 0 if it was bad (and reported). */
static int reader_line(struct reader *r, char *line, size_t len, struct audit_rec *rec)
{
	struct jsonl_error err;
	size_t off;

	r->lineno++;
	r->st.lines++;
	/* The buffer holds a little more than the limit: the limit is checked here, not there. */
	if (r->overlong || len >= JSONL_MAX_LINE) {
		r->overlong = false;
		reader_bad(r, 0, "line too long (1 MiB or more)");
		return 0;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0) {
		reader_bad(r, 0, "empty line");
		return 0;
	}
	off = reader_skip_syslog(line, len);
	if (jsonl_parse_line(&r->jp, line + off, len - off, rec, &err) < 0) {
		reader_bad(r, err.column ? err.column + off : 0, err.why);
		return 0;
	}
	r->st.records++;
	return 1;
}

int reader_next(struct reader *r, struct audit_rec *rec)
{
	char *line, *nl;
	size_t len;

	for (;;) {
		if (r->gz == NULL && reader_open_next(r) == 0)
			return 0;
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl != NULL) {
			line = r->buf + r->start;
			len = (size_t)(nl - line);
			r->start += len + 1;
			if (reader_line(r, line, len, rec))
				return 1;
			continue;
		}
		if (r->eof) {
			/* The last line has no newline: a writer may have been cut off mid-record.
			 */
			if (r->end > r->start || r->overlong) {
				line = r->buf + r->start;
				len = r->end - r->start;
				r->start = r->end;
				if (reader_line(r, line, len, rec))
					return 1;
				continue;
			}
			reader_close(r);
			continue;
		}
		if (r->end - r->start >= JSONL_MAX_LINE) {
			/* Drop what we have; the line is reported once its end is found. */
			r->overlong = true;
			r->start = r->end = 0;
		}
		reader_fill(r);
	}
}
