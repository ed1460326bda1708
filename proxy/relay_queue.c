/*
 * relay_queue.c: the RCPTs of one transaction between the session and the backend: sent
 * together with MAIL in one write when the backend offers PIPELINING (RFC 2920, as
 * Postfix's smtp client does), else one at a time; their results go back in order.
 */
#include "relay.h"
#include "relay_priv.h"
#include "relay_out.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"

/* The oldest entry has its result: forget it. */
static void relay_q_pop(struct relay *r)
{
	r->qn--;
	memmove(&r->q[0], &r->q[1], r->qn * sizeof(r->q[0]));
}

/* MAIL's own reply comes first: RCPT results only once MAIL has one. */
static bool relay_q_answerable(const struct relay *r)
{
	return r->state >= RS_READY;
}

/* Answer the oldest entry ourselves: the session's held reply, or 451. */
static void relay_q_answer_head(struct relay *r)
{
	char text[RELAY_MAX_REPLY];
	struct relay_qent e = r->q[0];

	relay_q_pop(r);
	if (e.st != RQ_HELD) {
		relay_complete_451(r, RELAY_STEP_RCPT);
		return;
	}
	evbuffer_remove(r->held, text, e.len);
	text[e.len] = '\0';
	relay_complete(r, RELAY_STEP_HELD, 0, text);
}

void relay_q_settle(struct relay *r)
{
	while (r->qn > 0 && relay_q_answerable(r) &&
	       (r->q[0].st == RQ_OURS || r->q[0].st == RQ_HELD))
		relay_q_answer_head(r);
}

void relay_q_add(struct relay *r, const char *line, size_t len, bool dsn)
{
	struct relay_qent *e;

	if (r->qn >= RELAY_MAX_PIPELINE) {
		/* The session waits before this many: never here, and never out of order. */
		relay_fail(r, "too many RCPTs outstanding");
		return;
	}
	e = &r->q[r->qn++];
	e->st = RQ_OURS;
	e->len = 0;
	if (line != NULL && len < RELAY_MAX_REPLY && evbuffer_add(r->qlines, line, len) == 0) {
		e->st = RQ_WAITING;
		e->len = (unsigned short)len;
		r->qdsn |= dsn;
	}
	relay_q_settle(r);
	relay_q_pump(r);
}

void relay_q_hold(struct relay *r, const char *reply)
{
	size_t len = strnlen(reply, RELAY_MAX_REPLY - 1);
	struct relay_qent *e;

	if (r->qn >= RELAY_MAX_PIPELINE || evbuffer_add(r->held, reply, len) != 0) {
		relay_fail(r, "too many replies held");
		return;
	}
	e = &r->q[r->qn++];
	e->st = RQ_HELD;
	e->len = (unsigned short)len;
	relay_q_settle(r);
}

void relay_q_pump(struct relay *r)
{
	size_t total = evbuffer_get_length(r->qlines), from = r->qsent_bytes, to = from;
	const unsigned char *lines;

	if (r->bev == NULL || total == from ||
	    !(r->state == RS_READY || r->state == RS_RCPT || (r->state == RS_MAIL && r->pipelining)))
		return;
	/* Without PIPELINING, one command and its reply at a time (RFC 5321 4.3). */
	if (!r->pipelining && r->qsent > 0)
		return;
	for (size_t i = 0; i < r->qn; i++) {
		struct relay_qent *e = &r->q[i];

		if (e->st != RQ_WAITING)
			continue;
		e->st = RQ_SENT;
		r->qsent++;
		to += e->len;
		if (!r->pipelining)
			break;
	}
	lines = evbuffer_pullup(r->qlines, (ev_ssize_t)to);
	if (lines == NULL) {
		relay_fail(r, "out of memory");
		return;
	}
	/* One write for the batch, at the end of this turn of the loop (relay_out.c). */
	if (relay_out(r, lines + from, to - from) != 0) {
		relay_fail(r, "out of memory");
		return;
	}
	r->qsent_bytes = to;
	if (r->state != RS_MAIL)
		r->state = RS_RCPT;
	relay_arm(r, r->cfg->timeout_backend);
}

void relay_q_reply(struct relay *r, int code)
{
	if (r->qn == 0 || r->q[0].st != RQ_SENT) {
		relay_fail(r, "reply without a command");
		return;
	}
	evbuffer_drain(r->qlines, r->q[0].len);
	r->qsent_bytes -= r->q[0].len;
	r->qsent--;
	relay_q_pop(r);
	if (r->qsent == 0)
		r->state = RS_READY;
	relay_complete(r, RELAY_STEP_RCPT, code, r->reply);
	relay_q_settle(r);
	relay_q_pump(r);
	if (r->qsent > 0)
		relay_arm(r, r->cfg->timeout_backend);
}

void relay_q_unsend(struct relay *r)
{
	for (size_t i = 0; i < r->qn; i++)
		if (r->q[i].st == RQ_SENT)
			r->q[i].st = RQ_WAITING;
	r->qsent = 0;
	r->qsent_bytes = 0;
}

void relay_q_fail(struct relay *r)
{
	r->qsent = 0;
	r->qsent_bytes = 0;
	evbuffer_drain(r->qlines, evbuffer_get_length(r->qlines));
	while (r->qn > 0)
		relay_q_answer_head(r);
}
