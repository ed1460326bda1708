/* relay.h: the backend side: one SMTP client connection to the first backend that answers. */
#ifndef AG_RELAY_H
#define AG_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proxy_server;
struct ag_config;
struct ag_mail_params;
struct ag_rcpt_params;

#define RELAY_MAX_REPLY 2048 /* a backend reply passed back to the client (all its lines) */
#define RELAY_MAX_PIPELINE 100 /* RCPTs of one transaction without their result yet */

/* What the client side needs to tell the backend (XCLIENT). Pointers must outlive the relay. */
struct relay_client {
	const char *session_id;
	const char *login;
	const char *client_ip;
	bool client_ipv6;
	uint16_t client_port;
	const char *helo;
	const char *name; /* verified client name, XCLIENT_TEMPUNAVAIL, or NULL ([UNAVAILABLE]) */
};

enum relay_step {
	RELAY_STEP_MAIL,   /* reply to MAIL (or 451 when no backend could be used) */
	RELAY_STEP_RCPT,
	RELAY_STEP_DATA,   /* 354 or the refusal */
	RELAY_STEP_END,    /* reply to the final "." */
	RELAY_STEP_DRAINED, /* backend output below the low-water mark again */
	RELAY_STEP_HELD     /* a reply of the session's own, given back in its turn */
};

/*
 * Results always arrive from the event loop, never from inside the call that
 * asked: the caller may free the relay from the callback. reply is the
 * backend's complete reply (lines joined with CRLF, no final CRLF), or ours.
 */
typedef void (*relay_cb)(void *arg, enum relay_step step, int code, const char *reply);

struct relay *relay_new(struct proxy_server *srv, const struct ag_config *cfg,
			const struct relay_client *cl, relay_cb cb, void *arg);
/*
 * Connect (failover in the configured order), greet, XCLIENT, then MAIL FROM:<from>
 * with mp's parameters (those the backend offers: a backend without SMTPUTF8
 * or DSN that mp needs is passed over).
 */
void relay_mail(struct relay *r, const char *from, const struct ag_mail_params *mp);
/*
 * Queued behind what is outstanding (MAIL, earlier RCPTs): sent with them
 * in one write when the backend offers PIPELINING (RFC 2920), else one at a
 * time. Each RCPT has exactly one RELAY_STEP_RCPT result, in order.
 */
void relay_rcpt(struct relay *r, const char *to, const struct ag_rcpt_params *rp);
/*
 * The session's own reply to a command that came while RCPTs were
 * outstanding: delivered as RELAY_STEP_HELD after their results, so the
 * client's replies stay in the order of its commands.
 */
void relay_hold_reply(struct relay *r, const char *reply);
/* Connect to backend number i of cfg, EHLO, QUIT: only to learn what it offers. */
void relay_probe(struct proxy_server *srv, struct ag_config *cfg, size_t backend);
void relay_data(struct relay *r);
/* Message bytes after our 354. -1 if the backend is gone; 1 if the caller should wait for DRAINED. */
int relay_write(struct relay *r, const char *data, size_t len);
/* The final "." (the caller passes a message that ended well only). */
void relay_end(struct relay *r);
/* No backend was used because none offered XCLIENT LOGIN and ADDR (the 451 4.7.0 case). */
bool relay_xclient_refused(const struct relay *r);
/* "host:port" of the backend in use, or "" */
const char *relay_backend_name(const struct relay *r);
/*
 * After the reply to the final "." (code): keep the connection idle for the
 * session's next MAIL (backend_idle_timeout, backend_reuse_limit). false: not
 * kept (reuse off, 421, anything unread or unasked); then relay_free it as ever.
 */
bool relay_keep(struct relay *r, int code);
/*
 * A kept relay for the session's next MAIL: true if it is still up and was
 * opened with this cfg and exactly this identity (cl), and its backend offers
 * what mp asks; relay_mail then sends MAIL on it at once. false: relay_free it.
 */
bool relay_reuse(struct relay *r, const struct ag_config *cfg, const struct relay_client *cl,
		 const struct ag_mail_params *mp);
/* Done with it (also from inside the callback): QUIT when idle, else close (an unfinished DATA is then not delivered). */
void relay_free(struct relay *r);
/* At exit: free the relays still waiting for a backend's reply to QUIT. */
void relay_free_detached(void);

#endif
