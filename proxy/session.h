/* session.h: one client SMTP session: its state, and the functions its parts share. */
#ifndef AG_PROXY_SESSION_H
#define AG_PROXY_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "address.h"
#include "auth.h"
#include "authlimit.h"
#include "decide.h"
#include "msgfilter.h"
#include "net.h"
#include "reply.h"
#include "server.h"
#include "smtp_parse.h"

#define SESSION_ID_LEN 12
#define SESSION_MAX_ERRORS 20
#define SESSION_TOO_MANY_ERRORS "421 4.7.0 %s Error: too many errors"
#define SESSION_CLOSE_WAIT 5 /* seconds for the last reply to leave */
#define SESSION_MAX_RCPTS 1000     /* RFC 5321 4.5.3.1.8 asks for at least 100 */
#define SESSION_DATA_HIGH_WATER (1024 * 1024) /* backend output before we stop reading */

/* What the session waits for; input is processed only in SS_COMMAND-like states. */
enum session_state {
	SS_COMMAND = 0,   /* next command */
	SS_AUTH_PLAIN,    /* the PLAIN response after "334 " */
	SS_AUTH_USERNAME, /* LOGIN: the username */
	SS_AUTH_PASSWORD, /* LOGIN: the password */
	SS_DATA,          /* message lines up to "." */
	SS_STARTTLS,      /* our 220 is being flushed; then the TLS handshake */
	SS_CLOSING,       /* a final reply is being flushed; then session_free */
	SS_PROXYHDR,      /* proxy_protocol: the PROXY header, before any SMTP or TLS byte */
};

/* Why input processing is paused (EV_READ off). */
enum session_wait {
	SW_NONE = 0,
	SW_PAM,          /* privsep_auth outstanding */
	SW_AUTH_DELAY,   /* randomised delay before 535 */
	SW_SHARED,       /* the shared lockout state (Redis) asked, shared_state_timeout at most */
	SW_BACKEND,      /* a relay command outstanding */
	SW_BACKEND_DRAIN, /* backend output over the high-water mark */
	SW_CLIENT_NAME   /* MAIL waits for the client's name, timeout_client_name at most */
};

#define SF_SECURE 0x01        /* TLS is on */
#define SF_EHLO 0x02          /* EHLO (not HELO) was given */
#define SF_GREETED 0x04       /* HELO or EHLO was given */
#define SF_AUTHENTICATED 0x08
#define SF_MAIL 0x10          /* a MAIL transaction is open */
#define SF_DISCARDING 0x20    /* inside an overlong line, up to its LF */
#define SF_EOF 0x40           /* the client closed its side; finish what is buffered */
#define SF_BEV_OWNS_FD 0x80   /* bufferevent closes fd when freed (TLS ones do) */
#define SF_IN_PROCESS 0x100   /* session_process is on the stack: do not re-enter */
#define SF_CLOSE_AFTER_BATCH 0x200 /* a 421 waits behind a pipelined batch's replies */

/* The open MAIL transaction. */
struct session_txn {
	char mail_from[AG_MAX_PATH + 1];
	char **rcpts;     /* accepted recipients (audit record), then npending awaiting the backend */
	size_t nrcpts;
	size_t npending;  /* RCPTs at the relay without a result: rcpts[nrcpts..] */
	unsigned inflight; /* MAIL, RCPTs and held replies at the relay without a result */
	char *batch;      /* replies to a pipelined group kept for one TLS record with DATA's */
	size_t batch_len;
	uint64_t size;    /* message octets seen */
	enum ag_reply_id data_error; /* first error during DATA (reply at "."), or NONE */
	bool tagged;      /* sender_login=warn mismatch */
	struct ag_decision decision; /* from policy_decide_mail, for the warning header */
	struct msgfilter *filter;
	bool prev_crlf;   /* the last DATA line ended in CRLF: a "." may end the message */
	bool smtputf8;    /* MAIL had SMTPUTF8 (RFC 6531): UTF-8 addresses in this transaction */
	uint64_t size_limit; /* the SIZE EHLO offered at MAIL: ours or a backend's, the smaller */
};

struct relay;
struct session_proxyhdr;

struct shared_req;
struct rdns_req;

struct proxy_session {
	struct proxy_session *next, *prev; /* srv->sessions */
	struct proxy_server *srv;
	struct ag_config *cfg; /* the snapshot the session started with */
	SSL_CTX *ssl_ctx;      /* for STARTTLS; the one in force at connect */
	char id[SESSION_ID_LEN + 1];

	int fd;
	struct bufferevent *bev;
	enum listener_kind kind;
	struct ag_ip ip;       /* the client: from the PROXY header when there is one */
	char ip_text[AG_IP_STRLEN];
	uint16_t port;
	char peer_text[AG_IP_STRLEN]; /* who connected to us (the load balancer, or the client) */
	struct session_proxyhdr *proxyhdr; /* while reading the PROXY header */

	enum session_state state;
	enum session_wait wait;
	unsigned flags;
	unsigned errors; /* bad commands, as Postfix's smtpd_hard_error_limit */
	char *helo; /* the HELO/EHLO argument as long as it is (not the 512 it may be), or NULL */

	/* AUTH */
	enum auth_mech mech;
	struct auth_credentials *cred; /* during AUTH only, wiped after */
	char auth_user[AG_MAX_LOGIN + 1]; /* normalised login once authenticated */
	char auth_attempt[AG_MAX_LOGIN + 1]; /* escaped, for log/audit of failures */
	char auth_login[AG_MAX_LOGIN + 1];   /* normalised login of the attempt, "" if unusable */
	unsigned auth_failures;
	uint64_t auth_req;
	struct shared_req *shared_req; /* a Redis request outstanding (sharedstate.h) */
	struct ag_authlimit_shared shared; /* what Redis said last, valid if shared_known */
	bool shared_known;
	const char *limits; /* audit: "shared", "local" (Redis did not answer), NULL: not configured */
	struct event *timer; /* auth delay */
	struct event *close_timer; /* frees a closing session whose peer stopped reading */

	struct session_txn txn;
	struct relay *relay;
	struct relay *relay_idle; /* the last transaction's backend connection, for the next MAIL */
	struct rdns_req *rdns;   /* the client's name, asked at connect (client_name_lookup) */
	const char *held_mail;   /* SW_CLIENT_NAME: MAIL's arguments, in line (not reused meanwhile) */
	size_t held_mail_len;

	/*
	 * The line being handled: as long as the state allows (session_line_limit);
	 * wiped and given back whenever the session waits for the client outside
	 * DATA (session_line_release), so an idle session holds none.
	 */
	char *line;
	size_t line_cap;
	bool discard_cr; /* SF_DISCARDING: the last byte skipped was a CR */
	bool line_sasl;  /* the command line is an AUTH one: SASL length limit */
};

#define SESSION_SECURE(s) (((s)->flags & SF_SECURE) != 0)
#define SESSION_AUTHENTICATED(s) (((s)->flags & SF_AUTHENTICATED) != 0)
/* Derived, never stored: what EHLO advertises (STYLE.md, OpenSMTPD). */
#define ADVERTISE_STARTTLS(s) ((s)->kind == LISTENER_SUBMISSION && !SESSION_SECURE(s))
#define ADVERTISE_AUTH(s) (SESSION_SECURE(s) && !SESSION_AUTHENTICATED(s))

/* session.c: lifecycle and I/O */
void session_new(struct proxy_server *srv, int fd, const struct sockaddr *sa, int salen,
		 enum listener_kind kind);
/* The client's address is known (at once, or after the PROXY header): limits, TLS, banner. */
void session_start(struct proxy_session *s);
int session_addr_from_sockaddr(const struct sockaddr *sa, int salen, struct ag_ip *ip,
			       uint16_t *port);
void session_free(struct proxy_session *s);
void session_reply(struct proxy_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void session_reply_id(struct proxy_session *s, enum ag_reply_id id);
void session_close(struct proxy_session *s); /* after the queued replies are sent */
void session_pause(struct proxy_session *s, enum session_wait why);
void session_resume(struct proxy_session *s);
struct ag_audit_record;
void session_audit_fill(struct proxy_session *s, struct ag_audit_record *r, const char *event,
			const char *action, const char *reason);
void session_audit_write(struct proxy_session *s, const struct ag_audit_record *r);
void session_audit(struct proxy_session *s, const char *event, const char *action,
		   const char *reason);
const char *session_tls_version(const struct proxy_session *s);
void session_txn_reset(struct proxy_session *s);
void session_drain_all(struct proxy_server *srv); /* SIGTERM */
bool session_idle(const struct proxy_session *s);
int64_t session_now_ms(void);
void session_set_timeout(struct proxy_session *s); /* the one for the current state */

/* session_line.c: line framing; handles buffered lines until the session must wait */
void session_process(struct proxy_session *s);

/* session_proxy.c: the PROXY v1/v2 header read from the raw socket (proxy_protocol = yes) */
void session_proxy_begin(struct proxy_session *s);
void session_proxy_free(struct proxy_session *s);

/* session_cmd.c: the command table */
void session_cmd_line(struct proxy_session *s, const char *line, size_t len);
void session_starttls_begin(struct proxy_session *s);

/* session_auth.c: AUTH PLAIN/LOGIN and the PAM round trip */
void session_auth_start(struct proxy_session *s, const char *args, size_t len);
void session_auth_line(struct proxy_session *s, const char *line, size_t len);
void session_auth_abort(struct proxy_session *s);

/* session_name.c: the client's name (rdns.c) as the Received header and XCLIENT NAME want it */
void session_name_start(struct proxy_session *s);
/* MAIL must wait for the name (it is paused, and taken up again once the name is known). */
bool session_name_wait(struct proxy_session *s, const char *args, size_t len);
/* The confirmed name, or NULL: "unknown" in Received. */
const char *session_name(const struct proxy_session *s);
/* XCLIENT NAME: the name, [UNAVAILABLE] (none) or [TEMPUNAVAIL] (no answer, server failure). */
const char *session_name_xclient(const struct proxy_session *s);

/* session_data.c: MAIL/RCPT/DATA through the relay */
void session_mail(struct proxy_session *s, const char *args, size_t len);
void session_rcpt(struct proxy_session *s, const char *args, size_t len);
/* The replies kept for one TLS record with DATA's go out now. */
void session_batch_flush(struct proxy_session *s);
/* A reply to a RCPT: held behind what is outstanding at the relay, so never out of order. */
void session_reply_ordered(struct proxy_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void session_data(struct proxy_session *s);
void session_data_line(struct proxy_session *s, const char *line, size_t len, bool crlf);
void session_data_overlong(struct proxy_session *s, bool crlf);

#endif
