/* tls_tickets.c: session-ticket keys, rotated every tls_ticket_lifetime; the previous one still
 * accepted. */
#include "tls_tickets.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define TICKET_NAME_LEN 16 /* RFC 5077 4: key_name */
#define TICKET_KEY_LEN 32

struct tls_ticket_key {
	unsigned char name[TICKET_NAME_LEN];
	unsigned char aes[TICKET_KEY_LEN];  /* AES-256-CBC, as RFC 5077's recommended format */
	unsigned char hmac[TICKET_KEY_LEN]; /* HMAC-SHA256 over the encrypted state */
	int valid;
};

struct tls_tickets {
	struct tls_ticket_key cur, prev;
	/*
	 * Fetched once: EVP_aes_256_cbc() in the callback made OpenSSL look the
	 * cipher up in its provider store for every ticket issued or read
	 * (issue 16: a fetch a connection).
	 */
	EVP_CIPHER *aes;
};

/* One index for the process: it only says where SSL_CTX keeps our pointer. */
static int tls_tickets_index = -1;

static int tls_ticket_key_make(struct tls_ticket_key *k)
{
	if (RAND_bytes(k->name, sizeof(k->name)) != 1 ||
	    RAND_priv_bytes(k->aes, sizeof(k->aes)) != 1 ||
	    RAND_priv_bytes(k->hmac, sizeof(k->hmac)) != 1)
		return -1;
	k->valid = 1;
	return 0;
}

struct tls_tickets *tls_tickets_new(void)
{
	struct tls_tickets *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	if (t->aes == NULL || tls_ticket_key_make(&t->cur) < 0) {
		tls_tickets_free(t);
		return NULL;
	}
	return t;
}

void tls_tickets_free(struct tls_tickets *t)
{
	if (t == NULL)
		return;
	EVP_CIPHER_free(t->aes);
	explicit_bzero(t, sizeof(*t));
	free(t);
}

int tls_tickets_rotate(struct tls_tickets *t)
{
	struct tls_ticket_key next;

	if (t == NULL || tls_ticket_key_make(&next) < 0)
		return -1;
	t->prev = t->cur;
	t->cur = next;
	explicit_bzero(&next, sizeof(next));
	return 0;
}

static int tls_ticket_mac_init(EVP_MAC_CTX *hctx, const struct tls_ticket_key *k)
{
	OSSL_PARAM params[3];

	params[0] =
	    OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac, sizeof(k->hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, params);
}

/*
 * OpenSSL's ticket callback: enc = 1 issue under the current key; enc = 0
 * find the key a ticket names. Returns 1 (use it), 2 (use it, and issue a
 * new ticket under the current key), 0 (unknown key: full handshake), -1 error.
 */
static int tls_ticket_cb(SSL *ssl, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *cctx,
			 EVP_MAC_CTX *hctx, int enc)
{
	const struct tls_tickets *t = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_tickets_index);
	const struct tls_ticket_key *k;

	if (t == NULL)
		return -1;
	if (enc) {
		k = &t->cur;
		memcpy(name, k->name, TICKET_NAME_LEN);
		if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1 ||
		    EVP_EncryptInit_ex(cctx, t->aes, NULL, k->aes, iv) != 1 ||
		    tls_ticket_mac_init(hctx, k) != 1)
			return -1;
		return 1;
	}
	if (memcmp(name, t->cur.name, TICKET_NAME_LEN) == 0)
		k = &t->cur;
	else if (t->prev.valid && memcmp(name, t->prev.name, TICKET_NAME_LEN) == 0)
		k = &t->prev;
	else
		return 0;
	if (tls_ticket_mac_init(hctx, k) != 1 ||
	    EVP_DecryptInit_ex(cctx, t->aes, NULL, k->aes, iv) != 1)
		return -1;
	return k == &t->cur ? 1 : 2;
}

int tls_tickets_attach(SSL_CTX *ctx, struct tls_tickets *t, unsigned lifetime)
{
	if (tls_tickets_index < 0)
		tls_tickets_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (ctx == NULL || t == NULL || tls_tickets_index < 0 ||
	    SSL_CTX_set_ex_data(ctx, tls_tickets_index, t) != 1)
		return -1;
	/* A ticket is good for at most two periods: the one it was issued in, and the next. */
	SSL_CTX_set_timeout(ctx, 2L * (lifetime ? lifetime : 3600));
	return SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_ticket_cb) == 1 ? 0 : -1;
}
