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

struct evbuffer;

#define RELAY_HIGH_WATER (1024 * 1024)
#define RELAY_MAX_PENDING_LINE 65536 /* a backend line without CRLF beyond this is an error */
#define RELAY_QUIT_TIMEOUT 10
#define RELAY_IDENTITY_SIZE 1024 /* what went into XCLIENT, one field a line */

/* An entry of the RCPT queue (relay_queue.c). */
enum relay_qstate {
	RQ_WAITING, /* its line is in qlines, not yet at the backend */
	RQ_SENT,    /* its line is at the backend: a reply will come */
	RQ_OURS,    /* never sent: 451 from us in its turn */
	RQ_HELD,    /* the session's own reply (in held), delivered in its turn */
};

struct relay_qent {
	unsigned short len; /* of its line in qlines (WAITING, SENT) or its text in held (HELD) */
	unsigned char st;   /* enum relay_qstate */
};

enum relay_state {
	RS_IDLE = 0,
	RS_CONNECTING,
	RS_GREETING,
	RS_EHLO,
	RS_XCLIENT,
	RS_EHLO2, /* EHLO again after XCLIENT's 220 */
	RS_MAIL,
	RS_READY, /* MAIL accepted, nothing at the backend */
	RS_RCPT,  /* MAIL accepted, RCPTs at the backend (qsent of them) */
	RS_DATA,
	RS_STREAM,
	RS_END,
	RS_QUIT,
	RS_DEAD,
	RS_KEPT, /* a transaction ended well; the session keeps us idle for its next MAIL */
};

struct relay {
	struct proxy_server *srv;
	const struct ag_config *cfg;
	struct relay_client cl;
	char sid[32]; /* our copy: a detached relay outlives its session */
	relay_cb cb;
	void *arg;

	struct bufferevent *bev;
	struct evbuffer *cork;	/* bytes of this turn of the loop for bev's socket (relay_out.c) */
	struct event *flush_ev; /* writes cork once the turn's callbacks are done */
	struct event *timer;
	struct event *done_ev; /* delivers results from the event loop */
	enum relay_state state;
	size_t backend; /* index into cfg->backends */
	char backend_name[AG_MAX_HOST + 16];

	bool ext_xclient, ext_size, ext_8bitmime;
	bool pipelining; /* the EHLO reply being read offers PIPELINING (RFC 2920) */
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
	/*
	 * Reuse within one session (relay_keep.c): the identity the connection
	 * was opened for, the transactions it carried, and whether this one
	 * started on a kept connection (lost before MAIL's reply: a new one).
	 */
	char identity[RELAY_IDENTITY_SIZE];
	bool identity_ok; /* false: it did not fit, never reused */
	unsigned ntxn;
	bool reused;
	bool unsolicited; /* the backend said something nobody asked for: not kept */
	bool detached; /* the session is gone; we only QUIT */
	struct relay *detached_prev, *detached_next; /* relay_detached: owned by none */

	/*
	 * The RCPTs of the transaction that have no result yet, in the client's
	 * order (relay_queue.c). The first qsent of the entries with a line are
	 * at the backend; their lines stay in qlines until answered, so a
	 * failover before MAIL is accepted sends them again.
	 */
	struct relay_qent q[RELAY_MAX_PIPELINE];
	size_t qn;
	size_t qsent;
	size_t qsent_bytes;
	bool qdsn; /* some queued RCPT has DSN parameters: the backend must offer DSN */
	struct evbuffer *qlines;
	struct evbuffer *held; /* texts of RQ_HELD entries, in order */

	/* results for the session, in order: struct relay_result + reply text each */
	struct evbuffer *results;
	bool delivering; /* relay_done_cb is calling the session */
	bool free_wanted; /* relay_free was called meanwhile: done once the call returns */
};

struct relay_result {
	enum relay_step step;
	int code;
	size_t len;
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
/* Close the connection (its unsent bytes with it) and stop its timer; r stays. */
void relay_close_conn(struct relay *r);
/* This backend is no use: the next one while nothing was accepted, else 451. */
void relay_fail(struct relay *r, const char *why);
void relay_connect_next(struct relay *r);

/* relay_queue.c: the RCPTs of one transaction, pipelined when the backend offers it */
void relay_q_add(struct relay *r, const char *line, size_t len, bool dsn);
void relay_q_hold(struct relay *r, const char *reply);
/* Send what may go now: everything with PIPELINING, else the next one once nothing is out. */
void relay_q_pump(struct relay *r);
/* A reply to the oldest RCPT at the backend is in r->reply. */
void relay_q_reply(struct relay *r, int code);
/* Answer, in their turn, the entries at the head that need no backend reply. */
void relay_q_settle(struct relay *r);
/* Before MAIL was accepted: nothing is at this backend any more (failover). */
void relay_q_unsend(struct relay *r);
/* The backend is lost after MAIL was accepted: 451 for every entry, in order. */
void relay_q_fail(struct relay *r);

/* relay_keep.c */
void relay_identity_set(struct relay *r);
/* The kept connection was closed or spoke: free the connection (the session frees us). */
void relay_kept_lost(struct relay *r, const char *why);
/* The idle time is up: QUIT; the session still holds us. */
void relay_kept_expire(struct relay *r);
/* The reply to QUIT, a close or a timeout after it: done with the connection. */
void relay_quit_done(struct relay *r);

/* relay_dialogue.c */
/* The EHLO (or a kept connection) is ready: MAIL, unless the backend lacks what it needs. */
void relay_send_mail(struct relay *r);
void relay_capability(struct relay *r, const char *line, size_t len);
/* A complete reply (all its lines) in r->reply: the next step of the dialogue. */
void relay_reply_done(struct relay *r, int code);

#endif
