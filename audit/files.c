/* files.c: the list of log files to read, rotated sets ordered oldest first. */
#include "files.h"

#include <glob.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum rot_kind { ROT_DATED = 0, ROT_NUMBERED = 1, ROT_LIVE = 2 };

/* Where a file sits in its rotated set. */
struct rot_name {
	size_t baselen; /* path[0..baselen) is the live file's name */
	enum rot_kind kind;
	uint64_t number; /* rotation number, or the date as YYYYMMDD[HH] */
};

int files_add(struct file_list *l, const char *path)
{
	char **grown;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;

		grown = realloc(l->v, cap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		l->v = grown;
		l->cap = cap;
	}
	l->v[l->n] = strdup(path);
	if (l->v[l->n] == NULL)
		return -1;
	l->n++;
	return 0;
}

static bool all_digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static uint64_t to_number(const char *s, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	return v;
}

/* "audit.jsonl.2.gz" -> base "audit.jsonl", numbered 2; "audit.jsonl-20261123" -> dated. */
static void rot_parse(const char *path, struct rot_name *r)
{
	size_t len = strlen(path), end = len, i;

	if (end > 3 && strcmp(path + end - 3, ".gz") == 0)
		end -= 3;
	r->baselen = end;
	r->kind = ROT_LIVE;
	r->number = 0;
	for (i = end; i > 0 && path[i - 1] >= '0' && path[i - 1] <= '9'; i--)
		;
	if (i == 0 || i == end || i == 1)
		return;
	/* Up to 6 digits is a rotation count; 8 or 10 a date (logrotate dateformat -%Y%m%d[%H]). */
	if (path[i - 1] == '.' && end - i <= 6 && all_digits(path + i, end - i)) {
		r->baselen = i - 1;
		r->kind = ROT_NUMBERED;
		r->number = to_number(path + i, end - i);
	} else if (path[i - 1] == '-' && (end - i == 8 || end - i == 10)) {
		r->baselen = i - 1;
		r->kind = ROT_DATED;
		r->number = to_number(path + i, end - i);
	}
}

int files_add_rotated(struct file_list *l, const char *path)
{
	static const char *const suffixes[] = {".[0-9]*", "-[0-9]*"};
	struct rot_name r;
	glob_t g;
	size_t i, j, len = strlen(path);
	int rc = 0;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]) && rc == 0; i++) {
		char *pattern = malloc(len + 8);

		if (pattern == NULL)
			return -1;
		memcpy(pattern, path, len);
		strcpy(pattern + len, suffixes[i]);
		memset(&g, 0, sizeof(g));
		if (glob(pattern, GLOB_NOSORT, NULL, &g) == 0) {
			for (j = 0; j < g.gl_pathc && rc == 0; j++) {
				rot_parse(g.gl_pathv[j], &r);
				/* Only true siblings: "audit.jsonl.1", not "audit.jsonl.1.bak". */
				if (r.kind != ROT_LIVE && r.baselen == len &&
				    strncmp(g.gl_pathv[j], path, len) == 0)
					rc = files_add(l, g.gl_pathv[j]);
			}
		}
		globfree(&g);
		free(pattern);
	}
	if (rc == 0)
		rc = files_add(l, path);
	return rc;
}

struct sort_item {
	char *path;
	struct rot_name r;
	size_t base_rank; /* first command-line position of this base name */
	size_t pos;
};

static int sort_cmp(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;

	if (x->base_rank != y->base_rank)
		return x->base_rank < y->base_rank ? -1 : 1;
	if (x->r.kind != y->r.kind)
		return x->r.kind < y->r.kind ? -1 : 1;
	if (x->r.number != y->r.number) {
		if (x->r.kind == ROT_NUMBERED) /* higher number = older */
			return x->r.number > y->r.number ? -1 : 1;
		return x->r.number < y->r.number ? -1 : 1;
	}
	if (strcmp(x->path, y->path) != 0)
		return strcmp(x->path, y->path);
	return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

void files_sort(struct file_list *l)
{
	struct sort_item *it;
	size_t i, j, k;

	if (l->n < 2)
		return;
	it = calloc(l->n, sizeof(*it));
	if (it == NULL)
		return; /* keep the given order: still a valid (if unsorted) reading */
	for (i = 0; i < l->n; i++) {
		it[i].path = l->v[i];
		it[i].pos = i;
		rot_parse(l->v[i], &it[i].r);
		it[i].base_rank = i;
		for (j = 0; j < i; j++) {
			if (it[j].r.baselen == it[i].r.baselen &&
			    strncmp(it[j].path, it[i].path, it[i].r.baselen) == 0) {
				it[i].base_rank = it[j].base_rank;
				break;
			}
		}
	}
	qsort(it, l->n, sizeof(*it), sort_cmp);
	for (i = 0, k = 0; i < l->n; i++) {
		if (k > 0 && strcmp(l->v[k - 1], it[i].path) == 0) {
			free(it[i].path);
			continue;
		}
		l->v[k++] = it[i].path;
	}
	l->n = k;
	free(it);
}

void files_free(struct file_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
