/* session_auth.c: AUTH PLAIN/LOGIN (RFC 4954): the exchange, the PAM round trip, the delay. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "audit.h"
#include "authcache.h"
#include "authlimit.h"
#include "policy/config.h"
#include "log.h"
#include "policy/escape.h"
#include "privsep.h"
#include "sharedstate.h"

/* On top of authlimit_delay_ms() (which grows with the failures): so timing tells nothing. */
#define AUTH_DELAY_JITTER_MS 500

static int64_t auth_now(void)
{
	return session_now_ms() / 1000;
}

/*
 * Whose failures count against the address. Not a trusted network's: a
 * webmail host or Exchange server speaks for many users from one address,
 * and one user's typos must not lock out all the others. Their per-user
 * counters (and the per-session limit) still apply.
 */
static const struct ag_ip *auth_limit_ip(const struct proxy_session *s)
{
	return net_cidr_list_match(&s->cfg->trusted_networks, &s->ip) ? NULL : &s->ip;
}

static const char *auth_limit_user(const struct proxy_session *s)
{
	return s->auth_login[0] ? s->auth_login : NULL;
}

static unsigned auth_familiar_ttl(const struct proxy_session *s)
{
	return s->cfg->auth_familiar_days * 86400u;
}

/* What Redis said last in this session, if it did (shared_state). */
static const struct ag_authlimit_shared *auth_shared(const struct proxy_session *s)
{
	return s->shared_known ? &s->shared : NULL;
}

static void auth_shared_cancel(struct proxy_session *s)
{
	sharedstate_cancel(s->shared_req);
	s->shared_req = NULL;
}

static void auth_finish(struct proxy_session *s)
{
	if (s->cred != NULL) {
		auth_credentials_wipe(s->cred);
		free(s->cred);
		s->cred = NULL;
	}
	s->mech = AUTH_MECH_NONE;
	if (s->state == SS_AUTH_PLAIN || s->state == SS_AUTH_USERNAME ||
	    s->state == SS_AUTH_PASSWORD)
		s->state = SS_COMMAND;
}

void session_auth_abort(struct proxy_session *s)
{
	if (s->auth_req != 0) {
		privsep_cancel(s->srv->ps, s->auth_req);
		s->auth_req = 0;
	}
	auth_shared_cancel(s);
	auth_finish(s);
}

static void auth_audit(struct proxy_session *s, const char *action, const char *reason)
{
	struct ag_audit_record r;

	session_audit_fill(s, &r, "auth", action, reason);
	/* A success names the login as the message records do (raw; the audit JSON-escapes). */
	if (s->auth_attempt[0] && !SESSION_AUTHENTICATED(s))
		r.auth_user = s->auth_attempt;
	r.limits = s->limits;
	session_audit_write(s, &r);
}

/*
 * Refused by a limit, before PAM (no password is checked, so none is learnt):
 * the client network over auth_fail_limit (here or across sessions) gets
 * 421 4.7.0 and is closed; a user over auth_user_fail_limit, from a network
 * she has never logged in from, gets 454 4.7.0 and may go on (smart lockout).
 */
static void auth_refuse(struct proxy_session *s, enum ag_authlimit_rule rule)
{
	const char *reason = authlimit_rule_reason(rule);
	char esc[ESCAPE_LOG_SIZE(AG_MAX_LOGIN)];

	auth_finish(s);
	escape_log_str(s->auth_login, esc, sizeof(esc));
	if (rule == AG_AUTHLIMIT_USER) {
		authlimit_refused(s->srv->authlimit, auth_limit_ip(s), auth_now());
		(void)sharedstate_fail(s->srv->shared, auth_limit_ip(s), NULL, s->cfg->auth_fail_window,
				       NULL, NULL);
		log_msg(LOG_NOTICE, s->id, "login \"%s\" from [%s] refused: %s", esc, s->ip_text,
			reason);
		auth_audit(s, "tempfail", reason);
		session_reply_id(s, AG_REPLY_AUTH_TEMPFAIL);
		return;
	}
	log_msg(LOG_NOTICE, s->id, "too many authentication failures from [%s]%s%s%s: %s",
		s->ip_text, s->auth_login[0] ? " or for \"" : "", esc,
		s->auth_login[0] ? "\"" : "", reason);
	auth_audit(s, "reject", reason);
	session_reply_id(s, AG_REPLY_AUTH_TOO_MANY);
	session_close(s);
}

/*
 * Which limit, if any, refuses the attempt. The session's own count comes
 * first (auth_fail_limit applies per connection too, trusted or not).
 * Familiarity is judged on the real address even for trusted networks,
 * whose failures do not count against the address (auth_limit_ip).
 */
static enum ag_authlimit_rule auth_blocked(const struct proxy_session *s)
{
	unsigned limit = s->cfg->auth_fail_limit;

	if (limit > 0 && s->auth_failures >= limit)
		return AG_AUTHLIMIT_NETWORK;
	return authlimit_check_shared(s->srv->authlimit, &s->ip, auth_limit_user(s), auth_now(),
				      auth_shared(s));
}

static void auth_delay_done(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_session *s = arg;

	(void)fd;
	(void)what;
	/* Redis did not report the counts after this failure in time: what is known decides. */
	auth_shared_cancel(s);
	/* The password was checked and wrong: only the network limit changes the 535. */
	if (auth_blocked(s) == AG_AUTHLIMIT_NETWORK) {
		auth_refuse(s, AG_AUTHLIMIT_NETWORK);
		return;
	}
	session_reply_id(s, AG_REPLY_AUTH_INVALID);
	session_resume(s);
}

/* Redis counted the failure: its counts decide at the end of the delay (auth_delay_done). */
static void auth_shared_failed(bool ok, const struct ag_authlimit_shared *c, void *arg)
{
	struct proxy_session *s = arg;

	s->shared_req = NULL;
	if (!ok)
		return;
	s->shared.ip_failures = c->ip_failures;
	s->shared.user_failures = c->user_failures;
	s->shared_known = true;
}

/* A wrong password costs the client a pause; other sessions run on (no sleep()). */
static void auth_failed(struct proxy_session *s, const char *reason)
{
	unsigned char r[2] = { 0, 0 };
	const struct ag_ip *ip = auth_limit_ip(s);
	int64_t now = auth_now();
	struct ag_authlimit_shared after;
	struct timeval tv;
	unsigned ms;

	auth_finish(s);
	s->auth_failures++;
	authlimit_fail(s->srv->authlimit, ip, auth_limit_user(s), now);
	/* The local tables are always kept: they decide whenever Redis does not answer. */
	auth_shared_cancel(s);
	s->shared_req = sharedstate_fail(s->srv->shared, ip, auth_limit_user(s),
					 s->cfg->auth_fail_window, auth_shared_failed, s);
	if (s->shared_known) {
		after = s->shared;
		after.ip_failures += ip != NULL ? 1 : 0;
		after.user_failures += auth_limit_user(s) != NULL ? 1 : 0;
	}
	/* auth_attempt is kept escaped (auth_verify): ready for the log line. */
	log_msg(LOG_NOTICE, s->id, "authentication failed for \"%s\" from [%s]: %s",
		s->auth_attempt, s->ip_text, reason);
	auth_audit(s, "reject", reason);
	RAND_bytes(r, sizeof(r));
	ms = authlimit_delay_ms_shared(s->srv->authlimit, ip, auth_limit_user(s), now,
				       s->shared_known ? &after : NULL) +
	     ((unsigned)r[0] << 8 | r[1]) % (AUTH_DELAY_JITTER_MS + 1);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (s->timer == NULL)
		s->timer = evtimer_new(s->srv->base, auth_delay_done, s);
	session_pause(s, SW_AUTH_DELAY);
	if (s->timer == NULL || evtimer_add(s->timer, &tv) < 0)
		auth_delay_done(-1, 0, s);
}

static void auth_tempfail(struct proxy_session *s, const char *reason)
{
	auth_finish(s);
	log_msg(LOG_WARNING, s->id, "authentication tempfail for \"%s\" from [%s]: %s",
		s->auth_attempt, s->ip_text, reason);
	auth_audit(s, "tempfail", reason);
	session_reply_id(s, AG_REPLY_AUTH_TEMPFAIL);
}

/* via: NULL for PAM, "cache" for a hit in the verified-credential cache (audit reason). */
static void auth_succeeded(struct proxy_session *s, const char *via)
{
	char esc[ESCAPE_LOG_SIZE(AG_MAX_LOGIN)];

	auth_finish(s);
	s->flags |= SF_AUTHENTICATED;
	snprintf(s->auth_user, sizeof(s->auth_user), "%s", s->auth_login);
	authlimit_success(s->srv->authlimit, &s->ip, s->auth_login, auth_now());
	sharedstate_success(s->srv->shared, &s->ip, s->auth_login, auth_now(),
			    auth_familiar_ttl(s));
	log_msg(LOG_INFO, s->id, "authenticated \"%s\" from [%s]%s",
		escape_log_str(s->auth_login, esc, sizeof(esc)), s->ip_text, via ? " (cached)" : "");
	auth_audit(s, "accept", via);
	session_reply_id(s, AG_REPLY_AUTH_OK);
}

static void auth_pam_done(enum privsep_result res, void *arg)
{
	struct proxy_session *s = arg;

	s->auth_req = 0;
	switch (res) {
	case PRIVSEP_AUTH_OK:
		/* The password was kept for this: the cache learns only what PAM said yes to. */
		if (s->cred != NULL &&
		    authcache_store(s->srv->authcache, s->auth_login, s->cred->password,
				    auth_now()) < 0) {
			char esc[ESCAPE_LOG_SIZE(AG_MAX_LOGIN)];

			log_msg(LOG_WARNING, s->id, "credential cache: cannot store \"%s\"",
				escape_log_str(s->auth_login, esc, sizeof(esc)));
		}
		auth_succeeded(s, NULL);
		session_resume(s);
		break;
	case PRIVSEP_AUTH_FAIL:
		/* A changed (or guessed) password: the cached one must not keep working. */
		authcache_forget(s->srv->authcache, s->auth_login);
		auth_failed(s, "authentication failure");
		break;
	default:
		auth_tempfail(s, "authentication service unavailable");
		session_resume(s);
		break;
	}
}

/* The login is known and the limits (local, and shared if Redis answered) allow: cache or PAM. */
static void auth_verify_limits(struct proxy_session *s)
{
	struct auth_credentials *cr = s->cred;
	enum ag_authlimit_rule rule;

	/* Before PAM: a blocked address or user must not cost PAM time (or learn anything). */
	rule = auth_blocked(s);
	if (rule != AG_AUTHLIMIT_OK) {
		auth_refuse(s, rule);
		return;
	}
	/* The cache is keyed on the normalised login: "jdoe@domain" and "jdoe" share it. */
	if (authcache_check(s->srv->authcache, s->auth_login, cr->password, auth_now())) {
		auth_succeeded(s, "cache");
		return;
	}
	if (s->srv->ps == NULL) {
		auth_tempfail(s, "no authentication process");
		return;
	}
	s->auth_req = privsep_auth(s->srv->ps, s->auth_login, cr->password, s->ip_text,
				   auth_pam_done, s);
	if (s->auth_req == 0) {
		auth_tempfail(s, "authentication request not queued");
		return;
	}
	/* The credentials stay (wiped in auth_finish) until PAM answers: the cache needs them. */
	session_pause(s, SW_PAM);
}

/* Redis answered the check, or did not in time (ok false): decide, then go on reading. */
static void auth_shared_checked(bool ok, const struct ag_authlimit_shared *c, void *arg)
{
	struct proxy_session *s = arg;

	s->shared_req = NULL;
	s->shared_known = ok;
	if (ok) {
		s->shared = *c;
		s->limits = "shared";
	}
	s->wait = SW_NONE;
	auth_verify_limits(s);
	if (s->wait == SW_NONE && s->state != SS_CLOSING)
		session_resume(s);
}

/* Credentials complete: normalise the login (policy), check the limits and cache, ask PAM. */
static void auth_verify(struct proxy_session *s)
{
	struct auth_credentials *cr = s->cred;
	const char *why = NULL;

	/*
	 * auth_attempt names the attempt in the log and the audit record, always
	 * escaped (policy/escape.c): the raw bytes may hold NUL, CR LF, quotes.
	 */
	escape_log(cr->user, cr->user_len, s->auth_attempt, sizeof(s->auth_attempt));
	s->auth_login[0] = '\0';
	if (policy_normalise_login(s->cfg, cr->user, cr->user_len, s->auth_login,
				   sizeof(s->auth_login), &why) < 0) {
		s->auth_login[0] = '\0';
		auth_failed(s, why ? why : "unusable login name");
		return;
	}
	/*
	 * From here on the record names the login as PAM sees it, still escaped:
	 * after PAM answers, this is what used to reach the log raw (issue 11).
	 */
	escape_log_str(s->auth_login, s->auth_attempt, sizeof(s->auth_attempt));
	if (s->srv->shared == NULL) {
		auth_verify_limits(s);
		return;
	}
	/*
	 * Ask the other proxies' counts first (shared_state), for at most
	 * shared_state_timeout: no answer, and the local tables decide alone.
	 */
	auth_shared_cancel(s);
	s->limits = "local";
	s->shared_req = sharedstate_check(s->srv->shared, auth_limit_ip(s), &s->ip,
					  auth_limit_user(s), auth_now(), auth_familiar_ttl(s),
					  auth_shared_checked, s);
	if (s->shared_req == NULL) {
		s->shared_known = false;
		auth_verify_limits(s);
		return;
	}
	session_pause(s, SW_SHARED);
}

static void auth_status(struct proxy_session *s, enum auth_status st)
{
	switch (st) {
	case AUTH_STATUS_OK:
		break;
	case AUTH_STATUS_CANCELLED:
		auth_finish(s);
		session_reply_id(s, AG_REPLY_AUTH_CANCELLED);
		break;
	case AUTH_STATUS_BAD_BASE64:
		auth_finish(s);
		session_reply_id(s, AG_REPLY_AUTH_BAD_BASE64);
		break;
	case AUTH_STATUS_INVALID:
		auth_failed(s, "malformed credentials");
		break;
	}
}

static void auth_plain(struct proxy_session *s, const char *resp, size_t len)
{
	enum auth_status st = auth_plain_decode(resp, len, s->cred);

	if (st == AUTH_STATUS_OK)
		auth_verify(s);
	else
		auth_status(s, st);
}

static void auth_login_user(struct proxy_session *s, const char *resp, size_t len)
{
	enum auth_status st = auth_login_decode(resp, len, s->cred->user, sizeof(s->cred->user),
						&s->cred->user_len);

	if (st == AUTH_STATUS_OK && s->cred->user_len == 0)
		st = AUTH_STATUS_INVALID;
	if (st != AUTH_STATUS_OK) {
		auth_status(s, st);
		return;
	}
	s->state = SS_AUTH_PASSWORD;
	session_reply(s, "%s", AUTH_LOGIN_PROMPT_PASS);
}

void session_auth_start(struct proxy_session *s, const char *args, size_t len)
{
	size_t mlen = 0, off;

	while (mlen < len && args[mlen] != ' ')
		mlen++;
	off = mlen;
	while (off < len && args[off] == ' ')
		off++;
	s->mech = auth_mech_parse(args, mlen);
	if (s->mech == AUTH_MECH_NONE) {
		session_reply_id(s, AG_REPLY_AUTH_UNKNOWN_MECH);
		return;
	}
	s->auth_attempt[0] = '\0';
	s->auth_login[0] = '\0';
	/* An address already over the limit is told so before it sends a password. */
	if (auth_blocked(s) == AG_AUTHLIMIT_NETWORK) {
		auth_refuse(s, AG_AUTHLIMIT_NETWORK);
		return;
	}
	s->cred = calloc(1, sizeof(*s->cred));
	if (s->cred == NULL) {
		auth_tempfail(s, "out of memory");
		return;
	}
	if (s->mech == AUTH_MECH_PLAIN) {
		if (off < len) {
			auth_plain(s, args + off, len - off);
		} else {
			s->state = SS_AUTH_PLAIN;
			session_reply(s, "334 ");
		}
		return;
	}
	if (off < len) {
		auth_login_user(s, args + off, len - off);
	} else {
		s->state = SS_AUTH_USERNAME;
		session_reply(s, "%s", AUTH_LOGIN_PROMPT_USER);
	}
}

void session_auth_line(struct proxy_session *s, const char *line, size_t len)
{
	enum auth_status st;

	switch (s->state) {
	case SS_AUTH_PLAIN:
		auth_plain(s, line, len);
		break;
	case SS_AUTH_USERNAME:
		auth_login_user(s, line, len);
		break;
	case SS_AUTH_PASSWORD:
		st = auth_login_decode(line, len, s->cred->password, sizeof(s->cred->password),
				       &s->cred->password_len);
		if (st == AUTH_STATUS_OK)
			auth_verify(s);
		else
			auth_status(s, st);
		break;
	default:
		break;
	}
}
