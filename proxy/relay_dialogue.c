/*
 * relay_dialogue.c: the SMTP client dialogue with one backend, reply by reply: greeting,
 * EHLO (what it offers), XCLIENT with the verified identity, EHLO again, MAIL, RCPT,
 * DATA, the end of the message. relay.c owns the connection, failover and I/O.
 */
#include "relay.h"
#include "relay_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "backend_caps.h"
#include "log.h"
#include "policy/config.h"
#include "policy/esmtp.h"
#include "policy/escape.h"
#include "server.h"
#include "xclient.h"

void relay_capability(struct relay *r, const char *line, size_t len)
{
	const char *kw = line + 4;
	size_t kwlen = len > 4 ? len - 4 : 0;

	if (len < 4)
		return;
	if (kwlen >= 7 && strncasecmp(kw, "XCLIENT", 7) == 0 && (kwlen == 7 || kw[7] == ' ')) {
		r->ext_xclient = true;
		snprintf(r->xclient_names, sizeof(r->xclient_names), "%.*s",
			 kwlen > 8 ? (int)(kwlen - 8) : 0, kw + 8);
	} else if (kwlen >= 4 && strncasecmp(kw, "SIZE", 4) == 0 && (kwlen == 4 || kw[4] == ' ')) {
		r->ext_size = true;
	} else if (kwlen == 8 && strncasecmp(kw, "8BITMIME", 8) == 0) {
		r->ext_8bitmime = true;
	} else if (kwlen == 10 && strncasecmp(kw, "PIPELINING", 10) == 0) {
		r->pipelining = true;
	}
	esmtp_caps_line(&r->caps, line, len);
}

/*
 * The backend's last EHLO reply is in: remember what it offers (for the next
 * client's EHLO), then MAIL, unless the transaction needs what this backend
 * does not offer; then it is passed over like one that is down.
 */
void relay_send_mail(struct relay *r)
{
	char params[256];

	backend_caps_learn(r->srv, &r->cfg->backends[r->backend], &r->caps);
	if (r->mp.smtputf8 && !r->caps.smtputf8) {
		r->ext_refused = true;
		relay_fail(r, "does not offer SMTPUTF8 (any more): not used for this message");
		return;
	}
	if ((r->mp.ret != AG_RET_NONE || r->mp.envid[0] != '\0' || r->qdsn) && !r->caps.dsn) {
		r->ext_refused = true;
		relay_fail(r, "does not offer DSN (any more): not used for this message");
		return;
	}
	if (esmtp_format_mail_params(&r->mp, r->ext_size, r->ext_8bitmime, params, sizeof(params)) <
	    0) {
		relay_fail(r, "MAIL parameters too long");
		return;
	}
	relay_send(r, RS_MAIL, "%s%s", r->mail_from, params);
	/* RFC 2920 3.1: the RCPTs already here go in the same write. */
	relay_q_pump(r);
}

static int relay_build_xclient(struct relay *r)
{
	char addr[64], port[8];
	const char *helo = r->cl.helo;
	const char *why = NULL;

	snprintf(addr, sizeof(addr), "%s%s", r->cl.client_ipv6 ? "IPV6:" : "", r->cl.client_ip);
	snprintf(port, sizeof(port), "%u", r->cl.client_port);
	/* A HELO too long to fit XCLIENT's line is not worth failing the mail for. */
	if (helo == NULL || helo[0] == '\0' || strlen(helo) > 255)
		helo = NULL;
	const struct xclient_attr attrs[] = {
	    {"LOGIN", r->cl.login}, {"HELO", helo}, {"PROTO", "ESMTP"},
	    {"PORT", port},	    {"NAME", r->cl.name}, /* forward-confirmed (rdns.c) */
	    {"ADDR", addr},
	};

	if (xclient_build(r->xclient_names, attrs, sizeof(attrs) / sizeof(attrs[0]), &r->xc, &why) <
	    0) {
		log_msg(LOG_ERR, r->cl.session_id, "XCLIENT: %s", why);
		return -1;
	}
	r->xc_next = 0;
	return 0;
}

/* A complete reply (all its lines) in r->reply: the next step of the dialogue. */
void relay_reply_done(struct relay *r, int code)
{
	char what[RELAY_MAX_REPLY + 64];

	evtimer_del(r->timer);
	switch (r->state) {
	case RS_GREETING:
		if (code != 220)
			goto refused;
		memset(&r->caps, 0, sizeof(r->caps));
		relay_send(r, RS_EHLO, "EHLO %s", r->cfg->hostname);
		break;
	case RS_EHLO:
	case RS_EHLO2:
		if (code != 250)
			goto refused;
		if (r->probe) {
			backend_caps_learn(r->srv, &r->cfg->backends[r->backend], &r->caps);
			relay_send(r, RS_QUIT, "QUIT");
			evtimer_del(r->timer);
			relay_arm(r, RELAY_QUIT_TIMEOUT);
			break;
		}
		if (r->state == RS_EHLO && r->cfg->backend_xclient) {
			/*
			 * Fail closed: without XCLIENT LOGIN and ADDR the backend would
			 * take the mail as coming from us (often a trusted network) and
			 * without the login: an unauthenticated relay path. Next backend;
			 * if none will do, 451 4.7.0 (AG_REPLY_XCLIENT_UNAVAILABLE).
			 */
			if (!r->ext_xclient || !xclient_supports(r->xclient_names, "LOGIN") ||
			    !xclient_supports(r->xclient_names, "ADDR")) {
				r->xclient_refused = true;
				relay_fail(r, "does not offer XCLIENT with LOGIN and ADDR to us "
					      "(backend_xclient = yes): not used");
				return;
			}
			if (relay_build_xclient(r) < 0 || r->xc.n == 0) {
				relay_fail(r, "cannot build XCLIENT");
				return;
			}
			relay_send(r, RS_XCLIENT, "%s", r->xc.line[r->xc_next++]);
			break;
		}
		relay_send_mail(r);
		break;
	case RS_XCLIENT:
		/* Postfix greets anew with 220; smtp-sink and others say 250. */
		if (code / 100 != 2) {
			r->xclient_refused = true;
			goto refused;
		}
		if (r->xc_next < r->xc.n) {
			relay_send(r, RS_XCLIENT, "%s", r->xc.line[r->xc_next++]);
			break;
		}
		/* XCLIENT_README: the session starts over; EHLO again. */
		r->ext_size = r->ext_8bitmime = r->ext_xclient = r->pipelining = false;
		memset(&r->caps, 0, sizeof(r->caps));
		relay_send(r, RS_EHLO2, "EHLO %s", r->cfg->hostname);
		break;
	case RS_MAIL:
		/* A kept connection the backend gave up (421 timeout) as MAIL came. */
		if (code == 421 && r->reused) {
			snprintf(what, sizeof(what), "kept connection ended: %s", r->reply);
			relay_fail(r, what);
			return;
		}
		r->state = r->qsent > 0 ? RS_RCPT : RS_READY;
		relay_complete(r, RELAY_STEP_MAIL, code, r->reply);
		if (r->qsent > 0)
			relay_arm(r, r->cfg->timeout_backend);
		/* A refused MAIL ends the transaction: the session answers its RCPTs. */
		if (code / 100 == 2) {
			relay_q_settle(r);
			relay_q_pump(r);
		}
		break;
	case RS_RCPT:
		relay_q_reply(r, code);
		break;
	case RS_DATA:
		r->state = code == 354 ? RS_STREAM : RS_READY;
		relay_complete(r, RELAY_STEP_DATA, code, r->reply);
		break;
	case RS_END:
		r->state = RS_READY;
		relay_complete(r, RELAY_STEP_END, code, r->reply);
		break;
	case RS_QUIT:
		relay_quit_done(r);
		break;
	default:
		r->unsolicited = true;
		/* Unsolicited (e.g. 421 before closing): the close that follows decides. */
		log_msg(LOG_NOTICE, r->cl.session_id, "backend %s: unexpected reply: %s",
			r->backend_name, escape_log(r->reply, r->reply_len, what, 256));
		break;
	}
	return;
refused:
	snprintf(what, sizeof(what), "refused: %s", r->reply);
	relay_fail(r, what);
}
