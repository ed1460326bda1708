/* sharedstate.h: failed-AUTH counters and familiar networks shared by proxies through Redis. */
#ifndef AG_PROXY_SHAREDSTATE_H
#define AG_PROXY_SHAREDSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "authlimit.h"
#include "net.h"

struct event_base;
struct sharedstate;
struct shared_req;

/*
 * One asynchronous hiredis connection on the proxy's event loop: no call
 * here ever blocks. While Redis is down every request fails at once (NULL),
 * otherwise it gets an answer or fails after timeout_ms, whichever is first;
 * the caller then decides from its local tables. One log line when Redis
 * goes away (or is slow), one when it answers again; reconnects every second.
 */
struct sharedstate *sharedstate_new(struct event_base *base, const char *addr, const char *password,
				    unsigned timeout_ms, const char *prefix);
void sharedstate_free(struct sharedstate *sh);

/* ok: counts is what Redis said; !ok: timeout, error or disconnect (counts NULL). */
typedef void (*sharedstate_cb)(bool ok, const struct ag_authlimit_shared *counts, void *arg);

/*
 * The handle a request returns is the caller's until its callback has run
 * (exactly once, answer or timeout) or it calls sharedstate_cancel; never
 * after. NULL: nothing was sent (Redis down, too many waiting): decide now.
 */

/*
 * Failures of the network ip (NULL: not counted, a trusted network) and of
 * the user, and whether fam_ip is familiar for the user.
 */
struct shared_req *sharedstate_check(struct sharedstate *sh, const struct ag_ip *ip,
				     const struct ag_ip *fam_ip, const char *user, int64_t now,
				     unsigned familiar_ttl, sharedstate_cb cb, void *arg);
/* One failure for the network and the user (either NULL): counts after it. */
struct shared_req *sharedstate_fail(struct sharedstate *sh, const struct ag_ip *ip,
				    const char *user, unsigned window, sharedstate_cb cb,
				    void *arg);
/* A success: the network becomes familiar for the user. No answer is waited for. */
void sharedstate_success(struct sharedstate *sh, const struct ag_ip *ip, const char *user,
			 int64_t now, unsigned familiar_ttl);
/* The callback will not be called (the session is going away). */
void sharedstate_cancel(struct shared_req *r);

#endif
