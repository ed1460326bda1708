/* authres_id.c: whose Authentication-Results header is this? One reading of RFC 8601 2.2. */
#include "authres_id.h"

#include <string.h>
#include <strings.h>

#define AUTHRES_ID_MAX 256 /* an authserv-id longer than a domain name is not ours */

static bool authres_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 2045 5.1: token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials> */
static bool authres_token_char(char c)
{
	unsigned char u = (unsigned char)c;

	return u > 32 && u < 127 && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Skip [CFWS] from *i; false if the text ends inside a comment (or before anything else). */
static bool authres_skip_cfws(const char *v, size_t len, size_t *i)
{
	unsigned depth = 0;

	while (*i < len) {
		char c = v[*i];

		if (depth > 0) {
			if (c == '\\' && *i + 1 < len)
				(*i)++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			(*i)++;
		} else if (authres_fws(c)) {
			(*i)++;
		} else if (c == '(') {
			depth++;
			(*i)++;
		} else {
			return true;
		}
	}
	return false;
}

static enum authres_id_result authres_compare(const char *got, size_t n, const char *id)
{
	if (n == 0)
		return AUTHRES_ID_OTHER;
	return n == strlen(id) && strncasecmp(got, id, n) == 0 ? AUTHRES_ID_OURS : AUTHRES_ID_OTHER;
}

/* A quoted-string from v[*i] == '"'; its content, unquoted and unfolded, into out. */
static enum authres_id_result authres_quoted(const char *v, size_t len, size_t i, const char *id)
{
	char out[AUTHRES_ID_MAX + 1];
	size_t n = 0, start;
	bool toolong = false;

	for (i++; i < len && v[i] != '"'; i++) {
		char c = v[i];

		if (c == '\r' || c == '\n')
			continue; /* FWS: the fold goes, the white space after it stays */
		if (c == '\\') {
			if (++i >= len)
				break;
			c = v[i];
		}
		if (n < AUTHRES_ID_MAX)
			out[n++] = c;
		else
			toolong = true;
	}
	if (i >= len)
		return AUTHRES_ID_UNDECIDED;
	if (toolong)
		return AUTHRES_ID_OTHER;
	/* '"  smtp.example.ac.uk "' names the same server to a lenient reader. */
	for (start = 0; start < n && (out[start] == ' ' || out[start] == '\t'); start++)
		;
	while (n > start && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	return authres_compare(out + start, n - start, id);
}

enum authres_id_result authres_id_match(const char *value, size_t len, const char *id,
					bool complete)
{
	enum authres_id_result r;
	size_t i = 0, start;

	if (value == NULL || id == NULL || id[0] == '\0')
		return AUTHRES_ID_OTHER;
	if (!authres_skip_cfws(value, len, &i)) {
		r = AUTHRES_ID_UNDECIDED;
	} else if (value[i] == '"') {
		r = authres_quoted(value, len, i, id);
	} else {
		start = i;
		while (i < len && authres_token_char(value[i]))
			i++;
		/* Without a byte after it, the token may go on in the next piece of text. */
		if (i >= len && !complete)
			return AUTHRES_ID_UNDECIDED;
		r = authres_compare(value + start, i - start, id);
	}
	if (r == AUTHRES_ID_UNDECIDED && complete)
		return AUTHRES_ID_OURS;
	return r;
}
