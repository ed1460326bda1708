/* esmtp.c: the ESMTP extensions we pass through: EHLO keywords learnt, MAIL/RCPT parameters
 * validated. */
#include "esmtp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ESMTP_MAX_KEYWORD 32

static bool esmtp_is_space(int c)
{
	return c == ' ' || c == '\t';
}

static bool esmtp_is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* "KEYWORD" or "KEYWORD value..." at kw (kwlen bytes): the keyword matches name. */
static bool esmtp_kw_is(const char *kw, size_t kwlen, const char *name)
{
	size_t n = strlen(name);

	return kwlen >= n && strncasecmp(kw, name, n) == 0 && (kwlen == n || kw[n] == ' ');
}

void esmtp_caps_line(struct ag_esmtp_caps *caps, const char *line, size_t len)
{
	const char *kw;
	size_t kwlen;

	/* "250-KEYWORD" / "250 KEYWORD" (RFC 5321 4.1.1.1); the first line is the greeting name. */
	if (caps == NULL || line == NULL || len < 5 || (line[3] != '-' && line[3] != ' '))
		return;
	kw = line + 4;
	kwlen = len - 4;
	if (esmtp_kw_is(kw, kwlen, "SIZE")) {
		uint64_t v = 0;
		size_t i;

		caps->size = true;
		/* RFC 1870 4: "SIZE" alone or "SIZE 0" means no fixed limit. */
		for (i = 5; i < kwlen && kw[i] >= '0' && kw[i] <= '9'; i++) {
			if (v > (UINT64_MAX - 9) / 10) {
				v = 0; /* absurd: treat as no limit of its own */
				break;
			}
			v = v * 10 + (uint64_t)(kw[i] - '0');
		}
		caps->size_limit = v;
	} else if (kwlen == 8 && strncasecmp(kw, "SMTPUTF8", 8) == 0) {
		caps->smtputf8 = true;
	} else if (kwlen == 3 && strncasecmp(kw, "DSN", 3) == 0) {
		caps->dsn = true;
	}
}

bool esmtp_is_xtext(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '+') {
			/* hexchar = "+" 2(%x30-39 / %x41-46): upper case only (RFC 3461 4). */
			if (len - i < 3)
				return false;
			for (int k = 1; k <= 2; k++) {
				int h = (unsigned char)s[i + (size_t)k];

				if (!((h >= '0' && h <= '9') || (h >= 'A' && h <= 'F')))
					return false;
			}
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return false;
		}
	}
	return true;
}

/* One "keyword[=value]" token of params; returns 0 at the end, 1 with a token, -1 on bad syntax. */
struct esmtp_token {
	const char *start; /* the whole token */
	size_t len;
	char kw[ESMTP_MAX_KEYWORD + 1];
	const char *val; /* NULL when there is no "=" */
	size_t vlen;
};

static int esmtp_next(const char **pp, struct esmtp_token *t, const char **why)
{
	const char *p = *pp;
	size_t k = 0;

	while (esmtp_is_space((unsigned char)*p))
		p++;
	if (*p == '\0')
		return 0;
	t->start = p;
	/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") (RFC 5321 4.1.2) */
	while (esmtp_is_alnum((unsigned char)p[k]) || (k > 0 && p[k] == '-')) {
		if (k >= ESMTP_MAX_KEYWORD) {
			*why = "parameter keyword too long";
			return -1;
		}
		t->kw[k] = p[k];
		k++;
	}
	t->kw[k] = '\0';
	t->val = NULL;
	t->vlen = 0;
	if (k == 0) {
		*why = "bad parameter syntax";
		return -1;
	}
	p += k;
	if (*p == '=') {
		p++;
		t->val = p;
		/* esmtp-value = 1*(%d33-60 / %d62-126) */
		while (*p != '\0' && !esmtp_is_space((unsigned char)*p)) {
			int c = (unsigned char)*p;

			if (c < 33 || c > 126 || c == '=') {
				*why = "bad character in parameter value";
				return -1;
			}
			p++;
		}
		t->vlen = (size_t)(p - t->val);
		if (t->vlen == 0) {
			*why = "empty parameter value";
			return -1;
		}
	} else if (*p != '\0' && !esmtp_is_space((unsigned char)*p)) {
		*why = "bad character in parameter keyword";
		return -1;
	}
	t->len = (size_t)(p - t->start);
	*pp = p;
	return 1;
}

static bool esmtp_val_is(const struct esmtp_token *t, const char *v)
{
	return t->val != NULL && t->vlen == strlen(v) && strncasecmp(t->val, v, t->vlen) == 0;
}

#define SEEN(bit)                                                                                  \
	do {                                                                                       \
		if (*seen & (bit)) {                                                               \
			*why = "parameter given twice";                                            \
			return AG_PARAM_SYNTAX;                                                    \
		}                                                                                  \
		*seen |= (bit);                                                                    \
	} while (0)

/* One parameter of MAIL or RCPT: checked, and recorded in out. */
typedef enum ag_param_result (*esmtp_param_fn)(const struct esmtp_token *t,
					       const struct ag_esmtp_allow *allow, void *out,
					       unsigned *seen, const char **why);

/* Walk params token by token; *bad points at the token a failure is about. */
static enum ag_param_result esmtp_parse_params(const char *params,
					       const struct ag_esmtp_allow *allow,
					       esmtp_param_fn one, void *out, const char **why,
					       const char **bad)
{
	struct esmtp_token t;
	const char *dummy, *p = params ? params : "";
	unsigned seen = 0;
	int rc;

	if (why == NULL)
		why = &dummy;
	if (bad == NULL)
		bad = &dummy;
	*bad = p;
	while ((rc = esmtp_next(&p, &t, why)) > 0) {
		enum ag_param_result r;

		*bad = t.start;
		r = one(&t, allow, out, &seen, why);
		if (r != AG_PARAM_OK)
			return r;
	}
	return rc < 0 ? AG_PARAM_SYNTAX : AG_PARAM_OK;
}

static enum ag_param_result esmtp_mail_param(const struct esmtp_token *t,
					     const struct ag_esmtp_allow *allow, void *outp,
					     unsigned *seen, const char **why)
{
	struct ag_mail_params *out = outp;

	if (strcasecmp(t->kw, "SIZE") == 0) {
		uint64_t v = 0;
		size_t i;

		SEEN(0x01);
		if (t->val == NULL || t->vlen > 20) {
			*why = "bad SIZE parameter";
			return AG_PARAM_SYNTAX;
		}
		for (i = 0; i < t->vlen; i++) {
			int d = t->val[i] - '0';

			if (d < 0 || d > 9 || v > (UINT64_MAX - (uint64_t)d) / 10) {
				*why = "bad SIZE parameter";
				return AG_PARAM_SYNTAX;
			}
			v = v * 10 + (uint64_t)d;
		}
		out->has_size = true;
		out->size = v;
	} else if (strcasecmp(t->kw, "BODY") == 0) {
		SEEN(0x02);
		if (esmtp_val_is(t, "8BITMIME")) {
			out->body_8bit = true;
		} else if (!esmtp_val_is(t, "7BIT")) {
			/* BINARYMIME needs CHUNKING, which we do not offer. */
			*why = "bad BODY parameter";
			return AG_PARAM_SYNTAX;
		}
	} else if (strcasecmp(t->kw, "AUTH") == 0) {
		/* RFC 4954 5: we vouch for the sender ourselves (XCLIENT LOGIN); dropped. */
		SEEN(0x04);
		if (t->val == NULL || !(esmtp_val_is(t, "<>") || esmtp_is_xtext(t->val, t->vlen))) {
			*why = "bad AUTH parameter";
			return AG_PARAM_SYNTAX;
		}
	} else if (strcasecmp(t->kw, "SMTPUTF8") == 0) {
		if (allow == NULL || !allow->smtputf8) {
			*why = "SMTPUTF8 not offered";
			return AG_PARAM_UNSUPPORTED;
		}
		SEEN(0x08);
		if (t->val != NULL) {
			*why = "SMTPUTF8 takes no value";
			return AG_PARAM_SYNTAX;
		}
		out->smtputf8 = true;
	} else if (strcasecmp(t->kw, "RET") == 0) {
		if (allow == NULL || !allow->dsn) {
			*why = "DSN not offered";
			return AG_PARAM_UNSUPPORTED;
		}
		SEEN(0x10);
		if (esmtp_val_is(t, "FULL")) {
			out->ret = AG_RET_FULL;
		} else if (esmtp_val_is(t, "HDRS")) {
			out->ret = AG_RET_HDRS;
		} else {
			*why = "bad RET parameter";
			return AG_PARAM_SYNTAX;
		}
	} else if (strcasecmp(t->kw, "ENVID") == 0) {
		if (allow == NULL || !allow->dsn) {
			*why = "DSN not offered";
			return AG_PARAM_UNSUPPORTED;
		}
		SEEN(0x20);
		if (t->val == NULL || t->vlen > AG_MAX_ENVID || !esmtp_is_xtext(t->val, t->vlen)) {
			*why = "bad ENVID parameter";
			return AG_PARAM_SYNTAX;
		}
		memcpy(out->envid, t->val, t->vlen);
		out->envid[t->vlen] = '\0';
	} else {
		*why = "unsupported parameter";
		return AG_PARAM_UNSUPPORTED;
	}
	return AG_PARAM_OK;
}

enum ag_param_result esmtp_parse_mail_params(const char *params, const struct ag_esmtp_allow *allow,
					     struct ag_mail_params *out, const char **why,
					     const char **bad)
{
	memset(out, 0, sizeof(*out));
	return esmtp_parse_params(params, allow, esmtp_mail_param, out, why, bad);
}

/* NOTIFY = "NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" ) (RFC 3461 4.1) */
static int esmtp_parse_notify(const char *v, size_t vlen, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} words[] = {{"NEVER", AG_NOTIFY_NEVER},
		     {"SUCCESS", AG_NOTIFY_SUCCESS},
		     {"FAILURE", AG_NOTIFY_FAILURE},
		     {"DELAY", AG_NOTIFY_DELAY}};
	size_t i = 0;

	*out = 0;
	while (i <= vlen) {
		size_t n = 0, w;
		unsigned bit = 0;

		while (i + n < vlen && v[i + n] != ',')
			n++;
		for (w = 0; w < sizeof(words) / sizeof(words[0]); w++)
			if (strlen(words[w].name) == n && strncasecmp(v + i, words[w].name, n) == 0)
				bit = words[w].bit;
		if (bit == 0 || (*out & bit))
			return -1;
		*out |= bit;
		i += n + 1;
	}
	if ((*out & AG_NOTIFY_NEVER) && *out != AG_NOTIFY_NEVER)
		return -1;
	return 0;
}

static enum ag_param_result esmtp_rcpt_param(const struct esmtp_token *t,
					     const struct ag_esmtp_allow *allow, void *outp,
					     unsigned *seen, const char **why)
{
	struct ag_rcpt_params *out = outp;

	if (strcasecmp(t->kw, "NOTIFY") != 0 && strcasecmp(t->kw, "ORCPT") != 0) {
		*why = "unsupported parameter";
		return AG_PARAM_UNSUPPORTED;
	}
	if (allow == NULL || !allow->dsn) {
		*why = "DSN not offered";
		return AG_PARAM_UNSUPPORTED;
	}
	if (strcasecmp(t->kw, "NOTIFY") == 0) {
		SEEN(0x01);
		if (t->val == NULL || esmtp_parse_notify(t->val, t->vlen, &out->notify) < 0) {
			*why = "bad NOTIFY parameter";
			return AG_PARAM_SYNTAX;
		}
	} else {
		SEEN(0x02);
		/*
		 * ORCPT = addr-type ";" xtext. Only "rfc822": the "utf-8" type of
		 * RFC 6533 has its own escapes we do not check, so it is not passed on.
		 */
		if (t->val == NULL || t->vlen > AG_MAX_ORCPT || t->vlen <= 7 ||
		    strncasecmp(t->val, "rfc822;", 7) != 0 ||
		    !esmtp_is_xtext(t->val + 7, t->vlen - 7)) {
			*why = "bad ORCPT parameter";
			return AG_PARAM_SYNTAX;
		}
		memcpy(out->orcpt, "rfc822;", 7);
		memcpy(out->orcpt + 7, t->val + 7, t->vlen - 7);
		out->orcpt[t->vlen] = '\0';
	}
	return AG_PARAM_OK;
}

enum ag_param_result esmtp_parse_rcpt_params(const char *params, const struct ag_esmtp_allow *allow,
					     struct ag_rcpt_params *out, const char **why,
					     const char **bad)
{
	memset(out, 0, sizeof(*out));
	return esmtp_parse_params(params, allow, esmtp_rcpt_param, out, why, bad);
}

/* Append prefix then value (both ours or validated) to buf; -1 if it does not fit. */
static int esmtp_append(char *buf, size_t len, size_t *off, const char *prefix, const char *value)
{
	size_t a = strlen(prefix), b = strlen(value);

	if (a + b >= len - *off)
		return -1;
	memcpy(buf + *off, prefix, a);
	memcpy(buf + *off + a, value, b);
	*off += a + b;
	buf[*off] = '\0';
	return 0;
}

int esmtp_format_mail_params(const struct ag_mail_params *p, bool with_size, bool with_8bit,
			     char *buf, size_t len)
{
	char num[32];
	size_t off = 0;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	snprintf(num, sizeof(num), "%llu", (unsigned long long)p->size);
	if (with_size && p->has_size && p->size > 0 &&
	    esmtp_append(buf, len, &off, " SIZE=", num) < 0)
		return -1;
	if (with_8bit && p->body_8bit && esmtp_append(buf, len, &off, " BODY=8BITMIME", "") < 0)
		return -1;
	if (p->smtputf8 && esmtp_append(buf, len, &off, " SMTPUTF8", "") < 0)
		return -1;
	if (p->ret != AG_RET_NONE &&
	    esmtp_append(buf, len, &off, " RET=", p->ret == AG_RET_FULL ? "FULL" : "HDRS") < 0)
		return -1;
	if (p->envid[0] != '\0' && esmtp_append(buf, len, &off, " ENVID=", p->envid) < 0)
		return -1;
	return (int)off;
}

int esmtp_format_rcpt_params(const struct ag_rcpt_params *p, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if (p->notify != 0) {
		static const char *const names[] = {"NEVER", "SUCCESS", "FAILURE", "DELAY"};
		char v[40] = "";
		size_t i;

		for (i = 0; i < 4; i++) {
			if (!(p->notify & (1u << i)))
				continue;
			if (v[0] != '\0')
				strcat(v, ",");
			strcat(v, names[i]);
		}
		if (esmtp_append(buf, len, &off, " NOTIFY=", v) < 0)
			return -1;
	}
	if (p->orcpt[0] != '\0' && esmtp_append(buf, len, &off, " ORCPT=", p->orcpt) < 0)
		return -1;
	return (int)off;
}
