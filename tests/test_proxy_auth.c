/* test_proxy_auth.c: strict base64, SASL PLAIN and LOGIN decoding, cancel. */
#include <string.h>

#include "proxy/auth.h"
#include "tap.h"

static const char *b64(const char *raw, size_t len, char *buf, size_t size)
{
	if (auth_base64_encode((const unsigned char *)raw, len, buf, size) < 0)
		return "";
	return buf;
}

int main(void)
{
	unsigned char out[128];
	char enc[256], dst[64];
	struct auth_credentials cr;
	size_t dl;
	const char *line;

	/* base64 */
	is_int(auth_base64_decode("Zm9v", 4, out, sizeof(out)), 3, "foo decodes to 3");
	ok(memcmp(out, "foo", 3) == 0, "foo content");
	is_int(auth_base64_decode("Zm8=", 4, out, sizeof(out)), 2, "one pad");
	is_int(auth_base64_decode("Zg==", 4, out, sizeof(out)), 1, "two pads");
	is_int(auth_base64_decode("Zm9", 3, out, sizeof(out)), -1, "length not multiple of 4");
	is_int(auth_base64_decode("Zm9!", 4, out, sizeof(out)), -1, "bad character");
	is_int(auth_base64_decode("Zm 9", 4, out, sizeof(out)), -1, "space refused");
	is_int(auth_base64_decode("Z===", 4, out, sizeof(out)), -1, "three pads refused");
	is_int(auth_base64_decode("Zg==Zg==", 8, out, sizeof(out)), -1, "padding in the middle");
	is_int(auth_base64_decode("Zh==", 4, out, sizeof(out)), -1, "non-canonical bits refused");
	is_int(auth_base64_decode("Zm9vYmFy", 8, out, 5), -1, "output too small");
	is_int(auth_base64_decode("Zm9vYmFy", 8, NULL, 0), 6, "validate-only");
	is_str(b64("foobar", 6, enc, sizeof(enc)), "Zm9vYmFy", "encode");
	is_str(b64("Username:", 9, enc, sizeof(enc)), "VXNlcm5hbWU6", "LOGIN user prompt text");
	is_str(b64("Password:", 9, enc, sizeof(enc)), "UGFzc3dvcmQ6", "LOGIN password prompt text");

	/* mechanisms */
	is_int(auth_mech_parse("plain", 5), AUTH_MECH_PLAIN, "plain");
	is_int(auth_mech_parse("LOGIN", 5), AUTH_MECH_LOGIN, "LOGIN");
	is_int(auth_mech_parse("CRAM-MD5", 8), AUTH_MECH_NONE, "CRAM-MD5 unknown");

	/* PLAIN */
	line = b64("\0jdoe\0secret", 12, enc, sizeof(enc));
	is_int(auth_plain_decode(line, strlen(line), &cr), AUTH_STATUS_OK, "PLAIN without authzid");
	is_str(cr.user, "jdoe", "PLAIN user");
	is_str(cr.password, "secret", "PLAIN password");
	is_int(cr.password_len, 6, "PLAIN password length");
	line = b64("jdoe\0jdoe\0secret", 16, enc, sizeof(enc));
	is_int(auth_plain_decode(line, strlen(line), &cr), AUTH_STATUS_OK, "authzid equal authcid");
	line = b64("admin\0jdoe\0secret", 17, enc, sizeof(enc));
	is_int(auth_plain_decode(line, strlen(line), &cr), AUTH_STATUS_INVALID,
	       "authzid differs: refused");
	ok(cr.user[0] == '\0' && cr.password[0] == '\0', "refused credentials wiped");
	line = b64("\0jdoe\0sec\0ret", 14, enc, sizeof(enc));
	is_int(auth_plain_decode(line, strlen(line), &cr), AUTH_STATUS_INVALID,
	       "NUL inside password refused");
	line = b64("\0jdoe", 5, enc, sizeof(enc));
	is_int(auth_plain_decode(line, strlen(line), &cr), AUTH_STATUS_INVALID, "missing password");
	line = b64("\0\0secret", 8, enc, sizeof(enc));
	is_int(auth_plain_decode(line, strlen(line), &cr), AUTH_STATUS_INVALID, "empty authcid");
	line = b64("\0j\xc3\xb6rg\0p\xc3\xa4ss", 12, enc, sizeof(enc));
	is_int(auth_plain_decode(line, strlen(line), &cr), AUTH_STATUS_OK, "UTF-8 user and password");
	is_str(cr.password, "p\xc3\xa4ss", "UTF-8 password kept");
	is_int(auth_plain_decode("=", 1, &cr), AUTH_STATUS_INVALID, "empty response is no login");
	is_int(auth_plain_decode("*", 1, &cr), AUTH_STATUS_CANCELLED, "PLAIN cancel");
	is_int(auth_plain_decode("AGpkb2UAc2VjcmV0!", 17, &cr), AUTH_STATUS_BAD_BASE64,
	       "PLAIN bad base64");
	is_int(auth_plain_decode("", 0, &cr), AUTH_STATUS_BAD_BASE64, "PLAIN empty line");
	{
		/* a 300-byte user is over the 256-byte limit */
		char raw[320], big[500];

		raw[0] = '\0';
		memset(raw + 1, 'u', 300);
		raw[301] = '\0';
		memcpy(raw + 302, "pw", 2);
		line = b64(raw, 304, big, sizeof(big));
		is_int(auth_plain_decode(line, strlen(line), &cr), AUTH_STATUS_INVALID,
		       "user over 256 bytes refused");
	}

	/* LOGIN */
	line = b64("jdoe", 4, enc, sizeof(enc));
	is_int(auth_login_decode(line, strlen(line), dst, sizeof(dst), &dl), AUTH_STATUS_OK,
	       "LOGIN user");
	is_str(dst, "jdoe", "LOGIN user value");
	is_int(auth_login_decode("*", 1, dst, sizeof(dst), &dl), AUTH_STATUS_CANCELLED,
	       "LOGIN cancel");
	is_int(auth_login_decode("amRvZQ", 6, dst, sizeof(dst), &dl), AUTH_STATUS_BAD_BASE64,
	       "LOGIN unpadded base64 refused");
	line = b64("jd\0e", 4, enc, sizeof(enc));
	is_int(auth_login_decode(line, strlen(line), dst, sizeof(dst), &dl), AUTH_STATUS_INVALID,
	       "LOGIN NUL in name refused");
	line = b64("0123456789", 10, enc, sizeof(enc));
	is_int(auth_login_decode(line, strlen(line), dst, 5, &dl), AUTH_STATUS_INVALID,
	       "LOGIN value too long for its buffer");

	/* Found by fuzz_auth: valid base64 of 1539..1544 bytes is oversized, not malformed. */
	{
		static unsigned char big[1544];
		static char bigenc[2100];
		size_t k;

		for (k = 1539; k <= sizeof(big); k++) {
			memset(big, 'a', k);
			line = b64((const char *)big, k, bigenc, sizeof(bigenc));
			if (auth_plain_decode(line, strlen(line), &cr) != AUTH_STATUS_INVALID)
				break;
		}
		is_int(k, sizeof(big) + 1, "oversized valid PLAIN response is 535, not 501");
	}
	return tap_done();
}
