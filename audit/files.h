/* files.h: the list of log files to read, rotated sets ordered oldest first. */
#ifndef AUDIT_FILES_H
#define AUDIT_FILES_H

#include <stddef.h>

struct file_list {
	char **v;
	size_t n;
	size_t cap;
};

/* Append a copy of path. 0, or -1 out of memory. */
int files_add(struct file_list *l, const char *path);
/*
 * path and its rotated siblings that exist: path.N, path.N.gz (logrotate's
 * numbering) and path-YYYYMMDD[.gz] (dateext). 0, or -1 out of memory.
 */
int files_add_rotated(struct file_list *l, const char *path);
/*
 * Oldest first: within one base name, dateext files by date, then numbered
 * ones by number descending (audit.jsonl.2.gz before audit.jsonl.1), then
 * the live file; different base names keep their command-line order.
 * Duplicates are dropped.
 */
void files_sort(struct file_list *l);
void files_free(struct file_list *l);

#endif
