/* callbacks.c: the libmilter callbacks: gather facts per connection, ask policy/, act on it. */
#include "milter.h"
#include "callbacks.h"
#include "negotiate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>

#include "policy/address.h"
#include "policy/decide.h"
#include "policy/net.h"
#include "policy/reply.h"

const char *cb_id(const struct cb_conn *c)
{
	return c->msg.queue_id[0] != '\0' ? c->msg.queue_id : c->session;
}

void cb_message_reset(struct cb_message *m)
{
	size_t i;

	free(m->auth_user);
	free(m->ar_user);
	for (i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	memset(m, 0, sizeof(*m));
}

static void cb_conn_free(struct cb_conn *c)
{
	if (c == NULL)
		return;
	cb_message_reset(&c->msg);
	config_unref(c->cfg);
	if (c->entered)
		state_conn_leave();
	free(c);
}

void cb_copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

/* libmilter reads '%' in reply text as a format character: double it (smfi_setreply(3)). */
static void cb_percent_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in != '\0' && o + 3 < len; in++) {
		out[o++] = *in;
		if (*in == '%')
			out[o++] = '%';
	}
	out[o] = '\0';
}

sfsistat cb_reply(SMFICTX *ctx, struct cb_conn *c, enum ag_reply_id id)
{
	char text[CB_MAX_REPLY], escaped[2 * CB_MAX_REPLY], code[8];
	const struct ag_reply *r = reply_get(id);

	if (reply_format_text(c->cfg, id, text, sizeof(text)) < 0)
		cb_copy(text, sizeof(text), r->text);
	cb_percent_escape(text, escaped, sizeof(escaped));
	snprintf(code, sizeof(code), "%d", r->code);
	if (smfi_setreply(ctx, code, (char *)r->enhanced, escaped) != MI_SUCCESS)
		milter_log(LOG_WARNING, "%s: smfi_setreply failed; the MTA's default text is used",
			   cb_id(c));
	return r->code >= 500 ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

void cb_facts(const struct cb_conn *c, struct ag_facts *f)
{
	f->client = c->has_client ? &c->client : NULL;
	f->auth_user = c->msg.auth_user;
	f->mail_from = c->msg.has_from ? c->msg.mail_from : NULL;
	f->now = c->msg.now;
}

void cb_audit(const struct cb_conn *c, const char *event, const char *action,
	      const char *const *rcpts, size_t nrcpts, const char *reason)
{
	struct ag_audit_record r;

	memset(&r, 0, sizeof(r));
	r.session = c->session;
	r.client_ip = c->has_client ? c->client_ip : NULL;
	r.auth_user = c->msg.auth_user;
	r.event = event;
	r.mail_from = c->msg.has_from ? c->msg.mail_from : NULL;
	r.rcpts = rcpts;
	r.nrcpts = nrcpts;
	r.size = -1;
	r.action = action;
	r.queue_id = c->msg.queue_id[0] != '\0' ? c->msg.queue_id : NULL;
	r.phase = policy_phase_name(c->msg.phase);
	r.route = policy_route_name(c->msg.route);
	r.reason = reason;
	state_audit_write(&r);
}

/* Internal trouble: the client retries later, the connection and the process live on. */
sfsistat cb_tempfail(struct cb_conn *c, const char *what)
{
	if (c == NULL) {
		milter_log(LOG_ERR, "no connection context (%s): tempfail", what);
		return SMFIS_TEMPFAIL;
	}
	milter_log(LOG_ERR, "%s: %s: tempfail", cb_id(c), what);
	cb_audit(c, "tempfail", "tempfail", NULL, 0, what);
	return SMFIS_TEMPFAIL;
}

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
			     unsigned long f3, unsigned long *pf0, unsigned long *pf1,
			     unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long need = NEGOTIATE_ACTIONS;
	struct cb_conn *c;

	(void)f2;
	(void)f3;
	/* Without header changes we could not remove a forged Authentication-Results. */
	if ((f0 & need) != need) {
		milter_log(LOG_ERR,
			   "the MTA does not offer header changes (actions 0x%lx): "
			   "refusing this milter connection",
			   f0);
		return SMFIS_REJECT;
	}
	*pf0 = need;
	/*
	 * Steps we never look at, the MTA saves sending them; and no reply to each header
	 * (every decision about headers is taken at end of message), which saves a round
	 * trip per header. Decide as early as possible, say so to the MTA.
	 */
	*pf1 = f1 & NEGOTIATE_SKIPPED;
	cb_conn_free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	c = calloc(1, sizeof(*c));
	if (c != NULL && smfi_setpriv(ctx, c) != MI_SUCCESS) {
		free(c);
		c = NULL;
	}
	if (c != NULL && (f1 & SMFIP_NR_HDR) != 0) { /* without a context, replies as usual */
		*pf1 |= SMFIP_NR_HDR;
		c->nr_hdr = true;
	}
	if (c != NULL && (f1 & SMFIP_NR_CONN) != 0) { /* cb_connect says why it may */
		*pf1 |= SMFIP_NR_CONN;
		c->nr_conn = true;
	}
	*pf2 = 0;
	*pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		int stage;

		*pf0 |= SMFIF_SETSYMLIST;
		if (negotiate_macros(ctx, &stage) < 0)
			milter_log(LOG_WARNING,
				   "smfi_setsymlist(%d) failed; the MTA's default macros are used",
				   stage);
	}
	return SMFIS_CONTINUE;
}

/* The client address: the socket address the MTA reports, else the {client_addr} macro. */
static void cb_client(SMFICTX *ctx, struct cb_conn *c, const struct sockaddr *sa)
{
	char text[INET6_ADDRSTRLEN + 8];
	const char *why, *mac = NULL;

	text[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, text,
			  sizeof(text));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  text, sizeof(text));
	if (text[0] == '\0') {
		mac = smfi_getsymval(ctx, "{client_addr}");
		if (mac == NULL)
			return;
		/* sendmail writes IPv6 clients as "IPv6:2001:db8::1". */
		if (strncasecmp(mac, "IPv6:", 5) == 0)
			mac += 5;
		cb_copy(text, sizeof(text), mac);
	}
	if (net_parse_ip(text, &c->client, &why) < 0) {
		char esc[MILTER_LOG_FIELD];

		milter_log(LOG_WARNING,
			   "%s: client address %s not understood (%s): treated as "
			   "unknown, never trusted",
			   c->session, milter_escape(text, esc, sizeof(esc)), why);
		return;
	}
	c->has_client = true;
	net_format_ip(&c->client, c->client_ip, sizeof(c->client_ip));
}

static sfsistat cb_connect_open(SMFICTX *ctx, struct sockaddr *hostaddr)
{
	static unsigned long counter;
	struct cb_conn *c;
	unsigned long n;

	c = smfi_getpriv(ctx); /* from the negotiation; a second connect starts afresh */
	if (c == NULL || c->entered) {
		bool nr_hdr = c != NULL && c->nr_hdr, nr_conn = c != NULL && c->nr_conn;

		cb_conn_free(c);
		smfi_setpriv(ctx, NULL);
		c = calloc(1, sizeof(*c));
		if (c == NULL)
			return cb_tempfail(NULL, "out of memory at connect");
		c->nr_hdr = nr_hdr;
		c->nr_conn = nr_conn;
	}
	state_conn_enter();
	c->entered = true;
	c->cfg = state_config_get();
	if (c->cfg == NULL) {
		if (smfi_getpriv(ctx) == c)
			smfi_setpriv(ctx, NULL);
		cb_conn_free(c);
		return cb_tempfail(NULL, "no configuration");
	}
	/* Unique enough to grep a connection's lines before Postfix names a queue id. */
	n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	snprintf(c->session, sizeof(c->session), "M%llx.%lu", (unsigned long long)time(NULL), n);
	cb_client(ctx, c, hostaddr);
	c->from_proxy = policy_client_is_proxy(c->cfg, c->has_client ? &c->client : NULL);
	if (smfi_getpriv(ctx) != c && smfi_setpriv(ctx, c) != MI_SUCCESS) {
		cb_conn_free(c);
		return cb_tempfail(NULL, "smfi_setpriv failed");
	}
	return SMFIS_CONTINUE;
}

/*
 * With SMFIP_NR_CONN agreed the MTA does not wait for our answer to connect: a round trip
 * less a session (issue 16), and we never refuse at connect anyway. A failure above leaves
 * no context, so MAIL FROM, RCPT TO and the end of the message tempfail: nothing passes
 * unchecked, the client retries later.
 */
static sfsistat cb_connect(SMFICTX *ctx, char *hostname, struct sockaddr *hostaddr)
{
	const struct cb_conn *c = smfi_getpriv(ctx);
	bool nr_conn = c != NULL && c->nr_conn;
	sfsistat r;

	(void)hostname; /* the client's claim about itself decides nothing */
	r = cb_connect_open(ctx, hostaddr);
	return nr_conn ? SMFIS_NOREPLY : r;
}

static char *cb_macro_dup(SMFICTX *ctx, const char *name, bool *failed)
{
	const char *v = smfi_getsymval(ctx, (char *)name);
	char *copy;

	if (v == NULL || v[0] == '\0')
		return NULL;
	if (strlen(v) > AG_MAX_LOGIN) {
		*failed = true;
		return NULL;
	}
	copy = strdup(v);
	if (copy == NULL)
		*failed = true;
	return copy;
}

void cb_queue_id(SMFICTX *ctx, struct cb_conn *c)
{
	const char *i = smfi_getsymval(ctx, "i");

	if (i != NULL && i[0] != '\0')
		cb_copy(c->msg.queue_id, sizeof(c->msg.queue_id), i);
}

void cb_log_reject(const struct cb_conn *c, const char *what, const char *rcpt,
		   const struct ag_decision *d)
{
	char e1[MILTER_LOG_FIELD], e2[MILTER_LOG_FIELD], e3[MILTER_LOG_FIELD];
	const struct ag_reply *r = reply_get(d->reply);

	milter_log(LOG_NOTICE,
		   "%s: reject %s: %d %s %s; client=%s auth=%s from=<%s> to=<%s> "
		   "phase=%s",
		   cb_id(c), what, r->code, r->enhanced, d->reason ? d->reason : "",
		   c->has_client ? c->client_ip : "unknown",
		   milter_escape(c->msg.auth_user ? c->msg.auth_user : "-", e1, sizeof(e1)),
		   milter_escape(c->msg.has_from ? c->msg.mail_from : "", e2, sizeof(e2)),
		   milter_escape(rcpt ? rcpt : "", e3, sizeof(e3)), policy_phase_name(d->phase));
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct cb_conn *c = smfi_getpriv(ctx);
	struct ag_address addr;
	struct ag_facts facts;
	struct ag_decision d;
	const char *why;
	bool failed = false;

	if (c == NULL)
		return cb_tempfail(NULL, "MAIL FROM without a connection");
	cb_message_reset(&c->msg);
	c->msg.now = (int64_t)time(NULL);
	cb_queue_id(ctx, c);
	/* Identity only from what the MTA authenticated (INTERFACE.md), never from headers. */
	c->msg.auth_user = cb_macro_dup(ctx, "{auth_authen}", &failed);
	if (failed)
		return cb_tempfail(c, "{auth_authen} too long or out of memory");
	if (argv != NULL && argv[0] != NULL) {
		if (address_parse_path(argv[0], strlen(argv[0]), AG_ADDR_NULL_OK | AG_ADDR_UTF8,
				       &addr, &why) == 0) {
			c->msg.has_from = true;
			cb_copy(c->msg.mail_from, sizeof(c->msg.mail_from), addr.addr);
		} else {
			char esc[MILTER_LOG_FIELD];

			/* The MTA accepted it; we decide without a sender rather than refuse. */
			milter_log(LOG_INFO, "%s: sender %s not parsed (%s)", cb_id(c),
				   milter_escape(argv[0], esc, sizeof(esc)), why);
		}
	}
	if (c->msg.auth_user == NULL && c->from_proxy) {
		c->msg.deferred = true;
		return SMFIS_CONTINUE;
	}
	cb_facts(c, &facts);
	policy_decide_mail(c->cfg, &facts, &d);
	c->msg.phase = d.phase;
	switch (d.action) {
	case AG_ACTION_REJECT:
	case AG_ACTION_TEMPFAIL:
		cb_log_reject(c, "sender", NULL, &d);
		cb_audit(c, "reject", policy_action_name(d.action), NULL, 0, d.reason);
		return cb_reply(ctx, c, d.reply);
	case AG_ACTION_TAG:
		c->msg.tag_sender = true;
		c->msg.sender_tag = d;
		break;
	case AG_ACTION_ACCEPT:
		break;
	}
	return SMFIS_CONTINUE;
}

static int cb_rcpt_remember(struct cb_message *m, const char *rcpt)
{
	if (m->nrcpts >= CB_MAX_RCPTS)
		return 0; /* the audit record is cut; the mail is not */
	if (m->nrcpts == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		char **v;

		v = realloc(m->rcpts, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		m->rcpts = v;
		m->cap = cap;
	}
	m->rcpts[m->nrcpts] = strdup(rcpt);
	if (m->rcpts[m->nrcpts] == NULL)
		return -1;
	m->nrcpts++;
	return 0;
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct cb_conn *c = smfi_getpriv(ctx);
	struct ag_address addr;
	struct ag_facts facts;
	struct ag_decision d;
	const char *why;

	if (c == NULL)
		return cb_tempfail(NULL, "RCPT TO without a connection");
	if (c->msg.now == 0)
		c->msg.now = (int64_t)time(NULL); /* an MTA that skipped MAIL FROM */
	if (c->msg.queue_id[0] == '\0')
		cb_queue_id(ctx, c);
	if (argv == NULL || argv[0] == NULL ||
	    address_parse_path(argv[0], strlen(argv[0]), AG_ADDR_UTF8, &addr, &why) < 0) {
		/* Never guess: an address we cannot read could be anything, even a relay. */
		memset(&d, 0, sizeof(d));
		d.action = AG_ACTION_REJECT;
		d.reply = AG_REPLY_BAD_RCPT_ADDRESS;
		d.reason = "recipient not parsed";
		d.phase = policy_phase_at(c->cfg, c->msg.now);
		cb_log_reject(c, "recipient", argv && argv[0] ? argv[0] : "", &d);
		cb_audit(c, "reject", "reject", NULL, 0, d.reason);
		return cb_reply(ctx, c, d.reply);
	}
	if (c->msg.deferred) {
		/* Every recipient kept is one decided at the end: none may go unrecorded. */
		if (c->msg.nrcpts >= CB_MAX_RCPTS)
			return cb_tempfail(c, "too many recipients to decide at end of message");
		if (cb_rcpt_remember(&c->msg, addr.addr) < 0)
			return cb_tempfail(c, "out of memory at RCPT TO");
		return SMFIS_CONTINUE;
	}
	cb_facts(c, &facts);
	policy_decide_rcpt(c->cfg, &facts, addr.addr, &d);
	c->msg.phase = d.phase;
	if (d.action == AG_ACTION_REJECT || d.action == AG_ACTION_TEMPFAIL) {
		const char *one[1] = {addr.addr};

		cb_log_reject(c, "recipient", addr.addr, &d);
		cb_audit(c, "reject", policy_action_name(d.action), one, 1, d.reason);
		return cb_reply(ctx, c, d.reply);
	}
	if (d.action == AG_ACTION_TAG && !c->msg.tag_relay) {
		c->msg.tag_relay = true;
		c->msg.relay_tag = d;
	}
	if (d.route == AG_ROUTE_HUB)
		c->msg.route = AG_ROUTE_HUB;
	if (cb_rcpt_remember(&c->msg, addr.addr) < 0)
		return cb_tempfail(c, "out of memory at RCPT TO");
	return SMFIS_CONTINUE;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	struct cb_conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		cb_message_reset(&c->msg);
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	struct cb_conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		smfi_setpriv(ctx, NULL);
		cb_conn_free(c);
	}
	return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
    .xxfi_name = MILTER_NAME,
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = NEGOTIATE_ACTIONS,
    .xxfi_connect = cb_connect,
    .xxfi_helo = NULL,
    .xxfi_envfrom = cb_envfrom,
    .xxfi_envrcpt = cb_envrcpt,
    .xxfi_header = cb_header,
    .xxfi_eoh = NULL,
    .xxfi_body = NULL,
    .xxfi_eom = cb_eom,
    .xxfi_abort = cb_abort,
    .xxfi_close = cb_close,
    .xxfi_unknown = NULL,
    .xxfi_data = NULL,
    .xxfi_negotiate = cb_negotiate,
};
