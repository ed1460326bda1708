/* relay_priv.h: what relay.c (connection, failover, I/O) and relay_dialogue.c (the
 * SMTP client dialogue) share: one backend connection's state. Not for other files. */
#ifndef AG_RELAY_PRIV_H
#define AG_RELAY_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/config.h"
#include "policy/esmtp.h"
#include "relay.h"
#include "xclient.h"

#define RELAY_HIGH_WATER (1024 * 1024)
#define RELAY_MAX_PENDING_LINE 65536 /* a backend line without CRLF beyond this is an error */
#define RELAY_QUIT_TIMEOUT 10

enum relay_state {
	RS_IDLE = 0,
	RS_CONNECTING,
	RS_GREETING,
	RS_EHLO,
	RS_XCLIENT,
	RS_EHLO2, /* EHLO again after XCLIENT's 220 */
	RS_MAIL,
	RS_READY, /* between commands of the transaction */
	RS_RCPT,
	RS_DATA,
	RS_STREAM,
	RS_END,
	RS_QUIT,
	RS_DEAD,
};

struct relay {
	struct proxy_server *srv;
	const struct ag_config *cfg;
	struct relay_client cl;
	char sid[32]; /* our copy: a detached relay outlives its session */
	relay_cb cb;
	void *arg;

	struct bufferevent *bev;
	struct event *timer;
	struct event *done_ev; /* delivers results from the event loop */
	enum relay_state state;
	size_t backend; /* index into cfg->backends */
	char backend_name[AG_MAX_HOST + 16];

	bool ext_xclient, ext_size, ext_8bitmime;
	struct ag_esmtp_caps caps;  /* of the EHLO reply being read */
	bool probe;		    /* only learn the EHLO (backend_caps.c), then QUIT */
	struct ag_config *cfg_held; /* a probe's own reference: it outlives reloads */
	bool xclient_refused;	    /* a backend was passed over for want of XCLIENT: 451 4.7.0 */
	bool ext_refused;	    /* one was passed over for want of SMTPUTF8 or DSN */
	char xclient_names[256];
	struct xclient_cmds xc;
	size_t xc_next;

	char mail_from[600];	  /* "MAIL FROM:<...>" without the parameters */
	struct ag_mail_params mp; /* validated by the session; rebuilt here, never copied raw */

	char reply[RELAY_MAX_REPLY];
	size_t reply_len;

	bool drain_wanted;
	bool detached; /* the session is gone; we only QUIT */
	/* the result waiting in done_ev */
	enum relay_step done_step;
	int done_code;
	char done_reply[RELAY_MAX_REPLY];
};

void relay_destroy(struct relay *r);
/* Deliver a result to the session from the event loop (the callback may free r). */
void relay_complete(struct relay *r, enum relay_step step, int code, const char *reply);
/* 451 from the reply table: 4.7.0 when no backend took XCLIENT, else 4.4.1. */
void relay_complete_451(struct relay *r, enum relay_step step);
void relay_arm(struct relay *r, unsigned seconds);
/* One command line (CRLF added); the dialogue moves to next and waits for its reply. */
void relay_send(struct relay *r, enum relay_state next, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* This backend is no use: the next one while nothing was accepted, else 451. */
void relay_fail(struct relay *r, const char *why);
void relay_connect_next(struct relay *r);

/* relay_dialogue.c */
void relay_capability(struct relay *r, const char *line, size_t len);
/* A complete reply (all its lines) in r->reply: the next step of the dialogue. */
void relay_reply_done(struct relay *r, int code);

#endif
