/* decide.h: the policy decisions, pure functions of (config, now, facts). */
#ifndef AG_DECIDE_H
#define AG_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "net.h"
#include "reply.h"

#define AG_MAX_LOGIN 256

enum ag_action { AG_ACTION_ACCEPT = 0, AG_ACTION_TAG, AG_ACTION_REJECT, AG_ACTION_TEMPFAIL };
enum ag_route { AG_ROUTE_DEFAULT = 0, AG_ROUTE_HUB };

struct ag_facts {
	const struct ag_ip *client; /* NULL when unknown (unix socket, no macro) */
	const char *auth_user;      /* NULL or "" when not authenticated */
	const char *mail_from;      /* envelope sender "local@domain", "" for <>, NULL unknown */
	int64_t now;                /* Unix seconds; the caller reads the clock */
};

struct ag_decision {
	enum ag_action action;
	enum ag_reply_id reply; /* AG_REPLY_NONE unless reject/tempfail */
	enum ag_route route;
	enum ag_phase phase;    /* phase in force at facts->now */
	const char *reason;     /* constant text for logs and audit, e.g. "unauthenticated relay" */
};

const char *policy_action_name(enum ag_action a); /* "accept", "tag", "reject", "tempfail" */
const char *policy_route_name(enum ag_route r);   /* "default", "hub" */
const char *policy_phase_name(enum ag_phase p);   /* "voluntary", "mandatory" */

/* The phase at `now`: mandatory if configured so, or once now >= mandatory_from. */
enum ag_phase policy_phase_at(const struct ag_config *c, int64_t now);

bool policy_client_trusted(const struct ag_config *c, const struct ag_ip *client);
/* Is the client one of our own authgate-proxy hosts ([milter] proxy_addresses)? */
bool policy_client_is_proxy(const struct ag_config *c, const struct ag_ip *client);

/*
 * Whose mail is it? mta_login (what the MTA authenticated: SMTP AUTH, or XCLIENT LOGIN at
 * Postfix) always wins; else authres_login (the login our own Authentication-Results header
 * names) counts only from a client in proxy_addresses: authgate-proxy relaying to an MTA
 * without XCLIENT (Sendmail). Anyone else's such header is a forgery. NULL: unauthenticated.
 */
const char *policy_identity(const struct ag_config *c, const struct ag_ip *client,
			    const char *mta_login, const char *authres_login);
bool policy_domain_is_local(const struct ag_config *c, const char *domain);

/*
 * Login normalisation: "jdoe@example.ac.uk" -> "jdoe" when the domain is in
 * login_domains (case-insensitive); other logins pass unchanged. Refuses
 * empty names, NUL/CR/LF/control characters and names over AG_MAX_LOGIN.
 * Returns 0, or -1 with *why.
 */
int policy_normalise_login(const struct ag_config *c, const char *in, size_t inlen, char *out,
			   size_t outlen, const char **why);

/* Does `login` own `address`? jdoe owns jdoe@D for every D in local_domains (case-insensitive). */
bool policy_sender_owned(const struct ag_config *c, const char *login, const char *address);

/* At MAIL FROM: sender-login binding for authenticated users (strict -> 553, warn -> tag). */
void policy_decide_mail(const struct ag_config *c, const struct ag_facts *f, struct ag_decision *d);

/*
 * At RCPT TO: protected lists (550 unless authenticated or trusted; route hub),
 * relay check (recipient outside local_domains) for unauthenticated, untrusted
 * clients: mandatory -> 530, voluntary -> tag.
 */
void policy_decide_rcpt(const struct ag_config *c, const struct ag_facts *f, const char *rcpt,
			struct ag_decision *d);

/*
 * Text of the X-Authgate-Warning header for tagged mail, e.g.
 * "unauthenticated relay; authentication becomes mandatory on 2027-01-15T00:00:00Z; see URL".
 * Returns length or -1 if it did not fit.
 */
int policy_format_warning(const struct ag_config *c, const struct ag_decision *d, char *buf,
			  size_t len);

#endif
