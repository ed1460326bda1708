/* memtrim.h: the heap a burst of connections left free goes back to the system. */
#ifndef AG_PROXY_MEMTRIM_H
#define AG_PROXY_MEMTRIM_H

struct proxy_server;

/* A handshake finished or a session ended: trim the heap within a second (at most once). */
void memtrim_note(struct proxy_server *srv);

#endif
