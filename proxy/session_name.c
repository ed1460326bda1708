/* session_name.c: the client's name (rdns.c) as the Received header and XCLIENT NAME want it. */
#include "session.h"

#include "policy/config.h"
#include "rdns.h"
#include "xclient.h"

/* The lookup ended while MAIL waited for it: MAIL now, then the commands pipelined after it. */
static void session_name_done(void *arg)
{
	struct proxy_session *s = arg;
	const char *args = s->held_mail;
	size_t len = s->held_mail_len;

	if (s->wait != SW_CLIENT_NAME)
		return;
	s->wait = SW_NONE;
	s->held_mail = NULL;
	session_mail(s, args, len);
	if (s->wait == SW_NONE)
		session_resume(s);
}

/*
 * Asked at connect, so that the greeting, TLS and AUTH go on meanwhile and
 * the answer is usually there by MAIL, the first time the name is needed
 * (XCLIENT goes out on the backend connection MAIL opens).
 */
void session_name_start(struct proxy_session *s)
{
	if (s->cfg->client_name_lookup)
		s->rdns = rdns_start(s->srv, &s->ip, s->cfg->timeout_client_name, s->id,
				     session_name_done, s);
}

bool session_name_wait(struct proxy_session *s, const char *args, size_t len)
{
	if (s->rdns == NULL || rdns_status(s->rdns) != RDNS_PENDING)
		return false;
	/* args lies in s->line, which no other line reuses while input is paused. */
	s->held_mail = args;
	s->held_mail_len = len;
	session_pause(s, SW_CLIENT_NAME);
	return true;
}

const char *session_name(const struct proxy_session *s)
{
	return s->rdns != NULL ? rdns_name(s->rdns) : NULL;
}

const char *session_name_xclient(const struct proxy_session *s)
{
	if (!s->cfg->client_name_lookup)
		return NULL; /* [UNAVAILABLE]: else Postfix would keep the proxy's own name */
	if (s->rdns == NULL)
		return XCLIENT_TEMPUNAVAIL; /* out of memory when it was to be asked */
	switch (rdns_status(s->rdns)) {
	case RDNS_OK:
		return rdns_name(s->rdns);
	case RDNS_NONE:
		return NULL;
	default:
		return XCLIENT_TEMPUNAVAIL;
	}
}
