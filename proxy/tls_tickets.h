/* tls_tickets.h: session-ticket keys, rotated every tls_ticket_lifetime; the previous one still
 * accepted. */
#ifndef AG_PROXY_TLS_TICKETS_H
#define AG_PROXY_TLS_TICKETS_H

#include <openssl/ssl.h>

/*
 * OpenSSL's own ticket keys live and die with an SSL_CTX and never rotate.
 * Ours belong to the process: every context (a reload makes a new one)
 * uses the same two keys, so a reload costs no resumption, and the timer
 * in main.c rotates them: a ticket is issued under the current key, and
 * accepted (then re-issued) under the previous one for one more period;
 * older tickets mean a full handshake.
 */
struct tls_tickets;

/* With a first random key; NULL if the CSPRNG or memory fails. */
struct tls_tickets *tls_tickets_new(void);
/* Wipes the keys. After every SSL_CTX using it is gone. */
void tls_tickets_free(struct tls_tickets *t);
/* A new current key; the current one becomes the previous one. 0, or -1 (keys unchanged). */
int tls_tickets_rotate(struct tls_tickets *t);
/* Use t for ctx's tickets; sessions last two periods (lifetime seconds each). 0 or -1. */
int tls_tickets_attach(SSL_CTX *ctx, struct tls_tickets *t, unsigned lifetime);

#endif
