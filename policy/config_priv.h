/* config_priv.h: what config.c, config_value.c and config_keys.c share (private to policy/). */
#ifndef AG_CONFIG_PRIV_H
#define AG_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

enum config_type {
	CONFIG_STR,	 /* char *, checked by key->check */
	CONFIG_BOOL,	 /* bool */
	CONFIG_UINT,	 /* unsigned, key->min..key->max */
	CONFIG_SIZE,	 /* uint64_t, key->min..key->max */
	CONFIG_ENUM,	 /* int-sized, names from key->names */
	CONFIG_HOSTPORT, /* struct ag_hostport + bool has_X; key->min is the default port */
	CONFIG_BACKENDS, /* backends[] + nbackends; key->min is the default port */
	CONFIG_DOMAINS,	 /* struct ag_domain_list */
	CONFIG_CIDRS,	 /* struct ag_cidr_list */
	CONFIG_PATTERNS, /* struct ag_pattern_list */
	CONFIG_INSTANT,	 /* int64_t + bool has_X */
};

#define CONFIG_REQUIRED 0x1	 /* no default: loading fails without it */
#define CONFIG_EMPTY_OK 0x2	 /* "key =" is allowed (empty string or empty list) */
#define CONFIG_FROM_HOSTNAME 0x4 /* default is the value of general.hostname */

struct config_name {
	const char *name;
	int value;
};

struct config_key {
	const char *section;
	const char *name;
	const char *deflt; /* text parsed like a value from the file; NULL: unset */
	/* cppcheck-suppress unusedStructMember */
	const char *doc; /* for people: doc/config-reference.md follows it */
	enum config_type type;
	unsigned flags;
	size_t off;	/* the field in struct ag_config */
	size_t has_off; /* its "has_" flag (HOSTPORT, INSTANT) */
	uint64_t min, max;
	const struct config_name *names;
	int (*check)(const char *s, const char **why);
};

struct config_parse {
	struct ag_config *cfg;
	struct ag_config_error *err;
	const char *name; /* file name in messages */
	FILE *fp;	  /* config_load ... */
	const char *text; /* ... or config_load_string */
	int lineno;
	bool failed;
	int err_line;
	bool have_prev; /* mirrors inih's prev_name: an indented line continues a value */
	bool line_cont; /* the line just read is such a continuation */
	int pend_key;	/* key whose value is being collected, -1 none */
	int pend_line;
	char *pend;
	size_t pend_len, pend_cap;
	int *seen; /* per key: line where it was set, 0 = not set */
};

/* Entries in config_keys[]; config_keys.c checks it at compile time. */
#define CONFIG_NKEYS 54

/* config_keys.c: the table every key is read, defaulted, freed and dumped by. */
extern const struct config_key config_keys[CONFIG_NKEYS];
extern const char *const config_sections[];
int config_key_index(const char *section, const char *name);
int config_check_hostname(const char *s, const char **why);
void config_free(struct ag_config *c);

/* config_value.c: text of one value into the typed field its key names. */
bool config_is_digit(int c);
int config_lower(int c);
int config_parse_port(const char *s, size_t len, uint16_t *out, const char **why);
int config_check_host(const char *s, const char **why);
void config_civil_from_days(int64_t z, int64_t *y, int *m, int *d);
void config_set(struct config_parse *st, int k, const char *text, int line);

/* config.c: the loader's error reporting. */
void config_error(struct config_parse *st, int line, int key, bool force, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void config_oom(struct config_parse *st);

#endif
