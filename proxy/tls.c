/* tls.c: the server SSL_CTX built from the configuration. */
#include "tls.h"

#include <stdio.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "policy/config.h"

static void tls_error(char *err, size_t errlen, const char *what, const char *file)
{
	unsigned long e = ERR_get_error();
	char reason[256] = "unknown error";

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	snprintf(err, errlen, "%s%s%s: %s", what, file ? " " : "", file ? file : "", reason);
}

/* The private key: from the file (as root, at start) or from the auth process's copy (reload). */
static int tls_use_key(SSL_CTX *ctx, const struct ag_config *cfg, const char *pem, size_t pemlen)
{
	EVP_PKEY *pkey;
	BIO *bio;
	int rc;

	if (pem == NULL)
		return SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM);
	bio = BIO_new_mem_buf(pem, (int)pemlen);
	if (bio == NULL)
		return 0;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey == NULL)
		return 0;
	rc = SSL_CTX_use_PrivateKey(ctx, pkey);
	EVP_PKEY_free(pkey);
	return rc;
}

SSL_CTX *tls_ctx_new(const struct ag_config *cfg, char *err, size_t errlen)
{
	return tls_ctx_new_with_key(cfg, NULL, 0, err, errlen);
}

SSL_CTX *tls_ctx_new_with_key(const struct ag_config *cfg, const char *pem, size_t pemlen,
			      char *err, size_t errlen)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		tls_error(err, errlen, "SSL_CTX_new", NULL);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, cfg->tls_min_version ? cfg->tls_min_version
								    : TLS1_2_VERSION) != 1) {
		tls_error(err, errlen, "tls_min_version", NULL);
		goto fail;
	}
	/*
	 * Forward-secret AEAD only by default (AG_TLS_CIPHERS): a list that
	 * leaves nothing usable is refused here, at startup or on SIGHUP.
	 */
	if (SSL_CTX_set_cipher_list(ctx, cfg->tls_ciphers ? cfg->tls_ciphers : AG_TLS_CIPHERS) !=
	    1) {
		tls_error(err, errlen, "tls_ciphers: no usable cipher in", cfg->tls_ciphers);
		goto fail;
	}
	if (SSL_CTX_set_ciphersuites(ctx, cfg->tls_ciphersuites ? cfg->tls_ciphersuites
								: AG_TLS_CIPHERSUITES) != 1) {
		tls_error(err, errlen, "tls_ciphersuites: no usable suite in",
			  cfg->tls_ciphersuites);
		goto fail;
	}
	if (cfg->tls_cert == NULL || cfg->tls_key == NULL) {
		snprintf(err, errlen, "tls_cert and tls_key are required");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
		tls_error(err, errlen, "cannot load certificate", cfg->tls_cert);
		goto fail;
	}
	if (tls_use_key(ctx, cfg, pem, pemlen) != 1) {
		int reason = ERR_GET_REASON(ERR_peek_last_error());

		/* OpenSSL checks the pair while loading: say it in an admin's words. */
		if (reason == X509_R_KEY_VALUES_MISMATCH || reason == X509_R_KEY_TYPE_MISMATCH) {
			ERR_clear_error();
			snprintf(err, errlen, "key %s does not match certificate %s", cfg->tls_key,
				 cfg->tls_cert);
		} else {
			tls_error(err, errlen, "cannot load key", cfg->tls_key);
		}
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_error(err, errlen, "key does not match certificate", cfg->tls_key);
		goto fail;
	}
	/*
	 * Resumption: tickets are on by default in OpenSSL 3 with keys it
	 * generates and keeps per SSL_CTX; a server-side cache serves TLS 1.2
	 * clients that do not do tickets. A reload makes a new context (and
	 * new keys), which only costs a full handshake once.
	 */
	SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"authgate", 8);
	/*
	 * One TLS 1.3 ticket per full handshake, not OpenSSL's two: a mail
	 * client resumes one connection at a time, and the second ticket cost a
	 * ticket encryption, a copy of the session and a write per connection.
	 */
	if (SSL_CTX_set_num_tickets(ctx, 1) != 1) {
		tls_error(err, errlen, "SSL_CTX_set_num_tickets", NULL);
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
					 SSL_OP_NO_COMPRESSION);
	/*
	 * bufferevent_openssl may move its write buffer between retries. Idle
	 * sessions (most of them: clients waiting between messages) give their
	 * 16 KB+ record buffers back: about half the memory of an idle TLS
	 * connection (tests/integration/t_proxy_idle_tls_connections.sh).
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}
