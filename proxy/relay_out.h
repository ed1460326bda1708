/* relay_out.h: the backend's output, gathered for one write a turn (relay_out.c). */
#ifndef AG_RELAY_OUT_H
#define AG_RELAY_OUT_H

#include <stddef.h>

struct relay;
struct event_base;
struct bufferevent;

int relay_out_init(struct relay *r, struct event_base *base);
void relay_out_free(struct relay *r);
/* The connection failed: what waits for it is not for the next one. */
void relay_out_discard(struct relay *r);
/* Queue bytes for the backend, in order; 0, or -1 (no connection, out of memory). */
int relay_out(struct relay *r, const void *data, size_t len);
/* Bytes not yet taken by the socket. */
size_t relay_out_pending(const struct relay *r);
/* The bufferevent's write callback: its buffer is at the low watermark. */
void relay_out_writecb(struct bufferevent *bev, void *arg);

#endif
