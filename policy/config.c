/* config.c: load authgate.conf with inih into one validated, immutable, refcounted snapshot. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"

#define CONFIG_MAX_VALUE 65536 /* one value with all its continuation lines */

/* First error wins (force: inih's syntax error on an earlier line replaces a later one). */
void config_error(struct config_parse *st, int line, int key, bool force, const char *fmt, ...)
{
	char *buf = st->err->msg;
	size_t len = sizeof(st->err->msg);
	int n;
	va_list ap;

	if (st->failed && !force)
		return;
	st->failed = true;
	st->err_line = line;
	if (line > 0)
		n = snprintf(buf, len, "%s:%d: ", st->name, line);
	else
		n = snprintf(buf, len, "%s: ", st->name);
	if (n < 0 || (size_t)n >= len)
		return;
	if (key >= 0) {
		int m = snprintf(buf + n, len - (size_t)n, "[%s] %s: ", config_keys[key].section,
				 config_keys[key].name);

		if (m < 0 || (size_t)m >= len - (size_t)n)
			return;
		n += m;
	}
	va_start(ap, fmt);
	vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
}

void config_oom(struct config_parse *st)
{
	config_error(st, 0, -1, false, "out of memory");
}

static void config_pend_append(struct config_parse *st, const char *s, bool space)
{
	size_t len = strlen(s), need = st->pend_len + space + len + 1;

	if (need > CONFIG_MAX_VALUE) {
		config_error(st, st->lineno, st->pend_key, false, "value longer than %d characters",
			     CONFIG_MAX_VALUE - 1);
		return;
	}
	if (need > st->pend_cap) {
		size_t cap;
		char *p;

		for (cap = st->pend_cap ? st->pend_cap : 256; cap < need; cap *= 2)
			;
		p = realloc(st->pend, cap);
		if (p == NULL) {
			config_oom(st);
			return;
		}
		st->pend = p;
		st->pend_cap = cap;
	}
	if (space)
		st->pend[st->pend_len++] = ' ';
	memcpy(st->pend + st->pend_len, s, len + 1);
	st->pend_len += len;
}

/* A value is complete when the next key, section or the end of file comes. */
static void config_finish_pending(struct config_parse *st)
{
	int k = st->pend_key;

	st->pend_key = -1;
	if (k >= 0 && !st->failed)
		config_set(st, k, st->pend, st->pend_line);
}

/* Always returns 1: errors are reported by us with key and line; inih reports only syntax. */
static int config_handle(void *user, const char *section, const char *name, const char *value)
{
	struct config_parse *st = user;
	int k;

	if (st->failed)
		return 1;
	if (value == NULL)
		value = "";
	if (st->line_cont) {
		/* Python-configparser continuation, which Debian's inih has switched on. */
		if (st->pend_key >= 0)
			config_pend_append(st, value, st->pend_len > 0);
		return 1;
	}
	config_finish_pending(st);
	if (st->failed)
		return 1;
	if (*section == '\0') {
		config_error(st, st->lineno, -1, false, "%s: key outside any [section]", name);
		return 1;
	}
	if (*name == '\0') {
		config_error(st, st->lineno, -1, false, "[%s]: missing key name before '='",
			     section);
		return 1;
	}
	k = config_key_index(section, name);
	if (k < 0) {
		config_error(st, st->lineno, -1, false, "[%s] %s: unknown key", section, name);
		return 1;
	}
	if (st->seen[k] != 0) {
		config_error(st, st->lineno, k, false, "duplicate key (first set on line %d)",
			     st->seen[k]);
		return 1;
	}
	st->seen[k] = st->lineno;
	st->pend_key = k;
	st->pend_line = st->lineno;
	st->pend_len = 0;
	config_pend_append(st, value, false);
	return 1;
}

static int config_getc(struct config_parse *st)
{
	if (st->fp != NULL)
		return getc(st->fp);
	if (*st->text == '\0')
		return EOF;
	return (unsigned char)*st->text++;
}

/* inih does not check section names and has no hook for a section without keys. */
static void config_read_section(struct config_parse *st, const char *p)
{
	const char *end = strchr(p, ']'), *after;
	size_t i, len;

	if (end == NULL) {
		config_error(st, st->lineno, -1, false, "syntax error: missing ']'");
		return;
	}
	for (after = end + 1; *after == ' ' || *after == '\t'; after++)
		;
	if (*after != '\0' && *after != ';' && *after != '#') {
		config_error(st, st->lineno, -1, false, "syntax error: text after ']'");
		return;
	}
	len = (size_t)(end - p - 1);
	for (i = 0; config_sections[i] != NULL; i++)
		if (strlen(config_sections[i]) == len &&
		    strncmp(config_sections[i], p + 1, len) == 0)
			return;
	config_error(st, st->lineno, -1, false,
		     "[%.*s]: unknown section (expected general, proxy, policy, lists or milter)",
		     (int)(len > 64 ? 64 : len), p + 1);
}

/*
 * fgets() for inih, one call per line, so st->lineno is the line the handler
 * is called for. Lines inih would cut into pieces, NUL bytes and control
 * characters are errors here rather than silently mangled values.
 */
static char *config_read_line(char *buf, int num, void *stream)
{
	struct config_parse *st = stream;
	size_t n = 0, max, i;
	bool nul = false, overlong = false;
	char *p, *start;
	int c;

	if (st->failed || num < 2)
		return NULL;
	max = (size_t)num - 1;
	c = config_getc(st);
	if (c != EOF)
		st->lineno++;
	for (; c != EOF && c != '\n'; c = config_getc(st)) {
		if (c == '\0')
			nul = true;
		else if (n < max)
			buf[n++] = (char)c;
		else
			overlong = true;
	}
	if (st->fp != NULL && ferror(st->fp)) {
		config_error(st, st->lineno, -1, false, "read error: %s", strerror(errno));
		return NULL;
	}
	if (c == EOF && n == 0 && !nul && !overlong)
		return NULL;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (nul || overlong) {
		if (nul)
			config_error(st, st->lineno, -1, false, "NUL byte in line");
		else
			config_error(
			    st, st->lineno, -1, false,
			    "line longer than %zu characters (continue a value on indented lines)",
			    max);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (((unsigned char)buf[i] < ' ' && buf[i] != '\t') || buf[i] == 0x7f) {
			config_error(st, st->lineno, -1, false, "control character in line");
			return NULL;
		}
	start = buf;
	if (st->lineno == 1 && strncmp(buf, "\xef\xbb\xbf", 3) == 0)
		start += 3;
	for (p = start; *p == ' ' || *p == '\t'; p++)
		;
	st->line_cont = false;
	if (*p == '\0' || *p == ';' || *p == '#')
		return buf;
	if (p > start && st->have_prev) {
		if (*p == '[') {
			config_error(
			    st, st->lineno, -1, false,
			    "indented section header (an indented line continues a value)");
			return NULL;
		}
		st->line_cont = true;
		return buf;
	}
	if (*p == '[') {
		config_finish_pending(st);
		st->have_prev = false;
		config_read_section(st, p);
		return st->failed ? NULL : buf;
	}
	/* inih keeps its prev_name across a line it cannot parse. */
	if (strpbrk(p, "=:") != NULL)
		st->have_prev = true;
	return buf;
}

static void config_apply_defaults(struct config_parse *st)
{
	char *base = (char *)st->cfg;
	size_t i;

	for (i = 0; i < CONFIG_NKEYS && !st->failed; i++) {
		const struct config_key *key = &config_keys[i];

		if (st->seen[i] != 0)
			continue;
		if (key->flags & CONFIG_REQUIRED)
			config_error(st, 0, (int)i, false, "missing required key");
		else if (key->deflt != NULL)
			config_set(st, (int)i, key->deflt, 0);
	}
	for (i = 0; i < CONFIG_NKEYS && !st->failed; i++) {
		if (st->seen[i] != 0 || !(config_keys[i].flags & CONFIG_FROM_HOSTNAME))
			continue;
		*(char **)(base + config_keys[i].off) = strdup(st->cfg->hostname);
		if (*(char **)(base + config_keys[i].off) == NULL)
			config_oom(st);
	}
}

/* Keys that only make sense together; missing ones have no line to point at. */
static void config_check_together(struct config_parse *st)
{
	const struct ag_config *c = st->cfg;
	const char *listener = c->has_listen_smtps ? "listen_smtps" : "listen_submission";

	if (c->has_listen_smtps || c->has_listen_submission) {
		if (c->tls_cert == NULL)
			config_error(st, 0, config_key_index("proxy", "tls_cert"), false,
				     "missing required key (%s is set)", listener);
		if (c->tls_key == NULL)
			config_error(st, 0, config_key_index("proxy", "tls_key"), false,
				     "missing required key (%s is set)", listener);
		if (c->nbackends == 0)
			config_error(st, 0, config_key_index("proxy", "backends"), false,
				     "missing required key (%s is set)", listener);
	}
	if (c->has_listen_smtps && c->has_listen_submission &&
	    c->listen_smtps.port == c->listen_submission.port &&
	    strcmp(c->listen_smtps.host, c->listen_submission.host) == 0) {
		int k = config_key_index("proxy", "listen_submission");
		config_error(st, st->seen[k], k, false, "same address as listen_smtps");
	}
	/* Without it anyone who can connect could claim any client address. */
	if (c->proxy_protocol && c->proxy_protocol_from.n == 0)
		config_error(st, 0, config_key_index("proxy", "proxy_protocol_from"), false,
			     "missing required key (proxy_protocol = yes)");
	if (c->protected_lists.n > 0 && !c->has_hub)
		config_error(st, 0, config_key_index("lists", "hub"), false,
			     "missing required key (protected is set)");
}

static struct ag_config *config_load_stream(struct config_parse *st)
{
	int seen[CONFIG_NKEYS] = {0};
	int ret;

	st->seen = seen;
	st->pend_key = -1;
	st->cfg = calloc(1, sizeof(*st->cfg));
	if (st->cfg == NULL || (st->cfg->path = strdup(st->name)) == NULL) {
		free(st->cfg);
		config_oom(st);
		return NULL;
	}
	st->cfg->refcnt = 1;
	ret = ini_parse_stream(config_read_line, st, config_handle, st);
	config_finish_pending(st);
	/* inih counts lines like we do: one reader call each; the earlier error wins. */
	if (ret > 0 && (!st->failed || ret < st->err_line))
		config_error(st, ret, -1, true,
			     "syntax error: expected \"key = value\" or \"[section]\"");
	else if (ret < 0)
		config_oom(st);
	if (!st->failed)
		config_apply_defaults(st);
	if (!st->failed)
		config_check_together(st);
	free(st->pend);
	st->pend = NULL;
	if (!st->failed) {
		st->cfg->key_lines = malloc(sizeof(seen));
		if (st->cfg->key_lines == NULL)
			config_oom(st);
		else
			memcpy(st->cfg->key_lines, seen, sizeof(seen));
	}
	if (st->failed) {
		config_free(st->cfg);
		return NULL;
	}
	return st->cfg;
}

struct ag_config *config_load_fp(FILE *fp, const char *name, struct ag_config_error *err)
{
	struct ag_config_error dummy = {""};
	struct config_parse st;

	memset(&st, 0, sizeof(st));
	st.err = err != NULL ? err : &dummy;
	st.err->msg[0] = '\0';
	st.name = name != NULL ? name : "(stream)";
	if (fp == NULL) {
		config_error(&st, 0, -1, false, "no configuration stream given");
		return NULL;
	}
	st.fp = fp;
	return config_load_stream(&st);
}

struct ag_config *config_load_string(const char *text, const char *name,
				     struct ag_config_error *err)
{
	struct ag_config_error dummy = {""};
	struct config_parse st;

	memset(&st, 0, sizeof(st));
	st.err = err != NULL ? err : &dummy;
	st.err->msg[0] = '\0';
	st.name = name != NULL ? name : "(string)";
	if (text == NULL) {
		config_error(&st, 0, -1, false, "no configuration text given");
		return NULL;
	}
	st.text = text;
	return config_load_stream(&st);
}

void config_key_where(const struct ag_config *c, const char *section, const char *key, char *buf,
		      size_t len)
{
	int k = config_key_index(section, key);
	int line = k >= 0 && c->key_lines != NULL ? c->key_lines[k] : 0;

	if (line > 0)
		snprintf(buf, len, "%s:%d: [%s] %s", c->path, line, section, key);
	else
		snprintf(buf, len, "%s: [%s] %s", c->path, section, key);
}

struct ag_config *config_ref(struct ag_config *c)
{
	if (c != NULL)
		__atomic_add_fetch(&c->refcnt, 1, __ATOMIC_RELAXED);
	return c;
}

void config_unref(struct ag_config *c)
{
	/* Release/acquire: the thread that frees sees every other thread's last use. */
	if (c != NULL && __atomic_sub_fetch(&c->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
		config_free(c);
}
