/*
 * fuzz_auth.c: SASL PLAIN/LOGIN decoding and strict base64, with round trips.
 * FUZZ_SOURCES: proxy/auth.c
 */
#include <stdbool.h>

#include "fuzz_util.h"
#include "proxy/auth.h"

static bool special(const char *s, size_t len)
{
	return len == 0 || (len == 1 && (s[0] == '*' || s[0] == '='));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_credentials cr;
	char *line = fuzz_memdup(data, size);
	unsigned char *dec = malloc(size / 4 * 3 + 1);
	char *enc, login[AUTH_MAX_PASSWORD + 1];
	size_t loginlen = 0;
	long n, m;
	enum auth_status st;

	if (dec == NULL)
		abort();
	(void)auth_mech_parse(line, size);

	/* Strict base64: what decodes re-encodes to exactly the input (one canonical form). */
	n = auth_base64_decode(line, size, dec, size / 4 * 3 + 1);
	FUZZ_ASSERT(n == auth_base64_decode(line, size, NULL, 0));
	if (n >= 0) {
		enc = malloc(size + 1);
		if (enc == NULL)
			abort();
		m = auth_base64_encode(dec, (size_t)n, enc, size + 1);
		FUZZ_ASSERT(m == (long)size);
		FUZZ_ASSERT(memcmp(enc, line, size) == 0);
		free(enc);
	}
	/* And any bytes encode to something that decodes back to them. */
	{
		size_t elen = (size + 2) / 3 * 4 + 1;
		unsigned char *back = malloc(size + 1);

		enc = malloc(elen);
		if (enc == NULL || back == NULL)
			abort();
		FUZZ_ASSERT(auth_base64_encode(data, size, enc, elen) == (long)elen - 1);
		FUZZ_ASSERT(auth_base64_encode(data, size, enc, elen - 1) == -1);
		FUZZ_ASSERT(auth_base64_decode(enc, elen - 1, back, size + 1) == (long)size);
		FUZZ_ASSERT(size == 0 || memcmp(back, data, size) == 0);
		free(back);
		free(enc);
	}

	st = auth_plain_decode(line, size, &cr);
	FUZZ_ASSERT(st >= AUTH_STATUS_OK && st <= AUTH_STATUS_INVALID);
	/* 501 is for bad base64 only: well-formed base64 is never called bad (RFC 4954 4). */
	if (!special(line, size))
		FUZZ_ASSERT((st == AUTH_STATUS_BAD_BASE64) == (n < 0));
	if (st == AUTH_STATUS_OK) {
		FUZZ_ASSERT(cr.user_len > 0 && cr.user_len <= AUTH_MAX_USER);
		FUZZ_ASSERT(strlen(cr.user) == cr.user_len);
		FUZZ_ASSERT(cr.password_len <= AUTH_MAX_PASSWORD);
		FUZZ_ASSERT(strlen(cr.password) == cr.password_len);
	} else {
		FUZZ_ASSERT(cr.user_len == 0 && cr.password_len == 0 && cr.user[0] == '\0');
	}
	auth_credentials_wipe(&cr);

	st = auth_login_decode(line, size, login, sizeof(login), &loginlen);
	FUZZ_ASSERT(st >= AUTH_STATUS_OK && st <= AUTH_STATUS_INVALID);
	if (!special(line, size))
		FUZZ_ASSERT((st == AUTH_STATUS_BAD_BASE64) == (n < 0));
	if (st == AUTH_STATUS_OK) {
		FUZZ_ASSERT(loginlen < sizeof(login));
		FUZZ_ASSERT(strlen(login) == loginlen);
	}
	/* A tiny destination is refused, never overrun. */
	{
		char small[4];

		st = auth_login_decode(line, size, small, sizeof(small), &loginlen);
		if (st == AUTH_STATUS_OK)
			FUZZ_ASSERT(loginlen < sizeof(small));
	}
	free(dec);
	free(line);
	return 0;
}
