/* auth.c: SASL PLAIN and LOGIN (RFC 4616, draft-murchison-sasl-login) decoding, pure. */
#include "auth.h"

#include <string.h>
#include <strings.h>

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

enum auth_mech auth_mech_parse(const char *s, size_t len)
{
	if (len == 5 && strncasecmp(s, "PLAIN", 5) == 0)
		return AUTH_MECH_PLAIN;
	if (len == 5 && strncasecmp(s, "LOGIN", 5) == 0)
		return AUTH_MECH_LOGIN;
	return AUTH_MECH_NONE;
}

long auth_base64_decode(const char *in, size_t len, unsigned char *out, size_t outlen)
{
	size_t o = 0, pad = 0, n;

	if (len % 4 != 0)
		return -1;
	if (len >= 1 && in[len - 1] == '=')
		pad++;
	if (len >= 2 && in[len - 2] == '=')
		pad++;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		bool last = (i + 4 == len);

		for (size_t k = 0; k < 4; k++) {
			if (last && k >= 4 - pad) {
				v[k] = 0;
				continue;
			}
			v[k] = b64_value((unsigned char)in[i + k]);
			if (v[k] < 0)
				return -1;
		}
		/* Non-canonical encodings (stray bits under the padding) are refused too. */
		if (last && pad == 2 && (v[1] & 0x0f) != 0)
			return -1;
		if (last && pad == 1 && (v[2] & 0x03) != 0)
			return -1;
		n = 3 - (last ? pad : 0);
		if (out == NULL) { /* validation only */
			o += n;
			continue;
		}
		if (o + n > outlen)
			return -1;
		out[o++] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
		if (n >= 2)
			out[o++] = (unsigned char)(((v[1] & 0x0f) << 4) | (v[2] >> 2));
		if (n == 3)
			out[o++] = (unsigned char)(((v[2] & 0x03) << 6) | v[3]);
	}
	return (long)o;
}

long auth_base64_encode(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0, need = (len + 2) / 3 * 4 + 1;

	if (outlen < need)
		return -1;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return (long)o;
}

static bool is_cancel(const char *line, size_t len)
{
	return len == 1 && line[0] == '*';
}

/* Decode into a scratch buffer; "=" alone is the empty response (RFC 4954 4). */
static enum auth_status decode_response(const char *line, size_t len, unsigned char *buf,
					size_t bufsize, size_t *outlen)
{
	long n;

	if (is_cancel(line, len))
		return AUTH_STATUS_CANCELLED;
	if (len == 1 && line[0] == '=') {
		*outlen = 0;
		return AUTH_STATUS_OK;
	}
	if (len == 0)
		return AUTH_STATUS_BAD_BASE64;
	n = auth_base64_decode(line, len, buf, bufsize);
	if (n < 0)
		return AUTH_STATUS_BAD_BASE64;
	*outlen = (size_t)n;
	return AUTH_STATUS_OK;
}

enum auth_status auth_plain_decode(const char *line, size_t len, struct auth_credentials *cr)
{
	/*
	 * authzid + authcid + passwd + 2 NULs, each bounded: anything larger is not ours.
	 * Room is rounded up to whole base64 quanta so that every response the size check
	 * lets through decodes into buf (unpadded input decodes to len / 4 * 3 bytes).
	 */
	unsigned char buf[2 * AUTH_MAX_USER + AUTH_MAX_PASSWORD + 4];
	const unsigned char *authzid, *authcid, *passwd, *nul1, *nul2;
	size_t n, zlen, clen, plen;
	enum auth_status st;

	memset(cr, 0, sizeof(*cr));
	if (len / 4 * 3 > sizeof(buf) && !is_cancel(line, len)) {
		/* Valid base64 or not, it cannot hold credentials we would accept. */
		if (auth_base64_decode(line, len, NULL, 0) < 0)
			return AUTH_STATUS_BAD_BASE64;
		return AUTH_STATUS_INVALID;
	}
	st = decode_response(line, len, buf, sizeof(buf), &n);
	if (st != AUTH_STATUS_OK)
		goto out;
	st = AUTH_STATUS_INVALID;
	authzid = buf;
	nul1 = memchr(buf, '\0', n);
	if (nul1 == NULL)
		goto out;
	zlen = (size_t)(nul1 - buf);
	authcid = nul1 + 1;
	nul2 = memchr(authcid, '\0', n - zlen - 1);
	if (nul2 == NULL)
		goto out;
	clen = (size_t)(nul2 - authcid);
	passwd = nul2 + 1;
	plen = n - zlen - clen - 2;
	/* RFC 4616: passwd contains no NUL; a third NUL means a malformed message. */
	if (memchr(passwd, '\0', plen) != NULL)
		goto out;
	if (clen == 0 || clen > AUTH_MAX_USER || plen > AUTH_MAX_PASSWORD)
		goto out;
	if (zlen != 0 && (zlen != clen || memcmp(authzid, authcid, clen) != 0))
		goto out;
	memcpy(cr->user, authcid, clen);
	cr->user[clen] = '\0';
	cr->user_len = clen;
	memcpy(cr->password, passwd, plen);
	cr->password[plen] = '\0';
	cr->password_len = plen;
	st = AUTH_STATUS_OK;
out:
	/* The decoded buffer held a password. */
	memset(buf, 0, sizeof(buf));
	__asm__ __volatile__("" : : "r"(buf) : "memory");
	if (st != AUTH_STATUS_OK)
		auth_credentials_wipe(cr);
	return st;
}

enum auth_status auth_login_decode(const char *line, size_t len, char *dst, size_t dstsize,
				   size_t *dstlen)
{
	unsigned char buf[AUTH_MAX_PASSWORD + 3];
	enum auth_status st;
	size_t n = 0;

	*dstlen = 0;
	if (dstsize > 0)
		dst[0] = '\0';
	if (!is_cancel(line, len) && len / 4 * 3 > sizeof(buf)) {
		if (auth_base64_decode(line, len, NULL, 0) < 0)
			return AUTH_STATUS_BAD_BASE64;
		return AUTH_STATUS_INVALID;
	}
	st = decode_response(line, len, buf, sizeof(buf), &n);
	if (st == AUTH_STATUS_OK) {
		if (n + 1 > dstsize || memchr(buf, '\0', n) != NULL) {
			st = AUTH_STATUS_INVALID;
		} else {
			memcpy(dst, buf, n);
			dst[n] = '\0';
			*dstlen = n;
		}
	}
	memset(buf, 0, sizeof(buf));
	__asm__ __volatile__("" : : "r"(buf) : "memory");
	return st;
}

void auth_credentials_wipe(struct auth_credentials *cr)
{
	memset(cr, 0, sizeof(*cr));
	__asm__ __volatile__("" : : "r"(cr) : "memory");
}
