/*
 * message_end.c: the milter's header and end-of-message callbacks: which
 * Authentication-Results claiming our authserv-id go (RFC 8601 section 5), the deferred
 * decisions for mail relayed by the proxy without XCLIENT, and the headers we add.
 */
#include "milter.h"
#include "callbacks.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

/* Indexes stay in ascending order: cb_remove_forged removes the last first. */
static void cb_remove_later(struct cb_message *m, unsigned index)
{
	size_t i;

	if (m->nremove >= CB_MAX_AUTHRES) {
		m->ar_overflow = true;
		return;
	}
	for (i = m->nremove; i > 0 && m->ar_remove[i - 1] > index; i--)
		m->ar_remove[i] = m->ar_remove[i - 1];
	m->ar_remove[i] = index;
	m->nremove++;
}

/*
 * A header of ours on a deferred message: the login it names, if it is exactly what
 * the proxy writes for that login (authres_matches is the one judge of that). A
 * second such header makes both worthless: the proxy writes one.
 */
static int cb_authres_note_login(struct cb_message *m, const char *value, const char *id)
{
	static const char key[] = "smtp.auth=";
	char login[AG_MAX_LOGIN + 1];
	const char *p;
	size_t n = 0;

	for (p = value; *p != '\0'; p++)
		if (strncasecmp(p, key, sizeof(key) - 1) == 0)
			break;
	if (*p == '\0')
		return 0;
	for (p += sizeof(key) - 1; p[n] != '\0' && p[n] != ';' && p[n] != ' ' && p[n] != '\t' &&
				   p[n] != '\r' && p[n] != '\n' && p[n] != '(';
	     n++)
		if (n >= AG_MAX_LOGIN)
			return 0;
	memcpy(login, p, n);
	login[n] = '\0';
	if (n == 0 || !authres_matches(value, id, login))
		return 0;
	if (m->ar_user != NULL || m->ar_ambiguous) {
		if (m->ar_user != NULL)
			cb_remove_later(m, m->ar_user_index);
		free(m->ar_user);
		m->ar_user = NULL;
		m->ar_ambiguous = true;
		return 0;
	}
	m->ar_user = strdup(login);
	if (m->ar_user == NULL)
		return -1;
	m->ar_user_index = m->ar_seen;
	return 0;
}

static sfsistat cb_header_note(SMFICTX *ctx, char *name, char *value)
{
	struct cb_conn *c = smfi_getpriv(ctx);
	struct cb_message *m;

	if (c == NULL)
		return cb_tempfail(NULL, "header without a connection");
	m = &c->msg;
	if (name == NULL || strcasecmp(name, AUTHRES_HEADER) != 0)
		return SMFIS_CONTINUE;
	m->ar_seen++;
	if (!authres_is_ours(value, c->cfg->authserv_id))
		return SMFIS_CONTINUE; /* another server's results are not ours to judge */
	/*
	 * Keep ours only when it says what the MTA itself authenticated: that is
	 * the one the proxy wrote for this very login (RFC 8601 5: remove
	 * anything else claiming our authserv-id).
	 */
	if (m->auth_user != NULL && authres_matches(value, c->cfg->authserv_id, m->auth_user)) {
		m->ar_valid = true;
		return SMFIS_CONTINUE;
	}
	if (m->deferred && cb_authres_note_login(m, value, c->cfg->authserv_id) < 0)
		return cb_tempfail(c, "out of memory at a header");
	if (m->deferred && m->ar_user != NULL && m->ar_user_index == m->ar_seen)
		return SMFIS_CONTINUE; /* judged at the end of the message */
	cb_remove_later(m, m->ar_seen);
	return SMFIS_CONTINUE;
}

/* With SMFIP_NR_HDR agreed, libmilter wants SMFIS_NOREPLY for every header. */
sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct cb_conn *c = smfi_getpriv(ctx);
	sfsistat r = cb_header_note(ctx, name, value);

	return r == SMFIS_CONTINUE && c != NULL && c->nr_hdr ? SMFIS_NOREPLY : r;
}

/* Remove the forged ones, last first, so earlier indexes stay valid whatever the MTA does. */
static int cb_remove_forged(SMFICTX *ctx, struct cb_conn *c)
{
	size_t i;

	for (i = c->msg.nremove; i > 0; i--)
		if (smfi_chgheader(ctx, AUTHRES_HEADER, (int)c->msg.ar_remove[i - 1], NULL) !=
		    MI_SUCCESS)
			return -1;
	if (c->msg.nremove > 0)
		milter_log(LOG_NOTICE,
			   "%s: removed %zu Authentication-Results header(s) "
			   "claiming %s",
			   cb_id(c), c->msg.nremove, c->cfg->authserv_id);
	return 0;
}

static int cb_add_headers(SMFICTX *ctx, struct cb_conn *c)
{
	char value[CB_MAX_HEADER];
	const struct ag_decision *tags[2];
	size_t i, n = 0;

	if (c->msg.auth_user != NULL && !c->msg.ar_valid) {
		if (authres_format(c->cfg->authserv_id, c->msg.auth_user, value, sizeof(value)) <
		    0) {
			char esc[MILTER_LOG_FIELD];

			milter_log(LOG_WARNING,
				   "%s: login %s cannot be written into "
				   "Authentication-Results: header not added",
				   cb_id(c), milter_escape(c->msg.auth_user, esc, sizeof(esc)));
		} else if (smfi_insheader(ctx, 0, AUTHRES_HEADER, value) != MI_SUCCESS) {
			return -1;
		}
	}
	if (c->msg.tag_sender)
		tags[n++] = &c->msg.sender_tag;
	if (c->msg.tag_relay)
		tags[n++] = &c->msg.relay_tag;
	for (i = 0; i < n; i++) {
		if (policy_format_warning(c->cfg, tags[i], value, sizeof(value)) < 0) {
			milter_log(LOG_WARNING, "%s: warning text does not fit a header", cb_id(c));
			continue;
		}
		if (smfi_addheader(ctx, "X-Authgate-Warning", value) != MI_SUCCESS)
			return -1;
	}
	return 0;
}

/*
 * The MAIL and RCPT decisions of a deferred message, taken now that the proxy's header
 * has been seen, with the login it names; the first refusal refuses the whole message
 * (at end of data there is one reply for all recipients).
 */
static sfsistat cb_decide_deferred(SMFICTX *ctx, struct cb_conn *c)
{
	struct cb_message *m = &c->msg;
	const char *user;
	struct ag_facts facts;
	struct ag_decision d;
	size_t i;

	user = policy_identity(c->cfg, c->has_client ? &c->client : NULL, m->auth_user, m->ar_user);
	if (user != NULL && user != m->auth_user) {
		m->auth_user = strdup(user);
		if (m->auth_user == NULL)
			return cb_tempfail(c, "out of memory at end of message");
		m->ar_valid = true; /* the proxy's header stays */
	} else if (m->ar_user != NULL) {
		cb_remove_later(m, m->ar_user_index);
	}
	cb_facts(c, &facts);
	policy_decide_mail(c->cfg, &facts, &d);
	m->phase = d.phase;
	if (d.action == AG_ACTION_REJECT || d.action == AG_ACTION_TEMPFAIL) {
		cb_log_reject(c, "sender", NULL, &d);
		cb_audit(c, "reject", policy_action_name(d.action), NULL, 0, d.reason);
		return cb_reply(ctx, c, d.reply);
	}
	if (d.action == AG_ACTION_TAG) {
		m->tag_sender = true;
		m->sender_tag = d;
	}
	for (i = 0; i < m->nrcpts; i++) {
		policy_decide_rcpt(c->cfg, &facts, m->rcpts[i], &d);
		m->phase = d.phase;
		if (d.action == AG_ACTION_REJECT || d.action == AG_ACTION_TEMPFAIL) {
			const char *one[1] = {m->rcpts[i]};

			cb_log_reject(c, "recipient", m->rcpts[i], &d);
			cb_audit(c, "reject", policy_action_name(d.action), one, 1, d.reason);
			return cb_reply(ctx, c, d.reply);
		}
		if (d.action == AG_ACTION_TAG && !m->tag_relay) {
			m->tag_relay = true;
			m->relay_tag = d;
		}
		if (d.route == AG_ROUTE_HUB)
			m->route = AG_ROUTE_HUB;
	}
	return SMFIS_CONTINUE;
}

sfsistat cb_eom(SMFICTX *ctx)
{
	struct cb_conn *c = smfi_getpriv(ctx);
	char e1[MILTER_LOG_FIELD], e2[MILTER_LOG_FIELD];
	const char *action;
	bool tagged;

	if (c == NULL)
		return cb_tempfail(NULL, "end of message without a connection");
	cb_queue_id(ctx, c);
	if (c->msg.deferred) {
		sfsistat r = cb_decide_deferred(ctx, c);

		if (r != SMFIS_CONTINUE)
			return r;
	}
	/* We promised never to pass a forgery; if we cannot remove them all, the client retries. */
	if (c->msg.ar_overflow)
		return cb_tempfail(c, "too many Authentication-Results headers to remove");
	if (cb_remove_forged(ctx, c) < 0)
		return cb_tempfail(c, "smfi_chgheader failed");
	if (cb_add_headers(ctx, c) < 0)
		return cb_tempfail(c, "adding a header failed");
	tagged = c->msg.tag_sender || c->msg.tag_relay;
	action = tagged ? "tag" : "accept";
	milter_log(LOG_INFO, "%s: %s: client=%s auth=%s from=<%s> nrcpt=%zu phase=%s route=%s%s%s",
		   cb_id(c), action, c->has_client ? c->client_ip : "unknown",
		   milter_escape(c->msg.auth_user ? c->msg.auth_user : "-", e1, sizeof(e1)),
		   milter_escape(c->msg.has_from ? c->msg.mail_from : "", e2, sizeof(e2)),
		   c->msg.nrcpts, policy_phase_name(c->msg.phase), policy_route_name(c->msg.route),
		   tagged ? " reason=" : "",
		   c->msg.tag_relay ? c->msg.relay_tag.reason
				    : (c->msg.tag_sender ? c->msg.sender_tag.reason : ""));
	cb_audit(c, "message", action, (const char *const *)c->msg.rcpts, c->msg.nrcpts,
		 tagged ? (c->msg.tag_relay ? c->msg.relay_tag.reason : c->msg.sender_tag.reason)
			: NULL);
	cb_message_reset(&c->msg);
	return SMFIS_CONTINUE;
}
