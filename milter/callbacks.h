/* callbacks.h: what the milter's callback files share: the per-connection and per-message
 * context (smfi_setpriv) and the helpers that reply, audit and log for one connection. */
#ifndef AG_MILTER_CALLBACKS_H
#define AG_MILTER_CALLBACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmilter/mfapi.h>

#include "policy/address.h"
#include "policy/decide.h"
#include "policy/net.h"
#include "policy/reply.h"

#define CB_MAX_QUEUE_ID 64
#define CB_MAX_AUTHRES 64  /* our-id Authentication-Results we can remove from one message */
#define CB_MAX_RCPTS 10000 /* recorded for the audit log; Postfix allows 1000 by default */
#define CB_MAX_REPLY 512   /* RFC 5321 4.5.3.1.5 reply line */
#define CB_MAX_HEADER 998  /* RFC 5322 2.1.1 */

/* One message: reset at MAIL FROM and on abort. */
struct cb_message {
	int64_t now;	 /* read once per message: the phase cannot change between RCPTs */
	char *auth_user; /* {auth_authen}; NULL when not authenticated */
	bool has_from;
	char mail_from[AG_MAX_PATH + 1];
	char queue_id[CB_MAX_QUEUE_ID];
	char **rcpts; /* accepted recipients, for the audit record */
	size_t nrcpts, cap;
	bool tag_sender, tag_relay;
	struct ag_decision sender_tag, relay_tag;
	enum ag_phase phase;
	enum ag_route route;
	unsigned ar_seen;		    /* Authentication-Results headers so far */
	unsigned ar_remove[CB_MAX_AUTHRES]; /* 1-based indexes among them, to delete */
	size_t nremove;
	bool ar_overflow;
	bool ar_valid; /* one of ours says exactly what we would write */
	/*
	 * From a proxy_addresses client that the MTA did not authenticate (Sendmail has
	 * no XCLIENT): the login is in the proxy's Authentication-Results, which comes
	 * after RCPT, so the MAIL and RCPT decisions wait for the end of the message.
	 */
	bool deferred;
	char *ar_user;		/* login named by the one header of ours that is well-formed */
	unsigned ar_user_index; /* its 1-based index among the Authentication-Results */
	bool ar_ambiguous;	/* more than one such header: none counts */
};

/*
 * One SMTP connection (Postfix opens a new one after XCLIENT). Made at negotiation, the
 * first step of a milter connection, so that what was agreed there (no reply to headers)
 * is known per connection: one MTA may offer it and another not.
 */
struct cb_conn {
	bool nr_hdr;	       /* SMFIP_NR_HDR agreed: header callbacks answer SMFIS_NOREPLY */
	bool nr_conn;	       /* SMFIP_NR_CONN agreed: connect answers SMFIS_NOREPLY */
	bool entered;	       /* counted by state_conn_enter() */
	struct ag_config *cfg; /* the snapshot this connection started with */
	char session[32];
	bool has_client;
	struct ag_ip client;
	char client_ip[AG_IP_STRLEN];
	bool from_proxy; /* in [milter] proxy_addresses */
	struct cb_message msg;
};

/* The connection's name in log lines: the MTA's queue id once known, else our session. */
const char *cb_id(const struct cb_conn *c);
void cb_message_reset(struct cb_message *m);
void cb_copy(char *dst, size_t len, const char *src);
/* Reply from the table (smfi_setreply) and the matching return: 5xx reject, else tempfail. */
sfsistat cb_reply(SMFICTX *ctx, struct cb_conn *c, enum ag_reply_id id);
void cb_facts(const struct cb_conn *c, struct ag_facts *f);
void cb_audit(const struct cb_conn *c, const char *event, const char *action,
	      const char *const *rcpts, size_t nrcpts, const char *reason);
/* Internal trouble: logged and audited; the client retries later. */
sfsistat cb_tempfail(struct cb_conn *c, const char *what);
void cb_queue_id(SMFICTX *ctx, struct cb_conn *c);
void cb_log_reject(const struct cb_conn *c, const char *what, const char *rcpt,
		   const struct ag_decision *d);

/* message_end.c: headers and the end of the message. */
sfsistat cb_header(SMFICTX *ctx, char *name, char *value);
sfsistat cb_eom(SMFICTX *ctx);

#endif
