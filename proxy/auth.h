/* auth.h: SASL PLAIN and LOGIN (RFC 4616, draft-murchison-sasl-login) decoding, pure. */
#ifndef AG_AUTH_H
#define AG_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_MAX_USER 256     /* longer usernames are refused before PAM */
#define AUTH_MAX_PASSWORD 1024

/* Server prompts for LOGIN: base64 of "Username:" and "Password:". */
#define AUTH_LOGIN_PROMPT_USER "334 VXNlcm5hbWU6"
#define AUTH_LOGIN_PROMPT_PASS "334 UGFzc3dvcmQ6"

enum auth_mech { AUTH_MECH_NONE = 0, AUTH_MECH_PLAIN, AUTH_MECH_LOGIN };

enum auth_status {
	AUTH_STATUS_OK = 0,
	AUTH_STATUS_BAD_BASE64, /* 501 5.5.2 */
	AUTH_STATUS_CANCELLED,  /* "*": 501 5.0.0 */
	AUTH_STATUS_INVALID,    /* well-formed base64 but unusable credentials: 535 */
};

/* "PLAIN", "login" ...: case-insensitive; AUTH_MECH_NONE if unknown. */
enum auth_mech auth_mech_parse(const char *s, size_t len);

/*
 * Strict base64 (RFC 4648 section 4): only the alphabet, '=' padding only at
 * the end and only as needed, length a multiple of 4, no whitespace.
 * Returns the decoded length, or -1. out needs room for len / 4 * 3 bytes;
 * out == NULL only validates.
 */
long auth_base64_decode(const char *in, size_t len, unsigned char *out, size_t outlen);
/* Returns the encoded length (NUL-terminated), or -1 if outlen is too small. */
long auth_base64_encode(const unsigned char *in, size_t len, char *out, size_t outlen);

struct auth_credentials {
	char user[AUTH_MAX_USER + 1];
	size_t user_len;
	char password[AUTH_MAX_PASSWORD + 1];
	size_t password_len;
};

/*
 * A SASL response line (the client's base64, without CRLF) for PLAIN:
 * authzid NUL authcid NUL passwd. "=" is the empty response. authzid must be
 * empty or equal to authcid (we do not let one user act for another). "*"
 * cancels. The credentials are NUL-terminated; a NUL inside user or password
 * makes them INVALID.
 */
enum auth_status auth_plain_decode(const char *line, size_t len, struct auth_credentials *cr);

/* One LOGIN step: decode the username or the password line into dst. */
enum auth_status auth_login_decode(const char *line, size_t len, char *dst, size_t dstsize,
				   size_t *dstlen);

/* Overwrite credentials (OPENSSL_cleanse-like, not optimised away). */
void auth_credentials_wipe(struct auth_credentials *cr);

#endif
