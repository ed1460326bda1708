/* authres.c: recognise, compare and write our Authentication-Results header (RFC 8601). */
#include "milter.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "authres_id.h"

#define AUTHRES_MAX 2048 /* a header value we bother to compare; longer ones are not ours */

static bool authres_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * RFC 8601 2.2, read by the same code as the proxy's filter (policy/, STYLE.md
 * rule 13): comments before the id, a quoted id and a version after it do not
 * hide a header that claims our authserv-id. libmilter hands over the whole
 * value, so it is complete; one with no readable id is treated as ours.
 */
bool authres_is_ours(const char *value, const char *authserv_id)
{
	if (value == NULL)
		return false;
	return authres_id_match(value, strlen(value), authserv_id, true) == AUTHRES_ID_OURS;
}

/* Collapse every run of whitespace to one space, trim the ends; false if it does not fit. */
static bool authres_squeeze(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	bool space = false;

	for (; *in != '\0'; in++) {
		if (authres_space((unsigned char)*in)) {
			space = o > 0;
			continue;
		}
		/* "id ; auth=pass" and "id;auth=pass" mean the same: no space before ';'. */
		if (space && *in != ';') {
			if (o + 1 >= outlen)
				return false;
			out[o++] = ' ';
		}
		space = false;
		if (o + 1 >= outlen)
			return false;
		out[o++] = *in;
		if (*in == ';')
			space = true; /* always one space after ';' */
	}
	out[o] = '\0';
	return true;
}

bool authres_matches(const char *value, const char *authserv_id, const char *user)
{
	char got[AUTHRES_MAX], want[AUTHRES_MAX];
	const char *uv, *uw;
	size_t head;

	if (value == NULL || user == NULL || !authres_is_ours(value, authserv_id))
		return false;
	if (authres_format(authserv_id, user, want, sizeof(want)) < 0)
		return false;
	if (!authres_squeeze(value, got, sizeof(got)))
		return false;
	/*
	 * Keywords and the authserv-id are case-insensitive (RFC 8601 2.2);
	 * the user name is compared exactly, since "JDoe" and "jdoe" may be two
	 * people to the backend.
	 */
	uw = strstr(want, "smtp.auth=");
	uv = strstr(got, "smtp.auth=");
	if (uw == NULL || uv == NULL)
		return false;
	head = (size_t)(uw - want);
	if ((size_t)(uv - got) != head || strncasecmp(got, want, head) != 0)
		return false;
	return strcmp(uv, uw) == 0;
}

bool authres_user_ok(const char *user)
{
	const unsigned char *p;

	if (user == NULL || user[0] == '\0')
		return false;
	for (p = (const unsigned char *)user; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == ';' || *p == '(' || *p == ')' || *p == '"' ||
		    *p == '\\')
			return false;
	return p - (const unsigned char *)user <= 256;
}

int authres_format(const char *authserv_id, const char *user, char *buf, size_t len)
{
	int n;

	/*
	 * A name that would need quoting (RFC 8601 2.2 "value") is refused: the
	 * caller logs it and adds no header, rather than one a parser may misread.
	 */
	if (!authres_user_ok(user))
		return -1;
	n = snprintf(buf, len, "%s; auth=pass smtp.auth=%s", authserv_id, user);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}
