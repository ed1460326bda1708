/* decide.c: the policy decisions, pure functions of (config, now, facts): no clock, no I/O. */
#include "decide.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Reasons are constants: the audit log and the milter log keep the pointer, never a copy. */
#define REASON_NOT_AUTHENTICATED "not authenticated"
#define REASON_SENDER_LOGIN_OFF "sender_login off"
#define REASON_NULL_SENDER "null sender"
#define REASON_SENDER_UNKNOWN "sender unknown"
#define REASON_SENDER_OWNED "sender owned by login"
#define REASON_SENDER_NOT_OWNED "sender not owned by login"
#define REASON_LIST_AUTHENTICATED "protected list, authenticated"
#define REASON_LIST_TRUSTED "protected list, trusted network"
#define REASON_LIST_UNAUTHENTICATED "protected list requires authentication"
#define REASON_AUTHENTICATED "authenticated"
#define REASON_TRUSTED "trusted network"
#define REASON_LOCAL_RECIPIENT "local recipient"
#define REASON_RELAY "unauthenticated relay"

const char *policy_action_name(enum ag_action a)
{
	switch (a) {
	case AG_ACTION_ACCEPT:
		return "accept";
	case AG_ACTION_TAG:
		return "tag";
	case AG_ACTION_REJECT:
		return "reject";
	case AG_ACTION_TEMPFAIL:
		return "tempfail";
	}
	return "unknown";
}

const char *policy_route_name(enum ag_route r)
{
	switch (r) {
	case AG_ROUTE_DEFAULT:
		return "default";
	case AG_ROUTE_HUB:
		return "hub";
	}
	return "unknown";
}

const char *policy_phase_name(enum ag_phase p)
{
	switch (p) {
	case AG_PHASE_VOLUNTARY:
		return "voluntary";
	case AG_PHASE_MANDATORY:
		return "mandatory";
	}
	return "unknown";
}

enum ag_phase policy_phase_at(const struct ag_config *c, int64_t now)
{
	if (c->phase == AG_PHASE_MANDATORY)
		return AG_PHASE_MANDATORY;
	if (c->has_mandatory_from && now >= c->mandatory_from)
		return AG_PHASE_MANDATORY;
	return AG_PHASE_VOLUNTARY;
}

bool policy_client_trusted(const struct ag_config *c, const struct ag_ip *client)
{
	/* An unknown client (unix socket, missing macro) earns no exemption. */
	if (client == NULL)
		return false;
	return net_cidr_list_match(&c->trusted_networks, client);
}

bool policy_client_is_proxy(const struct ag_config *c, const struct ag_ip *client)
{
	if (client == NULL)
		return false;
	return net_cidr_list_match(&c->proxy_addresses, client);
}

const char *policy_identity(const struct ag_config *c, const struct ag_ip *client,
			    const char *mta_login, const char *authres_login)
{
	if (mta_login != NULL && mta_login[0] != '\0')
		return mta_login;
	/*
	 * The proxy removes every Authentication-Results a client sent with our
	 * authserv-id and writes its own after AUTH: a header of ours is the proxy's
	 * word only when the connection comes from the proxy.
	 */
	if (authres_login != NULL && authres_login[0] != '\0' && policy_client_is_proxy(c, client))
		return authres_login;
	return NULL;
}

bool policy_domain_is_local(const struct ag_config *c, const char *domain)
{
	if (domain == NULL || domain[0] == '\0')
		return false;
	return net_domain_list_match(&c->local_domains, domain);
}

static bool login_is_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ')
			return false;
	return true;
}

int policy_normalise_login(const struct ag_config *c, const char *in, size_t inlen, char *out,
			   size_t outlen, const char **why)
{
	char domain[AG_MAX_LOGIN + 1];
	size_t i, userlen, at = 0;
	bool has_at = false;

	if (in == NULL || inlen == 0) {
		*why = "empty login";
		return -1;
	}
	if (inlen > AG_MAX_LOGIN) {
		*why = "login too long";
		return -1;
	}
	/*
	 * A control character in a login can only be an attack on a log line,
	 * an XCLIENT command or a PAM module that splits on newlines.
	 */
	for (i = 0; i < inlen; i++) {
		unsigned char b = (unsigned char)in[i];

		if (b == '\0') {
			*why = "NUL in login";
			return -1;
		}
		if (b == '\r' || b == '\n') {
			*why = "CR or LF in login";
			return -1;
		}
		if (b < 0x20 || b == 0x7f) {
			*why = "control character in login";
			return -1;
		}
		if (b == '@') {
			has_at = true;
			at = i;
		}
	}
	if (login_is_blank(in, inlen)) {
		*why = "blank login";
		return -1;
	}

	userlen = inlen;
	/*
	 * Only a domain we were told about is stripped: "jdoe@partner.org"
	 * may be a real PAM user name with an '@', so it passes unchanged.
	 * The user part keeps its case: whether "JDoe" is "jdoe" is PAM's call.
	 */
	if (has_at && at + 1 < inlen && c != NULL) {
		memcpy(domain, in + at + 1, inlen - at - 1);
		domain[inlen - at - 1] = '\0';
		if (net_domain_list_match(&c->login_domains, domain)) {
			userlen = at;
			if (userlen == 0 || login_is_blank(in, userlen)) {
				*why = "empty user part in login";
				return -1;
			}
		}
	}
	if (userlen >= outlen) {
		*why = "login too long";
		return -1;
	}
	memcpy(out, in, userlen);
	out[userlen] = '\0';
	return 0;
}

/*
 * Compare a login with an address's local part, case-insensitively. A quoted
 * local part ("j doe"@example) is compared by its unquoted value, since
 * address.c re-quotes local parts that need it.
 */
static bool login_equals_local(const char *login, const char *local, size_t locallen)
{
	size_t i, j, loginlen = strlen(login);

	if (locallen >= 2 && local[0] == '"' && local[locallen - 1] == '"') {
		for (i = 1, j = 0; i < locallen - 1; i++, j++) {
			if (local[i] == '\\' && i + 1 < locallen - 1)
				i++;
			if (j >= loginlen)
				return false;
			if (tolower((unsigned char)login[j]) != tolower((unsigned char)local[i]))
				return false;
		}
		return j == loginlen;
	}
	return loginlen == locallen && strncasecmp(login, local, locallen) == 0;
}

bool policy_sender_owned(const struct ag_config *c, const char *login, const char *address)
{
	const char *at;

	if (login == NULL || login[0] == '\0' || address == NULL || address[0] == '\0')
		return false;
	/* A login with a domain we do not strip is an address itself: it owns just that. */
	if (strchr(login, '@') != NULL)
		return strcasecmp(login, address) == 0;
	/* The domain follows the last '@': a quoted local part may hold one too. */
	at = strrchr(address, '@');
	if (at == NULL || at == address || at[1] == '\0')
		return false;
	if (!policy_domain_is_local(c, at + 1))
		return false;
	return login_equals_local(login, address, (size_t)(at - address));
}

static void decision_init(const struct ag_config *c, const struct ag_facts *f,
			  struct ag_decision *d)
{
	d->action = AG_ACTION_ACCEPT;
	d->reply = AG_REPLY_NONE;
	d->route = AG_ROUTE_DEFAULT;
	d->phase = policy_phase_at(c, f->now);
	d->reason = NULL;
}

static void decision_set(struct ag_decision *d, enum ag_action action, enum ag_reply_id reply,
			 const char *reason)
{
	d->action = action;
	d->reply = reply;
	d->reason = reason;
}

static bool facts_authenticated(const struct ag_facts *f)
{
	return f->auth_user != NULL && f->auth_user[0] != '\0';
}

void policy_decide_mail(const struct ag_config *c, const struct ag_facts *f, struct ag_decision *d)
{
	char login[AG_MAX_LOGIN + 1];
	const char *user, *why;

	decision_init(c, f, d);
	if (!facts_authenticated(f)) {
		decision_set(d, AG_ACTION_ACCEPT, AG_REPLY_NONE, REASON_NOT_AUTHENTICATED);
		return;
	}
	if (c->sender_login == AG_SENDER_LOGIN_OFF) {
		decision_set(d, AG_ACTION_ACCEPT, AG_REPLY_NONE, REASON_SENDER_LOGIN_OFF);
		return;
	}
	if (f->mail_from == NULL) {
		decision_set(d, AG_ACTION_ACCEPT, AG_REPLY_NONE, REASON_SENDER_UNKNOWN);
		return;
	}
	/*
	 * The null sender is how clients send DSNs, vacation replies and read
	 * receipts (RFC 5321 4.5.5, RFC 3834); nobody can own it and refusing it
	 * would break those, while it cannot be used to impersonate anyone.
	 */
	if (f->mail_from[0] == '\0') {
		decision_set(d, AG_ACTION_ACCEPT, AG_REPLY_NONE, REASON_NULL_SENDER);
		return;
	}
	/*
	 * The milter may see "jdoe@example.ac.uk" where the proxy already said
	 * "jdoe" (Postfix's own SASL): normalise the same way so both agree.
	 */
	user = f->auth_user;
	if (policy_normalise_login(c, f->auth_user, strlen(f->auth_user), login, sizeof(login),
				   &why) == 0)
		user = login;
	if (policy_sender_owned(c, user, f->mail_from)) {
		decision_set(d, AG_ACTION_ACCEPT, AG_REPLY_NONE, REASON_SENDER_OWNED);
		return;
	}
	if (c->sender_login == AG_SENDER_LOGIN_STRICT)
		decision_set(d, AG_ACTION_REJECT, AG_REPLY_SENDER_NOT_OWNED,
			     REASON_SENDER_NOT_OWNED);
	else
		decision_set(d, AG_ACTION_TAG, AG_REPLY_NONE, REASON_SENDER_NOT_OWNED);
}

/* "postmaster" with no domain is always ours to deliver (RFC 5321 4.5.1). */
static bool rcpt_is_local(const struct ag_config *c, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');

	if (at == NULL)
		return true;
	return policy_domain_is_local(c, at + 1);
}

void policy_decide_rcpt(const struct ag_config *c, const struct ag_facts *f, const char *rcpt,
			struct ag_decision *d)
{
	bool authenticated, trusted;

	decision_init(c, f, d);
	if (rcpt == NULL)
		rcpt = "";
	authenticated = facts_authenticated(f);
	trusted = policy_client_trusted(c, f->client);

	/*
	 * Protected lists come first: they are local recipients, so the relay
	 * check alone would let anyone post to them. The phase does not soften
	 * this; list owners asked for authenticated mail only.
	 */
	if (net_pattern_list_match(&c->protected_lists, rcpt)) {
		if (authenticated || trusted) {
			decision_set(d, AG_ACTION_ACCEPT, AG_REPLY_NONE,
				     authenticated ? REASON_LIST_AUTHENTICATED
						   : REASON_LIST_TRUSTED);
			d->route = AG_ROUTE_HUB;
		} else {
			decision_set(d, AG_ACTION_REJECT, AG_REPLY_LIST_AUTH_ONLY,
				     REASON_LIST_UNAUTHENTICATED);
		}
		return;
	}
	if (authenticated) {
		decision_set(d, AG_ACTION_ACCEPT, AG_REPLY_NONE, REASON_AUTHENTICATED);
		return;
	}
	if (trusted) {
		decision_set(d, AG_ACTION_ACCEPT, AG_REPLY_NONE, REASON_TRUSTED);
		return;
	}
	/* Inbound mail from the Internet is not relaying; it never needs AUTH. */
	if (rcpt_is_local(c, rcpt)) {
		decision_set(d, AG_ACTION_ACCEPT, AG_REPLY_NONE, REASON_LOCAL_RECIPIENT);
		return;
	}
	if (d->phase == AG_PHASE_MANDATORY)
		decision_set(d, AG_ACTION_REJECT, AG_REPLY_RELAY_AUTH_REQUIRED, REASON_RELAY);
	else
		decision_set(d, AG_ACTION_TAG, AG_REPLY_NONE, REASON_RELAY);
}

static bool text_fits_header(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

int policy_format_warning(const struct ag_config *c, const struct ag_decision *d, char *buf,
			  size_t len)
{
	char when[32] = "";
	const char *what, *url = c->help_url;
	bool relay;
	struct tm tm;
	time_t t;
	int n;

	relay = d->reason == NULL || strcmp(d->reason, REASON_RELAY) == 0;
	if (relay)
		what = "unauthenticated relay from this client";
	else if (strcmp(d->reason, REASON_SENDER_NOT_OWNED) == 0)
		what = "sender address not owned by the authenticated user";
	else
		what = d->reason;

	/* The date only means something to a client that is not authenticating yet. */
	if (relay && c->has_mandatory_from) {
		t = (time_t)c->mandatory_from;
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			return -1;
	}
	if (url == NULL)
		url = "";
	/* A header value must not fold or split: refuse rather than emit a bad header. */
	if (!text_fits_header(what) || !text_fits_header(url))
		return -1;

	n = snprintf(buf, len, "%s%s%s%s%s", what,
		     when[0] ? "; authentication will become mandatory on " : "", when,
		     url[0] ? "; see " : "", url);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}
