/* tls.h: the server SSL_CTX built from the configuration. */
#ifndef AG_PROXY_TLS_H
#define AG_PROXY_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

struct ag_config;

/*
 * Certificate chain and key (checked to match), minimum version, session
 * tickets on (OpenSSL's own rotating ticket keys) so clients resume. NULL
 * with a message naming the file and OpenSSL's reason.
 */
SSL_CTX *tls_ctx_new(const struct ag_config *cfg, char *err, size_t errlen);
/*
 * The same with the key given as PEM bytes (pem != NULL) instead of read
 * from cfg->tls_key: on reload the unprivileged side gets a root-only key
 * from the auth process (privsep_fetch_key).
 */
SSL_CTX *tls_ctx_new_with_key(const struct ag_config *cfg, const char *pem, size_t pemlen,
			      char *err, size_t errlen);

#endif
