/* memtrim.c: the heap a burst of connections left free goes back to the system. */
#include "memtrim.h"

#include <stdlib.h> /* defines __GLIBC__ where it applies */
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <event2/event.h>

#include "server.h"

#define MEMTRIM_DELAY_S 1

/*
 * Every TLS handshake borrows some 40 KB (OpenSSL's record buffers, the
 * handshake messages) and gives it back as soon as it is over; the small
 * blocks a session keeps for its lifetime fall in between. After a burst
 * of connections that freed memory lies in holes inside the heap, which
 * glibc's free() never returns (it only trims the top): idle sessions
 * then cost the burst's high water, not what they hold. malloc_trim()
 * hands the free pages of those holes back (MADV_DONTNEED). It walks the
 * free lists, so it runs once a second at most while connections come and
 * go, and once more a second after the last one (issue 16: 1,000 idle TLS
 * sessions, 2.4 KiB less each).
 */
static void memtrim_run(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_server *srv = arg;

	(void)fd;
	(void)what;
	srv->trim_pending = false;
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
}

void memtrim_note(struct proxy_server *srv)
{
	struct timeval tv = { MEMTRIM_DELAY_S, 0 };

	if (srv->trim_pending)
		return;
	/* Freed with the event base if it is still pending then. */
	if (event_base_once(srv->base, -1, EV_TIMEOUT, memtrim_run, srv, &tv) == 0)
		srv->trim_pending = true;
}
