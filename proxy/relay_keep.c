/*
 * relay_keep.c: one session's backend connection kept idle between its transactions and
 * taken again by its next MAIL, as Postfix's smtp client caches connections: never across
 * sessions, and only while everything that went into XCLIENT is the same.
 */
#include "relay.h"
#include "relay_priv.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "policy/config.h"
#include "policy/escape.h"

/*
 * Every field XCLIENT carries (relay_dialogue.c), one a line; a missing name
 * ([UNAVAILABLE]) differs from any name. A change of any of them (a second
 * EHLO with another name, a name lookup answered late) means a new connection.
 */
static bool relay_identity(const struct relay_client *cl, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s\n%s%s\n%u\n%s\n%s%s", cl->login ? cl->login : "",
			 cl->client_ipv6 ? "IPV6:" : "", cl->client_ip ? cl->client_ip : "",
			 cl->client_port, cl->helo ? cl->helo : "", cl->name ? "=" : "",
			 cl->name ? cl->name : "");

	return n >= 0 && (size_t)n < size;
}

void relay_identity_set(struct relay *r)
{
	r->identity_ok = relay_identity(&r->cl, r->identity, sizeof(r->identity));
}

bool relay_keep(struct relay *r, int code)
{
	/* 421: the backend closes (RFC 5321 3.8); unread bytes: we are out of step with it. */
	if (r == NULL || r->cfg->backend_idle_timeout == 0 || code == 421 || r->state != RS_READY ||
	    r->bev == NULL || r->unsolicited || !r->identity_ok || r->qn > 0 ||
	    evbuffer_get_length(r->results) > 0 ||
	    evbuffer_get_length(bufferevent_get_input(r->bev)) > 0 ||
	    ++r->ntxn >= r->cfg->backend_reuse_limit)
		return false;
	r->state = RS_KEPT;
	r->reused = false;
	evtimer_del(r->timer);
	relay_arm(r, r->cfg->backend_idle_timeout);
	return true;
}

bool relay_reuse(struct relay *r, const struct ag_config *cfg, const struct relay_client *cl,
		 const struct ag_mail_params *mp)
{
	char id[RELAY_IDENTITY_SIZE];

	if (r->state != RS_KEPT || r->bev == NULL || r->cfg != cfg)
		return false;
	/* The backend's EHLO on this connection must still allow what this MAIL asks. */
	if ((mp->smtputf8 && !r->caps.smtputf8) ||
	    ((mp->ret != AG_RET_NONE || mp->envid[0] != '\0') && !r->caps.dsn) ||
	    (mp->has_size && r->caps.size_limit > 0 && mp->size > r->caps.size_limit))
		return false;
	if (!relay_identity(cl, id, sizeof(id)) || strcmp(id, r->identity) != 0)
		return false;
	evtimer_del(r->timer);
	r->cl = *cl;
	r->cl.session_id = r->sid;
	r->state = RS_READY;
	r->reused = true;
	r->xclient_refused = r->ext_refused = false;
	r->qdsn = false;
	return true;
}

void relay_kept_lost(struct relay *r, const char *why)
{
	struct evbuffer *in = bufferevent_get_input(r->bev);
	char line[128], esc[ESCAPE_LOG_SIZE(128)];
	ev_ssize_t got = evbuffer_copyout(in, line, sizeof(line) - 1);
	size_t n;

	line[got > 0 ? (size_t)got : 0] = '\0';
	n = strcspn(line, "\r\n");
	/* Expected (the backend's own idle timeout): the next MAIL opens a new one. */
	log_msg(LOG_INFO, r->cl.session_id, "backend %s: idle connection %s%s%s: closed",
		r->backend_name, why, n > 0 ? ": " : "", escape_log(line, n, esc, sizeof(esc)));
	relay_close_conn(r);
	r->state = RS_DEAD;
}

void relay_kept_expire(struct relay *r)
{
	relay_send(r, RS_QUIT, "QUIT");
	evtimer_del(r->timer);
	relay_arm(r, RELAY_QUIT_TIMEOUT);
}

void relay_quit_done(struct relay *r)
{
	/* Only a relay no session holds is freed here; a kept one waits for its session. */
	if (r->detached || r->probe) {
		relay_destroy(r);
		return;
	}
	relay_close_conn(r);
	r->state = RS_DEAD;
}
