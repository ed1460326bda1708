/* reader.h: stream audit records out of log files (plain or gzip), reporting every bad line. */
#ifndef AUDIT_READER_H
#define AUDIT_READER_H

#include <stdint.h>
#include <stdio.h>

#include "jsonl.h"

#define READER_MAX_REPORTED 100 /* bad lines shown one by one; the rest only counted */

struct reader_stats {
	uint64_t files; /* opened */
	uint64_t lines;
	uint64_t records;   /* parsed */
	uint64_t bad;	    /* lines that were not a valid record */
	uint64_t io_errors; /* files that could not be opened or read to the end */
};

struct reader;

/* paths are read in the given order (files_sort first); diag receives the complaints. */
struct reader *reader_new(char *const *paths, size_t npaths, FILE *diag);
/*
 * The next record: 1 (rec valid until the next call), 0 after the last file.
 * Never fails on content: bad lines go to diag as "FILE:LINE: bad record: why".
 */
int reader_next(struct reader *r, struct audit_rec *rec);
const struct reader_stats *reader_stats(const struct reader *r);
void reader_free(struct reader *r);

#endif
