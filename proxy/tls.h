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

#endif
