/*
 * relay_out.c: the bytes for the backend, written at the end of the loop's turn.
 *
 * A bufferevent write adds the socket's write event and deletes it once its
 * buffer is empty: two epoll_ctl a write, about half of those a one-message
 * session costs (bench/RESULTS.md). What one turn of the event loop has for
 * the backend (a command, a pipelined batch, the body lines of one read) is
 * gathered here and written with one writev when the turn's callbacks are
 * done, straight to the socket; only what the socket does not take goes to
 * the bufferevent, which waits for the socket as before. The order of the
 * bytes never changes: while the bufferevent holds any, new ones queue
 * behind them there.
 */
#include "relay_out.h"
#include "relay_priv.h"

#include <errno.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"

/* Both flow-control paths end here: the session may send more body. */
static void relay_out_drained(struct relay *r)
{
	if (!r->drain_wanted)
		return;
	r->drain_wanted = false;
	evtimer_del(r->timer);
	relay_complete(r, RELAY_STEP_DRAINED, 0, "");
}

static void relay_out_flush(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;
	size_t left;

	(void)fd;
	(void)what;
	left = evbuffer_get_length(r->cork);
	if (left == 0)
		return;
	if (r->bev == NULL) {
		/* The connection is gone (relay_fail): its bytes go with it. */
		evbuffer_drain(r->cork, left);
		return;
	}
	/*
	 * A failed write is not handled here: what is left goes to the
	 * bufferevent, which meets the same error and reports it once
	 * through relay_eventcb.
	 */
	(void)evbuffer_write(r->cork, bufferevent_getfd(r->bev));
	left = evbuffer_get_length(r->cork);
	if (left > 0) {
		if (evbuffer_add_buffer(bufferevent_get_output(r->bev), r->cork) != 0) {
			log_msg(LOG_ERR, r->cl.session_id, "out of memory: backend output lost");
			relay_fail(r, "out of memory");
		}
		return;
	}
	/* All of it is at the backend: no write event will report the drain. */
	relay_out_drained(r);
}

int relay_out_init(struct relay *r, struct event_base *base)
{
	r->cork = evbuffer_new();
	r->flush_ev = event_new(base, -1, 0, relay_out_flush, r);
	return r->cork != NULL && r->flush_ev != NULL ? 0 : -1;
}

void relay_out_free(struct relay *r)
{
	if (r->flush_ev != NULL)
		event_free(r->flush_ev);
	if (r->cork != NULL)
		evbuffer_free(r->cork);
	r->flush_ev = NULL;
	r->cork = NULL;
}

void relay_out_discard(struct relay *r)
{
	if (r->cork != NULL)
		evbuffer_drain(r->cork, evbuffer_get_length(r->cork));
}

int relay_out(struct relay *r, const void *data, size_t len)
{
	struct evbuffer *out;

	if (r->bev == NULL)
		return -1;
	out = bufferevent_get_output(r->bev);
	/* Before the greeting the socket may still be connecting: the bufferevent waits. */
	if (r->state < RS_GREETING || evbuffer_get_length(out) > 0)
		return evbuffer_add(out, data, len);
	if (evbuffer_add(r->cork, data, len) != 0)
		return -1;
	event_active(r->flush_ev, EV_TIMEOUT, 0);
	return 0;
}

size_t relay_out_pending(const struct relay *r)
{
	size_t n = evbuffer_get_length(r->cork);

	if (r->bev != NULL)
		n += evbuffer_get_length(bufferevent_get_output(r->bev));
	return n;
}

void relay_out_writecb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	relay_out_drained(arg);
}
