/* xclient.c: Postfix XCLIENT commands: xtext values, split into <= 512-octet lines (pure). */
#include "xclient.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define XCLIENT_VERB "XCLIENT"

long xclient_xtext_encode(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=') {
			if (o + 3 >= outlen)
				return -1;
			out[o++] = '+';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)*p;
		}
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return (long)o;
}

bool xclient_supports(const char *advertised, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = advertised;

	while (p != NULL && *p != '\0') {
		size_t wlen;

		while (*p == ' ')
			p++;
		wlen = strcspn(p, " ");
		if (wlen == nlen && strncasecmp(p, name, nlen) == 0)
			return true;
		p += wlen;
	}
	return false;
}

static bool is_reset_attr(const char *name)
{
	return strcasecmp(name, "NAME") == 0 || strcasecmp(name, "ADDR") == 0;
}

/* Append " NAME=value" to the current line, opening a new one when full. */
static int append_attr(struct xclient_cmds *out, const char *item, size_t ilen, bool new_line,
		       const char **why)
{
	const size_t max = XCLIENT_MAX_LINE - 2; /* CRLF */
	size_t cur;

	if (sizeof(XCLIENT_VERB) - 1 + 1 + ilen > max) {
		*why = "XCLIENT attribute too long for one command";
		return -1;
	}
	if (out->n == 0 || new_line ||
	    strlen(out->line[out->n - 1]) + 1 + ilen > max) {
		if (out->n == XCLIENT_MAX_CMDS) {
			*why = "too many XCLIENT commands";
			return -1;
		}
		snprintf(out->line[out->n], sizeof(out->line[0]), "%s", XCLIENT_VERB);
		out->n++;
	}
	cur = strlen(out->line[out->n - 1]);
	out->line[out->n - 1][cur] = ' ';
	memcpy(out->line[out->n - 1] + cur + 1, item, ilen);
	out->line[out->n - 1][cur + 1 + ilen] = '\0';
	return 0;
}

static int encode_item(const struct xclient_attr *a, char *item, size_t size, size_t *ilen,
		       const char **why)
{
	int n = snprintf(item, size, "%s=", a->name);
	long v;

	if (n < 0 || (size_t)n >= size) {
		*why = "XCLIENT attribute name too long";
		return -1;
	}
	if (a->value == NULL) {
		v = snprintf(item + n, size - (size_t)n, "%s", XCLIENT_UNAVAILABLE);
		if (v < 0 || (size_t)v >= size - (size_t)n)
			v = -1;
	} else {
		v = xclient_xtext_encode(a->value, item + n, size - (size_t)n);
	}
	if (v < 0) {
		*why = "XCLIENT attribute too long for one command";
		return -1;
	}
	*ilen = (size_t)n + (size_t)v;
	return 0;
}

int xclient_build(const char *advertised, const struct xclient_attr *attrs, size_t nattrs,
		  struct xclient_cmds *out, const char **why)
{
	char item[XCLIENT_MAX_LINE];
	size_t ilen, start_last;
	bool first_reset = true;

	memset(out, 0, sizeof(*out));
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < nattrs; i++) {
			if (is_reset_attr(attrs[i].name) != (pass == 1))
				continue;
			if (!xclient_supports(advertised, attrs[i].name))
				continue;
			if (encode_item(&attrs[i], item, sizeof(item), &ilen, why) < 0)
				return -1;
			/*
			 * The reset attributes share one line: start a fresh one for
			 * the first of them unless all of them fit on the current one.
			 */
			if (pass == 1 && first_reset) {
				size_t need = ilen, cur;

				for (size_t k = i + 1; k < nattrs; k++) {
					char tmp[XCLIENT_MAX_LINE];
					size_t tlen;

					if (is_reset_attr(attrs[k].name) &&
					    xclient_supports(advertised, attrs[k].name) &&
					    encode_item(&attrs[k], tmp, sizeof(tmp), &tlen, why) == 0)
						need += 1 + tlen;
				}
				cur = out->n ? strlen(out->line[out->n - 1]) : 0;
				start_last = out->n == 0 || cur + 1 + need > XCLIENT_MAX_LINE - 2;
				if (need + sizeof(XCLIENT_VERB) > XCLIENT_MAX_LINE - 2) {
					*why = "XCLIENT NAME and ADDR do not fit in one command";
					return -1;
				}
				if (append_attr(out, item, ilen, start_last, why) < 0)
					return -1;
				first_reset = false;
				continue;
			}
			if (append_attr(out, item, ilen, false, why) < 0)
				return -1;
		}
	}
	return 0;
}
